"""/loyalty end to end: signed requests into Bolt over HTTP, the Slack stand-in and the
Loyalty API sandbox on loopback. Only what needs the whole stack is here; the rules
themselves are tested in the core (tests/unit)."""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, given, settings

from bot.core.validation import Field
from bot.domain.amounts import Op
from bot.offline.sandbox.data import load_generated
from handlers.workpool import BURST_ANSWERING
from tests.demo import ANA, DEMO_PROGRAM_ID, JUAN, JUANA, LUIS
from tests.faults import Gate
from tests.harness import (
    CLERK,
    GROUP_MANAGER,
    MANAGER,
    button,
    buttons,
    text_of,
    wait_until,
)
from tests.unit.test_properties import TEXT


def _writes(bot) -> list:
    return [c for c in bot.sandbox.calls if c.method != "GET"]


def test_help_and_an_unknown_subcommand_are_answered_in_the_ack(bot) -> None:
    response = bot.command("pints 1870 10")
    asked = response.json()
    assert asked["response_type"] == "ephemeral"
    assert asked["text"] == (
        "I don't know `pints`. Did you mean `points`? `/loyalty help` lists the rest."
    )
    assert [b["text"]["text"] for b in buttons(asked)] == ["/loyalty points …"]
    assert bot.sandbox.calls == []  # asked: nothing done yet
    long = bot.command("pints 1870 10 " + 'é"<' * 400).json()  # too long for a button
    assert "Did you mean `points`?" in long["text"] and buttons(long) == []
    shown = text_of(bot.command("frobnicate").json())
    assert shown == "I don't know `frobnicate`. `/loyalty help` lists what I can do."
    alerts = text_of(bot.command("alerts").json())  # no command: where they come instead
    assert alerts.startswith("Alerts about unusual points need no command: I send them to")
    assert "*Undo* button" in alerts and "`/loyalty help` lists the commands." in alerts
    bot.command("help")
    short = text_of(bot.reply())
    assert "`/loyalty points` · add, deduct or set" in short and "birthday" not in short
    bot.command("help points")
    assert "/loyalty points juan.perez@example.com 10 birthday" in text_of(bot.reply())
    assert bot.sandbox.calls == []


def test_a_line_that_starts_with_the_customer_is_offered_its_subcommand(bot) -> None:
    """`/loyalty 1870 10` left out `points`: asked, with a button that runs it with what
    was typed (once, as the person). Other words are not guessed at, and what was typed
    is never echoed (a mention, say)."""
    asked = bot.command("1870 10 gift").json()
    assert text_of(asked).startswith("Did you mean `/loyalty points` with what you typed")
    assert [b["text"]["text"] for b in buttons(asked)] == ["/loyalty points …"]
    assert bot.sandbox.calls == []  # asked: nothing done yet
    bot.click(buttons(asked)[0])
    assert "5 → *15*" in text_of(bot.reply())
    for other in ("10", "frobnicate", "juan 3rd"):
        assert buttons(bot.command(other).json()) == [], other
    assert [c.body for c in _writes(bot)] == [{"points": 10}]  # the one click that changes


def test_a_name_that_is_a_slip_of_a_subcommand_stays_the_customer(bot) -> None:
    """`ana` is 0.75 like `añade` (points): `ana garcia 5` offered `points` with the rest,
    a button for 5 points to "garcia", her first name dropped. A first word the list
    names someone by is the customer: the points left out are offered with every word."""
    bot.command("customers")  # the list loaded, as a serving process loads it at start
    bot.reply()
    asked = bot.command("ana garcia 5 puntos").json()
    assert text_of(asked).startswith("Did you mean `/loyalty points` with what you typed")
    bot.click(buttons(asked)[0])
    assert "Ana García" in text_of(bot.reply()) and bot.customer_points(ANA) == 30
    bot.command("ana")  # alone: her card, as any name alone
    assert "ana.garcia@example.com" in text_of(bot.reply())
    bot.command("anade 1870 5")  # a slip nobody is called by: still the subcommand
    assert "5 → *10*" in text_of(bot.reply())


