"""Bolt's listener threads, and how a request's thread learns that its listener has acked.

Bolt runs each listener on a listener thread while the thread that received the request
waits for `ack()` and then sends it as Slack's HTTP 200. Bolt's own wait looks every
10 ms, so an ack leaves up to 10 ms after the listener gave it, and in a burst of 200
commands every waiting request wakes a hundred times a second to look (each time taking
the interpreter from the threads doing the acking). Here the request thread sleeps until
`ack()` is called (or the listener ends without it): `PromptAcks`, the first middleware,
hands each request an ack that says when it is given, and the listener pool waits for it
right after starting the listener. Bolt's wait then finds the ack already given.

Kept because bench_ack measures it: its second bare Bolt app waits for acks this way,
beside one that polls as Bolt does by default, in the same run. Bolt is pinned to the
minor version this was written against (tests/unit/test_bolt_guard.py says what to
re-check before moving it).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

# Bolt's ack timeout (a listener's `ack_timeout`): past it, Bolt's own wait decides.
ACK_TIMEOUT_SECONDS = 3.0


class PromptAck(Ack):
    """Bolt's `ack`, which also wakes the request thread waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.given = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.given.set()


# The ack of the request this thread is dispatching, until its listener is started (Bolt
# runs every global middleware, then the listener: `next()` only lets the chain go on).
_dispatching = threading.local()


class PromptAcks(Middleware):
    """Each request's `ack` is a PromptAck (a class: see handlers.middleware)."""

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        req.context["ack"] = _dispatching.ack = PromptAck()
        return next()


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener threads. Each listener runs in the context it was submitted from
    (so it writes in the language the request middleware chose: bot.i18n), and the
    request thread that submits it returns once it has acked (or ended)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        ack: PromptAck | None = getattr(_dispatching, "ack", None)
        if ack is not None:  # Bolt starting a request's listener: wait here, not in 10 ms steps
            _dispatching.ack = None
            future.add_done_callback(lambda _: ack.given.set())
            ack.given.wait(ACK_TIMEOUT_SECONDS)
        return future
