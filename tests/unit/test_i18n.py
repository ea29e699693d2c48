"""Spanish and English: the catalog is complete, and every surface renders for a Spanish
reader without English words (outside text, ids and slash-command names aside)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.roles import Roles
from bot.domain.errors import (
    Busy,
    CustomerNotFound,
    MalformedRequest,
    NotFound,
    OverAllowance,
    PermissionDenied,
    RecordUnavailable,
)
from bot.domain.policy import Act
from bot.domain.records import Approval
from bot.domain.say import Say
from bot.i18n import CATALOGS, day, number, of_locale, plural_catalog, speaking
from bot.slack import blocks, views, workspace_views
from bot.slack.ids import Form, FormContext
from bot.slack.text import mrkdwn
from bot.slack.workspace_views import Connection, WorkspaceChoices
from handlers.command_help import help_detail, help_message, unknown
from handlers.subcommands import SUBCOMMANDS
from handlers.workpool import Overloaded
from tests.core import AS_MANAGER
from tests.harness import text_of

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"Say": None, "_": None, "N_": None, "ngettext": (1, 2)}
PO = CATALOGS / "es" / "LC_MESSAGES" / "messages.po"

# Words that are English and never Spanish: one of them in a Spanish surface is a leak.
ENGLISH = {
    "the",
    "and",
    "with",
    "was",
    "were",
    "points",
    "point",
    "customer",
    "customers",
    "offer",
    "offers",
    "change",
    "changes",
    "nothing",
    "please",
    "your",
    "you",
    "this",
    "that",
    "choose",
    "open",
    "edit",
    "delete",
    "history",
    "redeem",
    "save",
    "cancel",
    "close",
    "reason",
    "amount",
    "managers",
    "manager",
    "approve",
    "reject",
    "published",
    "draft",
    "canceled",
    "requested",
    "by",
    "of",
    "is",
    "are",
    "has",
    "have",
    "only",
    "try",
    "again",
    "when",
    "what",
    "who",
    "help",
    "undo",
    "summary",
    "today",
    "added",
    "deducted",
    "new",
    "next",
    "more",
    "previous",
    "first",
    "last",
    "page",
    "find",
}
# Outside text in the fixtures below, and names that are the same in both languages.
ALLOWED = {"juan", "pérez", "ana", "garcía", "café", "gratis", "pan", "dulce", "2x1", "loyalty"}


def _catalog() -> dict[str, str]:
    with PO.open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id and not m.fuzzy}


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}", text))


def test_every_string_people_read_is_translated() -> None:
    catalog = _catalog()
    missing = []
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS
        ):
            if isinstance(message, str) and not catalog.get(message):
                missing.append(message)
            if isinstance(message, tuple) and message[0] not in plural_catalog("es")[0]:
                missing.append(message[0])  # a plural: every form of it
    assert missing == [], "run `python3 dev.py catalog` and translate these"


def test_words_babel_does_not_extract_are_translated_too() -> None:
    """Babel's extractor misses a `_("…")` inside an f-string and an `N_("…")` inside a
    `Say(...)` call's arguments: such a word stays English for a Spanish reader unless it
    is a msgid anyway. Every literal given to `_`, `N_`, `Say` or `ngettext`, wherever it
    is in the code, must be translated (put a missed one in a variable or constant)."""
    import ast

    catalog = _catalog()
    plurals = plural_catalog("es")[0]
    missing = []
    for folder in ("bot", "handlers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "N_", "Say", "ngettext")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    continue
                word = node.args[0].value
                known = word in plurals if node.func.id == "ngettext" else catalog.get(word)
                if not known:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {word!r}")
    assert missing == []


def test_counts_take_the_readers_plural() -> None:
    offer = blocks.offer_list  # one draft offer, then two
    from bot.smartpasses.models import Offer

    drafts = [Offer(id=n, name=f"Oferta {n}", pointsCost=5, status="Draft") for n in (1, 2)]
    with speaking("es"):
        assert "*1 oferta en borrador*" in text_of(offer(drafts[:1], "draft").kwargs())
        assert "*2 ofertas en borrador*" in text_of(offer(drafts, "draft").kwargs())
    with speaking("en"):
        assert "*1 offer in draft*" in text_of(offer(drafts[:1], "draft").kwargs())


def test_the_catalog_has_no_fuzzy_or_broken_entries() -> None:
    with PO.open("rb") as po:
        entries = [m for m in read_po(po) if m.id]
    assert [m.id for m in entries if m.fuzzy or not m.string] == []
    singles = [m for m in entries if isinstance(m.id, str)]
    broken = [m.id for m in singles if _placeholders(str(m.id)) != _placeholders(str(m.string))]
    plurals = [m for m in entries if isinstance(m.id, tuple)]
    broken += [  # every form of a plural keeps the placeholders of the singular
        m.id
        for m in plurals
        if not all(m.string)
        or any(_placeholders(form) != _placeholders(m.id[0]) for form in m.string)
    ]
    assert broken == []


def test_whose_language() -> None:
    assert [of_locale(x) for x in ("es-MX", "es-ES", "en-US", "fr-FR", None)] == [
        "es",
        "es",
        "en",
        "en",
        "en",
    ]
    assert of_locale(None, "es") == "es"


def test_numbers_and_dates_per_locale() -> None:
    with speaking("es"):
        assert number(1000) == "1,000"  # es-MX groups thousands with a comma, as en-US
        assert day(dt.date(2026, 11, 26)) == "jue 26 nov 2026"
    with speaking("en"):
        assert day(dt.date(2026, 11, 26)) == "Thu 26 Nov 2026"


def _leaks(text: str) -> set[str]:
    text = re.sub(r"`[^`]*`", " ", text)  # commands and ids as typed
    text = re.sub(r"<[^>]*>", " ", text)  # mentions, links, dates
    words = {w.lower() for w in re.findall(r"[A-Za-zÁÉÍÓÚáéíóúñÑü]+", text)}
    return (words & ENGLISH) - ALLOWED


def _surfaces(core) -> dict[str, str]:
    juan = core.service.customer(1870)
    cafe, pan = core.service.offer(5001), core.service.offer(5002)
    result = core.service.change_points(AS_MANAGER, 1870, blocks_change(10), "cumpleaños")
    redeemed = core.service.redeem(AS_MANAGER, 6629146321223680, 5001)
    approval = Approval(
        id=1,
        offer_id=5002,
        offer_name="Pan dulce 2x1",
        description="",
        points_cost=15,
        auto_claim=False,
        fingerprint="x",
        team_id="T",
        requested_by="UCLERK",
        requested_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
        channel_id="C1",
        message_ts="1.1",
        permalink=None,
        state="pending",
        decided_by=None,
        decided_at=None,
        note="",
    )
    entries = core.store.entries(target_id=1870)
    context = FormContext(form=Form.POINTS, target_id=1870)
    roles = Roles(["UMANAGER"], group_id="SMANAGERS")
    errors = [
        PermissionDenied(Act.ADD_POINTS, roles.managers_said()),
        OverAllowance(
            Say("Clerks can add at most {most:,} points in one change.", most=20),
            roles.managers_said(),
        ),
        CustomerNotFound("xyz"),
        MalformedRequest(),
        NotFound(),
        Busy(),
        RecordUnavailable(),
        Overloaded(),
    ]
    allows = lambda act: True  # noqa: E731
    surfaces = {
        "help": help_message(),
        "unknown": unknown("pints"),
        "card": blocks.customer_card(juan, allows),
        "points": blocks.points_changed(result, undo_minutes=15),
        "redeemed": blocks.redeemed(redeemed),
        "picker": blocks.customer_picker("perez", [juan] * 12, "points", "10"),
        "list": blocks.customer_list(core.service.customers_page("")),
        "offers": blocks.offer_list(core.service.offers(), None),
        "offer card": blocks.offer_card(pan, allows),
        "published card": blocks.offer_card(cafe, allows),
        "history": blocks.history(juan, entries, dt.UTC),
        "announce": blocks.change_announcement(entries[0]),
        "request": blocks.approval_request(approval, dt.UTC, roles.managers_said()),
        "customer form": views.customer_form(context, juan),
        "offer form": views.offer_form(context, pan),
        "points form": views.points_form(context, juan, 1000),
        "redeem form": views.redeem_form(context, juan, [cafe]),
        "chooser": views.choose_customer(context, "x"),
        "reject form": views.reject_form(context, "Pan dulce 2x1"),
        "home": views.home(allows, True),
        "not connected home": workspace_views.not_connected_home(True, "UOWNER"),
        "not connected": workspace_views.not_connected_text("UOWNER"),
        "connect form": workspace_views.connect_form("12", problem="x"),
        "settings form": workspace_views.settings_form(
            WorkspaceChoices(["U1"], "C1", None, None, dt.time(9), "UTC", "es", 20, 0),
            Connection(12, "abcd"),
        ),
        **{f"error {i}": mrkdwn(e.say) for i, e in enumerate(errors)},
    }
    for row in SUBCOMMANDS:
        surfaces[f"help {row.name}"] = help_detail(row)
    return {
        k: v if isinstance(v, str) else text_of(v if isinstance(v, dict) else v.kwargs())
        for k, v in surfaces.items()
    }


def blocks_change(amount: int):
    from bot.domain.amounts import Op, PointsChange

    return PointsChange(Op.ADD, amount)


def test_every_surface_reads_spanish_for_a_spanish_reader(core) -> None:
    with speaking("es"):
        surfaces = _surfaces(core)
    leaks = {name: sorted(_leaks(text)) for name, text in surfaces.items() if _leaks(text)}
    assert leaks == {}


def test_the_same_surfaces_read_english_for_an_english_reader(core) -> None:
    with speaking("en"):
        surfaces = _surfaces(core)
    assert "Change points" in surfaces["card"] and "5 → *15* points" in surfaces["points"]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_summary_in_each_language(core, lang) -> None:
    from bot.core.summary import build_summary

    with speaking(lang):
        shown = text_of(
            blocks.summary_message(build_summary(core.loyalty, core.store, dt.UTC), dt.UTC).kwargs()
        )
    if lang == "es":
        assert "Resumen de lealtad" in shown and not _leaks(shown)
    else:
        assert "Loyalty summary" in shown


def test_numbers_are_written_as_the_readers_locale_writes_them(monkeypatch) -> None:
    """Every count and amount goes through Babel for the reader's locale (es_MX and
    en_US happen to agree: a Spanish shop in Spain would not)."""
    import bot.i18n

    monkeypatch.setitem(bot.i18n.LOCALES, "es", "es_ES")
    with speaking("es"):
        said = mrkdwn(
            Say("{name} tiene {points:,} ({delta:+,})", name="x", points=12345, delta=-20000)
        )
        assert said == "x tiene 12.345 (-20.000)"
        assert blocks.points(12345) == "12.345 puntos"  # presentation's own numbers too
    with speaking("en"):
        assert number(12345) == "12,345" and number(5, signed=True) == "+5"


def test_no_translation_leaves_english_words_in_spanish() -> None:
    """Every sentence the bot can say, as a Spanish reader reads it: its catalog entry,
    placeholders aside (what fills them is rendered in Spanish too, by the same rule)."""
    leaks = {}
    with PO.open("rb") as po:
        for m in read_po(po):
            if not m.id or str(m.id).startswith("  /loyalty ..."):
                continue  # the console's help: its first column is words to type
            forms = m.string if isinstance(m.string, tuple) else (m.string,)
            for form in forms:
                # placeholders, channels and settings' names (LOYALTY_MANAGERS) aside
                shown = re.sub(r"\{[^{}]*\}|#\w+|\b[A-Z][A-Z_]{3,}\b", " ", str(form))
                found = _leaks(shown)
                if found:
                    leaks[str(m.id if isinstance(m.id, str) else m.id[0])[:60]] = sorted(found)
    assert leaks == {}


def test_a_role_refusal_in_a_history_reads_in_the_readers_language(core) -> None:
    """The audit log keeps a refusal's reason in English (for whoever runs the bot); the
    customer's history shows it in the reader's words."""
    from bot.domain.amounts import Op, PointsChange
    from bot.domain.audit import Actor
    from bot.domain.errors import PermissionDenied
    from tests.demo import JUAN
    from tests.harness import CLERK

    with pytest.raises(PermissionDenied):
        core.service.change_points(Actor(CLERK), JUAN, PointsChange(Op.DEDUCT, 2))
    entries = core.store.entries(actions=["refused"])
    assert entries[0].detail == "needs manager role to deduct points or set a balance"
    customer = core.service.customer(JUAN)
    with speaking("es"):
        spanish = text_of(blocks.history(customer, entries, dt.UTC).kwargs())
    with speaking("en"):
        english = text_of(blocks.history(customer, entries, dt.UTC).kwargs())
    assert "necesita el rol de gerente para restar puntos o fijar un saldo" in spanish
    assert "needs manager role" not in spanish
    assert "needs the manager role to deduct points or set a balance" in english


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("en-US,en;q=0.9,es;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,es;q=0.5", "es"),  # the first the bot speaks
        ("es;q=0,en", "en"),  # q=0: not wanted
        ("en;q=0.2, es;q=0.8", "es"),  # by weight, not order
        ("de, *;q=0.5", "fallback"),
        ("es;q=lots, en", "en"),  # a weight that is not one: that tag left out
        ("", "fallback"),
    ],
)
def test_the_install_pages_take_the_first_language_the_bot_speaks(header, language) -> None:
    from slack_bolt import BoltRequest

    from bot.runtime.install_pages import browser_language

    request = BoltRequest(body="", headers={"accept-language": header} if header else {})
    assert browser_language(request, "fallback") == language