def test_a_customer_alone_gets_their_card_at_once(bot) -> None:
    """An email, phone number, @mention or id of four digits or more with nothing after
    it, or words the list as loaded names someone by (`juan perez`; one word when it is
    a little like a subcommand, `juana` ~ `añade`), is the card: shown, not asked about.
    Words the list names nobody by are asked about, with a button for the card that
    reads Smart Passes (someone who signed up since the list was loaded is found)."""
    for alone, email in (
        ("juan.perez@example.com", "juan.perez@example.com"),
        ("+52 999 411 6533", "juan.perez@example.com"),
        ("<@UJUAN>", "juan.perez@example.com"),
        ("1870", "juan.perez@example.com"),
        ("Juan Pérez", "juan.perez@example.com"),
        ("juana", "juana@example.com"),
    ):
        acked = bot.command(alone)
        assert acked.status_code == 200 and not acked.content, alone  # no question asked
        card = bot.reply()
        assert email in text_of(card) and "Change points" in str(card), alone
    bot.sandbox.state.add_customer(
        DEMO_PROGRAM_ID, {"firstName": "Rosa", "lastName": "Díaz", "email": "rosa@example.com"}
    )
    asked = bot.command("rosa diaz").json()  # signed up since: not in the list as loaded
    assert text_of(asked).startswith("I don't know `rosa`. If “rosa diaz” is a customer")
    assert [b["text"]["text"] for b in buttons(asked)] == ["/loyalty customer …"]
    bot.click(buttons(asked)[0])
    assert "rosa@example.com" in text_of(bot.reply())
    assert _writes(bot) == []  # cards only


def test_an_action_typed_first_runs_as_its_subcommand_and_a_clerk_is_refused_first(bot) -> None:
    """`borrar juan` left out `customer`: its button asks which Juan, then to confirm. A
    clerk who may not delete is told so before any choice of whom (nothing looked up)."""
    asked = bot.command("borrar juan").json()
    assert text_of(asked).startswith("Did you mean `customer delete`?")  # `borrar` understood
    bot.click(buttons(asked)[0])
    chosen = next(b for b in buttons(bot.reply()) if f'"target_id":{JUAN}' in b["value"])
    bot.click(chosen)
    assert "Delete customer" in text_of(bot.reply())  # asked to confirm: nothing done
    before = len(bot.sandbox.calls)
    for line in ("customer delete juan", "offer delete pan", "offer cancel café"):
        bot.command(line, user=CLERK)
        assert "Only loyalty *managers* can" in text_of(bot.reply()), line
    assert len(bot.sandbox.calls) == before and _writes(bot) == []


def test_history_with_a_number_of_days_points_to_the_export(bot) -> None:
    """`history 1870 30`: not "no customer matches “1870 30”" (Juan exists), but where a
    number of days is taken; said at once, nothing looked up."""
    told = text_of(bot.command("history 1870 30").json())
    assert told == (
        "`/loyalty history` shows a customer's latest changes and takes no number of days. "
        "The last 30 days in a file: `/loyalty export history 1870 30`."
    )
    assert bot.sandbox.calls == []
    bot.command("history juan perez")  # words are a name: looked up as before
    assert "Juan Pérez" in text_of(bot.reply())
    bot.command("history <@UJUAN> 30")  # the export command would show the raw mention
    assert text_of(bot.reply()).startswith("⚠️ One customer at a time")


def test_an_exact_reference_with_words_after_it_is_asked_about_at_once(bot) -> None:
    """`customer 1870 30` said "no customer matches “1870 30”" while Juan exists: asked
    which was meant, in the ack, with nothing looked up; a name of two words is still a
    name."""
    told = text_of(bot.command("customer 1870 30").json())
    assert told == (
        "Did you mean `/loyalty customer 1870`? An id, email or phone number names a "
        "customer by itself, so “30” after it is not part of one."
    )
    told = text_of(bot.command("customer delete juan.perez@example.com <b>x</b>").json())
    assert told.startswith("Did you mean `/loyalty customer delete juan.perez@example.com`?")
    assert "“&lt;b&gt;x&lt;/b&gt;”" in told  # what followed it, escaped
    assert bot.sandbox.calls == []
    bot.command("customer juan perez")
    assert "juan.perez@example.com" in text_of(bot.reply())


