"""The bot's core, in-process: the service and approvals over a real store (SQLite in a
temporary folder, or PostgreSQL), talking to the sandbox through an httpx transport (no
sockets). What a person is shown is built by the real presentation code (`told`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.core.approvals import Posted, PublicationApprovals
from bot.core.ledger import Ledger
from bot.core.roles import Roles
from bot.core.service import LoyaltyService
from bot.domain.allowance import MANAGERS_ONLY, ClerkAllowance
from bot.domain.audit import Actor
from bot.domain.records import Approval
from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID, InProcessTransport, SandboxApp
from bot.slack.blocks import Message
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.locks import locks_for
from handlers.errors import user_message
from tests.demo import JUAN
from tests.harness import CLERK, GROUP_MANAGER, MANAGER, TEAM, text_of

APPROVALS = "CAPPROVALS"
AS_MANAGER, AS_GROUP_MANAGER, AS_CLERK = (
    Actor(MANAGER, TEAM),
    Actor(GROUP_MANAGER, TEAM),
    Actor(CLERK, TEAM),
)


@dataclass
class SlackGroup:
    """The Slack manager group as usergroups.users.list would answer (or fail)."""

    members: set[str]
    broken: bool = False

    def __call__(self, group_id: str) -> set[str]:
        if self.broken:
            raise ConnectionError("usergroups.users.list failed")
        return set(self.members)


@dataclass
class Core:
    sandbox: SandboxApp
    loyalty: LoyaltyClient
    store: Store
    ledger: Ledger
    roles: Roles
    service: LoyaltyService
    approvals: PublicationApprovals
    group: SlackGroup

    @property
    def program(self) -> Any:
        return self.sandbox.state.programs[DEMO_PROGRAM_ID]

    def points(self, customer_id: int) -> int:
        return self.program.customers[customer_id]["points"]

    def writes(self) -> list[Any]:
        """Every call that reached the sandbox and could change something."""
        return [c for c in self.sandbox.calls if c.method != "GET"]

    def request_publication(self, offer_id: int, actor: Actor = AS_CLERK) -> Approval:
        """Ask for `offer_id` to be published; the request is "posted" in the channel."""
        approval, _ = self.approvals.request(
            actor, offer_id, lambda a: Posted(APPROVALS, f"{a.id}.000100", None)
        )
        return approval


def in_process_client(app, **settings) -> LoyaltyClient:
    """A Loyalty API client calling `app` (the sandbox, a scripted API) in-process."""
    return LoyaltyClient(
        **{
            "app_key": DEMO_APP_KEY,
            "program_id": DEMO_PROGRAM_ID,
            "base_url": "http://sandbox/api/v1/loyalty/",
            "timeout": 5,
            "transport": InProcessTransport(app),
            **settings,
        }
    )


@contextmanager
def core_over(
    sandbox: SandboxApp,
    database_url: str,
    *,
    allow_self_approval: bool = False,
    allowance: ClerkAllowance = MANAGERS_ONLY,
    **service: Any,
) -> Iterator[Core]:
    group = SlackGroup({GROUP_MANAGER})
    store = Store.from_url(database_url)
    ledger = Ledger(store, locks_for(store.engine))
    with in_process_client(
        sandbox, timeout=service.pop("timeout", 5), sleep=lambda seconds: None
    ) as loyalty:
        roles = Roles(
            [MANAGER],
            group_id="SMANAGERS",
            group_members=group,
            ledger=ledger,
            allowance=allowance,
        )
        yield Core(
            sandbox,
            loyalty,
            store,
            ledger,
            roles,
            LoyaltyService(loyalty, store, roles, ledger=ledger, **service),
            PublicationApprovals(
                loyalty, store, roles, ledger, allow_self_approval=allow_self_approval
            ),
            group,
        )
    ledger.locks.close()
    store.engine.dispose()


def points_added(store: Store, at: dt.datetime, *, reason: str = "", user_id: str = MANAGER) -> int:
    """An applied +5 for Juan Pérez (0 → 5) in the audit log at `at`: a change made at a
    time the test chooses (the ledger stamps its own with the real time)."""
    return store.record(
        user_id=user_id,
        action="points.add",
        outcome="ok",
        target_type="customer",
        target_id=JUAN,
        target_name="Juan Pérez",
        before=0,
        after=5,
        reason=reason,
        at=at,
    )


def told(act: Callable[[], Any]) -> str:
    """What the person is shown: the message `act` builds, or the reply to the error it
    raises (`handlers.errors.user_message`, as every listener gives). When `act` returns
    something else, that is not a message: its repr, so no assertion on words passes."""
    try:
        result = act()
    except Exception as error:
        return user_message(error)
    return text_of(result.kwargs()) if isinstance(result, Message) else f"<not shown: {result!r}>"
