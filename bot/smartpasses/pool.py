"""The Loyalty API's connection pool: httpx's, with each request's turn in it linear.

httpcore 1.0's pool re-examines every connection for each queued request whenever a
request arrives or finishes (encode/httpcore#1035, still open): counting the idle
connections once per idle connection, and asking each idle socket whether the server
closed it. Against an API that keeps its connections alive, as Smart Passes does, a shop
with a hundred changes in flight holds a hundred connections, and that bookkeeping took
most of the process's CPU. `LinearPool` keeps httpcore's connections, requests and
locking, and replaces only the pass that hands connections to queued requests:

- one walk over the connections: closed ones dropped, idle ones noted, surplus idle ones
  closed (max_keepalive_connections counts idle connections, as documented);
- an idle connection is handed to one queued request, and not to another before that
  request has started on it (httpcore handed it to all, and all but one then queued
  again);
- whether the server closed an idle connection is asked of the one about to be handed
  out, and of every idle one at most once a SWEEP_SECONDS (the keep-alive expiry too).

Where the pool is not httpcore's plain one (another httpcore, a transport given for
tests) it is left as it is: as correct, only slower.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore
import httpx

SWEEP_SECONDS = 1.0


class LinearPool(httpcore.ConnectionPool):
    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + SWEEP_SECONDS
        # Connections a request holds, or was handed and has not started on yet.
        held = {id(r.connection) for r in self._requests if r.connection is not None}
        kept: list[Any] = []
        free: list[Any] = []  # idle and nobody's: to hand out, or to close
        for connection in self._connections:
            if connection.is_closed():
                continue
            if id(connection) not in held and connection.is_idle():
                if sweep and connection.has_expired():
                    closing.append(connection)
                    continue
                free.append(connection)
            kept.append(connection)
        surplus = len(free) - self._max_keepalive_connections
        if surplus > 0:
            closing.extend(free[:surplus])
            free = free[surplus:]
            gone = {id(c) for c in closing}
            kept = [c for c in kept if id(c) not in gone]
        self._connections = kept

        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            connection = self._reuse(free, origin, closing)
            if connection is None:
                if len(self._connections) >= self._max_connections:
                    if not free:
                        break  # every connection is busy: the rest wait their turn
                    old = free.pop(0)  # another origin's idle connection makes room
                    self._connections.remove(old)
                    closing.append(old)
                connection = self.create_connection(origin)
                self._connections.append(connection)
            request.assign_to_connection(connection)
        return closing

    def _reuse(self, free: list[Any], origin: httpcore.Origin, closing: list[Any]) -> Any:
        """An idle connection to `origin` the server has not closed, taken out of `free`
        (those it has closed go to `closing`)."""
        index = 0
        while index < len(free):
            connection = free[index]
            if not connection.can_handle_request(origin) or not connection.is_available():
                index += 1
                continue
            del free[index]
            if not connection.has_expired():
                return connection
            self._connections.remove(connection)
            closing.append(connection)
        return None


def with_linear_pool(client: httpx.Client) -> httpx.Client:
    """`client`, its default transport's pool a LinearPool when it is httpcore's plain
    one. Everything else stays httpx's own: TLS, timeouts, errors as httpx raises them,
    and the proxies it reads from the environment (mounted beside it, untouched)."""
    transport = getattr(client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    if type(pool) is httpcore.ConnectionPool:
        pool.__class__ = LinearPool
    return client