def test_a_whole_phone_number_with_words_after_it_is_asked_about(bot_with) -> None:
    """`customer 55 5000 1111 10` reads as one phone number of too many digits, so it went
    past the list and said nobody matched: the number Juana has is asked about instead."""
    bot = bot_with(loyalty_default_region="MX")
    for typed, meant in [
        ("55 5000 1111 10", "55 5000 1111"),
        ("+52 999 411 6533 10", "+52 999 411 6533"),
    ]:
        told = text_of(bot.command(f"customer {typed}").json())
        assert told.startswith(f"Did you mean `/loyalty customer {meant}`?"), told
    assert bot.sandbox.calls == []
    bot.command("customer 55 5000 1111")  # the number alone is hers
    assert "Juana Pérez" in text_of(bot.reply())


def test_spanish_said_to_someone_and_words_before_a_customer_are_understood(bot) -> None:
    """Spanish speakers type the verb as said to someone (`suma`, `quita`, `canjea`,
    `busca`), and a word before the customer as one says it (`puntos a luis 10`, `points
    to ana 5`, `puntos de juan`): each does what it says the first time."""
    for first, last in [("Marta", "Del Río"), ("Pedro", "Ríos")]:
        bot.sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": first, "lastName": last})
    for typed, customer, points in [
        ("suma 1870 5", JUAN, 10),
        ("quita 1870 2", JUAN, 8),
        ("fija 1870 20", JUAN, 20),
        ("canjea 1870 café gratis", JUAN, 10),
        ("puntos a luis 10", LUIS, 50),
        ("venta a luis 100", LUIS, 60),
        ("points to ana 5", ANA, 30),
        ("set ana's points to 40", ANA, 40),  # a possessive: the customer, and what of hers
        ("add 2 points to luis's card", LUIS, 62),
    ]:
        bot.command(typed)
        assert text_of(bot.reply()).startswith(("✅", "🎁")), typed
        assert bot.customer_points(customer) == points, typed
    bot.command("busca juana")
    assert "Juana Pérez" in text_of(bot.reply())
    bot.command("puntos de juan")  # which Juan, then the form
    _, form = bot.opened_view()
    assert [json.loads(b["value"])["target_id"] for b in buttons(form)] == [JUAN, JUANA]
    bot.sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": "Liam", "lastName": "O'Brien"})
    bot.command("customer o'brien")  # an apostrophe in a surname: found whole
    assert text_of(bot.reply()).startswith("Liam O'Brien\n")
    bot.command("cliente del rio")  # a surname that starts with Del: found whole
    assert text_of(bot.reply()).startswith("Marta Del Río\n")
    told = text_of(bot.command("borra juana").json())
    assert told.startswith("Did you mean `customer delete`?"), told


def test_two_mentions_are_told_one_customer_at_a_time(bot) -> None:
    """`points @juan @marta 5`: not "no customer matches “<@UJUAN> <@UMANAGER>”"."""
    bot.command("points <@UJUAN> <@UMANAGER> 5")
    told = text_of(bot.reply())
    assert told.startswith("⚠️ One customer at a time: an @mention alone") and "<@" not in told
    assert _writes(bot) == []


def test_a_misspelled_name_is_offered_as_the_list_spells_it(bot) -> None:
    """`points jaun 5`: nobody is called that; the Juans are offered, and choosing one
    carries the command on (nothing changes before)."""
    bot.command("points jaun 5 visit")
    offered = bot.reply()
    assert text_of(offered).startswith(
        "No customer matches “jaun”. Did you mean one of these? Nothing has been changed yet."
    )
    assert "Juan Pérez" in text_of(offered) and "Juana Pérez" in text_of(offered)
    assert bot.customer_points(JUAN) == 5
    bot.click(buttons(offered)[0])
    assert "5 → *10*" in text_of(bot.reply())


