"""Workflow Builder steps end to end: Slack's function_executed event, signed, into Bolt;
the step ends with functions.completeSuccess or functions.completeError at the Slack
stand-in, called with the step's own token. The rules are the slash command's."""

from __future__ import annotations

import threading

from bot.offline.sandbox.app import Fault
from bot.offline.slack_standin import SlackUser
from handlers.steps import SLACK_USER_ID
from handlers.workpool import WorkPool
from tests.demo import CAFE, JUAN
from tests.harness import CAJERA, CLERK, GERENTE, MANAGER, running_bot, text_of

WALK_IN = "Walk-in sign-up"


def _adds(bot) -> list:
    return bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")


def test_add_points_step_completes_with_the_balance_and_is_announced_via_the_workflow(
    bot_with,
) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    ended = bot.step(
        "add_loyalty_points",
        {
            "customer": "juan.perez@example.com",
            "points": 10,
            "reason": "first visit",
            "acting_user": MANAGER,
            "workflow": WALK_IN,
        },
    )
    assert ended == (
        "completed",
        {"customer_id": str(JUAN), "customer_name": "Juan Pérez", "balance": 15},
    )
    assert [c.body for c in _adds(bot)] == [{"points": 10}]
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.user_id, entry.action, entry.outcome, entry.reason, entry.via) == (
        MANAGER,
        "points.add",
        "ok",
        "first visit",
        WALK_IN,
    )
    (post,) = bot.wait("chat.postMessage")
    assert post.args["channel"] == "CAUDIT"
    assert "(via workflow *Walk-in sign-up*)" in text_of(post.args)
    (completed,) = bot.slack.calls_to("functions.completeSuccess")
    assert completed.team == bot.team  # with the step's own token, for the workspace


def test_a_step_delivered_again_acts_once(bot) -> None:
    inputs = {"customer": str(JUAN), "points": "3", "acting_user": MANAGER}
    first = bot.slack.start_step(bot.team)
    assert bot.step("add_loyalty_points", inputs, execution=first)[0] == "completed"
    again = bot.step("add_loyalty_points", inputs, execution=first)  # Slack sends it again
    assert again[0] == "completed"  # as the first delivery ended it
    assert len(_adds(bot)) == 1 and bot.customer_points(JUAN) == 8
    assert len(bot.slack.calls_to("functions.completeSuccess")) == 1
    assert bot.slack.calls_to("functions.completeError") == []
    assert len(bot.store.entries(target_id=JUAN)) == 1


def test_a_clerk_over_the_allowance_is_refused_in_their_language(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points=20)
    status, why = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": 50, "acting_user": CLERK}
    )
    assert status == "failed"
    assert "Clerks can add at most 20 points in one change." in why
    status, why = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": 50, "acting_user": CAJERA}
    )
    assert status == "failed" and "20 puntos" in why, why
    assert _adds(bot) == [] and bot.customer_points(JUAN) == 5
    status, _ = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": 20, "acting_user": CLERK}
    )
    assert status == "completed" and bot.customer_points(JUAN) == 25


def test_a_refused_step_names_the_managers_to_ask_not_their_ids(bot_with) -> None:
    """Workflow Builder shows a step's failure as plain text, where a mention cannot be:
    the managers to ask are named as Slack shows them (an id only if Slack cannot say)."""
    bot = bot_with(loyalty_manager_group=None, loyalty_managers=[MANAGER, GERENTE])
    inputs = {"customer": str(JUAN), "points": 5, "acting_user": CLERK}
    status, why = bot.step("add_loyalty_points", inputs)
    assert status == "failed" and "Ask rocio or marta to do it" in why, why
    assert "UMANAGER" not in why and "UGERENTE" not in why
    bot.slack.failing["users.info"] = "ratelimited"
    status, why = bot.step("add_loyalty_points", inputs)
    assert status == "failed" and "Ask @UGERENTE or @UMANAGER to do it" in why, why
    assert _adds(bot) == [] and bot.customer_points(JUAN) == 5


def test_a_step_with_no_acting_person_or_an_unknown_customer_fails_clearly(bot) -> None:
    status, why = bot.step("add_loyalty_points", {"customer": str(JUAN), "points": 5})
    assert status == "failed" and "acting person" in why
    status, why = bot.step(
        "find_customer", {"customer": "nadie@example.com", "acting_user": MANAGER}
    )
    assert status == "failed" and "nadie@example.com" in why
    status, why = bot.step(
        "find_customer", {"customer": "nadie@example.com", "acting_user": CAJERA}
    )
    assert status == "failed" and why.startswith("Ningún cliente coincide con “nadie@"), why
    status, why = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": "-5", "acting_user": MANAGER}
    )
    assert status == "failed" and "adds points" in why
    status, why = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": "ten", "acting_user": MANAGER}
    )
    assert why == "This step adds points: give it a number above zero, like 10, not “ten”."
    assert _adds(bot) == []


