"""The exports' files: CSV with a header row in the reader's language, written row by row
to a file (never built whole in memory), and a file name that says what and when.

Outside text (names, emails, reasons) cannot become a spreadsheet formula: a cell that
starts with `=`, `@`, a tab or a carriage return, or with `+`/`-` not followed by a digit,
is written after an apostrophe (OWASP's advice for CSV injection); phone numbers and
signed amounts stay as they are."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import IO
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditEntry, Outcome
from bot.i18n import N_, _
from bot.slack.blocks.audit import action_words
from bot.smartpasses.models import Customer

# An entry's outcome as a spreadsheet shows it: plain words, in the reader's language.
_OUTCOMES: dict[str, str] = {
    Outcome.OK: N_("applied"),
    Outcome.PENDING: N_("not confirmed yet"),
    Outcome.REFUSED: N_("refused"),
    Outcome.FAILED: N_("not applied"),
    Outcome.UNKNOWN: N_("could not tell whether it was applied"),
}

_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?!\d))")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA.match(text) else text


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")[:40]


def file_name(what: str, when: dt.date, *detail: str) -> str:
    """`customers-perez-2026-12-03.csv`, `historial-1870-30-dias-2026-12-03.csv`."""
    parts = [_slug(p) for p in (what, *detail) if _slug(p)]
    return "-".join([*parts, when.isoformat()]) + ".csv"


def write_customers(out: IO[str], customers: Iterable[Customer]) -> int:
    """The rows written (the header not counted)."""
    writer = csv.writer(out)
    writer.writerow([_("Id"), _("First name"), _("Last name"), _("Email"), _("Phone"), _("Points")])
    count = 0
    for c in customers:
        writer.writerow(
            [c.id, cell(c.first_name), cell(c.last_name), cell(c.email), cell(c.phone), c.points]
        )
        count += 1
    return count


def write_history(
    out: IO[str],
    entries: Iterable[AuditEntry],
    tz: ZoneInfo,
    name_of: Callable[[str], str | None] = lambda user_id: None,
) -> int:
    """The rows written. `name_of`: a person's Slack name (asked once per person); the
    "who" column has their id when it gives none."""
    names: dict[str, str] = {}

    def who(user_id: str) -> str:
        if user_id not in names:
            names[user_id] = name_of(user_id) or user_id
        return names[user_id]

    writer = csv.writer(out)
    writer.writerow(
        [
            _("When"),
            _("Who"),
            _("Slack user"),
            _("What"),
            _("Customer or offer id"),
            _("Name"),
            _("Before"),
            _("After"),
            _("Reason"),
            _("Outcome"),
            _("Workflow"),
            _("Entry"),
        ]
    )
    count = 0
    for e in entries:
        writer.writerow(
            [
                e.at.astimezone(tz).isoformat(timespec="seconds"),
                cell(who(e.user_id)),
                e.user_id,
                action_words(e.action),
                "" if e.target_id is None else e.target_id,
                cell(e.target_name),
                "" if e.before is None else e.before,
                "" if e.after is None else e.after,
                cell(e.reason),
                _(_OUTCOMES[e.outcome]) if e.outcome in _OUTCOMES else e.outcome,
                cell(e.via),
                e.id,
            ]
        )
        count += 1
    return count