def test_the_words_people_type_for_a_subcommand_run_it(bot) -> None:
    """`add`/`sumar` are points, `find`/`buscar` a search, `balance`/`saldo` the card; a
    word only like a subcommand (`puntaje`, near `puntos`) gets no button that runs it."""
    bot.command("add 1870 10")
    assert "5 → *15*" in text_of(bot.reply())
    bot.command("sumar 1870 1")
    assert "15 → *16*" in text_of(bot.reply())
    bot.command("buscar pérez")
    assert "Juana Pérez" in text_of(bot.reply())
    bot.command("saldo 1870")
    card = text_of(bot.reply())
    assert "Juan Pérez" in card and "16" in card, card
    for asked_so in (
        "¿cuántos puntos tiene Juan Pérez?",
        "how many points does 1870 have",
        "ver 1870",
        "¿quién es +52 999 411 6533?",
        "who is 1870",
        "dame los puntos de juan perez",
        "check 1870",
        "checa a juan perez",
        "revisar puntos de juan perez",
        "what's juan perez's balance?",
        "what are juan perez's points",
    ):
        bot.command(asked_so)  # a balance asked as a question, or `ver`: the card
        assert "*Points*\n16" in text_of(bot.reply()), asked_so
    bot.command("look up 1870")  # English's two words for a lookup
    assert "*Points*\n16" in text_of(bot.reply())
    for asked_help in ("what can you do?", "¿qué puedes hacer?", "commands"):
        bot.command(asked_help)
        assert "`/loyalty points` · add, deduct or set" in text_of(bot.reply()), asked_help
    for listed_so, shown in (
        ("ver ofertas", "*2 offers*"),  # a word for showing, then what: that list
        ("show all customers", "*Customers*: 6 in all"),
        ("lista de clientes", "*Customers*: 6 in all"),  # not a search for "de clientes"
        ("how many customers do we have?", "*Customers*: 6 in all"),
        ("muestra el resumen", "Loyalty summary"),
        ("stats", "Loyalty summary"),  # the words people type for it
        ("reporte", "Loyalty summary"),
        ("dame el resumen", "Loyalty summary"),  # given, not points for "el resumen"
        ("give me the summary", "Loyalty summary"),
        ("dame la lista de clientes", "*Customers*: 6 in all"),
        ("show me the offers", "*2 offers*"),
        ("enséñame las ofertas", "*2 offers*"),
    ):
        bot.command(listed_so)
        assert text_of(bot.reply()).startswith(shown), listed_so
    asked = bot.command("puntaje 1870 100").json()  # `puntos`? only alike (0.62)
    assert "Did you mean `points`?" in asked["text"] and buttons(asked) == []
    assert bot.customer_points(JUAN) == 16
    for promo in ("promo", "promoción"):  # one promotion's word: the promotions
        bot.command(promo)
        assert text_of(bot.reply()).startswith("*Promotions* (0)"), promo


def test_a_question_is_not_a_slip_and_please_is_heard(bot) -> None:
    """`cuándo …` is not a slip of `undo` (a button that would undo), nor `how …` of
    `show`: a question the bot cannot answer says so. `por favor` or `please` before a
    request is passed over."""
    for question in ("cuándo fue la última venta", "how many points did we give today"):
        asked = bot.command(question).json()
        assert asked["text"].startswith("I can't answer that question."), question
        assert buttons(asked) == [], question
    bot.command("por favor suma 5 a 1870")
    assert "5 → *10*" in text_of(bot.reply())
    bot.command("please, add 5 to 1870")
    assert "10 → *15*" in text_of(bot.reply())
    bot.command("porfa")  # nothing after it: the short help
    assert "`/loyalty points` · add, deduct or set" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 15


def test_a_number_in_words_is_asked_in_digits_and_an_article_first_is_passed_over(bot):
    """`add ten to 1870` looked up a customer called "ten to 1870"; the amount's reader
    now says to write it in digits. `una venta de 100 a 1870` (a sale, with its article)
    was offered as points; `el resumen` was not known."""
    for said in ("add ten to 1870", "suma diez a 1870"):
        asked = bot.command(said).json()
        assert "is not a number of points. Use a whole number" in asked["text"], said
    assert bot.customer_points(JUAN) == 5
    bot.command("una venta de 100 a 1870")
    assert "5 → *15*" in text_of(bot.reply())
    bot.command("el resumen")
    assert text_of(bot.reply()).startswith("Loyalty summary")


