"""The one way a listener does work after the ack: `@after_ack`.

    @app.action(ActionId.CUSTOMER_HISTORY)
    @after_ack
    def customer_history(env: Env, value: str) -> None: ...

The listener Bolt sees acks at once and hands the work to the work pool (`Env.defer`),
so a slow Loyalty API never holds up an ack. The work declares what it needs by name:
`env` (the request context), `body`, `value` (the clicked button's value), `view` (the
modal, for a submission or a click inside one).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from handlers.context import Env

AVAILABLE = frozenset({"env", "body", "value", "view"})


def after_ack(work: Callable[..., None]) -> Callable[..., None]:
    wanted = set(inspect.signature(work).parameters)
    if unknown := wanted - AVAILABLE:
        raise TypeError(f"{work.__name__} asks for {sorted(unknown)}; it may have {AVAILABLE}")

    def listener(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        given = {
            "env": env,
            "body": body,
            "value": ((body.get("actions") or [{}])[0]).get("value", ""),
            "view": body.get("view") or {},
        }
        env.defer(functools.partial(work, **{name: given[name] for name in wanted}))

    listener.__name__ = listener.__qualname__ = work.__name__
    listener.__doc__ = work.__doc__
    return listener
