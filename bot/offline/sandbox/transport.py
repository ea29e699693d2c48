"""The sandbox in-process: an httpx transport that calls the WSGI app directly (no port),
and behaves at the edges as a server on a socket would. A request that takes longer than
the client's read timeout raises httpx.ReadTimeout (the sandbox carries on, as a real
server does); a dropped connection raises httpx.RemoteProtocolError; an exception in the
app is an HTTP 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from wsgiref.types import WSGIApplication

import httpx

from bot.runtime.wsgi_server import DropConnection


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._wsgi = httpx.WSGITransport(app=app)
        self._threads = ThreadPoolExecutor(32, thread_name_prefix="in-process-api")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if not self._may_wait():  # answered at once: in this thread, as a call
            return self._answer(request)
        timeout = (request.extensions.get("timeout") or {}).get("read")
        answer = self._threads.submit(self._answer, request)
        try:
            return answer.result(timeout=timeout)
        except FutureTimeout:
            raise httpx.ReadTimeout("timed out (in-process)", request=request) from None

    def _may_wait(self) -> bool:
        """Whether the app may take its time (latency, a test's hook): then the answer is
        awaited on another thread, so that a read timeout can fire."""
        may_wait = getattr(self._app, "may_wait", None)
        return True if may_wait is None else bool(may_wait())

    def _answer(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self._wsgi.handle_request(request)
            response.read()
            return response
        except DropConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except Exception:  # what a WSGI server answers when the app raises
            return httpx.Response(500, text="A server error occurred.", request=request)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
