"""Two `loyalty-bot serve` processes on one database, as a deployment runs them: changes
to one customer are made one at a time (no lost update, true before and after), and a
double click, a replayed request or a double form submission acts once, even when the
two copies land on different processes. On PostgreSQL (advisory locks), and on a SQLite
file shared by both processes (file locks)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID, SandboxApp, build_state
from bot.offline.slack_requests import SlackRequests
from bot.offline.slack_standin import SlackStandIn
from bot.runtime.wsgi_server import serving
from bot.store.database import Store
from bot.store.schema import metadata
from tests.conftest import API_PATH, fresh_postgres
from tests.demo import JUAN, JUANA, LUIS
from tests.harness import (
    BOT_TOKEN,
    CHANNEL,
    MANAGER,
    SIGNING_SECRET,
    TEAM,
    USERS,
    bot_process,
    buttons,
    free_port,
    process_env,
    text_of,
    wait_until,
)


@dataclass
class TwoBots:
    a: SlackRequests
    b: SlackRequests
    slack: SlackStandIn
    store: Store
    sandbox: SandboxApp

    def replies(self, count: int) -> list[str]:
        return [
            text_of(c.args) for c in self.slack.wait_for("response_url", count=count, timeout=60)
        ]


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def running_pair(request, tmp_path_factory) -> Iterator[TwoBots]:
    """Two serve processes, started once for every test of a database kind."""
    tmp_path = tmp_path_factory.mktemp(request.param)
    url = fresh_postgres() if request.param == "postgresql" else f"sqlite:///{tmp_path / 'bot.db'}"
    sandbox = SandboxApp(build_state("demo"))
    slack = SlackStandIn(token=BOT_TOKEN, team_id=TEAM, users=USERS)
    with ExitStack() as stack:
        sandbox_url = stack.enter_context(serving(sandbox)) + API_PATH
        slack.base_url = stack.enter_context(serving(slack))
        env = process_env(slack.base_url, sandbox_url, tmp_path, DATABASE_URL=url)
        bots = []
        for _ in range(2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            argv = [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            stack.enter_context(bot_process(argv, env, tmp_path, base))
            bots.append(SlackRequests(base, SIGNING_SECRET, slack))
        store = Store.from_url(url)
        stack.callback(store.engine.dispose)
        yield TwoBots(bots[0], bots[1], slack, store, sandbox)


@pytest.fixture
def two_bots(running_pair: TwoBots) -> TwoBots:
    """The pair, with the program as the demo has it and nothing recorded or said yet."""
    sandbox = running_pair.sandbox
    sandbox.state = build_state("demo")
    sandbox.calls.clear()
    sandbox.route_latency.clear()
    sandbox.before = None
    sandbox.latency = 0.05  # long enough for changes to overlap
    running_pair.slack.reset()
    with running_pair.store.engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())
    return running_pair


def _points(customer_id: int, sandbox) -> int:
    return sandbox.state.customer(DEMO_PROGRAM_ID, customer_id)["points"]


def _at_once(*calls) -> None:
    with ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(call) for call in calls]:
            assert future.result().status_code == 200


def test_twenty_simultaneous_adds_end_exact_with_true_history(two_bots) -> None:
    sandbox = two_bots.sandbox
    start = _points(JUAN, sandbox)
    _at_once(
        *[
            (lambda bot=bot: bot.command("points 1870 1", user=MANAGER, channel=CHANNEL))
            for bot in [two_bots.a, two_bots.b] * 10
        ]
    )
    replies = two_bots.replies(20)
    assert _points(JUAN, sandbox) == start + 20
    entries = two_bots.store.entries(target_id=JUAN, limit=None)
    assert sorted(e.after for e in entries) == list(range(start + 1, start + 21))
    assert all(e.after == e.before + 1 and e.outcome == "ok" for e in entries)
    shown = sorted(int(r.split("→ *")[1].split("*")[0]) for r in replies)
    assert shown == list(range(start + 1, start + 21))  # each reply tells its own truth


def test_a_deduct_and_an_add_together_lose_nothing(two_bots) -> None:
    sandbox = two_bots.sandbox
    assert _points(LUIS, sandbox) == 40
    # The deduct's PUT lands after the add: without serialising, it would write 30.
    sandbox.route_latency["update_customer"] = 0.3
    _at_once(
        lambda: two_bots.a.command("points 1872 -10", user=MANAGER, channel=CHANNEL),
        lambda: two_bots.b.command("points 1872 +100", user=MANAGER, channel=CHANNEL),
    )
    two_bots.replies(2)
    assert _points(LUIS, sandbox) == 130


def test_double_choose_in_a_picker_acts_once(two_bots) -> None:
    sandbox = two_bots.sandbox
    two_bots.a.command("points perez 10", user=MANAGER, channel=CHANNEL)
    (picker,) = two_bots.replies(1)
    assert "2 customers match" in picker
    choices = buttons(two_bots.slack.calls_to("response_url")[0].args)
    assert len(choices) == 2
    _at_once(  # both Choose buttons, one click on each process, 150 ms apart at most
        lambda: two_bots.a.click(choices[0], user=MANAGER, channel=CHANNEL),
        lambda: two_bots.b.click(choices[0], user=MANAGER, channel=CHANNEL),
        lambda: two_bots.b.click(choices[1], user=MANAGER, channel=CHANNEL),
    )
    replies = two_bots.replies(4)[1:]
    assert sum("→ *" in r for r in replies) == 1
    assert sum("already received" in r for r in replies) == 2
    assert _points(JUAN, sandbox) + _points(JUANA, sandbox) == 5 + 12 + 10
    assert len(sandbox.calls_to("POST", "/points/add")) == 1


def _replayed_to_both(two_bots, text: str, receipt: str) -> str:
    """One signed command posted to both processes at once: one receipt, one "already
    received". Returns its body (to send again)."""
    body = two_bots.a.command_body(text, user=MANAGER, channel=CHANNEL)
    _at_once(lambda: two_bots.a.signed_post(body), lambda: two_bots.b.signed_post(body))
    replies = two_bots.replies(2)
    assert sum(receipt in r for r in replies) == 1
    assert sum("already received" in r for r in replies) == 1
    return body


