"""The offline console: the tour script CI runs, typed input, and failing steps."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.offline.console import run_console

ROOT = Path(__file__).resolve().parents[2]


def _run(lines: list[str], user: str = "marta", lang: str = "en") -> tuple[int, str]:
    out = io.StringIO()
    code = run_console(user=user, script=iter(lines), out=out, lang=lang)
    return code, out.getvalue()


def test_the_tour_script_passes(monkeypatch) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = (ROOT / "examples" / "tour.txt").read_text(encoding="utf-8").splitlines()
    code, output = _run(lines)
    assert code == 0, output
    assert "Published by @marta" in output and "Loyalty summary" in output
    assert "[#approvals, in a thread]" in output and "in #approvals" in output


def test_the_workflow_steps_tour_passes_and_a_bad_step_line_is_explained(monkeypatch) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = (ROOT / "examples" / "automate.txt").read_text(encoding="utf-8").splitlines()
    code, output = _run(lines)
    assert code == 0, output
    assert "Step “Add loyalty points” completed: customer_id=1870" in output
    assert "(via workflow Walk-in sign-up)" in output
    code, output = _run(["step add_loyalty_points customer=1870 pts=3"])
    assert code == 1 and "add_loyalty_points takes customer, points, reason, workflow" in output
    code, output = _run(["step"])
    assert code == 1 and "which step? add_loyalty_points, record_sale, redeem_reward" in output


def test_the_spanish_tour_passes(monkeypatch) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = (ROOT / "examples" / "tour-es.txt").read_text(encoding="utf-8").splitlines()
    code, output = _run(lines, user="", lang="es")
    assert code == 0, output
    assert "Consola del bot de lealtad" in output and "[solo tú]" in output


def test_buttons_and_roles_in_the_console(monkeypatch) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    code, output = _run(
        [
            "/loyalty customer 1870",
            "expect [Edit] [History]",  # a clerk is not offered Change points or Delete
            "/loyalty customer delete 1870",
            "expect Only loyalty managers can delete customers",
            "as marta",
            "/loyalty customer 1870",
            "expect [Change points] [Redeem] [Edit] [History] [Delete]",
            "click Delete",
            "expect permanently deletes the customer Juan Pérez",
            "click Delete customer",
            "expect Juan Pérez was deleted by @marta",
            "/loyalty customer 1870",
            "expect No customer matches",
        ],
        user="carl",
    )
    assert code == 0, output


def test_a_click_takes_the_newest_message_whose_button_starts_with_it(monkeypatch) -> None:
    """`click Delete` under "[Delete customer] [Never mind]" presses that, not the Delete
    button on an older card (another customer's)."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    code, output = _run(
        [
            "/loyalty customer 1871",  # Juana's card: [Delete]
            "/loyalty customer delete 1872",  # Luis: [Delete customer] [Never mind]
            "click Delete",
            "expect Luis Hernández was deleted",
            "/loyalty customer 1871",
            "expect Juana Pérez",
        ]
    )
    assert code == 0, output


def test_an_answer_promised_for_later_is_shown_under_its_command(monkeypatch) -> None:
    """A customer not in the list, looked for past the person's patience: the console
    waits for the answer it promised and shows it under that command (it came after the
    command had settled, and was never shown)."""
    import handlers.resolve

    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    monkeypatch.setattr(handlers.resolve, "PATIENCE_SECONDS", 0.0)  # always told "later"
    code, output = _run(
        [
            "/loyalty points rosa.diaz@example.com 5",
            "expect No customer matches “rosa.diaz@example.com”",
            "/loyalty customers",
        ]
    )
    assert code == 0, output
    promised = output.index("will answer here in a moment")
    assert promised < output.index("No customer matches") < output.index("> /loyalty customers")
    code, output = _run(['/loyalty points "Rosa Díaz" 5'])  # a quoted name: said unquoted
    assert code == 0 and "“Rosa Díaz” is not in my list yet" in output, output