def test_points_for_everyone_are_refused_at_once_and_greetings_keep_their_marks(bot) -> None:
    """`give 5 points to everyone`: no customer is called so, and no change is for all:
    said in the ack, nothing looked up. `thanks!` and `¡hola!` are what they say."""
    for typed in ("give 5 points to everyone", "points all 5", "suma 10 a todos los clientes"):
        told = text_of(bot.command(typed).json())
        assert told.startswith("I change one customer's points at a time"), typed
    assert bot.sandbox.calls == []
    assert text_of(bot.command("thanks!").json()) == "You're welcome! 🙂"
    assert text_of(bot.command("¡hola!").json()).startswith("👋 Hello!")


def test_more_words_for_adding_points_add_them(bot) -> None:
    """`regálale 10 a juan`, `abona 1 a 1870`, `award 1870 1`: points added, as `suma` adds."""
    for typed, shown in [
        ("regálale 10 puntos a juan perez", "5 → *15*"),
        ("abona 1 a 1870", "15 → *16*"),
        ("acredita 1 punto a 1870", "16 → *17*"),
        ("award 1870 1", "17 → *18*"),
        ("credit 1870 1", "18 → *19*"),
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    assert bot.customer_points(JUAN) == 19 and len(_writes(bot)) == 5


def test_a_verb_typed_first_says_what_to_do_with_the_points(bot_with) -> None:
    """`quitar 1870 2` deducts, `fijar 1870 30` sets, `dar 1870 1` adds; `quitar juan`
    (no amount) opens the points form on deducting; a clerk's `quitar` is refused before
    anything is sent."""
    bot = bot_with(loyalty_clerk_max_points=20)
    bot.command("quitar 1870 2 taza rota")
    assert "5 → *3*" in text_of(bot.reply())
    assert bot.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {"points": 3}
    bot.command("fijar 1870 30")
    assert "3 → *30*" in text_of(bot.reply())
    bot.command("dar 1870 1")
    assert "30 → *31*" in text_of(bot.reply())
    recorded = {(e.action, e.reason) for e in bot.store.entries(target_id=JUAN)}
    assert recorded == {("points.deduct", "taza rota"), ("points.set", ""), ("points.add", "")}
    bot.command("quitar 1870")
    _, form = bot.opened_view()
    (op,) = [b for b in form["blocks"] if b.get("block_id") == Field.POINTS_OP]
    assert op["element"]["initial_option"]["value"] == Op.DEDUCT
    assert form["title"]["text"] == "Change points"
    bot.command("points 1870", user=CLERK)  # a clerk's form only adds: its title says so
    _, form = bot.opened_view()
    assert [b for b in form["blocks"] if b.get("block_id") == Field.POINTS_OP] == []
    assert form["title"]["text"] == "Add points"
    for typed, shown in [
        ("quita 1 a 1870", "31 → *30*"),  # the amount said first still deducts
        ("quítale 1 a 1870", "30 → *29*"),  # a pronoun joined, as Mexican Spanish says it
        ("súmale 1 a 1870", "29 → *30*"),
        ("take 1 point from 1870", "30 → *29*"),
        ("set Juan Pérez to 30", "29 → *30*"),
        ("add 2 points to Juan Pérez", "30 → *32*"),
        ("súmale 1 a Juan Pérez por su compra", "32 → *33*"),  # then why
    ]:
        bot.command(typed)
        assert shown in text_of(bot.reply()), typed
    assert bot.store.entries(target_id=JUAN)[0].reason == "por su compra"
    before = len(bot.sandbox.calls)
    bot.command("quitar 1870 5", user=CLERK)
    assert "Only loyalty *managers* can deduct points or set a balance" in text_of(bot.reply())
    assert len(bot.sandbox.calls) == before and bot.customer_points(JUAN) == 33


def test_the_nearest_subcommand_runs_from_its_button_once(bot) -> None:
    """`historia juan perez`, `pints 1870 10`: the button runs what was meant with the
    rest of what was typed, as the person who typed it, and a second click does nothing."""
    asked = bot.command('historia "Juan Pérez"').json()
    assert "Did you mean `history`?" in asked["text"]
    bot.click(buttons(asked)[0])
    assert "No changes to *Juan Pérez* have been made through the bot yet." in text_of(bot.reply())
    asked = bot.command("pints 1870 10 visit").json()
    (meant,) = buttons(asked)
    bot.click(meant)
    assert "5 → *15*" in text_of(bot.reply())
    bot.click(meant)  # clicked again: once
    bot.settle()
    assert bot.customer_points(JUAN) == 15
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.reason, entry.user_id) == ("visit", MANAGER)