def test_a_replayed_signed_command_acts_once(two_bots) -> None:
    sandbox = two_bots.sandbox
    body = _replayed_to_both(two_bots, "points 1870 10", "5 → *15*")
    assert _points(JUAN, sandbox) == 15
    two_bots.a.signed_post(body)  # and again, later
    assert "already received" in two_bots.replies(3)[-1]
    assert _points(JUAN, sandbox) == 15


def test_a_replayed_sale_acts_once_and_two_sales_at_once_both_count(two_bots) -> None:
    """A sale is a points change like any other: its command acts once in any process,
    and two sales to one customer from two processes are serialised, both applied."""
    sandbox = two_bots.sandbox
    _replayed_to_both(two_bots, "sale 1870 250", "250.00 MXN → 25 points · 5 → *30*")
    _at_once(
        lambda: two_bots.a.command("sale 1870 100", user=MANAGER, channel=CHANNEL),
        lambda: two_bots.b.command("sale 1870 50", user=MANAGER, channel=CHANNEL),
    )
    two_bots.replies(4)
    assert _points(JUAN, sandbox) == 30 + 10 + 5
    assert len(sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")) == 3


def test_a_form_submitted_twice_acts_once(two_bots) -> None:
    sandbox = two_bots.sandbox
    two_bots.a.command("points 1870", user=MANAGER, channel=CHANNEL)
    view_id = two_bots.slack.wait_for(
        "views.update", lambda c: "loyalty_points_form" in str(c.args.get("view"))
    )[0].args["view_id"]
    payload = two_bots.a.submission(
        view_id, {"points_op": "add", "points_amount": "7"}, user=MANAGER
    )
    with ThreadPoolExecutor(2) as pool:
        answers = [
            f.result()
            for f in [
                pool.submit(two_bots.a.interaction, payload),
                pool.submit(two_bots.b.interaction, payload),
            ]
        ]
    said = [a.json() for a in answers if a.content]
    # A slow answer closes the form with "Saving…" and finishes it with views.update.
    wait_until(lambda: _points(JUAN, sandbox) == 12, what=f"the change (answers: {said})")
    updates = [str(c.args) for c in two_bots.slack.calls_to("views.update")]
    assert any("already sent" in str(t) for t in said + updates), (said, updates)
    assert len(sandbox.calls_to("POST", "/points/add")) == 1
    assert _points(JUAN, sandbox) == 12
