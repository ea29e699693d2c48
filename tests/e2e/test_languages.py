"""Each person reads the bot in their own language: a Spanish-locale and an English-locale
user send the same commands (in their own words); channel posts follow LOYALTY_LANGUAGE."""

from __future__ import annotations

import logging
import threading

from tests.demo import JUAN
from tests.harness import CAJERA, CLERK, GERENTE, MANAGER, text_of


def test_the_same_commands_in_each_persons_words_and_language(bot_with) -> None:
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}", loyalty_audit_channel="CAUDIT")
    bot.command("ayuda", user=GERENTE)
    ayuda = text_of(bot.reply())
    assert "Bot de lealtad: lo que puedes pedir" in ayuda and "`/loyalty puntos` · " in ayuda
    bot.command("help", user=MANAGER)
    assert "`/loyalty points` · add, deduct or set" in text_of(bot.reply())
    bot.command("puntos 1870 10 cumpleaños", user=GERENTE)
    assert "*Juan Pérez*: 5 → *15* puntos (+10)" in text_of(bot.reply())
    bot.command("points 1870 5 birthday", user=MANAGER)
    assert "*Juan Pérez*: 15 → *20* points (+5)" in text_of(bot.reply())
    # Channel posts are in the workspace's language (English by default), whoever acted.
    posts = [text_of(c.args) for c in bot.wait("chat.postMessage", 2)]
    assert all("added points for *Juan Pérez*" in p for p in posts)
    # Refusals and typos, each in the person's language.
    bot.command("puntos 1870 -5", user=CAJERA)  # the act refused is the one asked for
    assert "Solo los *gerentes* de lealtad pueden restar puntos o fijar un saldo" in text_of(
        bot.reply()
    )
    bot.command("points 1870 =5", user=CLERK)
    assert "Only loyalty *managers* can deduct points or set a balance" in text_of(bot.reply())
    bot.command("points 1870 5", user=CLERK)
    assert "Only loyalty *managers* can add points" in text_of(bot.reply())
    usage = bot.command("puntos", user=CAJERA).json()["text"]  # the table's words, hers
    assert usage == (
        "Uso: `/loyalty puntos &lt;cliente&gt; &lt;cantidad&gt; [motivo]`, por ejemplo "
        "`/loyalty puntos juan.perez@example.com 10 cumpleaños`."
    )
    which = bot.command("cliente", user=CAJERA).json()["text"]  # every word hers
    assert which.endswith("o `/loyalty cliente nuevo`."), which
    bot.command("cliente nadie", user=CAJERA)  # a hint names the command in her words
    assert "Prueba `/loyalty clientes nadie` para buscar." in text_of(bot.reply())
    alerts = bot.command("alertas", user=CAJERA).json()["text"]  # not "¿ofertas?"
    assert alerts.startswith("Las alertas de puntos inusuales no necesitan comando")
    assert "botón *Deshacer*" in alerts and "`/loyalty ayuda` muestra los comandos" in alerts
    typo = bot.command("puntoss", user=CAJERA).json()["text"]
    assert (
        typo == "No conozco `puntoss`. ¿Quisiste decir `puntos`? `/loyalty ayuda` muestra el resto."
    )
    assert bot.customer_points(JUAN) == 20


def test_forms_speak_the_persons_language(bot) -> None:
    bot.command("cliente nuevo", user=CAJERA)
    view_id, view = bot.opened_view()
    assert view["title"]["text"] == "Nuevo cliente" and view["submit"]["text"] == "Crear"
    labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
    assert labels == ["Nombre", "Apellido", "Correo", "Teléfono"]
    errors = bot.answer(view_id, {"first_name": " ", "email": "rosa@"}, user=CAJERA)["errors"]
    assert errors["first_name"] == "Escribe un nombre."
    taken = bot.answer(
        view_id, {"first_name": "Rosa", "email": "juan.perez@example.com"}, user=CAJERA
    )["view"]
    email = next(b for b in taken["blocks"] if b.get("block_id") == "email")
    assert email["hint"]["text"].startswith("⚠️ Este correo ya pertenece a Juan Pérez")
    bot.command("customer new", user=CLERK)
    _, english = bot.opened_view()
    assert english["title"]["text"] == "New customer"


