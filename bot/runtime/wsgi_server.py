"""A small threaded WSGI server on loopback, for the sandbox, the fake Slack API and `serve`.

Each connection is handled on one of a pool of threads, started as needed and kept for
the next connection (a new thread for each, as socketserver's ThreadingMixIn starts, cost
the process about as much as answering a request). The threads are daemons, like
ThreadingMixIn's with `daemon_threads`: a client that never sends its request does not
keep the process from exiting.

The stand-ins serve with `keep_alive`: HTTP/1.1 connections stay open for the client's
next request, as the real Smart Passes and Slack APIs keep them, so a client's cost per
call is what it would be against them (no TCP connect per call). `serve` answers one
request per connection: its acks are counted from each connection's arrival.
"""

from __future__ import annotations

import queue
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from handlers.workpool import Answering


class DropConnection(Exception):
    """Raised by an app to close the connection without any answer (fault injection)."""


MOST_IDLE_THREADS = 64
# A kept-alive connection idle this long is closed. Longer than a client keeps its idle
# connections (httpx: 5 s), so the client, not this server, closes them: a request is
# never sent on a connection this server is closing.
KEEP_ALIVE_SECONDS = 60.0


class _ThreadingWSGIServer(WSGIServer):
    allow_reuse_address = True
    request_queue_size = 128
    # Counts each request from the moment it is accepted (before its thread has read
    # it) until it is answered: the work pool's jobs let a burst's acks go first.
    answering: Answering | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._connections: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for a connection
        self._open: set[Any] = set()  # connections being answered (or kept alive)
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.answering is not None:
            self.answering.arrived()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                self._threads += 1
                threading.Thread(target=self._handle_connections, daemon=True).start()
        self._connections.put((request, client_address))

    def _handle_connections(self) -> None:
        while (connection := self._connections.get()) is not None:
            request, client_address = connection
            with self._lock:
                self._open.add(request)
            try:
                self.finish_request(request, client_address)
            except Exception:  # as ThreadingMixIn: reported (traceback to stderr), thread kept
                self.handle_error(request, client_address)
            finally:
                with self._lock:
                    self._open.discard(request)
                self.shutdown_request(request)
                if self.answering is not None:
                    self.answering.answered()
            with self._lock:
                if self._idle >= MOST_IDLE_THREADS:  # after a burst: not kept
                    self._threads -= 1
                    return
                self._idle += 1

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            for _ in range(self._threads):
                self._connections.put(None)  # each thread ends when it takes one
            self._threads = self._idle = 0
            for request in self._open:  # a kept-alive connection's thread stops waiting
                with suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)


class _ServerHandler(ServerHandler):
    sized = False  # the answer said its length, so the connection may carry another

    def cleanup_headers(self) -> None:
        super().cleanup_headers()
        headers = getattr(self, "headers", {})  # not in typeshed
        self.sized = "Content-Length" in headers
        closing = not self.sized or self.request_handler.close_connection  # type: ignore[attr-defined]
        if self.http_version == "1.1" and closing:
            headers["Connection"] = "close"  # the client knows not to send another

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            self.request_handler.close_connection = True  # type: ignore[attr-defined]
            with suppress(OSError):
                self.request_handler.connection.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
            return
        super().handle_error()


class _Body:
    """A request's body as the app reads it (wsgi.input): never past its Content-Length,
    and the rest read away after the answer, so the next request on the connection starts
    where its bytes do."""

    def __init__(self, stream: Any, length: int) -> None:
        self._stream, self.left = stream, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self._stream.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self._stream.readline(size) if size else b""
        self.left -= len(data)
        return data

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def drain(self) -> None:
        while self.left and self.read(65536):
            pass


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        """WSGIRequestHandler.handle, with a ServerHandler that can drop a connection."""
        self.close_connection = True
        self._answer_one()

    def _answer_one(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:  # the client closed the connection
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        self.wfile.flush()  # a "100 Continue" the client waits for before its body
        body = None
        if not self.close_connection:
            if "Transfer-Encoding" in self.headers:  # not read here: the last on this one
                self.close_connection = True
            else:
                body = _Body(self.rfile, int(self.headers.get("Content-Length") or 0))
        handler = _ServerHandler(
            body or self.rfile,
            self.wfile,  # type: ignore[arg-type]  # typeshed: BufferedIOBase is an IO[bytes]
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.http_version = self.protocol_version.removeprefix("HTTP/")
        handler.run(self.server.get_app())  # type: ignore[attr-defined]
        self.wfile.flush()  # an empty body leaves its headers in the buffer
        if not handler.sized:
            self.close_connection = True
        elif body is not None and not self.close_connection:
            body.drain()


class _KeepAliveHandler(_QuietHandler):
    """Answers each request of an HTTP/1.1 connection in turn, until the client closes it,
    asks to, or leaves it idle KEEP_ALIVE_SECONDS."""

    protocol_version = "HTTP/1.1"
    timeout = KEEP_ALIVE_SECONDS  # the socket's: a read waits at most this long
    # The status line, the headers and the body are written apart. On a connection kept
    # open, a write after the first waits (Nagle) for the client's acknowledgement, which
    # the client delays (40 ms on Linux): buffered, they leave together, and no write
    # waits.
    wbufsize = -1

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        self.close_connection = True
        try:
            self._answer_one()
            while not self.close_connection:
                self._answer_one()
        except (TimeoutError, ConnectionError):
            return


def make_threaded_server(
    app: WSGIApplication, host: str, port: int, *, keep_alive: bool = False
) -> _ThreadingWSGIServer:
    handler = _KeepAliveHandler if keep_alive else _QuietHandler
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer, handler_class=handler)
    assert isinstance(server, _ThreadingWSGIServer)
    return server


@contextmanager
def serving(
    app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, *, keep_alive: bool = False
) -> Iterator[str]:
    """Serve `app` in a background thread; yields its base URL ("http://127.0.0.1:PORT")."""
    server = make_threaded_server(app, host, port, keep_alive=keep_alive)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
