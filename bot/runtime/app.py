"""Build the Bolt app (and the WSGI app that serves it) from settings and injected parts."""

from __future__ import annotations

import functools
import gc
import logging
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import httpx
from slack_bolt import App, BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.exc import SQLAlchemyError

from bot.core.index.builder import IndexBuilder
from bot.core.index.snapshot import SnapshotBuilder
from bot.core.ledger import Ledger
from bot.core.reconcile import reconcile_quietly
from bot.core.roles import Roles
from bot.domain.audit import utcnow
from bot.domain.errors import ConfigError
from bot.domain.heap import return_freed_memory
from bot.domain.settings import Settings
from bot.i18n import _, speaking
from bot.runtime import install_pages
from bot.runtime.scopes import BOT_SCOPES
from bot.runtime.settled import TOLD_WITHIN, tell_settled
from bot.runtime.slack_client import BotClient
from bot.runtime.slack_tokens import REFRESH_TIMEOUT_SECONDS, FreshInstallations
from bot.runtime.stored_authorize import StoredAuthorize
from bot.runtime.tenants import InstalledClients, Workspaces, build_services, group_members_via
from bot.smartpasses.client import LoyaltyClient, shared_http
from bot.store.database import Store
from bot.store.locks import locks_for
from bot.store.sealed import KeyBox
from bot.store.workspaces import WorkspaceRecords
from handlers.context import OneWorkspace, Services
from handlers.prompt_acks import ListenerPool, PromptAcks
from handlers.web import health
from handlers.workpool import ACKS_FIRST_SECONDS, WorkPool

log = logging.getLogger(__name__)

# Bolt's listener threads only parse and ack; the Loyalty API work after the ack runs on
# the work pool, so a slow API never keeps a new request from its ack within 3 seconds.
LISTENER_THREADS = 32
WORK_THREADS = 256
WORK_QUEUED = 256  # jobs waiting for a thread; beyond that, people are told to retry
# Slack Web API calls made while a person waits give up after this (slack_sdk's default
# is 30 s): the person is told Slack did not answer, instead of waiting on. Posts made on
# a schedule (the summary) may wait longer.
SLACK_WAIT_SECONDS = 2
SLACK_SCHEDULED_WAIT_SECONDS = 30
# Every serving process settles entries left open at start, then this often (a record
# stays fenced until its change in flight is settled).
RECONCILE_EVERY_SECONDS = 60.0


def _bolt_app(settings: Settings, client: WebClient, socket_mode: bool, **oauth: Any) -> App:
    """Over HTTP every request's signature is verified with SLACK_SIGNING_SECRET; in Socket
    Mode requests arrive over the app-level token's websocket instead."""
    if settings.slack_signing_secret is None and not socket_mode:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: put the Signing Secret from your Slack app's "
            "Basic Information page there."
        )
    secret = settings.slack_signing_secret
    app = App(
        signing_secret=secret.get_secret_value() if secret else "",
        request_verification_enabled=not socket_mode,
        client=client,
        # Bolt's auth.test answer given now, when the start's is known (none before an ack).
        token_verification_enabled=isinstance(client, BotClient) and client.knows_itself,
        listener_executor=ListenerPool(LISTENER_THREADS, thread_name_prefix="listener"),
        **oauth,
    )
    app.middleware(PromptAcks())
    return app


def create_app(settings: Settings, **parts: Any) -> App:
    """The Bolt app serving one workspace (see `create_served_app`)."""
    return create_served_app(settings, **parts)[0]


