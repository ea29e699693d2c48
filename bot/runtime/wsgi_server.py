"""A small threaded WSGI server on loopback, for the sandbox, the fake Slack API and `serve`.

Each connection is handled on one of a pool of threads, started as needed and kept for
the next connection (a new thread for each, as socketserver's ThreadingMixIn starts, cost
the process about as much as answering a request). The threads are daemons, like
ThreadingMixIn's with `daemon_threads`: a client that never sends its request does not
keep the process from exiting.
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
            try:
                self.finish_request(request, client_address)
            except Exception:  # as ThreadingMixIn: reported (traceback to stderr), thread kept
                self.handle_error(request, client_address)
            finally:
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


class _ServerHandler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            with suppress(OSError):
                self.request_handler.connection.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
            return
        super().handle_error()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle(self) -> None:
        """WSGIRequestHandler.handle, with a ServerHandler that can drop a connection."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]  # typeshed: BufferedIOBase is an IO[bytes]
            self.get_stderr(),
            self.get_environ(),
            multithread=False,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


def make_threaded_server(app: WSGIApplication, host: str, port: int) -> _ThreadingWSGIServer:
    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    assert isinstance(server, _ThreadingWSGIServer)
    return server


@contextmanager
def serving(app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` in a background thread; yields its base URL ("http://127.0.0.1:PORT")."""
    server = make_threaded_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