def test_channel_posts_follow_the_workspace_language(bot_with) -> None:
    bot = bot_with(loyalty_audit_channel="CAUDIT", loyalty_language="es")
    bot.command("points 1870 10", user=MANAGER)  # an English speaker acts
    assert "5 → *15* points" in text_of(bot.reply())  # they read English
    (post,) = bot.wait("chat.postMessage")
    assert "sumó puntos para *Juan Pérez*" in text_of(post.args)  # the channel reads Spanish


# -- the ack never waits on Slack -------------------------------------------------------


def test_a_first_request_is_acked_while_users_info_is_still_unanswered(bot_with) -> None:
    """Rocío's language is not known yet: the ack goes back at once, in the workspace's
    language if it says anything, while Slack's users.info has not answered; once it does,
    the answer is in Spanish. The same for a mention's email."""
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    held = bot.slack.holds["users.info"] = threading.Event()
    try:
        response = bot.command("puntos 1870 10 cumpleaños", user=GERENTE)
        assert response.status_code == 200
        assert bot.slack.calls_to("users.info") == []  # acked before Slack answered
        mention = bot.command("puntos <@UJUAN|juan> 5", user=GERENTE)
        assert mention.status_code == 200 and bot.slack.calls_to("users.info") == []
    finally:
        held.set()
    replies = [text_of(r) for r in bot.replies(2)]
    bot.settle()
    # Both were held behind users.info, so either may go first; each in Spanish.
    assert all("✅ *Juan Pérez*:" in r and "puntos" in r for r in replies), replies
    assert sorted(r.split("puntos (")[1].split(")")[0] for r in replies) == ["+10", "+5"]
    assert bot.customer_points(JUAN) == 20


def test_users_info_that_never_answers_is_caught_and_the_answer_still_comes(
    bot_with, caplog
) -> None:
    """Slack does not answer users.info within the bot's wait (2 s): the answer comes in
    the workspace's language, with one log line and no traceback."""
    caplog.set_level(logging.INFO)
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    held = bot.slack.holds["users.info"] = threading.Event()
    try:
        bot.command("puntos 1870 10", user=GERENTE)
        reply = text_of(bot.reply(timeout=30))
    finally:
        held.set()
    assert "*Juan Pérez*: 5 → *15* points (+10)" in reply
    assert "no locale for UGERENTE: no answer in time" in caplog.text
    assert "Traceback" not in caplog.text


def test_a_mention_slack_cannot_read_in_time_is_explained(bot) -> None:
    bot.command("points 1870 1", user=MANAGER)  # the manager's language is known now
    bot.reply()
    held = bot.slack.holds["users.info"] = threading.Event()
    try:
        bot.command("points <@UJUAN|juan> 10", user=MANAGER)
        reply = text_of(bot.reply(timeout=30))
    finally:
        held.set()
    assert "I could not read <@UJUAN>'s Slack profile (Slack did not answer in time)" in reply
    assert bot.customer_points(JUAN) == 6


def test_an_amount_two_readers_would_read_apart_is_asked_not_guessed(bot_with) -> None:
    """`1.000`: one point to a reader whose decimals are marked with a dot, a thousand to
    another. Nothing changes until Rocío chooses; the choice carries the command on."""
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command("ayuda", user=GERENTE)  # her language is known from her first answer on
    bot.reply()
    asked = bot.command("puntos juana 1.000 regalo", user=GERENTE).json()
    assert "¿Quisiste decir `1` o `1,000`? Todavía no se cambió nada." in text_of(asked)
    assert bot.customer_points(1871) == 12 and bot.sandbox.calls == []
    from tests.harness import button

    bot.click(button(asked, "1,000"), user=GERENTE)
    assert "*Juana Pérez*: 12 → *1,012* puntos (+1,000)" in text_of(bot.reply())
    bot.click(button(asked, "1"), user=GERENTE)  # the other choice: already acted
    assert "ya" in text_of(bot.reply()).lower()
    assert bot.customer_points(1871) == 1012
    bot.command("points 1871 -1,000", user=MANAGER)  # a comma before three digits: thousands
    assert "1,012 → *12* points (-1,000)" in text_of(bot.reply())