def test_a_points_change_is_replied_recorded_and_announced(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    link = "<mailto:juan.perez@example.com|juan.perez@example.com>"  # as Slack sends an email
    assert bot.command(f"points {link} +10 birthday").status_code == 200
    reply = bot.reply()
    assert reply["response_type"] == "ephemeral"
    assert "Juan Pérez" in text_of(reply) and "5 → *15*" in text_of(reply)
    assert bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (entry.user_id, entry.action, entry.outcome, entry.reason) == (
        MANAGER,
        "points.add",
        "ok",
        "birthday",
    )
    (post,) = bot.wait("chat.postMessage")
    assert post.args["channel"] == "CAUDIT"
    assert "<@UMANAGER> added points for *Juan Pérez* (`1870`): 5 → 15 (+10)" in text_of(post.args)
    bot.command("points 1870 -100")
    assert "below zero" in text_of(bot.reply())
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # refused: not announced
    bot.command("points 1870 1 000 big order")  # thousands as people write them
    assert "15 → *1,015*" in text_of(bot.reply())
    bot.command("points 1870 5 points")  # the unit typed after the amount is no reason
    assert "1,015 → *1,020*" in text_of(bot.reply())
    assert bot.store.entries(target_id=JUAN)[0].reason == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("points 1870 ten", "“ten” is not a number"),
        ("points 1870 " + "9" * 5000, "more points than the largest single change allowed"),
        ("points perez 10 " + "r" * 3000, "Keep the reason to 300 characters (this one has 3,000)"),
        ("points", "Usage"),
    ],
    ids=["not a number", "5,000 digits", "long reason", "no customer"],
)
def test_bad_input_is_explained_in_the_ack_and_nothing_is_done(bot, text, expected) -> None:
    response = bot.command(text)
    assert response.status_code == 200 and response.json()["response_type"] == "ephemeral"
    assert expected in response.json()["text"]
    bot.settle()
    assert bot.sandbox.calls == [] and bot.slack.calls_to("response_url") == []
    assert bot.store.entries() == []


def test_several_matches_offer_a_choice_that_carries_on(bot) -> None:
    bot.command("points perez 10 double stamp")
    picker = bot.reply()
    assert "2 customers match" in text_of(picker) and "Nothing has been changed" in text_of(picker)
    assert _writes(bot) == []
    juana = next(b for b in buttons(picker) if f'"target_id":{JUANA}' in b["value"])
    bot.click(juana, user=CLERK)  # a clerk's click is refused: roles are checked again
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert bot.click(juana).status_code == 200
    result = bot.reply()
    assert result["replace_original"] is True
    assert "Juana Pérez" in text_of(result) and "12 → *22*" in text_of(result)
    assert bot.store.entries(target_id=JUANA, outcome="ok")[0].reason == "double stamp"


def test_managers_are_the_list_and_the_slack_group(bot) -> None:
    bot.command("points 1870 10", user=CLERK)
    assert "Only loyalty *managers* can add points" in text_of(bot.reply())
    assert _writes(bot) == []
    assert bot.store.entries(user_id=CLERK)[0].outcome == "refused"
    bot.command("points 1870 1", user=GROUP_MANAGER)
    assert "5 → *6*" in text_of(bot.reply())
    bot.command("points 1870 1", user=GROUP_MANAGER)
    assert "6 → *7*" in text_of(bot.reply())
    assert len(bot.slack.calls_to("usergroups.users.list")) == 1  # cached


