"""The sandbox as a WSGI app: usable in-process (httpx.WSGITransport) or served on a port.

Faults can be injected to watch the bot cope: `fail_rate` answers 503 before doing
anything, `fail_after_apply` makes a change and then answers 500 (as a real server that
fails after committing would). Tests script exact faults per route with `inject`.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import msgspec

from bot.offline.sandbox.state import SandboxError, SandboxState
from bot.runtime.wsgi_server import DropConnection

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(rf"programs/(?P<program>\d+)/{p}/?$"), name)
    for m, p, name in [
        ("GET", r"customers", "list_customers"),
        ("POST", r"customers", "create_customer"),
        ("GET", r"customers/(?P<item>\d+)", "get_customer"),
        ("PUT", r"customers/(?P<item>\d+)", "update_customer"),
        ("DELETE", r"customers/(?P<item>\d+)", "delete_customer"),
        ("POST", r"customers/(?P<item>\d+)/points/add", "add_points"),
        ("GET", r"offers", "list_offers"),
        ("POST", r"offers", "create_offer"),
        ("POST", r"offers/(?P<item>\d+)", "update_offer"),
        ("DELETE", r"offers/(?P<item>\d+)", "delete_offer"),
        ("POST", r"offers/(?P<item>\d+)/publish", "publish_offer"),
        ("POST", r"offers/(?P<item>\d+)/cancel", "cancel_offer"),
    ]
]

_STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    422: "422 Unprocessable Entity",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
READS = frozenset({"list_customers", "get_customer", "list_offers"})


class Fault(Enum):
    """What a route does instead of answering normally (`SandboxApp.inject`)."""

    APPLY_THEN_500 = "the change is made, then HTTP 500"
    APPLY_THEN_EMPTY = "the change is made, then HTTP 200 with an empty body"
    APPLY_THEN_DROP = "the change is made, then the connection drops with no answer"
    REFUSE_422 = "HTTP 422, nothing done"
    FAIL_500 = "HTTP 500, nothing done"
    FAIL_503 = "HTTP 503, nothing done"
    DROP = "the connection drops with no answer, nothing done"

    @property
    def applies(self) -> bool:
        return self.name.startswith("APPLY")


_DROPPED = -1  # a status meaning: close the connection without answering


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    body: Any
    status: int


class SandboxApp:
    """Serves the whole spec. `calls` records what reached it, for tests to assert on."""

    def __init__(
        self,
        state: SandboxState,
        *,
        latency: float = 0.0,
        fail_rate: float = 0.0,
        fail_after_apply: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.state = state
        self.latency = latency
        self.fail_rate = fail_rate
        self.fail_after_apply = fail_after_apply
        self.calls: list[RecordedCall] = []
        self._rng = rng or random.Random()
        self._calls_lock = threading.Lock()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.route_latency: dict[str, float] = {}  # seconds added to one route, by name
        # Tests may set this to run code (sleep, raise) when a route is hit.
        self.before: Callable[[str, str], None] | None = None

    def may_wait(self) -> bool:
        """Whether an answer may take a while (latency, or a test's hook on a route)."""
        return bool(self.latency or any(self.route_latency.values()) or self.before)

    def inject(self, route: str, fault: Fault, times: int = 1) -> None:
        """The next `times` requests to `route` ("add_points", "get_customer", ...) meet
        `fault` instead of a normal answer."""
        with self._calls_lock:
            self._faults[route].extend([fault] * times)

    def _take_fault(self, route: str) -> Fault | None:
        with self._calls_lock:
            queue = self._faults.get(route)
            return queue.popleft() if queue else None

    def calls_to(self, method: str, path_end: str) -> list[RecordedCall]:
        with self._calls_lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(path_end)]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        status, payload = self._handle(method, path, raw, environ.get("HTTP_AUTHORIZATION"))
        with self._calls_lock:
            self.calls.append(RecordedCall(method, path, _try_json(raw), status))
        if status == _DROPPED:
            raise DropConnection()
        body = b"" if payload is None else msgspec.json.encode(payload)  # 100,000 customers: fast
        start_response(
            _STATUS_TEXT.get(status, f"{status} Error"),
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _handle(
        self, method: str, path: str, raw: bytes, authorization: str | None
    ) -> tuple[int, Any]:
        if self.latency:
            time.sleep(self.latency)
        if self.fail_rate and self._rng.random() < self.fail_rate:
            return 503, {"message": "Service temporarily unavailable (sandbox --fail-rate)"}
        if authorization != self.state.app_key and authorization not in self.state.program_keys:
            return 403, {"message": "Invalid App Key"}
        route = _route(method, path)
        if route is None:
            return 405 if _route_any(path) else 404, {"message": "Not found"}
        name, program_id, item = route
        if (opens := self.state.opens(authorization, program_id)) != 200:
            return opens, {"message": "Program not found" if opens == 404 else "Invalid App Key"}
        if self.route_latency.get(name):
            time.sleep(self.route_latency[name])
        if self.before is not None:
            self.before(method, path)
        fault = self._take_fault(name)
        after_apply = self.fail_after_apply and name not in READS
        if fault is None and after_apply and self._rng.random() < self.fail_after_apply:
            fault = Fault.APPLY_THEN_500
        if fault is not None and not fault.applies:
            return {
                Fault.REFUSE_422: (422, {"message": "Refused (sandbox fault)"}),
                Fault.FAIL_500: (500, {"message": "Internal error (sandbox fault)"}),
                Fault.FAIL_503: (503, {"message": "Unavailable (sandbox fault)"}),
                Fault.DROP: (_DROPPED, None),
            }[fault]
        body: Any = {}
        if method in ("POST", "PUT") and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {"message": "The request body is not valid JSON"}
            if not isinstance(body, dict):
                return 400, {"message": "The request body must be a JSON object"}
        try:
            result = self._dispatch(name, program_id, item, body)
        except SandboxError as exc:
            return exc.status, exc.body
        if fault is Fault.APPLY_THEN_500:
            return 500, {"message": "Internal error after applying (sandbox fault)"}
        if fault is Fault.APPLY_THEN_EMPTY:
            return 200, None
        if fault is Fault.APPLY_THEN_DROP:
            return _DROPPED, None
        return 200, result

    def _dispatch(self, name: str, program_id: int, item: int | None, body: dict[str, Any]) -> Any:
        s = self.state
        match name:
            case "list_customers":
                with s.lock:  # encoded as they are now (no copy of 100,000 dicts)
                    customers = list(s.program(program_id).customers.values())
                    return msgspec.Raw(msgspec.json.encode(customers))
            case "create_customer":
                return s.add_customer(program_id, body)
            case "get_customer":
                return s.customer(program_id, item)  # type: ignore[arg-type]
            case "update_customer":
                return s.update_customer(program_id, item, body)  # type: ignore[arg-type]
            case "delete_customer":
                s.delete_customer(program_id, item)  # type: ignore[arg-type]
                return {"deleted": True}
            case "add_points":
                return s.add_points(program_id, item, body)  # type: ignore[arg-type]
            case "list_offers":
                return s.offers(program_id)
            case "create_offer":
                return s.add_offer(program_id, body)
            case "update_offer":
                return s.update_offer(program_id, item, body)  # type: ignore[arg-type]
            case "delete_offer":
                s.delete_offer(program_id, item)  # type: ignore[arg-type]
                return {"deleted": True}
            case "publish_offer":
                return s.transition_offer(program_id, item, "publish")  # type: ignore[arg-type]
            case "cancel_offer":
                return s.transition_offer(program_id, item, "cancel")  # type: ignore[arg-type]
        raise SandboxError(404, "Not found")


def _route(method: str, path: str) -> tuple[str, int, int | None] | None:
    for route_method, pattern, name in _ROUTES:
        if route_method == method and (match := pattern.search(path)):
            item = match.groupdict().get("item")
            return name, int(match["program"]), int(item) if item else None
    return None


def _route_any(path: str) -> bool:
    return any(pattern.search(path) for _, pattern, _ in _ROUTES)


def _try_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
