"""Whether an idle database connection has heard from its server: one that ended the
session (a restart, a failover, an administrator's pg_terminate_backend) sends an error
and closes it, as does a connection cut on the way; either makes the socket readable.
Asking costs one poll, not a round trip."""

from __future__ import annotations

import select
from typing import Any


def has_news(dbapi_connection: Any) -> bool:
    """Has anything arrived on this idle driver connection (so it may have been ended)?
    True when it cannot tell (closed, no socket)."""
    try:
        if dbapi_connection is None or getattr(dbapi_connection, "closed", False):
            return True
        fileno = dbapi_connection.fileno()
        if fileno < 0:
            return True
        readable, _, _ = select.select([fileno], [], [], 0)
        return bool(readable)
    except (OSError, ValueError, AttributeError):
        return True
