"""Modals and confirmations through Bolt, with view_submission and block_actions payloads
built the way Slack sends them."""

from __future__ import annotations

import json
import threading
import time

from bot.offline.sandbox import DEMO_PROGRAM_ID
from tests.harness import CHANNEL, CLERK, MANAGER, button, text_of

JUAN, ANA, CAFE, PAN = 1870, 6629146321223680, 5001, 5002


def _writes(bot) -> list:
    return [c for c in bot.sandbox.calls if c.method in ("POST", "PUT", "DELETE")]


def _input_ids(view: dict) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def _result(bot) -> dict:
    (call,) = bot.wait("chat.postEphemeral")[-1:]
    return call.args


# -- customers -------------------------------------------------------------------------


def test_new_customer_form_opens_valid_and_creates(bot) -> None:
    assert bot.command("customer new", user=CLERK).status_code == 200
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_customer_form"
    assert _input_ids(view) == ["first_name", "last_name", "email", "phone"]
    assert json.loads(view["private_metadata"])["channel_id"] == CHANNEL
    response = bot.submit(
        view_id,
        {
            "first_name": "Rosa",
            "last_name": "Díaz",
            "email": "rosa@example.com",
            "phone": "+52 555 999 8888",
        },
        user=CLERK,
    )
    answered = response.json()  # at once: the form says it is saving
    assert answered["response_action"] == "update" and "Saving" in text_of(answered["view"])
    result = _result(bot)  # then the card, where the form was opened
    (create,) = bot.sandbox.calls_to("POST", "/customers")
    assert create.body == {
        "firstName": "Rosa",
        "lastName": "Díaz",
        "email": "rosa@example.com",
        "phone": "+52 555 999 8888",
    }
    assert result["channel"] == CHANNEL and result["user"] == CLERK
    assert "Rosa Díaz" in text_of(result)
    assert "Rosa Díaz" in text_of(bot.slack.views[view_id])  # and in the form's window
    assert bot.store.entries(actions=["customer.create"])[0].outcome == "ok"


def test_customer_form_errors_beside_each_field_and_nothing_sent(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    response = bot.submit(view_id, {"first_name": " ", "email": "rosa@", "phone": "555 1234"})
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"first_name", "email", "phone"}
    assert "international form" in body["errors"]["phone"]
    assert _writes(bot) == []


def test_api_validation_error_lands_on_the_right_field(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    view = bot.answer(view_id, {"first_name": "Otro", "phone": "+52 999 411 6533"})["view"]
    # The form again, as it was filled in, with Smart Passes' reason beside the field.
    assert "Smart Passes refused this" in text_of(view)
    phone = next(b for b in view["blocks"] if b.get("block_id") == "phone")
    assert phone["hint"]["text"] == "⚠️ Phone number already taken"
    assert phone["element"]["initial_value"] == "+52 999 411 6533"
    assert view["callback_id"] == "loyalty_customer_form" and view["submit"]["text"] == "Create"
    assert (
        bot.answer(view_id, {"first_name": "Otro", "phone": "+52 555 111 2222"})["view"][
            "callback_id"
        ]
        == "loyalty_notice"
    )  # fixed and sent again: saved


def test_edit_customer_prefilled_then_saved(bot) -> None:
    bot.command("customer edit juan.perez@example.com")
    view_id, view = bot.opened_view()
    assert bot.slack.calls_to("views.update"), "opened loading first, then filled"
    prefilled = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert prefilled == {
        "first_name": "Juan",
        "last_name": "Pérez",
        "email": "juan.perez@example.com",
        "phone": "+529994116533",
    }
    bot.answer(view_id, {"last_name": "Pérez López"})
    put = bot.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1]
    assert put.body == {"lastName": "Pérez López"}  # only what changed is sent
    assert "Juan Pérez López" in text_of(_result(bot))
    (entry,) = bot.store.entries(actions=["customer.update"])
    assert entry.outcome == "ok" and entry.changes == {"last_name": ["Pérez", "Pérez López"]}


