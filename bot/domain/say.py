"""What the bot says to people, as data.

The core writes a sentence as an English template with named slots and the values that
fill them; it never writes markup. Presentation (`bot.slack.text`) decides how each kind
of value is written: outside text made inert, a person as a mention, a command as code,
a word emphasised. `str(say)` is the plain English, for logs and stored notes.

    Say("Only loyalty {managers} can {act}.", managers=Strong("managers"), act=...)
"""

from __future__ import annotations

import datetime as dt
import json
import string
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.dates import format_timedelta


class Name(str):
    """Outside text: a customer's or offer's name, an email, a reason, what was typed."""


class Person(str):
    """A Slack user id, shown as a mention."""


class Group(str):
    """A Slack user group id, shown as a mention of the group."""


class Channel(str):
    """A Slack channel id, shown as a link to the channel."""


class Strong(str):
    """Our own words, emphasised."""


class Code(str):
    """Something to type or an id: a command, an amount."""


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Command:
    """A `/loyalty` command to type: our words (`customers`, in the reader's language:
    `clientes`), then what follows them as typed (an id, a search)."""

    words: str
    rest: str = ""


@dataclass(frozen=True)
class Money:
    """An amount of money in a currency ("250.00 MXN"), written the reader's way."""

    amount: Decimal
    currency: str
    trimmed: bool = False  # a whole amount without its decimals ("10 MXN", for a rule)


@dataclass(frozen=True)
class Duration:
    """A length of time ("40 seconds", "2 minutes"), written in the reader's language."""

    length: dt.timedelta


class Say:
    __slots__ = ("template", "values")

    def __init__(self, template: str, /, **values: Any) -> None:
        self.template = template
        self.values = values

    def __str__(self) -> str:
        return PLAIN.format(self.template, **self.values)

    def __repr__(self) -> str:
        return f"Say({self.template!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Say) and (self.template, self.values) == (
            other.template,
            other.values,
        )

    def __hash__(self) -> int:
        return hash(self.template)


# A Say kept with a record (an audit entry's detail): its template and values as JSON, so
# whoever reads the record later reads it in their own language.
_KINDS: dict[str, type[str]] = {k.__name__: k for k in (Name, Person, Group, Channel, Strong, Code)}


def dump_said(say: Say) -> str:
    return json.dumps(_dumped(say), ensure_ascii=False, separators=(",", ":"))


def load_said(text: str | None) -> Say | None:
    """The Say kept in `text`; None when there is none (or it cannot be read: the record's
    English text is shown instead)."""
    if not text:
        return None
    try:
        loaded = _loaded(json.loads(text))
    except (ValueError, TypeError, KeyError, ArithmeticError):
        return None
    return loaded if isinstance(loaded, Say) else None


def _dumped(value: Any) -> Any:
    if isinstance(value, Say):
        return {"say": value.template, "values": {k: _dumped(v) for k, v in value.values.items()}}
    if type(value) in _KINDS.values():
        return {"kind": type(value).__name__, "text": str(value)}
    if isinstance(value, Link):
        return {"kind": "Link", "url": value.url, "label": value.label}
    if isinstance(value, Command):
        return {"kind": "Command", "words": value.words, "rest": value.rest}
    if isinstance(value, Money):
        return {
            "kind": "Money",
            "amount": str(value.amount),
            "currency": value.currency,
            "trimmed": value.trimmed,
        }
    if isinstance(value, Duration):
        return {"kind": "Duration", "seconds": value.length.total_seconds()}
    if isinstance(value, int | str):
        return value
    return str(value)  # anything else as the text it reads as


def _loaded(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "say" in value:
        return Say(str(value["say"]), **{k: _loaded(v) for k, v in value["values"].items()})
    kind = value["kind"]
    if kind in _KINDS:
        return _KINDS[kind](value["text"])
    if kind == "Link":
        return Link(value["url"], value["label"])
    if kind == "Command":
        return Command(value["words"], value["rest"])
    if kind == "Money":
        return Money(Decimal(value["amount"]), value["currency"], bool(value["trimmed"]))
    if kind == "Duration":
        return Duration(dt.timedelta(seconds=float(value["seconds"])))
    raise KeyError(kind)


def N_(message: str) -> str:
    """Mark one of our own words for the catalog (it is translated where it is written)."""
    return message


# The command words the core names (marked for the catalog here: Babel cannot see them
# inside a Say's arguments).
COMMAND_WORDS = (
    N_("customer"),
    N_("customers"),
    N_("offer"),
    N_("offers"),
    N_("offers draft"),
    N_("offer cancel"),
)


def noun(what: str | Say) -> Say:
    """One of our own words or phrases inside a sentence ("this customer"), translated
    with it. Outside text (a Name) stays as it came."""
    if isinstance(what, Say):
        return what
    if isinstance(what, Name):
        return Say("{name}", name=what)
    return Say(what.replace("{", "{{").replace("}", "}}"))


_STATUSES = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "canceled": N_("Canceled"),
    "cancelled": N_("Canceled"),
    "pending": N_("pending"),
    "publishing": N_("publishing"),
    "failed": N_("failed"),
    "rejected": N_("rejected"),
    "stale": N_("stale"),
}


def status(value: str) -> Say:
    """An offer's status or a request's state, in the reader's words when it is one we
    know; anything else (from outside) shown as it came, inert."""
    known = _STATUSES.get(value.strip().lower())
    return Say(known) if known else Say("{name}", name=Name(value))


def said(text: str | Say) -> Say:
    """A sentence; plain text becomes one whose words are shown as they are (inert)."""
    return text if isinstance(text, Say) else Say("{text}", text=text)


class Writer(string.Formatter):
    """Writes a Say; subclasses decide how each kind of value looks."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Say):
            return self.format(self.translate(value.template), **value.values)
        if isinstance(value, Link):
            return self.link(value)
        if isinstance(value, Duration):
            return self.duration(value.length)
        if isinstance(value, Money):
            return self.money(value)
        if isinstance(value, Command):
            words = " ".join(x for x in (self.translate(value.words), value.rest) if x)
            return self.code(f"/loyalty {words}")
        if isinstance(value, Person):
            return self.person(value)
        if isinstance(value, Group):
            return self.group(value)
        if isinstance(value, Channel):
            return self.channel(value)
        if isinstance(value, Strong):  # our own word: in the reader's language
            return self.strong(self.text(self.translate(value)))
        if isinstance(value, Code):
            return self.code(value)
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and format_spec in (",", "+,"):
            return self.number(value, signed=format_spec == "+,")
        return format(value, format_spec)

    def translate(self, template: str) -> str:
        """The template in the reader's language (the core's English here, for logs)."""
        return template

    def number(self, value: int, *, signed: bool = False) -> str:
        """A count or amount (`{amount:,}` in a template): `1,000` here, for logs."""
        return format(value, "+," if signed else ",")

    def money(self, value: Money) -> str:
        return f"{value.amount:,} {value.currency}"

    def text(self, value: str) -> str:
        return value

    def strong(self, written: str) -> str:
        return written

    def code(self, value: str) -> str:
        return value

    def person(self, user_id: str) -> str:
        return f"@{user_id}"

    def group(self, group_id: str) -> str:
        return "the managers group"

    def channel(self, channel_id: str) -> str:
        return f"#{channel_id}"

    def link(self, link: Link) -> str:
        return f"{link.label} ({link.url})"

    def duration(self, length: dt.timedelta) -> str:
        return format_timedelta(length, threshold=2, locale="en_US")


PLAIN = Writer()
