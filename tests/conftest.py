from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.offline.sandbox import (
    SandboxApp,
    SandboxState,
    build_state,
)
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from tests.core import Core, core_over, in_process_client

API_PATH = "/api/v1/loyalty/"


@pytest.fixture
def sandbox_state() -> SandboxState:
    return build_state("demo")


@pytest.fixture
def sandbox(sandbox_state: SandboxState) -> SandboxApp:
    return SandboxApp(sandbox_state)


@pytest.fixture
def core(sandbox: SandboxApp, sqlite_url: str) -> Iterator[Core]:
    """The core (service, approvals, roles, store) over SQLite and the in-process sandbox."""
    with core_over(sandbox, sqlite_url) as kit:
        yield kit


@pytest.fixture
def sandbox_url(sandbox: SandboxApp) -> Iterator[str]:
    with serving(sandbox) as url:
        yield url + API_PATH


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sandbox: SandboxApp, sleeps: list[float]) -> Iterator[LoyaltyClient]:
    """The Loyalty API client against the sandbox, in-process (no sockets)."""
    with in_process_client(sandbox, sleep=sleeps.append) as c:
        yield c


@dataclass
class ScriptedApi:
    """A Loyalty API answering from a script, for statuses the sandbox never gives."""

    responses: list[tuple[int, dict[str, str], Any]]
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def may_wait(self) -> bool:
        return False  # it answers at once (InProcessTransport then answers inline)

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        with self.lock:
            headers = {
                k[5:].replace("_", "-").lower(): v
                for k, v in environ.items()
                if k.startswith("HTTP_")
            }
            self.requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], headers))
            status, extra, body = (
                self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
            )
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        start_response(f"{status} X", [("Content-Type", "application/json"), *extra.items()])
        return [raw]


@pytest.fixture
def scripted() -> Iterator[tuple[ScriptedApi, LoyaltyClient, list[float]]]:
    api = ScriptedApi(responses=[(200, {}, [])])
    waits: list[float] = []
    with in_process_client(
        api, app_key="k-secret-123", program_id=42, timeout=2, sleep=waits.append
    ) as c:
        yield api, c, waits


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite database at the latest revision, made once (migrating takes ~40 ms)."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    Store.from_url(f"sqlite:///{path}").engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path, migrated_sqlite: Path) -> str:
    """A fresh, empty bot database of this test's own (a copy of the migrated one)."""
    shutil.copyfile(migrated_sqlite, tmp_path / "bot.db")
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def bot(sandbox: SandboxApp, sandbox_url: str, sqlite_url: str):
    from tests.harness import running_bot

    with running_bot(sandbox, sandbox_url, sqlite_url) as harness:
        yield harness


@pytest.fixture
def bot_with(sandbox: SandboxApp, sandbox_url: str, sqlite_url: str):
    """A bot with settings overridden: `bot_with(loyalty_audit_channel="CAUDIT")`."""
    from contextlib import ExitStack

    from tests.harness import running_bot

    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(
            running_bot(sandbox, sandbox_url, sqlite_url, **settings)
        )


def _postgres_url() -> str | None:
    import os

    return os.environ.get("LOYALTY_TEST_DATABASE_URL")


def fresh_postgres() -> str:
    """LOYALTY_TEST_DATABASE_URL, emptied; the test is skipped if there is none, and fails
    if the database's name does not say it is for tests (emptying it drops its `public`
    schema: never a database that holds anything)."""
    url = _postgres_url()
    if not url:
        pytest.skip("set LOYALTY_TEST_DATABASE_URL to run the PostgreSQL tests")
    import sqlalchemy as sa

    name = sa.engine.make_url(url).database or ""
    if "test" not in name.lower():
        pytest.fail(
            f"LOYALTY_TEST_DATABASE_URL names the database {name!r}: the PostgreSQL tests "
            "empty it (DROP SCHEMA public), so they run only on a database whose name says "
            "it is for tests, such as 'test' or 'loyalty_test'.",
            pytrace=False,
        )

    try:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable: {exc.orig}")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite always, PostgreSQL when LOYALTY_TEST_DATABASE_URL
    names one (CI sets it on a machine that has PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    yield fresh_postgres()


@pytest.fixture
def slack_standin():
    """The Slack stand-in on loopback, with the demo users."""
    from bot.offline.slack_standin import SlackStandIn
    from tests.harness import BOT_TOKEN, TEAM, USERS

    standin = SlackStandIn(token=BOT_TOKEN, team_id=TEAM, users=USERS)
    with serving(standin) as url:
        standin.base_url = url
        yield standin