def create_served_app(
    settings: Settings,
    *,
    client: WebClient,
    loyalty: LoyaltyClient,
    store: Store,
    ledger: Ledger | None = None,
    roles: Roles | None = None,
    work: WorkPool | Executor | None = None,
    socket_mode: bool = False,
    team_id: str | None = None,
    warm_index: bool = False,
    index_builder: SnapshotBuilder | None = None,
) -> tuple[App, Services]:
    """The Bolt app serving one workspace, and its services. Tests and the console pass
    in local Slack, Loyalty API and store.

    Requests from any workspace but `team_id` (or, if not given, the token's, learned on
    the first request) are refused."""
    from handlers import register_all

    app = _bolt_app(settings, client, socket_mode)
    ledger = ledger or Ledger(store, locks_for(store.engine), program=loyalty.program)
    if not isinstance(work, WorkPool):
        work = WorkPool(WORK_THREADS, WORK_QUEUED, executor=work)
    services = build_services(
        settings,
        loyalty=loyalty,
        store=store,
        ledger=ledger,
        work=work,
        roles=roles,
        group_members=group_members_via(lambda: client),
        index_builder=index_builder,
    )
    if warm_index:  # every serving process loads the customer list at start, in the background
        services.service.index.warm()
    register_all(app, OneWorkspace(services), team_id=team_id)
    return app, services


def installed_workspaces(
    settings: Settings,
    store: Store,
    *,
    work: WorkPool | Executor | None = None,
    transport: httpx.BaseTransport | None = None,
    index_builder: SnapshotBuilder | None = None,
) -> Workspaces:
    """Every installed workspace's services (OAuth mode), for the web app and the clock."""
    if not (settings.slack_client_id and settings.slack_client_secret):
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are needed in OAuth mode.")
    if settings.loyalty_encryption_key is None:
        raise ConfigError(
            "LOYALTY_ENCRYPTION_KEY is not set: make one with `loyalty-bot new-key` and put it "
            "there."
        )
    # Here, not above: slack_sdk's SQLAlchemy stores bring SQLAlchemy's ORM, memory that
    # one workspace's bot never needs (bench_memory).
    from bot.store.installations import installation_store, seal_rows

    box = KeyBox(settings.loyalty_encryption_key.get_secret_value())
    with store.engine.begin() as conn:  # tokens stored before they were sealed
        if sealed := seal_rows(conn, box):
            log.info("sealed %d Slack token(s) that were stored in the clear", sealed)
    locks = locks_for(store.engine)
    rotator = TokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=WebClient(base_url=settings.slack_api_url, timeout=REFRESH_TIMEOUT_SECONDS),
    )
    installations = installation_store(store.engine, settings.slack_client_id, box)
    clients = InstalledClients(
        FreshInstallations(installations, rotator, locks), base_url=settings.slack_api_url
    )
    if not isinstance(work, WorkPool):
        work = WorkPool(WORK_THREADS, WORK_QUEUED, executor=work)
    return Workspaces(
        settings,
        store,
        WorkspaceRecords(store.engine, box),
        clients,
        work=work,
        locks=locks,
        http=shared_http(settings.smartpasses_timeout, transport),
        index_builder=index_builder,
    )


def create_distributed_app(
    settings: Settings,
    *,
    store: Store,
    work: WorkPool | Executor | None = None,
    transport: httpx.BaseTransport | None = None,
    index_builder: SnapshotBuilder | None = None,
) -> tuple[App, Workspaces]:
    """The Bolt app installed in any workspace (OAuth mode): Add to Slack at
    /slack/install, Slack's tokens in the bot's database, and each workspace served with
    its own token, program and settings (`bot.runtime.tenants`)."""
    from bot.store.installations import state_store
    from handlers import register_all
    from handlers.workspace import Installed

    workspaces = installed_workspaces(
        settings, store, work=work, transport=transport, index_builder=index_builder
    )
    records, installations = workspaces.records, workspaces.clients.installations

    def installed(args: SuccessArgs) -> BoltResponse:
        records.installed(str(args.installation.team_id))
        return install_pages.success_page(args, settings.loyalty_language)

    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        redirect_uri=settings.slack_redirect_uri,
        authorization_url=settings.slack_authorize_url,
        installation_store=installations,
        state_store=state_store(store.engine),
        # /slack/install goes straight to Slack's Allow page (in the person's Slack
        # language): Bolt's page before it is English only and one click more.
        install_page_rendering_enabled=False,
        # Tokens are refreshed as the store hands them out, once across processes
        # (bot.runtime.slack_tokens). Bolt's own refresh, outside that, only for a token
        # within a minute of its end that the store could not refresh.
        token_rotation_expiration_minutes=1,
        callback_options=CallbackOptions(
            success=installed,
            failure=lambda args: install_pages.failure_page(args, settings.loyalty_language),
        ),
    )
    client = WebClient(base_url=settings.slack_api_url, timeout=SLACK_WAIT_SECONDS)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    authorize = StoredAuthorize(
        logger=log,
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=client,
    )
    with speaking(settings.loyalty_language):  # whoever asks: the bot's default language
        not_installed = _(
            "The Loyalty bot is not installed in this workspace, so I cannot answer here. "
            "Ask a workspace admin to add it to Slack."
        )
    app = _bolt_app(
        settings,
        client,
        False,
        oauth_settings=oauth,
        installation_store=installations,
        authorize=authorize,
        user_facing_authorize_error_message=not_installed,
    )
    register_all(app, workspaces, installed=Installed(workspaces))
    return app, workspaces


