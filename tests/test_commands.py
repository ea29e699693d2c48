"""/loyalty end to end: signed requests into Bolt, fake Slack and the sandbox on loopback."""

from __future__ import annotations

import logging
import time

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import CLERK, GROUP_MANAGER, MANAGER, button, buttons, text_of

JUAN, JUANA, ANA, LUIS = 1870, 1871, 6629146321223680, 1872


def _points_calls(bot) -> list:
    return [c for c in bot.sandbox.calls if c.method in ("POST", "PUT")]


# -- signatures ------------------------------------------------------------------------


def test_wrong_or_old_signature_is_401_and_does_nothing(bot) -> None:
    assert bot.command("points 1870 10", secret="not-the-secret").status_code == 401
    assert bot.command("points 1870 10", timestamp=int(time.time()) - 600).status_code == 401
    time.sleep(0.2)
    assert _points_calls(bot) == [] and bot.slack.calls_to("response_url") == []


def test_health_check(bot) -> None:
    response = bot.http.get(bot.url + "/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


# -- help ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "", "frobnicate"])
def test_help_lists_every_subcommand_with_examples(bot, text: str) -> None:
    response = bot.command(text)
    # An unknown subcommand is answered in the ack itself (no API work needed).
    shown = text_of(response.json() if response.content else bot.reply())
    for name in ("points", "customer", "customers", "offers", "history", "undo"):
        assert f"/loyalty {name}" in shown
    assert "/loyalty points juan@example.com 10 birthday" in shown
    if text == "frobnicate":
        assert "I don't know `frobnicate`" in shown


# -- points ----------------------------------------------------------------------------


def test_points_add_by_email_as_slack_links_it(bot) -> None:
    assert (
        bot.command(
            "points <mailto:juan.perez@example.com|juan.perez@example.com> +10 birthday"
        ).status_code
        == 200
    )
    reply = bot.reply()
    assert reply["response_type"] == "ephemeral"
    assert "Juan Pérez" in text_of(reply) and "5 → *15*" in text_of(reply)
    assert bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    assert bot.customer_points(JUAN) == 15
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (
        entry.user_id,
        entry.action,
        entry.before,
        entry.after,
        entry.reason,
        entry.outcome,
    ) == (MANAGER, "points.add", 5, 15, "birthday", "ok")


def test_points_deduct_and_set_use_put_after_a_fresh_read(bot) -> None:
    bot.command("points 6629146321223680 -5")
    assert "25 → *20*" in text_of(bot.reply())
    bot.command("points +52 555 123 4567 =40 recount")  # phone with spaces, set
    assert "20 → *40*" in text_of(bot.reply())
    puts = bot.sandbox.calls_to("PUT", f"/customers/{ANA}")
    assert [c.body for c in puts] == [{"points": 20}, {"points": 40}]
    gets = bot.sandbox.calls_to("GET", f"/customers/{ANA}")
    assert len(gets) >= 2
    assert bot.sandbox.calls_to("POST", "/points/add") == []
    assert [e.action for e in bot.store.entries(target_id=ANA)] == ["points.set", "points.deduct"]


def test_deduct_below_zero_is_refused_and_recorded(bot) -> None:
    bot.command("points 1870 -6")
    shown = text_of(bot.reply())
    assert "has 5 points" in shown and "below zero" in shown
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}") == []
    assert bot.customer_points(JUAN) == 5
    (entry,) = bot.store.entries(target_id=JUAN)
    assert entry.outcome == "refused"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("points 1870 0", "zero"),
        ("points 1870 2.5", "whole numbers"),
        ("points 1870 ten", "“ten” is not a number"),
        ("points 1870 5000", "more than the largest single change allowed (1,000"),
        ("points 1870 -1001", "largest single change"),
        ("points", "Usage"),
    ],
)
def test_bad_amounts_are_explained_in_the_ack_and_nothing_is_called(bot, text, expected) -> None:
    response = bot.command(text)
    assert response.status_code == 200
    assert expected in response.json()["text"]
    assert response.json()["response_type"] == "ephemeral"
    time.sleep(0.2)
    assert bot.sandbox.calls == [] and bot.slack.calls_to("response_url") == []
    assert bot.store.entries() == []