def test_stale_customer_form_does_not_overwrite(bot) -> None:
    bot.command("customer edit 1870")
    view_id, _ = bot.opened_view()
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"email": "new@example.com"})
    assert "changed by someone else" in text_of(bot.answer(view_id, {"last_name": "X"})["view"])
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}") == []
    bot.command("customer edit 1870")  # a fresh form, then the customer goes away
    view_id, _ = bot.opened_view()
    bot.sandbox.state.delete_customer(DEMO_PROGRAM_ID, JUAN)
    assert "was deleted" in text_of(bot.answer(view_id, {"last_name": "Y"})["view"])


def test_ambiguous_reference_picked_inside_the_modal(bot) -> None:
    bot.command("customer edit perez")
    view_id, view = bot.opened_view()
    assert "2 customers match" in text_of(view)
    choose = [b for b in view["blocks"] if b.get("accessory")][1]["accessory"]
    bot.click_in_view(view_id, choose)
    deadline = time.time() + 5
    while (
        bot.slack.views[view_id]["callback_id"] != "loyalty_customer_form"
        and time.time() < deadline
    ):
        time.sleep(0.02)
    assert bot.slack.views[view_id]["callback_id"] == "loyalty_customer_form"


# -- offers ----------------------------------------------------------------------------


def test_new_offer_is_a_draft_with_the_right_body(bot) -> None:
    bot.command("offer new", user=CLERK)
    view_id, view = bot.opened_view()
    assert _input_ids(view) == ["offer_name", "offer_description", "offer_cost", "offer_auto_claim"]
    body = bot.submit(view_id, {"offer_name": "", "offer_cost": "2.5"}, user=CLERK).json()
    assert set(body["errors"]) == {"offer_name", "offer_cost"}
    saved = bot.answer(
        view_id,
        {
            "offer_name": "Té Gratis",
            "offer_description": "Un té.",
            "offer_cost": "8",
            "offer_auto_claim": "yes",
        },
        user=CLERK,
    )
    assert "Té Gratis" in text_of(saved["view"])
    create = bot.sandbox.calls_to("POST", "/offers")[-1]
    assert create.body == {
        "name": "Té Gratis",
        "description": "Un té.",
        "pointsCost": 8,
        "autoClaim": True,
    }
    assert "Draft" in text_of(_result(bot))


def test_edit_offer_by_name(bot) -> None:
    bot.command("offer edit cafe gratis")
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_offer_form"
    bot.answer(view_id, {"offer_cost": "12"})
    assert bot.sandbox.calls_to("POST", f"/offers/{CAFE}")[-1].body == {"pointsCost": 12}
    (entry,) = bot.store.entries(actions=["offer.update"])
    assert entry.changes == {"points_cost": [10, 12]}


def test_unknown_offer_is_explained_in_the_modal(bot) -> None:
    bot.command("offer edit nothing-like-this")
    _, view = bot.opened_view()
    assert "No offer matches" in text_of(view)


# -- points modal ----------------------------------------------------------------------


def test_points_without_amount_opens_the_form_and_applies(bot) -> None:
    bot.command("points 1870")
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_points_form" and "has *5 points*" in text_of(view)
    refused = bot.answer(view_id, {"points_op": "deduct", "points_amount": "9"})["view"]
    amount = next(b for b in refused["blocks"] if b.get("block_id") == "points_amount")
    assert "below zero" in amount["hint"]["text"] and amount["element"]["initial_value"] == "9"
    errors = bot.answer(view_id, {"points_op": "deduct", "points_amount": "ten"})["errors"]
    assert "whole number" in errors["points_amount"]  # the bot's own checks: at once
    done = bot.answer(
        view_id, {"points_op": "deduct", "points_amount": "3", "points_reason": "returned item"}
    )
    assert "5 → *2*" in text_of(done["view"])
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {"points": 2}
    assert "5 → *2*" in text_of(_result(bot))
    assert bot.store.entries(target_id=JUAN, outcome="ok")[0].reason == "returned item"


def test_clerk_cannot_open_or_submit_the_points_form(bot) -> None:
    bot.command("points 1870", user=CLERK)
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert bot.slack.calls_to("views.open") == []
    bot.command("points 1870")  # a manager opens it ...
    view_id, _ = bot.opened_view()
    answer = bot.answer(view_id, {"points_amount": "50"}, user=CLERK)  # ... a clerk submits
    assert "Only loyalty *managers* can change points" in text_of(answer["view"])
    assert _writes(bot) == [] and bot.customer_points(JUAN) == 5
    assert [e.outcome for e in bot.store.entries(user_id=CLERK)] == ["refused", "refused"]


