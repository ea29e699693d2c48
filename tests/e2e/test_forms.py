"""Modals and confirmations end to end: views opened (loading first), view_submission and
block_actions payloads built as Slack sends them, and what each window then shows."""

from __future__ import annotations

import json
import threading

from bot.offline.sandbox import DEMO_PROGRAM_ID
from handlers.workpool import WorkPool
from tests.demo import JUAN, PAN
from tests.faults import Gate
from tests.harness import CHANNEL, CLERK, button, running_bot, text_of


def _writes(bot) -> list:
    return [c for c in bot.sandbox.calls if c.method != "GET"]


def _prefilled(view: dict) -> dict:
    """Each input of a form and the value it opens with."""
    return {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }


def _result(bot) -> dict:
    """The result posted where the form was opened."""
    (call,) = bot.wait("chat.postEphemeral")[-1:]
    return call.args


def test_a_new_customer_form_checks_then_creates(bot) -> None:
    assert bot.command("customer new", user=CLERK).status_code == 200
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_customer_form"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "first_name",
        "last_name",
        "email",
        "phone",
    ]
    errors = bot.answer(view_id, {"first_name": " ", "email": "rosa@", "phone": "555"}, user=CLERK)
    assert set(errors["errors"]) == {"first_name", "email", "phone"}  # in the ack, beside each
    assert _writes(bot) == []
    typed = {"first_name": "Rosa", "last_name": "Díaz", "email": "rosa@example.com"}
    response = bot.submit(view_id, typed, user=CLERK)
    answered = response.json()  # at once: the form says it is saving
    assert answered["response_action"] == "update" and "Saving" in text_of(answered["view"])
    result = _result(bot)  # then the card, where the form was opened
    assert result["channel"] == CHANNEL and result["user"] == CLERK
    assert "Rosa Díaz" in text_of(result)
    bot.settle()
    assert "Rosa Díaz" in text_of(bot.slack.views[view_id])  # and in the form's window
    assert bot.sandbox.calls_to("POST", "/customers")[-1].body["email"] == "rosa@example.com"
    assert bot.store.entries(actions=["customer.create"])[0].outcome == "ok"


def test_points_two_readers_read_apart_are_asked_in_every_form(bot) -> None:
    """An offer's cost and a promotion's bonus of `1.000` (a manager reading English: the
    dot marks decimals) are asked, as the points form asks; nothing is created until the
    number is typed without the mark."""
    asked = "Did you mean 1 or 1,000? Type it without the mark: 1 or 1000."
    bot.command("offer new")
    view_id, _ = bot.opened_view()
    shown = bot.answer(view_id, {"offer_name": "Tamal gratis", "offer_cost": "1.000"})
    assert shown["errors"] == {"offer_cost": asked}
    bot.command("promos new")
    promo_id, _ = bot.opened_view()
    values = {"promo_name": "Bienvenida", "promo_kind": "bonus", "promo_value": "1.000"}
    assert bot.answer(promo_id, values)["errors"] == {"promo_value": asked}
    assert _writes(bot) == [] and bot.store.promotions() == []
    bot.answer(view_id, {"offer_name": "Tamal gratis", "offer_cost": "1,000"})
    assert bot.sandbox.calls_to("POST", "/offers")[-1].body["pointsCost"] == 1000


def test_customer_new_with_words_fills_in_the_form_and_creates_nothing(bot) -> None:
    bot.command("customer new Rosa Díaz rosa@example.com +52 55 1234 5678", user=CLERK)
    _, view = bot.opened_view()
    assert _prefilled(view) == {
        "first_name": "Rosa",
        "last_name": "Díaz",
        "email": "rosa@example.com",
        "phone": "+52 55 1234 5678",
    }
    assert _writes(bot) == []  # a form to check, not a customer yet
    for said in (
        "new customer Rosa Díaz",
        "nuevo cliente Rosa Díaz",
        "create a customer Rosa Díaz",
        "crea un cliente nuevo Rosa Díaz",
    ):
        bot.command(said, user=CLERK)  # as one says it: the same form, at once
        _, view = bot.opened_view()
        assert view["callback_id"] == "loyalty_customer_form", said
        assert _prefilled(view)["first_name"] == "Rosa", said
    bot.command("nueva oferta")
    _, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_offer_form"
    assert _writes(bot) == []
    long = "x" * 500
    bot.command(f"customer new {long} {long}")
    _, view = bot.opened_view()
    for block in view["blocks"]:  # cut to what each field takes: Slack refuses more
        if block["type"] == "input" and block["element"].get("initial_value"):
            assert len(block["element"]["initial_value"]) <= block["element"]["max_length"]


