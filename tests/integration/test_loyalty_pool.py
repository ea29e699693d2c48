"""The Loyalty API's connection pool (bot.smartpasses.pool) against a server that keeps
its connections alive, as Smart Passes does: connections reused, never more than the
limit, none handed out that the server closed, every answer the request's own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bot.runtime import wsgi_server
from bot.smartpasses.client import shared_http
from bot.smartpasses.pool import LinearPool, with_linear_pool
from tests.harness import wait_until


class _Server:
    """Echoes each request's path; counts the connections it accepted and the requests
    in it at once. `gate`, when set, holds every request until it opens."""

    def __init__(self) -> None:
        self.accepted = 0
        self.inside = self.most_inside = 0
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()
        self.server = wsgi_server.make_threaded_server(self, "127.0.0.1", 0, keep_alive=True)
        accept = self.server.process_request

        def counted(request, address):
            with self._lock:
                self.accepted += 1
            accept(request, address)

        self.server.process_request = counted
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __call__(self, environ, start_response):
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            if self.gate is not None:
                self.gate.wait(10)
            body = environ["PATH_INFO"].encode()
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        finally:
            with self._lock:
                self.inside -= 1

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    running = _Server()
    yield running
    running.close()


def _client(most: int) -> httpx.Client:
    limits = httpx.Limits(max_connections=most, max_keepalive_connections=most)
    return with_linear_pool(httpx.Client(timeout=10, limits=limits))


def _all_at_once(client: httpx.Client, server: _Server, count: int, inside: int = 0) -> list[str]:
    """`count` requests sent at once; with `inside`, held until that many are in the server
    together."""
    server.gate = threading.Event() if inside else None
    with ThreadPoolExecutor(count) as pool:
        answers = pool.map(lambda i: client.get(f"{server.url}/{i}").text, range(count))
        if server.gate is not None:
            wait_until(lambda: server.inside == inside, what=f"{inside} requests in at once")
            server.gate.set()
        return list(answers)


def test_the_bots_client_uses_the_linear_pool_and_still_reads_proxies(monkeypatch) -> None:
    assert type(shared_http()._transport._pool) is LinearPool
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = shared_http()
    assert type(proxied._transport._pool) is LinearPool
    assert any(m is not None for m in proxied._mounts.values())  # httpx's own proxy mount


def test_requests_at_once_each_get_their_answer_and_connections_are_reused(server) -> None:
    client = _client(64)
    assert _all_at_once(client, server, 40, inside=40) == [f"/{i}" for i in range(40)]
    assert server.accepted == 40
    for _ in range(3):  # the same forty connections, again and again
        assert _all_at_once(client, server, 40) == [f"/{i}" for i in range(40)]
    for i in range(20):  # one after another: one connection at a time
        assert client.get(f"{server.url}/one/{i}").text == f"/one/{i}"
    assert server.accepted == 40
    assert len(client._transport._pool.connections) == 40


def test_no_more_connections_than_the_limit_and_every_request_answered(server) -> None:
    client = _client(4)
    assert _all_at_once(client, server, 30, inside=4) == [f"/{i}" for i in range(30)]
    assert server.most_inside <= 4 and server.accepted == 4


def test_a_connection_the_server_closed_is_not_handed_out(server) -> None:
    client = _client(8)
    assert _all_at_once(client, server, 5, inside=5) == [f"/{i}" for i in range(5)]
    idle = [c for c in client._transport._pool.connections if c.is_idle()]
    assert len(idle) == 5
    with server._lock:
        kept = list(server.server._open)
    for connection in kept:  # the server ends them, as one does after its keep-alive time
        connection.shutdown(2)
    wait_until(lambda: not server.server._open, what="the server letting them go")
    for i in range(10):  # each answered, on new connections, no error
        assert client.get(f"{server.url}/again/{i}").text == f"/again/{i}"
    assert server.accepted == 6
