"""The one place that decides who is a manager, and so who may do what (`bot.policy`).

Managers are the configured user ids plus the members of the configured user group. The
group's members are fetched through a callable (Slack's usergroups.users.list in the app)
and cached for a few minutes; if that lookup fails, the answer is no.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from bot.core.intents import Intent
from bot.core.ledger import Ledger
from bot.domain.allowance import MANAGERS_ONLY, ClerkAllowance
from bot.domain.audit import Action, Actor, Target
from bot.domain.errors import PermissionDenied
from bot.domain.policy import POLICY, Act, Who
from bot.domain.say import Group, Person, Say

log = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 300.0


class Roles:
    def __init__(
        self,
        managers: Iterable[str],
        *,
        group_id: str | None = None,
        group_members: Callable[[str], Iterable[str]] | None = None,
        ledger: Ledger | None = None,
        cache_seconds: float = GROUP_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        allowance: ClerkAllowance = MANAGERS_ONLY,
    ) -> None:
        self.managers = frozenset(managers)
        self.allowance = allowance
        self.group_id = group_id
        self._group_members = group_members
        self._ledger = ledger  # where refusals are recorded
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cached: frozenset[str] | None = None
        self._cached_at = 0.0
        self._lock = threading.Lock()

    def is_manager(self, user_id: str) -> bool:
        if user_id in self.managers:
            return True
        if not self.group_id or self._group_members is None:
            return False
        return user_id in self._group()

    def _group(self) -> frozenset[str]:
        with self._lock:
            fresh = self._clock() - self._cached_at < self._cache_seconds
            if self._cached is not None and fresh:
                return self._cached
            try:
                members = frozenset(self._group_members(self.group_id))  # type: ignore[misc,arg-type]
            except Exception as exc:  # any failure of the lookup means "not a manager"
                log.warning("manager group lookup failed, denying: %s", type(exc).__name__)
                return frozenset()
            self._cached, self._cached_at = members, self._clock()
            return members

    def manager_ids(self) -> list[str]:
        """Every manager: those named, and the managers group's members."""
        group = self._group() if self.group_id and self._group_members is not None else set()
        return sorted(self.managers | group)

    def allows(self, user_id: str, act: Act) -> bool:
        who = POLICY[act]
        if who is Who.ANYONE or (who is Who.ALLOWANCE and self.allowance.open):
            return True
        return self.is_manager(user_id)

    def managers_said(self, but: str = "") -> Say:
        """Who to ask: the managers group, else the managers by name (a few; not `but`,
        who asked and may not decide, unless nobody else is one), else "a manager"."""
        if self.group_id:
            return Say("{group}", group=Group(self.group_id))
        others = sorted(self.managers - {but}) or sorted(self.managers)
        people = [Person(p) for p in others[:3]]
        if not people:
            return Say("a manager")
        if len(people) == 1:
            return Say("{a}", a=people[0])
        if len(people) == 2:
            return Say("{a} or {b}", a=people[0], b=people[1])
        return Say("{a}, {b} or {c}", a=people[0], b=people[1], c=people[2])

    def require(
        self,
        user_id: str,
        act: Act,
        *,
        team_id: str = "",
        target_type: Target | None = None,
        target_id: int | None = None,
        target_name: str = "",
    ) -> None:
        """Raise PermissionDenied (and record the refusal) unless the policy lets `user_id`
        do `act`. The refusal stands even when the store cannot record it."""
        if self.allows(user_id, act):
            return
        if self._ledger is not None:
            self._ledger.refuse(
                Actor(user_id, team_id),
                Intent(Action.REFUSED, target_type, target_id, target_name),
                f"needs manager role to {act}",
            )
        raise PermissionDenied(act, self.managers_said())
