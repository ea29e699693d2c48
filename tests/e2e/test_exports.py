"""`/loyalty export` end to end: the CSV arrives in the manager's DM through Slack's upload
protocol (files.getUploadURLExternal, the bytes, files.completeUploadExternal), with its
header in the reader's language; clerks are refused; a large list is streamed."""

from __future__ import annotations

import csv
import io
import os
import sys

import pytest

from bot.offline.sandbox.data import load_generated
from tests.core import points_added
from tests.demo import DEMO_PROGRAM_ID, JUAN
from tests.harness import CLERK, GERENTE, MANAGER, buttons, text_of


def _rows(upload) -> list[list[str]]:
    return list(csv.reader(io.StringIO(upload.text())))


def test_export_customers_sends_the_list_as_a_csv_to_the_managers_dm(bot) -> None:
    bot.command("export customers")
    reply = text_of(bot.reply())
    (upload,) = bot.slack.shared_files()
    assert upload.channel == "DMANAGER" and upload.name.startswith("customers-")
    assert upload.name.endswith(".csv") and upload.name in reply
    rows = _rows(upload)
    assert rows[0] == ["Id", "First name", "Last name", "Email", "Phone", "Points"]
    juan = next(r for r in rows if r[0] == str(JUAN))
    assert juan[1:] == ["Juan", "Pérez", "juan.perez@example.com", "+529994116533", "5"]
    assert len(rows) - 1 == len(bot.sandbox.state.program(DEMO_PROGRAM_ID).customers)
    assert f"({len(rows) - 1} customers)" in reply


def test_a_search_exports_only_its_matches_and_spanish_readers_get_spanish_headers(
    bot_with,
) -> None:
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command("exportar clientes pérez", user=GERENTE)
    reply = text_of(bot.reply())
    assert "Te lo envié por mensaje directo" in reply
    (upload,) = bot.slack.shared_files()
    assert upload.name.startswith("clientes-pérez-")
    rows = _rows(upload)
    assert rows[0] == ["Id", "Nombre", "Apellido", "Correo", "Teléfono", "Puntos"]
    assert {r[2] for r in rows[1:]} == {"Pérez"} and len(rows) == 3  # Juan and Juana


def test_a_search_for_a_mention_looks_for_the_persons_email(bot) -> None:
    """`customers @juan`, `export customers @juan`: the Slack user's email, as a lookup
    reads a mention, never the text `<@UJUAN>` (which no customer has)."""
    bot.command("customers <@UJUAN>")
    listed = text_of(bot.reply())
    assert "Juan Pérez" in listed and "<@UJUAN>" not in listed and "Juana" not in listed
    bot.command("export customers <@UJUAN>")
    assert "(1 customer)" in text_of(bot.reply())
    (upload,) = bot.slack.shared_files()
    assert [r[0] for r in _rows(upload)[1:]] == [str(JUAN)]
    assert "UJUAN" not in upload.name


def test_history_export_by_customer_and_days(bot_with) -> None:
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}", loyalty_clerk_max_points=20)
    for text in (f"points {JUAN} 3 =formula", "points 1871 2"):
        bot.command(text)
        bot.reply()
    bot.command(f"export history {JUAN} 7")
    assert "(1 change)" in text_of(bot.reply())
    (upload,) = bot.slack.shared_files()
    assert upload.name.startswith(f"history-{JUAN}-7-days-")
    header, row = _rows(upload)
    assert header[:4] == ["When", "Who", "Slack user", "What"]
    # who by their Slack name (a spreadsheet cannot show a mention), and their id
    assert row[1:6] == ["marta", MANAGER, "added points", str(JUAN), "Juan Pérez"]
    assert row[6:10] == ["5", "8", "'=formula", "applied"]  # a formula is written as text
    bot.command("export history")
    bot.reply()
    assert len(_rows(bot.slack.shared_files()[-1])) == 3  # both changes, 30 days
    # A Spanish-speaking manager's file is in Spanish, the outcome's words included
    bot.command(f"points {JUAN} -100", user=MANAGER)  # refused: more than Juan has
    bot.reply()
    bot.command(f"exportar historial {JUAN} 7", user=GERENTE)
    bot.reply()
    header, *rows = _rows(bot.slack.shared_files()[-1])
    assert header[:4] == ["Cuándo", "Quién", "Usuario de Slack", "Qué"], header
    assert sorted(r[9] for r in rows) == ["aplicado", "rechazado"], rows
    bot.command("exporta el historial de juan perez", user=GERENTE)  # as it is said
    assert "historial-1870-30-días-" in text_of(bot.reply())


def test_clerks_may_not_export_and_bad_words_are_explained(bot) -> None:
    bot.command("export customers", user=CLERK)
    assert "Only loyalty *managers* can export the customer list" in text_of(bot.reply())
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    reply = bot.command("export everything").json()
    assert text_of(reply) == (
        "Export what? Usage: `/loyalty export customers [search]`"
        " or `/loyalty export history [customer] [days]`."
    )
    reply = bot.command("export history 0").json()
    assert "between 1 and 999 days" in text_of(reply)
    bot.command("exportar historial 1000")  # days past the most, read as an id: nobody's
    assert text_of(bot.reply()) == (
        "⚠️ No customer has the id `1000`, and an export goes back at most 999 days."
    )
    bot.command("points 1870 1")
    bot.reply()
    bot.command("export history 1870")  # an id of that length that is a customer's: theirs
    assert "history-1870-30-days" in text_of(bot.reply())
    for after_a_customer in ("1870 1000", "juan pérez 1000", "+52 999 411 6533 1000"):
        reply = bot.command(f"export history {after_a_customer}").json()
        assert "between 1 and 999 days" in text_of(reply), after_a_customer
    bot.command("export history +52 999 411 6533")  # a phone's last group is not days
    assert "history-1870-30-days" in text_of(bot.reply())


