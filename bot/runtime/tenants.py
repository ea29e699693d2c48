"""Which services serve a request: the one workspace's (single-workspace mode), or, when
the bot is installed in any workspace (OAuth mode), that workspace's own, built on its
first request from its row (program, App Key, settings) and kept while it is used.

Every workspace has its own Loyalty API client (its key, on one shared connection pool),
its own view of the store, its own settings and its own customer index. Locks and fences
are the program's: two workspaces connected to one program exclude each other's changes.
The indexes load lazily and, together, stay within LOYALTY_INDEX_BUDGET_MB: the least
recently used are dropped first (the next lookup there loads again).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx
from slack_sdk import WebClient

from bot.core.approvals import PublicationApprovals
from bot.core.index.snapshot import SnapshotBuilder
from bot.core.ledger import Ledger
from bot.core.roles import Roles
from bot.core.service import LoyaltyService
from bot.core.summary import SharedSummary, build_summary
from bot.domain.allowance import AlertThresholds, ClerkAllowance
from bot.domain.logs import hide
from bot.domain.settings import Settings
from bot.runtime.slack_tokens import FreshInstallations
from bot.slack.workspace_views import Connection
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from bot.store.locks import ChangeLocks
from bot.store.sealed import InvalidToken
from bot.store.workspaces import Workspace, WorkspaceRecords
from handlers.context import Services
from handlers.languages import Languages
from handlers.workpool import WorkPool

log = logging.getLogger(__name__)

# What a loaded index is counted at per customer, a little above what bench_lookup
# reports as its extra RSS (so the budget errs on the safe side).
INDEX_BYTES_PER_CUSTOMER = 600
# How often a process checks that a workspace's row (settings, key) has not changed in
# another process (a Settings form saved there, an uninstall).
RECHECK_SECONDS = 10.0


def group_members_via(client: Callable[[], WebClient | None]) -> Callable[[str], list[str]]:
    def members(group_id: str) -> list[str]:
        slack = client()
        if slack is None:
            return []
        return list(slack.usergroups_users_list(usergroup=group_id)["users"])

    return members


def build_services(
    settings: Settings,
    *,
    loyalty: LoyaltyClient,
    store: Store,
    ledger: Ledger,
    work: WorkPool,
    group_members: Callable[[str], list[str]],
    roles: Roles | None = None,
    team_id: str = "",
    connection: Connection | None = None,
    index_builder: SnapshotBuilder | None = None,
) -> Services:
    """One workspace's services (the only one's, or an installed workspace's)."""
    roles = roles or Roles(
        settings.loyalty_managers,
        group_id=settings.loyalty_manager_group,
        group_members=group_members,
        ledger=ledger,
        allowance=ClerkAllowance(
            settings.loyalty_clerk_max_points, settings.loyalty_clerk_daily_points
        ),
    )
    service = LoyaltyService(
        loyalty,
        store,
        roles,
        ledger=ledger,
        max_points=settings.loyalty_max_points,
        undo_minutes=settings.loyalty_undo_minutes,
        lookup_ttl=settings.loyalty_lookup_ttl,
        tz=settings.tz,
        region=settings.loyalty_default_region,
        index_builder=index_builder,
        alerts=AlertThresholds(
            settings.loyalty_alert_factor,
            settings.loyalty_alert_daily_floor,
            settings.loyalty_alert_customer_hourly,
        ),
        earning=settings.earning_rule,
    )
    approvals = PublicationApprovals(
        loyalty, store, roles, ledger, allow_self_approval=settings.loyalty_allow_self_approval
    )
    return Services(
        settings=settings,
        service=service,
        roles=roles,
        work=work,
        approvals=approvals,
        summary=SharedSummary(
            lambda: build_summary(loyalty, store, settings.tz, customers_now=service.index.balances)
        ),
        languages=Languages(settings.loyalty_language),
        team_id=team_id,
        connection=connection,
    )


# -- installed in any workspace ------------------------------------------------------


class InstalledClients:
    """A Web API client with a workspace's current bot token (refreshed first when the
    token rotates and is about to expire: bot.runtime.slack_tokens), for work outside a
    request (the clock, a user group's members)."""

    def __init__(self, installations: FreshInstallations, *, base_url: str) -> None:
        self.installations = installations
        self.base_url = base_url

    def client(self, team_id: str) -> WebClient | None:
        found = self.installations.find_installation(enterprise_id=None, team_id=team_id)
        if found is None or not found.bot_token:
            return None
        return WebClient(token=found.bot_token, base_url=self.base_url)

    def installer(self, team_id: str) -> str:
        found = self.installations.find_installation(enterprise_id=None, team_id=team_id)
        return (found.user_id or "") if found is not None else ""