def workspace_of(client: WebClient, store: Store | None = None) -> str | None:
    """The workspace the bot token belongs to (auth.test): the only one it serves. A token
    Slack refuses stops the start. Slack's answer is kept in `store`: if Slack cannot be
    reached at a later start, the answer it last gave for this token serves (so no ack
    waits on auth.test, and requests from other workspaces are still refused); a token
    it never answered for here is asked about on the first request."""
    own = client if isinstance(client, BotClient) else None  # the one that keeps an answer
    try:
        team = str(client.auth_test()["team_id"])
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
            raise ConfigError(
                f"SLACK_BOT_TOKEN was refused by Slack ({error}): put the current bot token "
                "from your Slack app's OAuth & Permissions page there."
            ) from None
        why = f"auth.test failed ({error})"
    except OSError as exc:
        why = f"Slack not reachable at start ({exc})"
    else:
        if own is not None and store is not None:
            try:
                store.remember_identity(own.token or "", own.answer())
            except SQLAlchemyError as exc:  # kept next time; this start knows it anyway
                log.warning("could not keep Slack's auth.test answer: %s", type(exc).__name__)
        return team
    kept = store.identity(own.token or "") if own is not None and store is not None else None
    if own is None or kept is None:
        log.warning("%s: the workspace is learned on the first request", why)
        return None
    own.assume(kept)
    team = str(kept["data"]["team_id"])
    log.warning("%s: serving workspace %s, as Slack last answered for this token", why, team)
    return team


def slack_client(settings: Settings, *, timeout: int = SLACK_WAIT_SECONDS) -> WebClient:
    if settings.slack_bot_token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set: put the bot token from your Slack app's OAuth & "
            "Permissions page there (it starts with xoxb-)."
        )
    client = BotClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=timeout,
    )
    # Slack's 429s say how long to wait: wait that long and try again, twice at most.
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