def test_a_type_ahead_in_a_form_offers_what_the_bot_finds(monkeypatch) -> None:
    """The Home tab's Find customer: what is typed goes to the bot as Slack sends it while
    someone types (a block_suggestion), its options are listed, one is chosen by number
    (other words search again), and the form shows that customer."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = ["home", "click Buscar cliente", "pérez", "juan", "9", "nadie", "luis"]
    code, output = _run(lines, "lupita", "es")
    assert code == 0, output
    assert "1 Juan Pérez · 5 puntos" in output and "2 Juana Pérez · 12 puntos" in output
    assert "¿Cuál (su número, u otras palabras para buscar)? juan\n" in output
    assert "Nada coincide con “nadie”" in output
    assert "Luis Hernández" in output.split("Cliente: luis")[1]


def test_unknown_steps_fail_the_script(monkeypatch) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    assert _run(["click Approve"])[0] == 1
    assert _run(["frobnicate"])[0] == 1
    code, output = _run(["/loyalty offers", "expect Té Verde"])
    assert code == 1 and "!! expected to see “Té Verde”" in output
    code, output = _run(["as nobody"])
    assert code == 1 and "as whom?" in output
    code, output = _run(["1"], user="lupita", lang="es")  # the console's words: its language
    assert code == 1 and "!! no conozco el comando “1” (escribe help)" in output
    code, output = _run(["click Nada"], user="lupita", lang="es")
    assert code == 1 and "no hay un botón “Nada” en los mensajes mostrados" in output


def test_typed_lines_on_standard_input(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTPASSES_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--as", "gabo"],
        input="/loyalty offers\nchannel approvals\nquit\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "gabo@#shop>" in result.stdout and "Café Gratis" in result.stdout
    assert "#approvals: nothing posted yet" in result.stdout


def test_outside_text_cannot_drive_the_terminal() -> None:
    from io import StringIO

    from bot.offline.console import Console

    out = StringIO()
    Console(out=out).say("Juan \x1b[2J\x1b[31mPérez\r")
    assert out.getvalue() == "Juan \\x1b[2J\\x1b[31mPérez\\x0d\n"


def test_a_spanish_confirmation_takes_si(monkeypatch) -> None:
    """Typed, not scripted: the console asks `¿…? [s/N]`, and `sí` (or `s`) confirms."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    typed = iter(["/loyalty oferta cancelar Café Gratis", "click Cancelar oferta", "sí", "quit"])
    prompts: list[str] = []

    def answer(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("builtins.input", answer)
    out = io.StringIO()
    assert run_console(user="rocio", out=out, lang="es") == 0
    assert any(p.endswith("[s/N] ") for p in prompts), prompts
    assert "Café Gratis" in out.getvalue() and "cancelad" in out.getvalue().lower()


@pytest.mark.parametrize(
    ("script", "user", "lang"),
    [("till.txt", "carl", "en"), ("till-es.txt", "lupita", "es")],
)
def test_twenty_till_tasks_each_succeed_on_the_first_command(
    monkeypatch, script: str, user: str, lang: str
) -> None:
    """A clerk at the till, in each language: find by part of a name, by a phone said as
    people say it, a customer who joined a moment ago by id, email and phone; add, undo,
    a refused deduct, an ambiguous amount, redeem, the points and redeem forms, a
    duplicate email, history, a publication request and its approval, the summary."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = (ROOT / "examples" / script).read_text(encoding="utf-8").splitlines()
    assert sum(1 for line in lines if line.startswith(("/loyalty", "click"))) >= 20
    code, output = _run(lines, user=user, lang=lang)
    assert code == 0, output


def test_a_form_choice_that_is_not_one_is_asked_again_not_taken_as_the_default(
    monkeypatch,
) -> None:
    """In the redeem form, a line that is none of the rewards (a number past the list, a
    word) asks again; it never redeems the default reward. A command typed at a field
    closes the form, sending nothing, and runs."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    code, output = _run(["/loyalty redeem 1871", "/loyalty customer 1870"], user="carl")
    assert code == 0, output
    closed = output.index("(form closed, nothing sent)")
    assert closed < output.index("> /loyalty customer 1870") < output.index("Juan Pérez")
    assert "redeemed" not in output and "That is not one of the choices" not in output
    code, output = _run(["/loyalty redeem 1871", "9", "café", "1"], user="carl")
    assert code == 0, output
    assert output.count("That is not one of the choices") == 2
    assert "@carl redeemed “Café Gratis” for Juana Pérez (1871): 12 → 2 (-10)" in output


def test_the_home_tab_before_the_install_says_to_install_first() -> None:
    """Slack sends no Home tab event for an app not installed in the workspace: the
    console says so at once instead of waiting for an answer that cannot come."""
    out = io.StringIO()
    code = run_console(user="lupita", script=iter(["home"]), out=out, lang="es", workspaces=True)
    assert code == 0, out.getvalue()
    assert "todavía no está instalado en este espacio de trabajo: escribe install" in (
        out.getvalue()
    )


def test_the_demo_shops_days_are_its_staffs(monkeypatch) -> None:
    """The demo is a Mexican shop: its summary, dates and clerks' daily points follow the
    time zone its staff's Slack profiles give, and the console's first lines say so."""
    from bot.offline.console_demo import DEMO_SHOP, USERS

    staff_zones = {user.tz for user in USERS if user.name in ("marta", "rocio", "carl", "lupita")}
    assert staff_zones == {DEMO_SHOP["loyalty_timezone"]} == {"America/Mexico_City"}
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    code, output = _run([], lang="es")
    assert code == 0 and "son los de la Ciudad de México" in output


def test_a_forms_days_and_hours_are_read_as_typed(monkeypatch) -> None:
    """A day's number is that day only (not also the day whose value is that number); a
    time typed as people say it (`4pm`) is the time a Slack picker gives, and a word that is
    none is asked again, as the picker offers nothing else."""
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = ["/loyalty promos new", "Tuesday double", "1", "x2", "2", "4pm", "six", "6 pm"]
    lines += ["tomorrow", "", "", "", ""]
    code, output = _run(lines)
    assert code == 0, output
    assert "That is not a time: type it like 16:30 or 4pm." in output
    assert "That is not a date: type it like 2026-12-24." in output
    assert "×2 points · Tue · 16:00–18:00" in output, output