def test_a_refusal_from_smart_passes_lands_beside_its_field(bot) -> None:
    bot.command("customer juan")  # the lookup index is loaded; then someone elsewhere adds:
    bot.reply()
    bot.sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": "Eva", "phone": "+525557778888"})
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    view = bot.answer(view_id, {"first_name": "Otro", "phone": "+52 555 777 8888"})["view"]
    # The form again, as it was filled in, with Smart Passes' reason beside the field.
    assert "Smart Passes refused this" in text_of(view)
    phone = next(b for b in view["blocks"] if b.get("block_id") == "phone")
    assert phone["hint"]["text"] == "⚠️ Phone number already taken"
    assert phone["element"]["initial_value"] == "+52 555 777 8888"
    assert view["callback_id"] == "loyalty_customer_form" and view["submit"]["text"] == "Create"
    fixed = bot.answer(view_id, {"first_name": "Otro", "phone": "+52 555 111 2222"})["view"]
    assert fixed["callback_id"] == "loyalty_notice"  # fixed and sent again: saved


def test_an_edit_form_is_prefilled_and_sends_only_what_changed(bot) -> None:
    bot.command("customer edit juan.perez@example.com")
    view_id, view = bot.opened_view()
    assert bot.slack.calls_to("views.update"), "opened loading first, then filled"
    assert _prefilled(view) == {
        "first_name": "Juan",
        "last_name": "Pérez",
        "email": "juan.perez@example.com",
        "phone": "+52 999 411 6533",  # as the card shows it; the same number: not sent
    }
    bot.answer(view_id, {"last_name": "Pérez López"})
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {"lastName": "Pérez López"}
    assert "Juan Pérez López" in text_of(_result(bot))


def test_the_points_form_remembers_what_it_showed(bot) -> None:
    bot.command("points 1870")
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_points_form" and "has *5 points*" in text_of(view)
    reason = next(b for b in view["blocks"] if b.get("block_id") == "points_reason")
    assert reason["element"]["max_length"] == 300
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 500})  # meanwhile
    refusal = text_of(bot.answer(view_id, {"points_op": "set", "points_amount": "10"})["view"])
    assert "changed to 500 after the form was opened (it showed 5)" in refusal
    amount = bot.answer(view_id, {"points_op": "deduct", "points_amount": "ten"})["errors"]
    assert "whole number" in amount["points_amount"]  # the bot's own checks: at once
    done = bot.answer(view_id, {"points_op": "add", "points_amount": "10", "points_reason": "x"})
    assert "500 → *510*" in text_of(done["view"]) and "500 → *510*" in text_of(_result(bot))
    assert bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    bot.command("points 1870")  # a manager's form, sent by a clerk
    view_id, _ = bot.opened_view()
    clerk = bot.answer(view_id, {"points_op": "add", "points_amount": "50"}, user=CLERK)
    assert "Only loyalty *managers* can add points" in text_of(clerk["view"])
    assert bot.store.entries(user_id=CLERK)[0].outcome == "refused"


def test_points_with_words_and_no_amount_read_them_by_the_list(bot) -> None:
    """`points juan perez`: a name of two words, not `juan` with the amount `perez`: the
    form asks how much. `points juan perez diez`: a start names a customer, so the word
    after it was meant as the amount: told why it is not one, no form, nothing changed."""
    bot.command("points juan perez")
    _, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_points_form" and "Juan Pérez" in text_of(view)
    assert "has *5 points*" in text_of(view)
    bot.command("points juan perez diez cumple")
    assert "“diez” is not a number of points" in text_of(bot.replies(1)[-1])
    for exact in ("<@UJUAN>", "1870", "juan.perez@example.com"):  # the amount comes next
        refused = bot.command(f"points {exact} ten").json()  # said at once
        assert "“ten” is not a number of points" in text_of(refused)
    bot.settle()
    assert len(bot.slack.calls_to("views.open")) == 1 and _writes(bot) == []


def test_before_the_list_is_loaded_the_amount_meant_is_told_in_the_form(bot) -> None:
    """`points ana diez` as a process's first lookup: the list is not read before the
    form opens (its trigger would expire); once it is open, the words are read against
    a fresh list, and the form says what the command would have."""
    bot.command("points ana diez")
    _, view = bot.opened_view()
    assert "“diez” is not a number of points" in text_of(view)
    assert _writes(bot) == []


