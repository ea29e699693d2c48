"""Records reconcile with reality: each customer's balance as the bot's records have it
against Smart Passes' own, from the list the summary already reads. Outside changes are
counted in the daily summary once; one on a record whose last change through the bot was
not confirmed is flagged in the audit channel, once."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk import WebClient

from bot.core.index.customer_list import CustomerList
from bot.core.summary import build_summary
from bot.core.verify import remember, verify
from bot.domain.amounts import Op, PointsChange
from bot.domain.errors import OutcomeUnknown
from bot.domain.settings import Settings
from bot.jobs.summary import post_summary
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from bot.slack import blocks
from tests.core import AS_MANAGER, Core
from tests.demo import JUAN, LUIS
from tests.harness import BOT_TOKEN, run_cli, text_of

ADD_TEN = PointsChange(Op.ADD, 10)


def _live(core: Core) -> CustomerList:
    return core.loyalty.list_customers(CustomerList.from_json)


def _outside(core: Core, customer: int, points: int) -> None:
    """A wallet claim or a dashboard edit: Smart Passes changes without the bot."""
    core.sandbox.state.update_customer(DEMO_PROGRAM_ID, customer, {"points": points})


def test_an_outside_change_is_reported_once_and_a_later_one_again(core) -> None:
    core.service.change_points(AS_MANAGER, JUAN, ADD_TEN)  # 5 -> 15, recorded
    assert verify(core.store, _live(core)).differences == []
    _outside(core, JUAN, 12)  # a wallet claim of 3 points
    found = verify(core.store, _live(core))
    (diff,) = found.differences
    assert (diff.customer_id, diff.recorded, diff.live, diff.flagged) == (JUAN, 15, 12, False)
    assert (found.compared, found.added, found.removed) == (1, 0, 3)
    remember(core.store, found, dt.datetime.now(dt.UTC))
    assert verify(core.store, _live(core)).differences == []  # told once
    _outside(core, JUAN, 20)
    assert [d.delta for d in verify(core.store, _live(core)).differences] == [8]
    core.service.change_points(AS_MANAGER, JUAN, ADD_TEN)  # the bot's own change: 20 -> 30
    assert verify(core.store, _live(core)).differences == []


def test_customers_the_bot_never_changed_are_not_compared(core) -> None:
    _outside(core, LUIS, 99)
    assert verify(core.store, _live(core)).compared == 0


def test_a_difference_after_an_unconfirmed_change_is_flagged(core) -> None:
    core.sandbox.inject("add_points", Fault.DROP)
    with pytest.raises(OutcomeUnknown):  # told "may still be working on it"
        core.service.change_points(AS_MANAGER, JUAN, ADD_TEN)
    _outside(core, JUAN, 15)  # it landed after all: the chain knows nothing of it
    (diff,) = verify(core.store, _live(core)).differences
    assert (diff.recorded, diff.live, diff.flagged) == (5, 15, True)


def test_the_daily_summary_counts_them_and_flags_in_the_audit_channel_once(
    core, slack_standin
) -> None:
    slack = slack_standin
    core.service.change_points(AS_MANAGER, JUAN, ADD_TEN)  # 5 -> 15
    core.service.change_points(AS_MANAGER, LUIS, PointsChange(Op.DEDUCT, 10))  # 40 -> 30
    _outside(core, JUAN, 25)  # +10 outside
    _outside(core, LUIS, 28)  # -2 outside
    summary = build_summary(core.loyalty, core.store, dt.UTC)
    shown = text_of(blocks.summary_message(summary, dt.UTC).kwargs())
    assert "Changed outside the bot: 2 customers, +10 / −2 points" in shown
    with core.store.engine.begin() as conn:  # make Juan's last change an unconfirmed one
        from bot.store.schema import audit_log

        conn.execute(
            audit_log.update().where(audit_log.c.target_id == JUAN).values(resolved="reconciled")
        )
    settings = Settings(
        _env_file=None,
        smartpasses_app_key="k",
        smartpasses_program_id=1,
        loyalty_summary_channel="CSUM",
        loyalty_audit_channel="CAUDIT",
    )
    web = WebClient(token=BOT_TOKEN, base_url=slack.base_url + "/api/")
    post_summary(web, core.loyalty, core.store, settings)
    posts = slack.calls_to("chat.postMessage")
    flagged = [text_of(c.args) for c in posts if c.args["channel"] == "CAUDIT"]
    assert len(flagged) == 1 and "*Juan Pérez* (`1870`) has 25 points" in flagged[0]
    summary_post = next(text_of(c.args) for c in posts if c.args["channel"] == "CSUM")
    assert "1 flagged in the audit channel" in summary_post
    again = build_summary(core.loyalty, core.store, dt.UTC)  # reported: not again
    assert again.outside.differences == []


def test_the_verify_command_prints_what_differs(sandbox, sandbox_url, slack_standin, tmp_path):
    from tests.harness import process_env

    env = process_env(slack_standin.base_url, sandbox_url, tmp_path)
    assert (
        "0 customer(s) the bot changed compared" in run_cli("verify", env=env, cwd=tmp_path).stdout
    )
    from bot.store.database import Store

    store = Store.from_url(env["DATABASE_URL"])
    store.record(
        user_id="UMARTA",
        action="points.add",
        outcome="ok",
        target_type="customer",
        target_id=JUAN,
        target_name="Juan Pérez",
        before=5,
        after=15,
    )
    store.engine.dispose()
    result = run_cli("verify", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "outside  customer 1870 Juan Pérez: records 15, Smart Passes 5 (-10)" in result.stdout
    assert "1 changed outside the bot (+0 / -10 points), 0 flagged." in result.stdout
