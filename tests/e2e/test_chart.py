"""The summary's chart through the bot: `/loyalty summary chart` shares a PNG of the last
two weeks in the person's DM, with alt text in their language; a chart that cannot be
drawn never hides the summary."""

from __future__ import annotations

from tests.demo import JUAN
from tests.harness import GERENTE, MANAGER, text_of


def test_summary_chart_sends_the_image_with_its_alt_text_to_the_dm(bot_with) -> None:
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command(f"points {JUAN} 10")
    bot.reply()
    bot.command("resumen gráfica", user=GERENTE)
    bot.settle()
    replies = [text_of(r) for r in bot.replies(3)[1:]]
    assert (
        "Clientes" in replies[0] and "Te envié la gráfica de las últimas dos semanas" in replies[1]
    )
    (chart,) = bot.slack.shared_files()
    assert chart.channel == "DGERENTE" and chart.data().startswith(b"\x89PNG")
    assert chart.alt_text.startswith("Gráfica de los últimos 14 días: 10 puntos sumados")


def test_without_a_chart_the_summary_still_comes(bot, monkeypatch) -> None:
    monkeypatch.setattr("bot.slack.chart.CHILD", ("/nonexistent/python",))  # cannot start
    bot.command("summary chart")
    bot.settle()
    summary, why = (text_of(r) for r in bot.replies(2))
    assert "Customers" in summary and "I could not draw the chart just now" in why
    assert bot.slack.shared_files() == []


def test_a_summary_asked_for_another_day_is_todays_and_says_so(bot_with) -> None:
    """`resumen de ayer`: the summary is a picture of now; the reader is told so and
    where past days are, never shown today's as if it were yesterday's. Words that ask
    for nothing else (`resumen de hoy con gráfica`) add no note."""
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command("summary yesterday")
    bot.settle()
    summary, note = (text_of(r) for r in bot.replies(2))
    assert "Customers" in summary
    assert note.startswith("That is today's summary, as of now: I do not keep another day's.")
    assert "`/loyalty export history 7` sends the last 7 days' changes" in note
    bot.command("resumen de hoy con gráfica", user=GERENTE)
    bot.settle()
    replies = [text_of(r) for r in bot.replies(4)[2:]]
    assert "Clientes" in replies[0] and "Te envié la gráfica" in replies[1], replies
    bot.command("resumen de la semana pasada", user=GERENTE)
    bot.settle()
    note = text_of(bot.replies(6)[-1])
    assert note.startswith("Ese es el resumen de hoy") and "`/loyalty exportar historial 7`" in note