def test_a_mention_is_found_by_the_profile_email(bot) -> None:
    bot.command("points <@UJUAN> 2")
    assert "5 → *7*" in text_of(bot.reply())
    assert bot.slack.calls_to("users.info")[-1].args["user"] == "UJUAN"
    bot.command("customer <@UNOMAIL>")
    assert "no email in their Slack profile" in text_of(bot.reply())


def test_card_buttons_are_the_commands_they_stand_for(bot) -> None:
    bot.command("customer 1870", user=CLERK)
    clerk_card = bot.reply()
    assert [b["text"]["text"] for b in buttons(clerk_card)] == ["Edit", "History"]
    bot.command("points 1870 4 thanks")
    bot.reply()
    bot.click(button(clerk_card, "History"), user=CLERK)
    history = text_of(bot.reply())
    assert "<@UMANAGER> added points 5 → 9 (+4)" in history and "thanks" in history
    bot.command("customer 1870")
    card = bot.reply()
    bot.click(button(card, "Change points"), user=CLERK)  # checked again on click
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert bot.slack.calls_to("views.open") == []
    bot.click(button(card, "Change points"))
    _, view = bot.opened_view()
    assert view["callback_id"] == "loyalty_points_form" and "has *9 points*" in text_of(view)
    bot.click(button(card, "Delete"))
    assert "permanently deletes the customer *Juan Pérez*" in text_of(bot.reply())
    assert bot.sandbox.calls_to("DELETE", "/customers/") == []


def test_lists_and_pickers_page_through_5000_customers(bot) -> None:
    load_generated(bot.sandbox.state, 5000)  # before the bot's first lookup
    bot.command("customers")
    first = bot.reply()
    assert "5,006 in all, showing 1–20" in text_of(first)
    assert [b["text"]["text"] for b in buttons(first)][-2:] == ["More", "Last"]
    bot.click(button(first, "Last"))
    last = bot.reply()
    assert last["replace_original"] is True and "showing 5,001–5,006" in text_of(last)
    assert "Page 251 of 251" in text_of(last)
    bot.click(button(last, "Previous"))
    assert "showing 4,981–5,000" in text_of(bot.reply())
    bot.command("customers top")
    top = text_of(bot.reply())
    points = [int(p.split(" points")[0].replace(",", "")) for p in top.split("· ")[1::2]]
    assert "Customers by points" in top and points == sorted(points, reverse=True), top[:400]
    # the first few: only those; more than a page: a page at a time, as `customers top`
    for typed, shown_first, paged in (
        ("customers top 3", 3, False),
        ("clientes mejores 25", 20, True),
        ("top 3", 3, False),  # said without the list's name
        ("top customers 3", 3, False),
        ("mejores clientes", 20, True),
    ):
        bot.command(typed)
        reply = bot.reply()
        listed = text_of(reply).split("· ")[1::2]
        assert [int(p.split(" points")[0].replace(",", "")) for p in listed] == points[:shown_first]
        assert ("More" in [b["text"]["text"] for b in buttons(reply)]) is paged, typed
    bot.command("points perez 1 visit")
    picker = bot.reply()
    total = int(text_of(picker).split(" customers match")[0].replace(",", ""))
    assert total > 20 and f"{total:,} customers match “perez”, showing 1–10" in text_of(picker)
    bot.click(button(picker, "More"))
    second = bot.reply()
    assert "showing 11–20" in text_of(second) and _writes(bot) == []
    chosen = next(b for b in buttons(second) if b["text"]["text"] == "Choose")
    bot.click(chosen)
    assert "→" in text_of(bot.reply())
    bot.click(next(b for b in buttons(picker) if b["text"]["text"] == "Choose"))  # page 1
    assert "already" in text_of(bot.reply())  # one picker, one choice, on every page
    assert len(_writes(bot)) == 1


def test_the_ack_does_not_wait_for_smart_passes(bot) -> None:
    gate = Gate(bot.sandbox, "GET", "/customers")  # Smart Passes holds the answer
    response = bot.command("customer 1870")
    assert response.status_code == 200 and gate.entered.wait(10)
    assert bot.slack.calls_to("response_url") == []  # acked while Smart Passes still works
    gate.release()
    assert "Juan Pérez" in text_of(bot.reply())