def test_lookups_inside_a_modal_offer_a_choice_or_say_why(bot) -> None:
    bot.command("offer edit nothing-like-this")
    _, view = bot.opened_view()
    assert "No offer matches" in text_of(view)
    bot.command("customer edit perez")
    view_id, view = bot.opened_view()
    assert "2 customers match" in text_of(view)
    choose = [b for b in view["blocks"] if b.get("accessory")][1]["accessory"]
    bot.click_in_view(view_id, choose)
    bot.settle()
    assert bot.slack.views[view_id]["callback_id"] == "loyalty_customer_form"


def test_forms_open_even_when_the_work_pool_is_busy(sandbox, sandbox_url, sqlite_url) -> None:
    """A trigger_id lasts ~3 s: opening a form never waits behind other API work; and a
    full pool says so at once and changes nothing."""
    stuck = threading.Event()
    pool = WorkPool(1, 0)
    pool.submit(stuck.wait)  # the only worker is busy, and there is no room to queue
    try:
        with running_bot(sandbox, sandbox_url, sqlite_url, work=pool) as bot:
            bot.command("points 1870 10")
            assert "too many requests to work on right now" in text_of(bot.reply())
            bot.command("points 1870")
            (opened,) = bot.wait("views.open")
            assert "Change points" in json.dumps(opened.args["view"])
            bot.command("customer new")
            view_id, _ = bot.opened_view()
            answer = bot.answer(view_id, {"first_name": "Rosa"})
            assert "too many requests" in text_of(answer["view"])
            assert _writes(bot) == [] and bot.store.entries() == []
            stuck.set()  # then the loading form gets filled in
    finally:
        stuck.set()
        pool.shutdown()


def test_a_slow_submission_says_saving_then_shows_the_result(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    gate = Gate(bot.sandbox, "POST", "/customers")
    body = bot.submit(view_id, {"first_name": "Lenta"}).json()
    assert body["response_action"] == "update" and "Saving" in text_of(body["view"])
    assert gate.entered.wait(10)  # answered while Smart Passes still works on it
    gate.release()
    assert "Lenta" in text_of(_result(bot))  # where the form was opened
    bot.settle()
    assert "Lenta" in text_of(bot.slack.views[view_id])  # and in the window


def test_a_closed_form_still_tells_its_result(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    bot.slack.failing["views.update"] = "not_found"  # the person closed the window
    bot.submit(view_id, {"first_name": "Rosa"})
    assert "Rosa" in text_of(_result(bot))
    assert bot.store.entries(actions=["customer.create"])[0].outcome == "ok"


# -- confirmations -----------------------------------------------------------------------


def test_a_deletion_needs_the_button_that_names_it(bot) -> None:
    bot.command("offer delete 5002")
    bot.click(button(bot.reply(), "Never mind"))
    assert bot.reply()["delete_original"] is True  # the question is removed
    bot.command("customer delete juan.perez@example.com")
    ask = bot.reply()
    confirm = button(ask, "Delete customer")
    assert confirm["confirm"]["confirm"]["text"] == "Delete customer"
    bot.click(confirm, user=CLERK)
    assert "Only loyalty *managers* can delete customers" in text_of(bot.reply())
    assert bot.sandbox.calls_to("DELETE", f"/customers/{JUAN}") == []
    bot.click(confirm)
    done = bot.reply()
    assert done["replace_original"] is True and "was deleted by <@UMANAGER>" in text_of(done)
    bot.click(confirm)
    assert "already done by <@UMANAGER>" in text_of(bot.reply())
    assert len(bot.sandbox.calls_to("DELETE", f"/customers/{JUAN}")) == 1
    assert bot.sandbox.calls_to("DELETE", "/offers/") == []


def test_simultaneous_confirm_clicks_act_once(bot) -> None:
    bot.command("offer delete pan dulce")
    confirm = button(bot.reply(), "Delete offer")
    clicks = [threading.Thread(target=bot.click, args=(confirm,)) for _ in range(5)]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    texts = [text_of(r) for r in bot.replies(6)[1:]]
    bot.settle()
    assert len(bot.sandbox.calls_to("DELETE", f"/offers/{PAN}")) == 1
    assert sum("was deleted" in t for t in texts) == 1
