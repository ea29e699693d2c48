"""One log line per request: kind, name (subcommand, button or form), user, outcome, duration.

The request middleware starts a `RequestLog` for each request; it is written when the
listener returns, or, when the listener handed work to the work pool (`Env.defer`), when
that work ends, with its outcome.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from bot.domain.errors import InvalidInput, LoyaltyAPIError, LoyaltyError, PermissionDenied

log = logging.getLogger("loyalty.requests")


@dataclass
class RequestLog:
    kind: str
    name: str
    user: str
    started: float = field(default_factory=time.monotonic)
    outcome: str = "ok"
    deferred: bool = False
    _done: bool = False

    @classmethod
    def of(cls, body: dict[str, Any]) -> RequestLog:
        return cls(*_describe(body))

    def finish(self, outcome: str | None = None) -> None:
        if self._done:
            return
        self._done = True
        self.outcome = outcome or self.outcome
        duration = round((time.monotonic() - self.started) * 1000)
        log.info(
            "request kind=%s request=%s user=%s outcome=%s duration_ms=%d",
            self.kind,
            self.name,
            self.user,
            self.outcome,
            duration,
            extra={
                "event": "request",
                "kind": self.kind,
                "request": self.name,
                "user": self.user,
                "outcome": self.outcome,
                "duration_ms": duration,
            },
        )


def outcome_of(error: BaseException) -> str:
    if isinstance(error, PermissionDenied):
        return "refused"
    if isinstance(error, LoyaltyAPIError):
        return "api_error"
    if isinstance(error, InvalidInput):
        return "invalid"
    if isinstance(error, LoyaltyError):
        return "declined"
    return "error"


def _describe(body: dict[str, Any]) -> tuple[str, str, str]:
    user = body.get("user_id") or (body.get("user") or {}).get("id", "")
    if body.get("command"):
        words = (body.get("text") or "").split()
        return "command", f"{body['command']} {words[0] if words else 'help'}".strip(), user
    if body.get("type") == "block_actions":
        return "action", (body.get("actions") or [{}])[0].get("action_id", ""), user
    if body.get("type") == "view_submission":
        return "view", (body.get("view") or {}).get("callback_id", ""), user
    event = body.get("event") or {}
    return "event", event.get("type", body.get("type", "")), event.get("user", user)
