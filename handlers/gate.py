"""Before Bolt sees a request: refuse what is too large, not from Slack, or malformed.

A WSGI layer in front of Bolt's handler. A body over `MAX_BODY` (or a length that is not
a plain number) is refused with 413 without being read whole; a request whose timestamp
is missing, not a number or more than five minutes off, or whose signature does not match
the signing secret, gets 401 and nothing else: no reply to any URL in it, no Web API call,
and no body in the log (one line saying why). The signature is computed over the body's
bytes as they came, whatever they are (a body that is not UTF-8 is unsigned, not an
error). A signed payload without the parts the listeners rely on (a click without actions,
a form without its state, a body that is not text) gets 400: Bolt itself would fail on
it. Only what passes reaches Bolt, which verifies it again. No request makes the gate
fail (a property test feeds it arbitrary bytes and headers).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("loyalty.gate")

MAX_BODY = 64 * 1024  # Slack's own payloads are a few KB; views with state stay far below
MAX_SKEW_SECONDS = 5 * 60
_DECIMAL = re.compile(r"[0-9]{1,15}")  # ASCII digits only ("²".isdigit() is True)


class SlackGate:
    def __init__(
        self,
        app: WSGIApplication,
        signing_secret: str,
        *,
        max_body: int = MAX_BODY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.secret = signing_secret.encode()
        self.max_body = max_body
        self.clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = str(environ.get("CONTENT_LENGTH") or "")
        if declared and (not _DECIMAL.fullmatch(declared) or int(declared) > self.max_body):
            return self._refuse(start_response, 413, f"body over {self.max_body // 1024} KB")
        try:
            body = environ["wsgi.input"].read(min(int(declared or 0), self.max_body + 1))
        except (OSError, ValueError):
            return self._refuse(start_response, 400, "the body could not be read")
        if len(body) > self.max_body:
            return self._refuse(start_response, 413, f"body over {self.max_body // 1024} KB")
        why = self._unsigned(body, environ)
        if why:
            return self._refuse(start_response, 401, why)
        if not well_formed(body, environ.get("CONTENT_TYPE") or ""):
            return self._refuse(start_response, 400, "malformed payload")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _unsigned(self, body: bytes, environ: WSGIEnvironment) -> str:
        """Why the request is not Slack's, or "" if it is."""
        timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        if not _DECIMAL.fullmatch(timestamp):
            return "no valid timestamp"
        if abs(self.clock() - int(timestamp)) > MAX_SKEW_SECONDS:
            return "stale timestamp"
        if not hmac.compare_digest(
            signature.encode("utf-8", "replace"), self._sign(timestamp, body)
        ):
            return "bad signature"
        return ""

    def _sign(self, timestamp: str, body: bytes) -> bytes:
        """Slack's v0 signature of the body's bytes (slack_sdk's decodes them first)."""
        digest = hmac.new(self.secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
        return b"v0=" + digest.hexdigest().encode()

    @staticmethod
    def _refuse(start_response: StartResponse, status: int, why: str) -> list[bytes]:
        log.warning("refused a request to /slack/events: %s", why)
        reason = {400: "400 Bad Request", 401: "401 Unauthorized", 413: "413 Payload Too Large"}[
            status
        ]
        start_response(reason, [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]


def well_formed(body: bytes, content_type: str) -> bool:
    """The parts of each kind of payload that the listeners rely on are there."""
    try:
        text = body.decode()
        if "json" in content_type:
            payload = json.loads(text)
        else:
            form = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
            payload = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, KeyError, RecursionError):  # not UTF-8, not JSON, nested too deep
        return False
    return isinstance(payload, dict) and _payload_ok(payload)


def _payload_ok(body: dict[str, Any]) -> bool:
    if "command" in body:
        return all(_text(body.get(k)) for k in ("command", "user_id", "team_id"))
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            _user(body)
            and isinstance(actions, list)
            and len(actions) >= 1
            and all(
                isinstance(a, dict)
                and _text(a.get("action_id"))
                and isinstance(a.get("value", ""), str)
                for a in actions
            )
        )
    if kind == "view_submission":
        view = body.get("view")
        return (
            _user(body)
            and isinstance(view, dict)
            and _text(view.get("id"))
            and _text(view.get("callback_id"))
            and isinstance(view.get("state"), dict)
            and isinstance(view["state"].get("values", {}), dict)
            and isinstance(view.get("private_metadata", ""), str)
        )
    if kind == "event_callback":
        event = body.get("event")
        if isinstance(event, dict) and event.get("type") == "function_executed":
            return (
                _text(event.get("function_execution_id"))
                and isinstance(event.get("inputs", {}), dict)
                and isinstance(event.get("function", {}), dict)
            )
        return isinstance(event, dict)
    if kind in ("shortcut", "message_action"):
        message = body.get("message", {})
        return (
            _user(body)
            and _text(body.get("callback_id"))
            and (kind == "shortcut" or isinstance(message, dict))
            and isinstance(message.get("text", "") if isinstance(message, dict) else "", str)
        )
    return True  # url_verification and kinds with no listener: Bolt answers them itself


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _user(body: dict[str, Any]) -> bool:
    user = body.get("user")
    return isinstance(user, dict) and _text(user.get("id"))