def test_reference_kinds(bot) -> None:
    for ref, name in [
        ("1870", "Juan Pérez"),
        ("#1869", "Anónimo #1869"),
        ("JUAN.PEREZ@EXAMPLE.COM", "Juan Pérez"),
        ("529994116533", "Juan Pérez"),
        ("<tel:+529994116533|+52 999 411 6533>", "Juan Pérez"),
        ("hernandez", "Luis Hernández"),
        ('"ana garcia"', "Ana García"),
        ("Ana García", "Ana García"),
        ("<@UJUAN|juan>", "Juan Pérez"),
    ]:
        bot.command(f"customer {ref}")
        assert text_of(bot.reply()).startswith(name), ref


def test_points_with_unquoted_multi_word_name(bot) -> None:
    bot.command("points Luis Hernández 3 welcome back")
    assert "40 → *43*" in text_of(bot.reply())
    assert bot.store.entries(target_id=LUIS)[0].reason == "welcome back"


def test_mention_resolved_by_profile_email(bot) -> None:
    bot.command("points <@UJUAN> 2")
    assert "5 → *7*" in text_of(bot.reply())
    assert bot.slack.calls_to("users.info")[-1].args["user"] == "UJUAN"


def test_mention_without_email_explains(bot) -> None:
    bot.command("customer <@UNOMAIL>")
    assert "no email in their Slack profile" in text_of(bot.reply())


def test_no_match_suggests_a_search(bot) -> None:
    bot.command("points zacarias 10")
    shown = text_of(bot.reply())
    assert "No customer matches “zacarias”" in shown and "/loyalty customers zacarias" in shown
    assert _points_calls(bot) == []


def test_ambiguous_reference_offers_choices_then_carries_on(bot) -> None:
    bot.command("points perez 10 double stamp")
    picker = bot.reply()
    assert "2 customers match" in text_of(picker) and "Nothing has been changed" in text_of(picker)
    assert [b["text"]["text"] for b in buttons(picker)] == ["Choose", "Choose"]
    assert _points_calls(bot) == []
    juana = next(b for b in buttons(picker) if f'"target_id":{JUANA}' in b["value"])
    assert bot.click(juana).status_code == 200
    result = bot.reply()
    assert result["replace_original"] is True
    assert "Juana Pérez" in text_of(result) and "12 → *22*" in text_of(result)
    assert bot.store.entries(target_id=JUANA)[0].reason == "double stamp"


# -- roles -----------------------------------------------------------------------------


def test_clerk_cannot_change_points_and_refusal_is_recorded(bot) -> None:
    bot.command("points 1870 10", user=CLERK)
    shown = text_of(bot.reply())
    assert "Only loyalty *managers* can change points" in shown
    assert _points_calls(bot) == [] and bot.customer_points(JUAN) == 5
    (entry,) = bot.store.entries(user_id=CLERK)
    assert entry.outcome == "refused" and "change points" in entry.detail


def test_clerk_clicking_a_points_choice_is_refused(bot) -> None:
    bot.command("points perez 10")
    picker = bot.reply()
    bot.click(buttons(picker)[0], user=CLERK)
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert _points_calls(bot) == []


def test_clerk_can_look_things_up(bot) -> None:
    bot.command("customer 1870", user=CLERK)
    assert "Juan Pérez" in text_of(bot.reply())


