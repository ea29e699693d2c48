"""At the till, end to end: a clerk adding points within and beyond the clerk allowance,
and rewards redeemed by command and by the card's Redeem form."""

from __future__ import annotations

from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.offline.sandbox.data import load_generated
from tests.demo import ANA, JUAN
from tests.harness import CAJERA, CLERK, GERENTE, MANAGER, button, buttons, text_of, wait_until


def _shows(bot, view_id: str, form: str) -> None:
    """Wait until the window holds `form` (as the stand-in keeps it, ready to be sent)."""
    wait_until(lambda: bot.slack.views[view_id].get("callback_id") == form, what=form)


def _options(bot, view_id: str, typed: str, user: str) -> list[dict]:
    """The type-ahead's options, once the customer list has loaded (typing again)."""

    def answered() -> list[dict] | None:
        options = bot.options(view_id, "customer", typed, user=user).json()["options"]
        return None if options and options[0]["value"] == "-" else options

    return wait_until(answered, what="the type-ahead's options")


def _writes(bot) -> list:
    return [c for c in bot.sandbox.calls if c.method != "GET"]


def test_a_clerk_adds_within_both_limits_and_is_told_each_limit(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points="20", loyalty_clerk_daily_points="30")
    bot.command("points 1870 20 first visit", user=CLERK)
    assert "5 → *25*" in text_of(bot.reply())
    bot.command("points 1870 25", user=CLERK)
    over_one = text_of(bot.reply())
    assert "Clerks can add at most 20 points in one change" in over_one
    assert "Ask <!subteam^SMANAGERS> to add more" in over_one and "LOYALTY" not in over_one
    bot.command("points 1870 15", user=CLERK)
    over_day = text_of(bot.reply())
    assert "at most 30 points a day" in over_day and "10 more can be added" in over_day
    bot.command("points 1870 10", user=CLERK)
    bot.reply()
    bot.command("points 1870 1", user=CLERK)  # the day's allowance is used up
    assert "added 30 today: no more can be added until tomorrow" in text_of(bot.reply())
    bot.command("points 1870 -1", user=CLERK)
    assert "Only loyalty *managers* can deduct points" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 35
    assert len(bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")) == 2
    refused = bot.store.entries(user_id=CLERK, outcome="refused")
    assert len(refused) == 4


def test_a_sign_typed_apart_or_said_as_a_verb_changes_the_points(bot) -> None:
    """`= 40`, `- 2`, `quitar 5`, `fijar 20`: as people type at a till, not "no customer
    matches “juan quitar”"."""
    for typed, shown in [
        ("points 1870 = 40", "5 → *40*"),
        ("points 1870 - 2 broke a cup", "40 → *38*"),
        ("puntos 1870 quitar 5 puntos", "38 → *33*"),
        ("puntos Juan Pérez fijar 20", "33 → *20*"),
        ("points 1870 add 1", "20 → *21*"),
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    assert len(_writes(bot)) == 5
    entries = list(reversed(bot.store.entries(target_id=JUAN)))
    assert [(e.before, e.after, e.outcome) for e in entries] == [
        (5, 40, "ok"),
        (40, 38, "ok"),
        (38, 33, "ok"),
        (33, 20, "ok"),
        (20, 21, "ok"),
    ]
    assert [e.reason for e in entries] == ["", "broke a cup", "", "", ""]


def test_a_clerks_points_form_only_adds_up_to_the_allowance(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points="20")
    bot.command("points 1870", user=CLERK)
    view_id, view = bot.opened_view()
    assert view["title"]["text"] == "Add points"
    assert "points_op" not in [b.get("block_id") for b in view["blocks"]]  # no choice of one
    assert "at most 20" in text_of(view)
    refused = bot.answer(view_id, {"points_amount": "21"}, user=CLERK)["view"]
    amount = next(b for b in refused["blocks"] if b.get("block_id") == "points_amount")
    assert "at most 20 points in one change" in amount["hint"]["text"]  # beside the field
    done = bot.answer(view_id, {"points_amount": "20"}, user=CLERK)["view"]
    assert "5 → *25*" in text_of(done) and done["title"]["text"] == "Add points"
    # A forged submission that sets the balance instead: the service checks the role.
    bot.command("points 1870", user=CLERK)
    view_id, _ = bot.opened_view()
    forged = bot.requests.submission(view_id, {"points_amount": "1"}, user=CLERK)
    choice = {"type": "radio_buttons", "selected_option": {"value": "set"}}
    forged["view"]["state"]["values"]["points_op"] = {"value": choice}
    assert bot.requests.interaction(forged).status_code == 200
    (refusal,) = bot.slack.wait_for("views.update", lambda c: "Only loyalty" in str(c.args))
    assert "can deduct points or set a balance" in str(refusal.args["view"])
    assert bot.sandbox.calls_to("PUT", "/customers/1870") == []
    assert bot.customer_points(JUAN) == 25


def test_a_refusal_beside_a_field_names_the_managers_by_their_names(bot_with) -> None:
    """A form's hint is plain text, where a mention shows as an id (`@UMANAGER`): the
    managers to ask are written by the names Slack gives (asked after the ack)."""
    for group, asked in [
        (None, "Pídele a rocio o marta que"),
        ("SMANAGERS", "Pídele a un gerente que"),
    ]:
        bot = bot_with(
            loyalty_clerk_max_points="20",
            loyalty_managers=[MANAGER, GERENTE],
            loyalty_manager_group=group,
        )
        bot.command("puntos 1870", user=CAJERA)
        view_id, _ = bot.opened_view()
        refused = bot.answer(view_id, {"points_amount": "21"}, user=CAJERA)["view"]
        amount = next(b for b in refused["blocks"] if b.get("block_id") == "points_amount")
        hint = amount["hint"]["text"]
        assert f"{asked} agregue más." in hint and "@U" not in hint, hint


def test_a_reward_is_redeemed_by_command_and_counted(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.command("redeem Ana García Café Gratis")
    shown = text_of(bot.reply())
    assert "*Café Gratis* redeemed for *Ana García*: 25 → *15*" in shown
    assert bot.sandbox.calls_to("PUT", f"/customers/{ANA}")[-1].body == {"points": 15}
    # Where the customer ends was guessed from the list alone: no miss read it again.
    assert len(bot.sandbox.calls_to("GET", "/customers")) == 1
    (post,) = bot.wait("chat.postMessage")
    assert "redeemed “Café Gratis” for *Ana García*" in text_of(post.args)
    bot.command("redeem 1870 cafe")
    short = text_of(bot.reply())
    assert "has 5 points and “Café Gratis” costs 10: 5 more points are needed" in short
    bot.command("redeem 1870 pan")
    assert "only Published offers can be redeemed" in text_of(bot.reply())
    assert len(_writes(bot)) == 1
    bot.command("summary")
    assert "Redeemed today: 1 reward, 10 points" in text_of(bot.reply())
    assert "*Redeemed today*\n1 reward, 10 points" in text_of(_home(bot, "UMANAGER"))


def test_a_reward_said_before_whom_it_is_for_is_theirs(bot) -> None:
    """`canjéale el café a ana`, as said in Mexico: the offer, then a word for "to" and
    the customer; an offer nobody has is named in the answer, and nothing changes."""
    bot.command("canjéale el cafe gratis a Ana García")
    assert "*Café Gratis* redeemed for *Ana García*: 25 → *15*" in text_of(bot.reply())
    assert bot.sandbox.calls_to("PUT", f"/customers/{ANA}")[-1].body == {"points": 15}
    bot.command("redeem the free coffee for ana")
    offered = bot.reply()
    assert text_of(offered).startswith(
        "No offer matches “free coffee”. Did you mean this one? Nothing has been changed yet."
    )
    assert len(_writes(bot)) == 1  # asked: nothing redeemed yet
    # The rewards Ana can redeem are offered instead (Pan dulce is a draft: not among them)
    assert [b["text"]["text"] for b in buttons(offered)] == ["Choose"]
    bot.click(button(offered, "Choose"))
    assert "*Café Gratis* redeemed for *Ana García*: 15 → *5*" in text_of(bot.reply())
    bot.click(button(offered, "Choose"))  # the one choice, acted on once
    assert bot.sandbox.calls_to("PUT", f"/customers/{ANA}")[-1].body == {"points": 5}
    assert len(_writes(bot)) == 2


def test_a_customers_whole_name_alone_opens_the_rewards_form(bot) -> None:
    """`redeem juan perez`: every word names the customer, so the rewards form opens for
    them (not "2 customers match juan", as if "perez" were the offer); nothing changes."""
    bot.command("redeem juan perez")
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_redeem_form", view
    assert "*Juan Pérez* has *5 points*" in text_of(view)
    assert _writes(bot) == []
    done = bot.answer(view_id, {"redeem_offer": "5001"})["view"]
    assert "5 more points are needed" in text_of(done)  # the form acts for Juan Pérez


def test_the_cards_redeem_button_opens_the_rewards_form(bot) -> None:
    bot.command("customer 1870")
    bot.click(button(bot.reply(), "Redeem"))
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_redeem_form"
    select = next(b for b in view["blocks"] if b.get("block_id") == "redeem_offer")
    labels = [o["text"]["text"] for o in select["element"]["options"]]
    assert labels == ["Café Gratis · 10 points (needs 5 more)"]  # Drafts are not listed
    short = bot.answer(view_id, {"redeem_offer": "5001"})["view"]
    assert text_of(short).count("5 more points are needed") == 1  # said once: beside it
    offer = next(b for b in short["blocks"] if b.get("block_id") == "redeem_offer")
    assert "5 more points are needed" in offer["hint"]["text"]
    assert "⚠️ Nothing was changed: see why below." in text_of(short)
    bot.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 12})
    done = bot.answer(view_id, {"redeem_offer": "5001"})["view"]
    assert "12 → *2*" in text_of(done)
    assert bot.store.entries(target_id=JUAN, outcome="ok")[0].action == "points.redeem"


def test_a_national_number_finds_the_customer_and_forms_send_e164(bot_with) -> None:
    bot = bot_with(loyalty_default_region="MX")
    bot.command("customer 999 411 6533")
    card = text_of(bot.reply())
    assert "Juan Pérez" in card and "+52 999 411 6533" in card  # shown internationally
    bot.command("points (999) 411-6533 10 visit")
    assert "5 → *15*" in text_of(bot.reply())
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    errors = bot.answer(view_id, {"first_name": "Rosa", "phone": "123"})["errors"]
    assert "not a phone number" in errors["phone"]
    assert bot.sandbox.calls_to("POST", "/customers") == []  # refused on the field
    bot.answer(view_id, {"first_name": "Rosa", "phone": "(999) 411-0000"})
    assert bot.sandbox.calls_to("POST", "/customers")[-1].body["phone"] == "+529994110000"


def test_duplicates_are_shown_on_the_field_before_any_call_and_a_manager_confirms(bot) -> None:
    bot.command("customer new")
    view_id, _ = bot.opened_view()
    typed = {"first_name": "Ana", "last_name": "Garcia", "email": "ana.garcia@example.com"}
    refused = bot.answer(view_id, typed)["view"]
    email = next(b for b in refused["blocks"] if b.get("block_id") == "email")
    assert "already belongs to Ana García (#6629146321223680)" in email["hint"]["text"]
    typed["email"] = "ana.g2@example.com"
    refused = bot.answer(view_id, typed)["view"]
    name = next(b for b in refused["blocks"] if b.get("block_id") == "first_name")
    assert "send the form again to save it anyway" in name["hint"]["text"]
    assert bot.sandbox.calls_to("POST", "/customers") == []  # nothing sent yet
    done = bot.answer(view_id, typed)["view"]  # the same name, sent again: confirmed
    assert "ana.g2@example.com" in text_of(done)
    assert len(bot.sandbox.calls_to("POST", "/customers")) == 1


def _home(bot, user: str) -> dict:
    bot.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"})
    bot.slack.wait_for("views.publish", lambda c: c.args["user_id"] == user)
    bot.settle()
    return bot.slack.home_tabs[user]


def _labels(view: dict) -> list[str]:
    return [
        e["text"]["text"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def test_the_home_tab_is_for_the_counter(bot_with) -> None:
    bot = bot_with(loyalty_clerk_max_points="20", loyalty_approvals_channel="CAPPROVALS")
    bot.command("offer publish pan", user=CLERK)
    bot.reply()
    manager = _home(bot, "UMANAGER")
    assert _labels(manager) == [
        "Find customer",
        "Change points",
        "Redeem",
        "New customer",
        "New offer",
        "Approve",  # the waiting request, with its buttons
        "Reject",
    ]
    assert "*Customers*\n6" in text_of(manager) and "Pan dulce 2x1" in text_of(manager)
    clerk = _home(bot, CLERK)
    assert _labels(clerk) == ["Find customer", "Add points", "Redeem", "New customer", "New offer"]
    assert "Customers*" not in text_of(clerk)  # figures are for managers
    assert "draft offers and ask for them to be published" in text_of(clerk)
    # Add points from the Home tab: type-ahead, choose, then the clerk's points form.
    bot.click_in_home(button(clerk, "Add points"), user=CLERK)
    view_id, chooser = bot.opened_view()
    assert chooser["blocks"][0]["element"]["type"] == "external_select"
    options = _options(bot, view_id, "jua", CLERK)
    assert [o["value"] for o in options] == ["1870", "1871"]  # Juan and Juana Pérez
    assert options[0]["text"]["text"].startswith("Juan Pérez · 5 points")
    bot.submit(view_id, {"customer": "1870"}, user=CLERK)
    _shows(bot, view_id, "loyalty_points_form")
    done = bot.answer(view_id, {"points_amount": "5"}, user=CLERK)["view"]
    assert "5 → *10*" in text_of(done)
    bot.click_in_home(button(clerk, "New customer"), user=CLERK)  # signing one up
    _, form = bot.opened_view()
    assert form["title"]["text"] == "New customer"
    bot.click_in_home(button(clerk, "New offer"), user=CLERK)  # a draft, to ask for
    _, form = bot.opened_view()
    assert form["title"]["text"] == "New offer"


def test_find_customer_shows_the_card_and_sends_it_with_its_buttons(bot) -> None:
    home = _home(bot, CLERK)
    assert _labels(home) == ["Find customer", "New customer", "New offer"]  # no points
    bot.click_in_home(button(home, "Find customer"), user=CLERK)
    view_id, _ = bot.opened_view()
    first = bot.options(view_id, "customer", "6533", user=CLERK).json()["options"]
    assert [o["value"] for o in first] == ["-"]  # the list is loading: nobody waits for it
    assert "Loading the customer list" in first[0]["text"]["text"]
    assert [o["value"] for o in _options(bot, view_id, "6533", CLERK)] == ["1870"]  # 4 digits
    errors = bot.submit(view_id, {}, user=CLERK).json()
    assert errors["response_action"] == "errors" and "customer" in errors["errors"]
    bot.submit(view_id, {"customer": "1870"}, user=CLERK)
    (dm,) = bot.wait("chat.postMessage")
    assert dm.args["channel"] == "DCLERK" and "Juan Pérez" in text_of(dm.args)
    assert "Edit" in [b["text"]["text"] for b in buttons(dm.args)]


def test_a_form_for_one_of_many_matches_asks_with_a_type_ahead(bot) -> None:
    load_generated(bot.sandbox.state, 2000)
    bot.command("points perez")  # no amount: the points form, for one of many Pérez
    view_id, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_choose_customer"
    assert "customers match “perez”" in text_of(view)
    options = _options(bot, view_id, "perez", "UMANAGER")
    assert len(options) == 20 and all("Pérez" in o["text"]["text"] for o in options)
    bot.submit(view_id, {"customer": options[3]["value"]})
    _shows(bot, view_id, "loyalty_points_form")
    done = bot.answer(view_id, {"points_amount": "7"})["view"]
    assert "(+7)" in text_of(done)
    assert bot.wait("chat.postEphemeral")[-1].args["channel"] == "CSHOP"  # where it began