class _Tenant:
    def __init__(self, services: Services, version: dt.datetime, checked: float) -> None:
        self.services, self.version, self.checked = services, version, checked


class Workspaces:
    """Every connected workspace's services (OAuth mode)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        records: WorkspaceRecords,
        clients: InstalledClients,
        *,
        work: WorkPool,
        locks: ChangeLocks,
        http: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
        index_builder: SnapshotBuilder | None = None,
    ) -> None:
        self.settings, self.store, self.records, self.clients = settings, store, records, clients
        self.index_builder = index_builder  # shared by every workspace's index
        self.work, self.locks = work, locks
        self.http = http  # one pool to the Loyalty API for every workspace's program
        self.budget = settings.loyalty_index_budget_mb * 1024 * 1024
        self._clock = clock
        self._lock = threading.Lock()
        self._tenants: OrderedDict[str, _Tenant] = OrderedDict()  # least recent first

    def services_for(self, team_id: str) -> Services | None:
        now = self._clock()
        with self._lock:
            tenant = self._tenants.get(team_id)
            if tenant is not None:
                self._tenants.move_to_end(team_id)
                if now - tenant.checked < RECHECK_SECONDS:
                    return tenant.services
        if tenant is not None and self.records.version(team_id) == tenant.version:
            tenant.checked = now
            return tenant.services
        workspace = self.records.get(team_id)
        if workspace is None or not workspace.connected or workspace.uninstalled_at:
            self.drop(team_id)
            return None
        try:
            services = self._build(workspace)
        except InvalidToken:
            log.error(
                "the App Key of workspace %s cannot be decrypted with LOYALTY_ENCRYPTION_KEY",
                team_id,
            )
            return None
        with self._lock:
            self._tenants[team_id] = _Tenant(services, workspace.updated_at, now)
            self._tenants.move_to_end(team_id)
        return services

    def _build(self, workspace: Workspace) -> Services:
        team_id = workspace.team_id
        assert workspace.program_id is not None
        settings = self.settings.for_workspace(workspace.settings, workspace.program_id)
        app_key = workspace.app_key(self.records.box)
        hide(app_key.get_secret_value())
        loyalty = LoyaltyClient(
            app_key=app_key,
            program_id=workspace.program_id,
            base_url=settings.smartpasses_base_url,
            http=self.http,
        )
        store = self.store.for_workspace(team_id)
        services = build_services(
            settings,
            loyalty=loyalty,
            store=store,
            ledger=Ledger(store, self.locks, program=loyalty.program),
            work=self.work,
            group_members=group_members_via(lambda: self.clients.client(team_id)),
            team_id=team_id,
            connection=Connection(workspace.program_id, workspace.key_last4),
            index_builder=self.index_builder,
        )
        services.service.index.loaded = self.keep_within_budget
        return services

    def drop(self, team_id: str) -> None:
        """Forget a workspace's services (uninstalled, or its settings changed here)."""
        with self._lock:
            self._tenants.pop(team_id, None)

    def index_bytes(self) -> int:
        with self._lock:
            tenants = list(self._tenants.values())
        return sum(t.services.service.index.size() for t in tenants) * INDEX_BYTES_PER_CUSTOMER

    def keep_within_budget(self) -> None:
        """Drop the least recently used workspaces' indexes until the rest fit the budget
        (the one just loaded is the most recent: it stays)."""
        with self._lock:
            tenants = list(self._tenants.items())
        sizes = {team: t.services.service.index.size() for team, t in tenants}
        total = sum(sizes.values()) * INDEX_BYTES_PER_CUSTOMER
        for team, tenant in tenants[:-1]:
            if total <= self.budget:
                break
            if sizes[team]:
                tenant.services.service.index.drop()
                total -= sizes[team] * INDEX_BYTES_PER_CUSTOMER
                log.info("dropped the customer index of workspace %s (memory budget)", team)

    def finish_lookups(self) -> None:
        """Every workspace's `LoyaltyService.finish_lookups` (a shutdown)."""
        with self._lock:
            tenants = list(self._tenants.values())
        for tenant in tenants:
            tenant.services.service.finish_lookups()

    def answers_sent(self, timeout: float) -> bool:
        """Every workspace's `LoyaltyService.answers_sent` (the console)."""
        with self._lock:
            tenants = list(self._tenants.values())
        return all(t.services.service.answers_sent(timeout) for t in tenants)

    def loaded(self) -> list[str]:
        """Workspaces whose index is in memory, least recently used first."""
        with self._lock:
            return [team for team, t in self._tenants.items() if t.services.service.index.size()]