def test_the_days_of_a_history_export_may_be_said_in_words(bot_with) -> None:
    """`export history today`, `exporta los cambios de hoy`, `… de los últimos 7 días`:
    the period is the days, never part of a customer's name."""
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command(f"points {JUAN} 3")
    bot.reply()
    for typed, user, name, rows in [
        ("export history today", MANAGER, "history-today-", "(1 change)"),
        ("export changes of the last 7 days", MANAGER, "history-7-days-", "(1 change)"),
        ("export history of juan perez for the last 3 days", MANAGER, "history-1870-3-days-", ""),
        ("export history last month", MANAGER, "history-30-days-", ""),
        ("exporta los cambios de hoy", GERENTE, "historial-hoy-", "(1 cambio)"),
        (
            "exportar historial de juan perez de los últimos 7 días",
            GERENTE,
            "historial-1870-7-días-",
            "",
        ),
        ("exportar movimientos de la semana pasada", GERENTE, "historial-7-días-", ""),
        ("exportar historial 2 dias", GERENTE, "historial-2-días-", ""),
    ]:
        bot.command(typed, user=user)
        reply = text_of(bot.reply())
        assert name in reply and rows in reply, (typed, reply)
        assert bot.slack.shared_files()[-1].name.startswith(name)
        assert len(_rows(bot.slack.shared_files()[-1])) == 2, typed  # the header and Juan's


def test_yesterdays_history_is_yesterday_alone(bot_with) -> None:
    """`exportar historial de ayer`: yesterday's changes, not today's (nor the last 24
    hours'); a customer's too, and their picker's choice keeps the day."""
    import datetime as dt

    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    bot.command(f"points {JUAN} 3 today")
    bot.reply()
    midnight = dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(), dt.UTC)
    points_added(bot.store, midnight - dt.timedelta(hours=2), reason="yesterday's")
    bot.command("exportar historial de ayer", user=GERENTE)
    assert "historial-ayer-" in text_of(bot.reply())
    (_, row) = _rows(bot.slack.shared_files()[-1])
    assert row[8] == "yesterday's"
    bot.command("export history juan yesterday")  # Juan or Juana?
    picker = bot.reply()
    bot.click(next(b for b in buttons(picker) if f'"target_id":{JUAN}' in b["value"]))
    assert "history-1870-yesterday-" in text_of(bot.reply())
    bot.command("export history 1871 yesterday")
    assert text_of(bot.reply()) == (
        "Juana Pérez had no points changes yesterday, so there is nothing to export."
    )


def test_an_export_with_nothing_in_it_says_so_and_sends_no_file(bot_with) -> None:
    """No empty file in the person's DM: the reply says there is nothing, and why."""
    bot = bot_with(loyalty_managers=f"{MANAGER},{GERENTE}")
    for typed, user, said in [
        ("export customers zzzz", MANAGER, "No customer matches “zzzz”, so there is nothing"),
        ("export history", MANAGER, "There were no points changes in the last 30 days, so"),
        ("export history today", MANAGER, "There were no points changes today, so there is"),
        ("export history juan perez 7", MANAGER, "Juan Pérez had no points changes in the last 7"),
        ("exportar historial de hoy", GERENTE, "Hoy no hubo cambios de puntos, así que no hay"),
        ("exportar clientes <zzz>", GERENTE, "Ningún cliente coincide con “&lt;zzz&gt;”"),
    ]:
        bot.command(typed, user=user)
        assert said in text_of(bot.reply()), typed
    assert bot.slack.shared_files() == []
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    assert bot.slack.calls_to("conversations.open") == []


def test_an_install_without_the_file_permission_is_told_what_to_do(bot) -> None:
    bot.slack.failing["files.getUploadURLExternal"] = "missing_scope"
    bot.command("export customers")
    reply = text_of(bot.reply())
    assert "not allowed to send files in this workspace yet" in reply, reply
    assert "files:write" not in reply and bot.slack.shared_files() == []


@pytest.mark.skipif(sys.platform != "linux", reason="reads and resets the peak RSS in /proc")
def test_an_export_of_100k_customers_is_streamed_not_held(bot) -> None:
    load_generated(bot.sandbox.state, 100_000)
    bot.command("customers zzz")  # loads the list into the index first
    bot.reply(timeout=60)
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak RSS starts again from here
    before = _status_kb("VmRSS")
    bot.command("export customers")
    assert "customers)" in text_of(bot.reply(timeout=120))
    extra_mb = (_status_kb("VmHWM") - before) / 1024
    (upload,) = bot.slack.shared_files()
    assert os.path.getsize(upload.path) > 5_000_000
    customers = len(bot.sandbox.state.program(DEMO_PROGRAM_ID).customers)
    assert customers > 100_000
    with open(upload.path, encoding="utf-8-sig") as written:
        assert sum(1 for _ in written) == customers + 1  # and the header
    assert extra_mb < 60, f"the export took {extra_mb:.0f} MB more"


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)