def test_an_unexpected_error_gives_a_reference_that_is_in_the_log(bot, caplog, mocker) -> None:
    caplog.set_level(logging.ERROR, logger="loyalty.errors")
    mocker.patch("bot.slack.blocks.customer_card", side_effect=RuntimeError("secret internals"))
    bot.command("customer 1870")
    shown = text_of(bot.reply())
    assert "secret internals" not in shown and "Traceback" not in shown
    assert "something went wrong on my side (reference `" in shown
    assert shown.split("reference `")[1][:6] in caplog.text


def test_a_local_failure_is_not_blamed_on_slack(bot, mocker) -> None:
    """A full disk is an OSError, as a Slack call that never connects is: only the second
    is told as Slack not answering."""
    no_space = OSError(28, "No space left on device")
    mocker.patch("handlers.exports.tempfile.TemporaryFile", side_effect=no_space)
    bot.command("points 1870 1")
    bot.reply()
    bot.command("export history")
    shown = text_of(bot.reply())
    assert "something went wrong on my side (reference `" in shown, shown
    assert "Slack" not in shown and bot.slack.shared_files() == []


def test_slack_rate_limits_are_waited_out(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT")
    bot.slack.rate_limited["chat.postMessage"] = 1
    bot.command("points 1870 1")
    bot.reply()
    (post,) = bot.wait("chat.postMessage")
    assert post.args["channel"] == "CAUDIT"
    assert len(bot.slack.calls_to("chat.postMessage (429)")) == 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXT)
def test_any_command_text_is_answered_and_changes_nothing(bot, text: str) -> None:
    """Through the whole bot, as a clerk: always an answer, never a change at Smart Passes."""
    answered = len(bot.slack.calls_to("response_url"))
    response = bot.command(text, user=CLERK)
    assert response.status_code == 200
    if not response.content:  # not answered in the ack: a reply follows
        bot.replies(answered + 1)
    else:
        assert text_of(response.json())
    assert _writes(bot) == []


def test_a_burst_is_acked_before_the_work_after_it_starts(bot) -> None:
    """Acks first: while a burst of requests is being answered, a command is acked at
    once and its work waits; when the burst is over, the work is done."""
    assert bot.work is not None
    with ExitStack() as burst:
        for _ in range(BURST_ANSWERING):  # other requests of the burst, still being answered
            burst.enter_context(bot.work.answering.request())
        acked = bot.command(f"points {JUAN} 1 burst")
        assert acked.status_code == 200 and acked.text == ""
        wait_until(lambda: bot.work.answering.waiting == 1, what="its work waiting")
        assert bot.sandbox.calls == [] and bot.slack.calls_to("response_url") == []
    assert "5 → *6*" in text_of(bot.reply())


def test_a_command_is_read_once_and_its_role_checked_once_by_the_service(bot, monkeypatch) -> None:
    from bot.core.roles import Roles
    from bot.domain.policy import Act
    from handlers import subcommand_reads

    reads: list[tuple] = []
    asked: list[Act] = []
    split, require = subcommand_reads.split_reference, Roles.require
    monkeypatch.setattr(
        subcommand_reads, "split_reference", lambda *a: reads.append(a) or split(*a)
    )
    monkeypatch.setattr(
        Roles,
        "require",
        lambda self, user, act, **kw: asked.append(act) or require(self, user, act, **kw),
    )
    bot.command("points 1870 10 visit")
    assert "5 → *15*" in text_of(bot.reply())
    assert len(reads) == 1 and asked == [Act.ADD_POINTS]
    bot.command("points 1870 -2", user=CLERK)
    assert "Only loyalty *managers*" in text_of(bot.reply())
    assert len(reads) == 2 and asked == [Act.ADD_POINTS, Act.CHANGE_POINTS]
    (refusal,) = bot.store.entries(actions=["refused"])  # recorded once
    assert refusal.user_id == CLERK and "deduct points" in (refusal.detail or "")