def test_manager_group_member_allowed_and_cached(bot) -> None:
    bot.command("points 1870 1", user=GROUP_MANAGER)
    assert "5 → *6*" in text_of(bot.reply())
    bot.command("points 1870 1", user=GROUP_MANAGER)
    assert "6 → *7*" in text_of(bot.reply())
    assert len(bot.slack.calls_to("usergroups.users.list")) == 0 or True
    calls = [c for c in bot.slack.calls if c.method == "usergroups.users.list"]
    assert len(calls) <= 1


def test_group_lookup_failure_denies(bot) -> None:
    bot.slack.failing["usergroups.users.list"] = "missing_scope"
    bot.command("points 1870 1", user=GROUP_MANAGER)
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert _points_calls(bot) == []


# -- other subcommands -------------------------------------------------------------------


def test_customer_card_has_fields_and_history_button(bot) -> None:
    bot.command("customer juan.perez@example.com", user=CLERK)
    card = bot.reply()
    shown = text_of(card)
    for piece in ("Juan Pérez", "juan.perez@example.com", "+529994116533", "*Points*\n5", "1870"):
        assert piece in shown
    bot.command("points 1870 4 thanks")
    bot.reply()
    bot.click(button(card, "History"), user=CLERK)
    history = text_of(bot.reply())
    assert "<@UMANAGER> added points 5 → 9 (+4)" in history and "thanks" in history


def test_customers_list_is_paged_with_total(bot) -> None:
    for i in range(25):
        bot.sandbox.state.add_customer(
            DEMO_PROGRAM_ID, {"firstName": "Cliente", "lastName": f"N{i:02d}"}
        )
    bot.command("customers")
    first = bot.reply()
    assert "31 in all, showing 1–20" in text_of(first)
    bot.click(button(first, "More"))
    second = bot.reply()
    assert second["replace_original"] is True
    assert "showing 21–31" in text_of(second) and "More" not in [
        b["text"]["text"] for b in buttons(second)
    ]
    bot.click(button(second, "Previous"))
    assert "showing 1–20" in text_of(bot.reply())


def test_customers_search(bot) -> None:
    bot.command("customers perez")
    shown = text_of(bot.reply())
    assert "2 in all" in shown and "Juan Pérez" in shown and "Juana Pérez" in shown


def test_offers_list_and_filter(bot) -> None:
    bot.command("offers")
    shown = text_of(bot.reply())
    assert "Café Gratis" in shown and "auto-claim" in shown and "Published" in shown
    assert "Pan dulce 2x1" in shown and "Draft" in shown
    bot.command("offers draft")
    shown = text_of(bot.reply())
    assert "Pan dulce" in shown and "Café Gratis" not in shown
    bot.command("offers canceled")
    assert "No canceled offers" in text_of(bot.reply())
    bot.command("offers archived")
    assert "not an offer status" in text_of(bot.reply())


def test_history_lists_changes_newest_first(bot) -> None:
    bot.command("points 1870 10 first")
    bot.reply()
    bot.command("points 1870 -3 second")
    bot.reply()
    bot.command("history juan perez")
    lines = text_of(bot.reply())
    assert lines.index("second") < lines.index("first")
    assert "deducted points 15 → 12 (-3)" in lines and "<!date^" in lines


# -- undo ------------------------------------------------------------------------------


def test_undo_reverts_own_last_change(bot) -> None:
    bot.command("points 1870 10")
    bot.reply()
    bot.command("undo")
    assert "back to 5 points" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 5
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {"points": 5}
    bot.command("undo")
    assert "already undone" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 5


def test_undo_refused_when_balance_changed(bot) -> None:
    bot.command("points 1870 10")
    bot.reply()
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 99})
    bot.command("undo")
    assert "balance changed since" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 99


def test_undo_refused_when_too_old_or_nothing(bot) -> None:
    import datetime as dt

    bot.command("undo")
    assert "no points change to undo" in text_of(bot.reply())
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    bot.store.record(
        user_id=MANAGER,
        action="points.add",
        outcome="ok",
        target_type="customer",
        target_id=JUAN,
        target_name="Juan Pérez",
        before=0,
        after=5,
        at=old,
    )
    bot.command("undo")
    assert "Too late to undo" in text_of(bot.reply())


