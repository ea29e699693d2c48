"""One log line per request: kind, name (subcommand, button or form), user, outcome, duration.

`observing(app)` wraps every listener registered through it. A listener that hands work to
the work pool (`Services.defer`) is logged when that work ends, with its outcome.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App

from bot.core.errors import InvalidInput, LoyaltyAPIError, LoyaltyError, PermissionDenied

log = logging.getLogger("loyalty.requests")
_local = threading.local()


@dataclass
class RequestLog:
    kind: str
    name: str
    user: str
    started: float = field(default_factory=time.monotonic)
    outcome: str = "ok"
    deferred: bool = False
    _done: bool = False

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


def current() -> RequestLog | None:
    return getattr(_local, "log", None)


def note(outcome: str) -> None:
    """Record an outcome answered in the ack (a form's field errors, say)."""
    entry = current()
    if entry is not None:
        entry.outcome = outcome


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


def observed(listener: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(listener)
    def wrapper(**kwargs: Any) -> Any:
        entry = RequestLog(*_describe(kwargs.get("body") or {}))
        _local.log = entry
        try:
            return listener(**kwargs)
        except Exception as error:
            entry.finish(outcome_of(error))
            raise
        finally:
            _local.log = None
            if not entry.deferred:
                entry.finish()

    return wrapper


class observing:
    """The app, with every listener registered through it wrapped by `observed`."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _wrap(self, register: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        def decorator(listener: Callable[..., Any]) -> Callable[..., Any]:
            register(*args, **kwargs)(observed(listener))
            return listener

        return decorator

    def command(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._wrap(self.app.command, *args, **kwargs)

    def action(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._wrap(self.app.action, *args, **kwargs)

    def view(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._wrap(self.app.view, *args, **kwargs)

    def event(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._wrap(self.app.event, *args, **kwargs)

    def error(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return self.app.error(func)
