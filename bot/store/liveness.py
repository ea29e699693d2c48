"""Whether an idle connection has heard from its server: a database server that ended
the session (a restart, a failover, an administrator's pg_terminate_backend) sends an
error and closes it, a web server closes a kept-alive connection it will not serve again,
and a connection cut on the way closes too; each makes the socket readable. Asking costs
one poll, not a round trip."""

from __future__ import annotations

import select
from typing import Any


def has_news(connection: Any) -> bool:
    """Has anything arrived on this idle connection (a database driver's, or a socket),
    so it may have been ended? True when it cannot tell (closed, no socket)."""
    try:
        if connection is None or getattr(connection, "closed", False):
            return True
        fileno = connection.fileno()
        if fileno < 0:
            return True
        readable, _, _ = select.select([fileno], [], [], 0)
        return bool(readable)
    except (OSError, ValueError, AttributeError):
        return True
