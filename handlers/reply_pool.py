"""Replies to Slack's response_urls: JSON posted over connections kept alive per host, on
the standard library's http.client.

A reply follows every command and button, so its cost is paid on the interpreter that
also answers Slack: httpx (a client, a transport and an HTTP state machine in Python)
cost that interpreter several times what http.client does for the same POST. http.client
does not follow proxy settings (HTTPS_PROXY and the like): where one is set, replies go
through httpx, which does.

A kept connection the server has closed since is seen before it is used (its socket is
readable) and dropped. One idle for IDLE_SECONDS is closed rather than used: servers and
load balancers close idle connections after a minute or so, and one closed just as a
reply is sent on it would lose that reply. A reply is never sent twice: it is a message,
and one that failed on the way may have been shown.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.store.liveness import has_news

log = logging.getLogger(__name__)

_Key = tuple[str, str, int]
IDLE_SECONDS = 30.0


class ReplyPool:
    """Posts JSON to URLs, keeping up to `keep` idle connections per host."""

    def __init__(
        self,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        keep: int = 16,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.timeout, self.connect_timeout, self.keep = timeout, connect_timeout, keep
        self._clock = clock
        # Per host, the idle connections and when each was given back, oldest first.
        self._idle: dict[_Key, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._lock = threading.Lock()
        self._tls = httpx.create_ssl_context()  # the same certificates httpx trusts
        self._proxied: httpx.Client | None = None
        if urllib.request.getproxies():
            self._proxied = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout))

    def post_json(self, url: str, body: Any) -> int:
        """POST `body` as JSON; the HTTP status. OSError or http.client.HTTPException
        (httpx.HTTPError through a proxy) if it could not be delivered."""
        data = json.dumps(body, ensure_ascii=False).encode()
        if self._proxied is not None:
            return self._proxied.post(url, content=data, headers=_HEADERS).status_code
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port or _PORTS.get(parts.scheme, 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._take(key) or self._connect(key)
        try:
            connection.request("POST", target, body=data, headers=_HEADERS)
            response = connection.getresponse()
            response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(key, connection)
        return response.status

    def _take(self, key: _Key) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                connection, since = idle.pop()
                if self._clock() - since < IDLE_SECONDS and not has_news(connection.sock):
                    return connection
                connection.close()  # idle too long, or the server closed it (or spoke unasked)
        return None

    def _connect(self, key: _Key) -> http.client.HTTPConnection:
        scheme, host, port = key
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self.connect_timeout, context=self._tls
            )
        elif scheme == "http":
            connection = http.client.HTTPConnection(host, port, timeout=self.connect_timeout)
        else:
            raise http.client.InvalidURL(f"not an http(s) URL: {scheme!r}")
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(self.timeout)
        return connection

    def _give_back(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        now = self._clock()
        with self._lock:
            idle = self._idle.setdefault(key, [])
            while idle and now - idle[0][1] >= IDLE_SECONDS:  # never taken again: close it
                idle.pop(0)[0].close()
            if len(idle) < self.keep:
                idle.append((connection, now))
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for connection, _since in idle:
                    connection.close()
            self._idle.clear()
        if self._proxied is not None:
            self._proxied.close()


_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
_PORTS = {"http": 80, "https": 443}