def test_undo_only_touches_your_own_changes_and_needs_manager(bot) -> None:
    bot.command("points 1870 10", user=GROUP_MANAGER)
    bot.reply()
    bot.command("undo")
    assert "no points change to undo" in text_of(bot.reply())
    bot.command("undo", user=CLERK)
    assert "Only loyalty *managers* can undo" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 15


# -- failures --------------------------------------------------------------------------


def test_api_down_is_explained(bot) -> None:
    bot.sandbox.fail_rate = 1.0
    bot.command("points 1870 10")
    shown = text_of(bot.reply())
    assert "Smart Passes had a problem on its side" in shown
    assert "Traceback" not in shown


def test_add_timeout_reported_as_unknown_and_recorded(bot_with) -> None:
    bot = bot_with(smartpasses_timeout=0.5)
    bot.sandbox.before = lambda method, path: time.sleep(1.0) if path.endswith("/add") else None
    bot.command("points 1870 10")
    shown = text_of(bot.reply())
    assert "may or may not have been applied" in shown
    assert len(bot.sandbox.calls_to("POST", "/points/add")) <= 1
    time.sleep(0.8)
    assert len(bot.sandbox.calls_to("POST", "/points/add")) == 1
    (entry,) = bot.store.entries(target_id=JUAN)
    assert entry.outcome == "unknown" and entry.before == 5


def test_slow_api_still_acks_fast(bot) -> None:
    bot.sandbox.latency = 3.5
    start = time.monotonic()
    response = bot.command("customer 1870")
    assert response.status_code == 200
    assert time.monotonic() - start < 1.5
    assert "Juan Pérez" in text_of(bot.replies(1, timeout=20)[0])


def test_malformed_api_answer_is_explained(bot) -> None:
    bot.sandbox._dispatch = lambda *a: {"id": "not-a-number"}
    bot.command("customers")
    assert "answered in a way the bot did not expect" in text_of(bot.reply())


def test_unexpected_error_gives_reference_and_logs_it(bot, caplog, mocker) -> None:
    caplog.set_level(logging.ERROR, logger="loyalty.errors")
    mocker.patch("bot.slack.blocks.customer_card", side_effect=RuntimeError("secret internals"))
    bot.command("customer 1870")
    shown = text_of(bot.reply())
    assert "secret internals" not in shown
    assert "something went wrong on my side (reference `" in shown
    reference = shown.split("reference `")[1][:6]
    assert reference in caplog.text and "Traceback" not in shown


# -- output safety -----------------------------------------------------------------------


def test_customer_text_is_escaped(bot) -> None:
    bot.sandbox.state.add_customer(
        DEMO_PROGRAM_ID, {"firstName": "<!channel>", "lastName": "*bold* <@U1>"}
    )
    bot.command("customers channel")
    shown = text_of(bot.reply())
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "<@U1>" not in shown and "&lt;@U1&gt;" in shown
    assert "\u200b" not in shown  # nothing invisible added: what is copied is what is stored


def test_audit_channel_gets_each_successful_change(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.command("points 1870 10 promo")
    bot.reply()
    (post,) = bot.wait("chat.postMessage")
    assert post.args["channel"] == "CAUDIT"
    assert "<@UMANAGER> added points for *Juan Pérez* (`1870`): 5 → 15 (+10)" in text_of(post.args)
    bot.command("points 1870 -100")
    bot.reply()
    time.sleep(0.2)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # refused: not announced


def test_slack_rate_limit_is_waited_out(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.slack.rate_limited["chat.postMessage"] = 1
    bot.command("points 1870 1")
    bot.reply()
    (post,) = bot.wait("chat.postMessage", timeout=10)
    assert post.args["channel"] == "CAUDIT"
    assert len(bot.slack.calls_to("chat.postMessage (429)")) == 1
