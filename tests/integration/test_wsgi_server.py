"""The small threaded server under `serve`, the sandbox and the Slack stand-in: every
connection answered at once, on threads kept for the next connections; the stand-ins'
connections kept alive, as the real APIs keep them."""

from __future__ import annotations

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from bot.runtime import wsgi_server
from bot.runtime.wsgi_server import make_threaded_server
from tests.harness import wait_until


class _Recorder:
    """A WSGI app that notes the thread answering each request; `/meet` waits for
    `parties` requests to be in it at once."""

    def __init__(self, parties: int = 1) -> None:
        self.threads: list[int] = []
        self.meeting = threading.Barrier(parties, timeout=10)

    def __call__(self, environ, start_response):
        self.threads.append(threading.get_ident())
        if environ["PATH_INFO"] == "/meet":
            self.meeting.wait()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


def _running(app):
    server = make_threaded_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


def test_one_connection_after_another_is_answered_on_the_same_thread() -> None:
    app = _Recorder()
    server, thread, url = _running(app)
    try:
        for _ in range(20):
            assert httpx.get(url + "/").text == "ok"
            wait_until(lambda: server._idle == 1, what="the thread waiting for the next")
        assert len(app.threads) == 20 and len(set(app.threads)) == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_connections_at_once_are_answered_at_once_and_few_threads_are_kept(
    monkeypatch,
) -> None:
    monkeypatch.setattr(wsgi_server, "MOST_IDLE_THREADS", 4)
    app = _Recorder(parties=30)  # answered only if all 30 are in the app together
    server, thread, url = _running(app)
    try:
        with ThreadPoolExecutor(30) as pool:
            answers = list(pool.map(lambda _: httpx.get(url + "/meet", timeout=15), range(30)))
        assert [a.text for a in answers] == ["ok"] * 30
        assert len(set(app.threads)) == 30
        wait_until(lambda: server._threads == 4, what="the burst's threads beyond 4 ending")
        assert server._idle == 4
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _app_reading(part: int | None):
    """Answers `got N` after reading `part` bytes of the body (all of it if None, none if 0)."""

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        got = environ["wsgi.input"].read(length if part is None else min(part, length))
        body = f"got {len(got)}".encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app


@contextmanager
def _connected(app, keep_alive: bool = True):
    """`app` served (kept alive unless told), and one client connection to it; both
    closed at the end."""
    server = make_threaded_server(app, "127.0.0.1", 0, keep_alive=keep_alive)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=5)
    try:
        yield server, connection
    finally:
        connection.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _post(connection: http.client.HTTPConnection, body: bytes, **headers: str):
    connection.request("POST", "/", body=body, headers=headers)
    response = connection.getresponse()
    return response, response.read().decode()


@pytest.mark.parametrize("part", [None, 0, 3])
def test_a_kept_alive_connection_answers_request_after_request(part) -> None:
    """Whatever of the body the app read, the next request starts where its bytes do."""
    with _connected(_app_reading(part)) as (_, connection):
        for size in (10, 70_000, 0, 5):
            response, text = _post(connection, b"x" * size)
            read = size if part is None else min(part, size)
            assert (response.status, text, response.version) == (200, f"got {read}", 11)
            assert not response.will_close
        socket_used = connection.sock
        _post(connection, b"yz")
        assert connection.sock is socket_used  # one connection throughout


def test_a_kept_alive_connection_closes_when_asked_or_the_length_is_unknown() -> None:
    def unsized(environ, start_response):
        start_response("200 OK", [])
        return iter([b"no ", b"length"])  # two parts: the server cannot say the length

    for app, headers, text in [
        (_app_reading(None), {"Connection": "close"}, "got 2"),
        (unsized, {}, "no length"),
    ]:
        with _connected(app) as (_, connection):
            response, answer = _post(connection, b"ab", **headers)
            assert answer == text and response.will_close


def test_an_empty_answer_on_a_kept_alive_connection_is_sent_at_once() -> None:
    def empty(environ, start_response):
        start_response("204 No Content", [("Content-Length", "0")])
        return []  # nothing written: the headers alone must leave

    with _connected(empty) as (_, connection):
        for _ in range(3):
            response, text = _post(connection, b"a")
            assert (response.status, text, response.will_close) == (204, "", False)


def test_a_kept_alive_answer_leaves_in_one_piece() -> None:
    """Status line, headers and body in one write: written apart, each write after the
    first would wait for the client's delayed acknowledgement (Nagle), 40 ms a call."""
    with _connected(_app_reading(None)) as (_, connection):
        connection.connect()
        for _ in range(3):
            connection.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
            first = connection.sock.recv(65536)  # what the first write carried
            assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"\r\n\r\ngot 2")


def test_serve_answers_one_request_per_connection() -> None:
    """`serve` counts each arrival by its connection (acks first): never kept alive."""
    with _connected(_app_reading(None), keep_alive=False) as (_, connection):
        response, text = _post(connection, b"abc")
        assert (text, response.version, response.will_close) == ("got 3", 10, True)


def test_closing_the_server_ends_its_idle_kept_alive_connections() -> None:
    with _connected(_app_reading(None)) as (server, connection):
        _post(connection, b"a")
        wait_until(lambda: len(server._open) == 1, what="the connection kept")
        server.shutdown()
        server.server_close()
        assert connection.sock.recv(1) == b""  # closed by the server, not left waiting
        wait_until(lambda: not server._open, what="its thread letting it go")


def test_a_dropped_connection_is_dropped_even_when_kept_alive() -> None:
    def drop(environ, start_response):
        raise wsgi_server.DropConnection()

    with (
        _connected(drop) as (_, connection),
        pytest.raises((http.client.RemoteDisconnected, ConnectionError)),
    ):
        _post(connection, b"a")