def test_card_change_points_button_checks_the_role(bot) -> None:
    bot.command("customer 1870", user=CLERK)
    assert [b["text"]["text"] for b in bot.reply()["blocks"][2]["elements"]] == [
        "Edit",
        "History",
    ]  # a clerk is not offered what a clerk may not do
    bot.command("customer 1870")
    card = bot.reply()  # a manager's card: the button is there, and checked again on click
    bot.click(button(card, "Change points"), user=CLERK)
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert bot.slack.calls_to("views.open") == []
    bot.click(button(card, "Change points"), user=MANAGER)
    _, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_points_form"


def test_slow_api_submission_answers_in_time_then_updates(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    bot.sandbox.latency = 2.6
    start = time.monotonic()
    body = bot.submit(view_id, {"first_name": "Lenta"}).json()
    assert time.monotonic() - start < 3.0
    assert body["response_action"] == "update" and "Saving" in text_of(body["view"])
    deadline = time.time() + 10
    while "Lenta" not in text_of(bot.slack.views[view_id]) and time.time() < deadline:
        time.sleep(0.05)
    assert "Lenta" in text_of(bot.slack.views[view_id])  # the new card, in the window
    assert "Lenta" in text_of(_result(bot))  # and where the form was opened


# -- confirmations ---------------------------------------------------------------------


def test_delete_customer_needs_the_named_button(bot) -> None:
    bot.command("customer delete juan.perez@example.com")
    ask = bot.reply()
    assert "permanently deletes the customer *Juan Pérez*" in text_of(ask)
    confirm = button(ask, "Delete customer")
    assert confirm["confirm"]["confirm"]["text"] == "Delete customer"
    assert bot.sandbox.calls_to("DELETE", f"/customers/{JUAN}") == []

    bot.click(confirm, user=CLERK)
    assert "Only loyalty *managers* can delete customers" in text_of(bot.reply())
    assert bot.sandbox.calls_to("DELETE", f"/customers/{JUAN}") == []

    bot.click(confirm)
    done = bot.reply()
    assert done["replace_original"] is True and "was deleted by <@UMANAGER>" in text_of(done)
    bot.click(confirm)
    assert "already done by <@UMANAGER>" in text_of(bot.reply())
    assert len(bot.sandbox.calls_to("DELETE", f"/customers/{JUAN}")) == 1
    assert [e.outcome for e in bot.store.entries(actions=["customer.delete"])] == ["ok"]


def test_clerk_is_refused_before_any_confirmation(bot) -> None:
    bot.command("customer delete 1870", user=CLERK)
    assert "Only loyalty *managers* can delete customers" in text_of(bot.reply())
    bot.command("offer cancel cafe", user=CLERK)
    assert "Only loyalty *managers* can cancel published offers" in text_of(bot.reply())


def test_concurrent_confirm_clicks_act_once(bot) -> None:
    bot.command("offer delete pan dulce")
    confirm = button(bot.reply(), "Delete offer")
    threads = [threading.Thread(target=bot.click, args=(confirm,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bot.replies(5)
    time.sleep(0.3)
    assert len(bot.sandbox.calls_to("DELETE", f"/offers/{PAN}")) == 1
    texts = [text_of(r) for r in bot.replies(5)]
    assert sum("was deleted" in t for t in texts) == 1


def test_published_offer_cannot_be_deleted_but_can_be_canceled(bot) -> None:
    bot.command("offer delete Café Gratis")
    refused = text_of(bot.reply())
    assert "only Draft offers can be deleted" in refused and "Cancel it instead" in refused
    assert bot.sandbox.calls_to("DELETE", "/offers/") == []
    bot.command("offer cancel Café Gratis")
    ask = bot.reply()
    assert "disappears from every customer's wallet pass" in text_of(ask)
    bot.click(button(ask, "Cancel offer"))
    assert "was canceled" in text_of(bot.reply())
    assert bot.sandbox.state.offers(DEMO_PROGRAM_ID)[0]["status"] == "Canceled"
    assert bot.store.entries(actions=["offer.cancel"])[0].outcome == "ok"


def test_api_refusal_reason_is_shown(bot) -> None:
    bot.command("offer delete 5002")
    confirm = button(bot.reply(), "Delete offer")

    def publish_just_before(method: str, path: str) -> None:
        if method == "DELETE":
            bot.sandbox.state.programs[DEMO_PROGRAM_ID].offers[PAN]["status"] = "Published"

    bot.sandbox.before = publish_just_before
    bot.click(confirm)
    assert "Only Draft offers can be deleted; this one is Published" in text_of(bot.reply())
    (entry,) = bot.store.entries(actions=["offer.delete"])
    assert entry.outcome == "refused" and "only Draft" in entry.detail.replace("Only", "only")


def test_never_mind_removes_the_question(bot) -> None:
    bot.command("offer delete 5002")
    bot.click(button(bot.reply(), "Never mind"))
    assert bot.reply()["delete_original"] is True
    assert bot.sandbox.calls_to("DELETE", "/offers/") == []


def test_card_buttons_lead_to_forms_and_confirmations(bot) -> None:
    bot.command("customer 1870")
    card = bot.reply()
    assert [b["text"]["text"] for b in card["blocks"][2]["elements"]] == [
        "Change points",
        "Edit",
        "History",
        "Delete",
    ]
    bot.click(button(card, "Delete"))
    ask = bot.reply()
    assert "Delete customer" in [b["text"]["text"] for b in ask["blocks"][1]["elements"]]
    assert bot.sandbox.calls_to("DELETE", "/customers/") == []
    bot.click(button(card, "Edit"))
    _, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_customer_form"

    bot.command("offer café")
    offer_card = bot.reply()
    labels = [b["text"]["text"] for b in offer_card["blocks"][3]["elements"]]
    assert labels == ["Edit", "Cancel offer"]  # published: no Delete
    bot.click(button(offer_card, "Cancel offer"))
    assert "Cancel offer" in text_of(bot.reply())
    bot.command("offer pan")
    assert [b["text"]["text"] for b in bot.reply()["blocks"][3]["elements"]] == [
        "Request publication",
        "Edit",
        "Delete",
    ]


def test_offer_reference_ambiguity_offers_choices(bot) -> None:
    bot.sandbox.state.add_offer(DEMO_PROGRAM_ID, {"name": "Café Doble", "pointsCost": 20})
    bot.command("offer delete café")
    picker = bot.reply()
    assert "2 offers match" in text_of(picker)
    doble = next(b for b in picker["blocks"] if "Café Doble" in b["text"]["text"])["accessory"]
    bot.click(doble)
    assert "deletes the draft offer *Café Doble*" in text_of(bot.reply())


def test_forms_open_even_when_the_work_pool_is_busy(sandbox, sandbox_url, sqlite_url) -> None:
    """A trigger_id lasts ~3 s: opening a form must not wait behind other API work."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.harness import running_bot

    release = threading.Event()
    pool = ThreadPoolExecutor(1)
    pool.submit(release.wait)  # the only worker is stuck behind a slow job
    try:
        with running_bot(sandbox, sandbox_url, sqlite_url, work=pool) as bot:
            bot.command("customer new")
            assert bot.slack.wait_for("views.open", timeout=3)
            bot.command("points 1870")
            opened = bot.slack.wait_for("views.open", count=2, timeout=3)
            assert "Change points" in json.dumps(opened[1].args["view"])
            release.set()  # then the loading form gets filled in
            _, last = bot.opened_view()  # waits while it is still loading
            assert last["callback_id"] == "loyalty_points_form", last
    finally:
        release.set()
        pool.shutdown()


def test_points_form_remembers_the_balance_it_showed(bot) -> None:
    bot.command("points 1870")
    view_id, view = bot.opened_view()
    assert "has *5 points*" in text_of(view)
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 500})  # meanwhile
    refusal = text_of(bot.answer(view_id, {"points_op": "set", "points_amount": "10"})["view"])
    assert "changed to 500 after the form was opened (it showed 5)" in refusal
    assert "Nothing was changed" in refusal
    assert (
        bot.customer_points(JUAN) == 500 and bot.sandbox.calls_to("PUT", f"/customers/{JUAN}") == []
    )
    bot.answer(view_id, {"points_op": "add", "points_amount": "10"})
    result = text_of(_result(bot))
    assert "500 → *510*" in result
    assert "The balance had changed to 500 since the form showed 5" in result
    assert bot.customer_points(JUAN) == 510
