"""Replies to a response_url: posted as Bolt's `respond` posts them, over kept-alive
connections (each reply once; a connection the server closed is not used again; a proxy
in the environment followed); a reply that cannot be delivered is logged, never raised
(what it reports is done and recorded already)."""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from bot.offline.slack_standin import SlackStandIn
from bot.runtime.wsgi_server import serving
from handlers.context import Responder
from handlers.reply_pool import IDLE_SECONDS, ReplyPool
from tests.harness import free_port


def test_a_reply_reaches_the_response_url_with_only_what_was_given() -> None:
    slack = SlackStandIn()
    with serving(slack) as url:
        slack.base_url = url
        reply_to = slack.response_url()
        Responder(reply_to)(text="hi", blocks=None, response_type="ephemeral")
        (call,) = slack.wait_for("response_url")
    assert call.args == {"text": "hi", "response_type": "ephemeral", "_url": reply_to}


def test_an_unreachable_response_url_is_logged_not_raised(caplog) -> None:
    caplog.set_level(logging.WARNING)
    answer = Responder(f"http://127.0.0.1:{free_port()}/response/1")(text="done")
    assert answer is None
    assert "could not reply to a response_url" in caplog.text


class _KeptAlive(BaseHTTPRequestHandler):
    """An HTTP/1.1 server's handler that notes each connection and request body; it
    closes a connection after `serves` requests on it."""

    protocol_version = "HTTP/1.1"
    connections: ClassVar[list[int]] = []
    bodies: ClassVar[list[dict]] = []
    paths: ClassVar[list[str]] = []
    serves = 100

    def setup(self) -> None:
        super().setup()
        self.served = 0
        type(self).connections.append(id(self))

    def do_POST(self) -> None:
        type(self).bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        type(self).paths.append(self.path)
        self.served += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        if self.served >= self.serves:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@contextmanager
def _kept_alive_server(serves: int = 100):
    handler = type("Handler", (_KeptAlive,), {"connections": [], "bodies": [], "paths": []})
    handler.serves = serves
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_replies_share_one_kept_alive_connection() -> None:
    pool = ReplyPool()
    with _kept_alive_server() as (seen, url):
        for n in range(5):
            assert pool.post_json(f"{url}/response/{n}?a=1", {"text": f"reply {n} ✅"}) == 200
    pool.close()
    assert [b["text"] for b in seen.bodies] == [f"reply {n} ✅" for n in range(5)]
    assert seen.paths == [f"/response/{n}?a=1" for n in range(5)]
    assert len(seen.connections) == 1


def test_a_connection_the_server_closed_is_not_used_again() -> None:
    pool = ReplyPool()
    with _kept_alive_server(serves=1) as (seen, url):  # "Connection: close" after each
        for n in range(3):
            assert pool.post_json(f"{url}/r", {"n": n}) == 200
        assert [b["n"] for b in seen.bodies] == [0, 1, 2]  # each once
        assert len(seen.connections) == 3
    pool.close()


def test_a_connection_idle_too_long_is_closed_not_used() -> None:
    """A server may close an idle connection just as a reply is sent on it: one idle for
    IDLE_SECONDS is replaced by a new one, and closed even if it is never taken again."""
    now = [0.0]
    pool = ReplyPool(clock=lambda: now[0])
    with _kept_alive_server() as (seen, url), _kept_alive_server() as (other, other_url):
        pool.post_json(f"{url}/r", {"n": 0})
        now[0] += IDLE_SECONDS - 1
        pool.post_json(f"{url}/r", {"n": 1})  # not yet: the same connection
        assert len(seen.connections) == 1
        pool.post_json(f"{other_url}/r", {"n": 0})
        (kept,) = pool._idle[("http", "127.0.0.1", int(other_url.rsplit(":", 1)[1]))]
        now[0] += IDLE_SECONDS
        pool.post_json(f"{url}/r", {"n": 2})
        assert len(seen.connections) == 2  # a new one
        assert [b["n"] for b in seen.bodies] == [0, 1, 2]  # each once
        assert kept[0].sock is not None  # another host's connection waits for its host
        pool.post_json(f"{other_url}/r", {"n": 1})
        assert len(other.connections) == 2 and kept[0].sock is None
    pool.close()


def test_a_connection_left_idle_is_closed_when_the_next_is_given_back() -> None:
    now = [0.0]
    pool = ReplyPool(clock=lambda: now[0])
    with _kept_alive_server() as (_, url):
        key = ("http", "127.0.0.1", int(url.rsplit(":", 1)[1]))
        older, newer = pool._connect(key), pool._connect(key)  # two replies at once
        pool._give_back(key, older)
        now[0] += IDLE_SECONDS
        pool._give_back(key, newer)
        assert older.sock is None  # closed: the newest is always taken first
        assert pool._idle[key] == [(newer, now[0])]
    pool.close()


def test_a_proxy_in_the_environment_is_followed(monkeypatch) -> None:
    """http.client does not follow HTTP(S)_PROXY: with one set, replies go through it."""
    with _kept_alive_server() as (proxy, proxy_url):
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        pool = ReplyPool()
        assert pool.post_json("http://hooks.example.test/response/1", {"text": "hi"}) == 200
        pool.close()
    assert proxy.paths == ["http://hooks.example.test/response/1"]  # asked of the proxy
    assert proxy.bodies == [{"text": "hi"}]