@dataclass
class Running:
    """The real parts built from settings, kept so a shutdown can finish in-flight work.
    One workspace's `loyalty`, or (OAuth mode) every installed workspace's `workspaces`."""

    app: App
    store: Store
    loyalty: LoyaltyClient | None
    work: WorkPool
    ledger: Ledger | None
    workspaces: Workspaces | None = None
    index_builder: IndexBuilder | None = None
    services: Services | None = None  # the one workspace's
    stopping: threading.Event = field(default_factory=threading.Event)

    def start_reconciling(self, every: float = RECONCILE_EVERY_SECONDS) -> None:
        """Settle entries left pending (by a process that stopped mid-change) now, in the
        background, and every `every` seconds after (in OAuth mode, refreshing the Slack
        tokens about to expire first)."""

        def sweep() -> None:
            while True:
                try:
                    self.reconcile()
                except Exception:  # the database away, say: the next sweep tries again
                    log.exception("the minute sweep failed")
                if self.stopping.wait(every):
                    return

        threading.Thread(target=sweep, name="reconcile", daemon=True).start()

    def reconcile(self) -> None:
        """Settle what is open, then tell the people whose changes were settled."""
        if self.loyalty is not None and self.ledger is not None:
            reconcile_quietly(self.loyalty, self.store, self.ledger)
            if self.services is not None:
                self._tell(self.services, self.app.client)
            return
        assert self.workspaces is not None
        # Before a request would have to (bot.runtime.slack_tokens).
        self.workspaces.clients.installations.refresh_expiring()
        for team_id in self.store.workspaces_with_pending():
            services = self.workspaces.services_for(team_id)
            if services is not None:
                service = services.service
                reconcile_quietly(service.api, service.store, service.ledger)
        for team_id in self.store.workspaces_settled_since(utcnow() - TOLD_WITHIN):
            services = self.workspaces.services_for(team_id)
            client = self.workspaces.clients.client(team_id)
            if services is not None and client is not None:
                self._tell(services, client)

    @staticmethod
    def _tell(services: Services, client: WebClient) -> None:
        try:
            tell_settled(services, client)
        except Exception:  # the next sweep tries again; the serving process carries on
            log.exception("telling settled changes failed")

    def health(self) -> tuple[bool, dict[str, Any]]:
        return health(self.store, self.loyalty)

    def shutdown(self) -> None:
        """Wait for the work already acked (replies, API calls), then close connections."""
        self.stopping.set()
        self.work.shutdown(wait=True)
        if self.services is not None:
            self.services.service.finish_lookups()
        if self.workspaces is not None:
            self.workspaces.finish_lookups()
        if self.loyalty is not None:
            self.loyalty.close()
        if self.workspaces is not None:
            self.workspaces.http.close()
            self.workspaces.locks.close()
        if self.ledger is not None:
            self.ledger.locks.close()
        if self.index_builder is not None:
            self.index_builder.close()
        self.store.engine.dispose()


def build(settings: Settings, *, socket_mode: bool = False) -> Running:
    """Everything `serve`, `socket` and the production server run, from settings."""
    return_freed_memory()  # before the index's large tables are first allocated
    running = _build(settings, socket_mode=socket_mode)
    # What was imported and built lives as long as the process: out of the collector's
    # reach, a full collection during a burst of requests walks only what they made
    # (shorter pauses during bursts: bench_ack shows them).
    gc.collect()
    gc.freeze()
    return running


def _build(settings: Settings, *, socket_mode: bool) -> Running:
    work = WorkPool(WORK_THREADS, WORK_QUEUED)
    # The customer index built off the serving interpreter; what is left here waits for
    # a burst's acks.
    builder = IndexBuilder(
        after_acks=functools.partial(work.answering.after_the_burst, ACKS_FIRST_SECONDS)
    )
    if settings.distributed:
        if socket_mode:
            raise ConfigError(
                "Socket Mode serves one workspace: installed in any workspace (SLACK_CLIENT_ID"
                " and SLACK_CLIENT_SECRET), run `loyalty-bot serve` behind a public URL."
            )
        store = Store.from_url(settings.database_url)
        app, workspaces = create_distributed_app(
            settings, store=store, work=work, index_builder=builder
        )
        running = Running(app, store, None, work, None, workspaces, builder)
        running.start_reconciling()
        return running
    client = slack_client(settings)  # first: a missing token is the likeliest mistake
    store = Store.from_url(settings.database_url)
    loyalty = LoyaltyClient.from_settings(settings)
    ledger = Ledger(store, locks_for(store.engine), program=loyalty.program)
    app, services = create_served_app(
        settings,
        client=client,
        loyalty=loyalty,
        store=store,
        ledger=ledger,
        work=work,
        socket_mode=socket_mode,
        team_id=workspace_of(client, store),
        warm_index=True,
        index_builder=builder,
    )
    running = Running(app, store, loyalty, work, ledger, index_builder=builder, services=services)
    running.start_reconciling()
    return running