def test_find_customer_step_gives_the_customers_fields(bot) -> None:
    status, outputs = bot.step(
        "find_customer", {"customer": "juan.perez@example.com", "acting_user": CLERK}
    )
    assert status == "completed"
    assert outputs["customer_id"] == str(JUAN) and outputs["customer_name"] == "Juan Pérez"
    assert outputs["email"] == "juan.perez@example.com" and outputs["balance"] == 5


def test_a_person_variable_finds_the_customer_by_their_slack_email(bot) -> None:
    """A workflow's person variable in the customer input arrives as a bare user id
    (`U0JUANPRZ`): found as an @mention is, by the email of their Slack profile."""
    bot.slack.users["U0JUANPRZ"] = SlackUser("U0JUANPRZ", "juanp", "Juan", "juan.perez@example.com")
    for given in ("U0JUANPRZ", "<@U0JUANPRZ>"):
        status, outputs = bot.step("find_customer", {"customer": given, "acting_user": CLERK})
        assert (status, outputs["customer_id"]) == ("completed", str(JUAN)), given
    assert not SLACK_USER_ID.fullmatch("WASHINGTON")  # a name in capitals is still a name


def test_redeem_step_by_the_offers_name(bot) -> None:
    bot.command(f"points {JUAN} 20")
    bot.reply()
    status, outputs = bot.step(
        "redeem_reward",
        {"customer": str(JUAN), "offer": "Café Gratis", "acting_user": MANAGER},
    )
    assert (status, outputs) == ("completed", {"customer_name": "Juan Pérez", "balance": 15})
    writes = [c for c in bot.sandbox.calls if c.method != "GET"]
    assert len(writes) == 2 and writes[-1].body["points"] == 15  # the Café Gratis costs 10
    (entry,) = [e for e in bot.store.entries(target_id=JUAN) if e.action == "points.redeem"]
    assert entry.changes == {"offer_id": [None, CAFE]} and entry.via == "Redeem a reward"


def test_create_customer_step_then_find_it(bot) -> None:
    status, outputs = bot.step(
        "create_customer",
        {
            "first_name": "Rosa",
            "last_name": "Luna",
            "email": "rosa.luna@example.com",
            "acting_user": MANAGER,
            "workflow": WALK_IN,
        },
    )
    assert status == "completed" and outputs["customer_name"] == "Rosa Luna"
    status, found = bot.step(
        "find_customer", {"customer": "rosa.luna@example.com", "acting_user": CLERK}
    )
    assert status == "completed" and found["customer_id"] == outputs["customer_id"]
    status, why = bot.step(
        "create_customer", {"first_name": "Rosa", "email": "not-an-email", "acting_user": MANAGER}
    )
    assert status == "failed" and "Email" in why


def test_a_step_whose_change_is_answered_500_after_applying_tells_the_truth(bot) -> None:
    bot.sandbox.inject("add_points", Fault.APPLY_THEN_500)
    status, outputs = bot.step(
        "add_loyalty_points", {"customer": str(JUAN), "points": 4, "acting_user": MANAGER}
    )
    assert (status, outputs["balance"]) == ("completed", 9)  # checked: it was applied
    assert bot.customer_points(JUAN) == 9 and len(_adds(bot)) == 1
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.outcome, entry.resolved) == ("ok", "checked")


def test_a_step_meeting_a_full_work_pool_fails_at_once_and_does_nothing(
    sandbox, sandbox_url, sqlite_url
) -> None:
    stuck = threading.Event()
    pool = WorkPool(1, 0)
    pool.submit(stuck.wait)  # the only worker is busy, and there is no room to queue
    try:
        with running_bot(sandbox, sandbox_url, sqlite_url, work=pool) as bot:
            status, why = bot.step(
                "add_loyalty_points", {"customer": str(JUAN), "points": 2, "acting_user": MANAGER}
            )
            assert status == "failed" and "too many requests to work on right now" in why
            assert _adds(bot) == [] and bot.store.entries() == []
    finally:
        stuck.set()
        pool.shutdown()
