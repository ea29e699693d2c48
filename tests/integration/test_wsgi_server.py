"""The small threaded server under `serve`, the sandbox and the Slack stand-in: every
connection answered at once, on threads kept for the next connections."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

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
