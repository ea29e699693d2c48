"""What a subcommand is: its words (name, Spanish name, help), and what it does with a
request read once from what was typed (`Typed`). The table itself is in
handlers/subcommands.py; this module holds the shapes and the lookup by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from bot.domain.amounts import Op, PointsChange
from bot.i18n import language

if TYPE_CHECKING:
    from handlers.context import Env


class Usage(NamedTuple):
    """One line of help: a form of use, what it does, examples."""

    usage: str
    summary: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Typed:
    """A subcommand as typed, read once (before the ack) into what it asks: the ack-time
    check, the form opener and the work after the ack all use this one reading."""

    words: tuple[str, ...] = ()  # what followed the subcommand (action words in English)
    action: str = ""  # customer/offer: new, edit, delete, cancel, publish ("": show it)
    reference: str = ""  # whom: a customer (or an offer) as typed
    change: PointsChange | None = None  # how much: a points change (None: the form asks)
    amount_unread: bool = False  # points: words, none an amount (where the customer ends?)
    money: Decimal | None = None  # a sale's amount
    reason: str = ""  # why
    rest: str = ""  # what followed the customer (a picker runs the command again with it)
    by_points: bool = False  # `customers top`
    count: int = 0  # `customers top 5`: how many (0: a page at a time)
    op: Op | None = None  # points without an amount: what the form starts on (`quitar juan`)

    @property
    def text(self) -> str:
        return " ".join(self.words)


def _no(typed: Typed) -> bool:
    return False


@dataclass(frozen=True)
class Subcommand:
    name: str
    es: str  # the word in Spanish (both are always understood; help shows the reader's)
    brief: str  # its line in the short help (a msgid: shown in the reader's language)
    usages: tuple[Usage, ...]
    run: Callable[[Env, Typed], None]
    # Reads what was typed, with no I/O, before the ack; raises InvalidInput (or
    # AmbiguousAmount, asked with a button per reading).
    read: Callable[[Env, list[str]], Typed] = lambda env, args: Typed(tuple(args))
    aliases: tuple[str, ...] = ()
    # True when this request opens a modal (which needs the request's fresh trigger_id).
    opens_form: Callable[[Typed], bool] = _no
    # True when this request changes something: the command then acts once (its
    # trigger_id is claimed), however often the same request arrives.
    changes: Callable[[Typed], bool] = _no


# The table, by every name it is known by (filled by handlers/subcommands.py).
ROWS: list[Subcommand] = []
BY_NAME: dict[str, Subcommand] = {}


def table(rows: tuple[Subcommand, ...]) -> tuple[Subcommand, ...]:
    ROWS[:] = rows
    BY_NAME.clear()
    BY_NAME.update({name: row for row in rows for name in (row.name, row.es, *row.aliases)})
    return rows


# The words after `customer`, `offer`, `offers` and `customers`, in Spanish too.
_ACTION_WORDS = {
    "nuevo": "new",
    "nueva": "new",
    "editar": "edit",
    "borrar": "delete",
    "eliminar": "delete",
    "publicar": "publish",
    "cancelar": "cancel",
    # as said to someone (tú), as Spanish speakers type them
    **{"edita": "edit", "borra": "delete", "elimina": "delete", "publica": "publish"},
    "cancela": "cancel",
    # signing a customer up: `alta María López`, `register Rosa Díaz rosa@example.com`
    **dict.fromkeys(("alta", "registrar", "registra", "inscribir", "inscribe"), "new"),
    **dict.fromkeys(("register", "signup", "enroll", "enrol"), "new"),
    "borrador": "draft",
    "borradores": "draft",
    "publicada": "published",
    "publicadas": "published",
    "cancelada": "canceled",
    "canceladas": "canceled",
}
TOP_WORDS = ("top", "mejores")


# The actions after `cliente` and `oferta` as a Spanish reader is shown them.
_SPANISH_ACTIONS = {
    ("customer", "new"): "nuevo",
    ("offer", "new"): "nueva",
    **{(owner, "edit"): "editar" for owner in ("customer", "offer")},
    **{(owner, "delete"): "eliminar" for owner in ("customer", "offer")},
    ("offer", "publish"): "publicar",
    ("offer", "cancel"): "cancelar",
}


def action_said(owner: str, action: str) -> str:
    """An action after `customer` or `offer` (`delete`) as the help shows it (`eliminar`)."""
    return action if language() != "es" else _SPANISH_ACTIONS.get((owner, action), action)


def action_word(word: str) -> str:
    """The action a word after `customer` or `offer` names, in English ("" for none)."""
    folded = word.lower()
    if folded in ("new", "edit", "delete", "publish", "cancel"):
        return folded
    return (
        _ACTION_WORDS.get(folded, "") if folded not in ("borrador", "borradores") else ""
    )  # `/loyalty customers top`: by points, most first


def canonical(row: Subcommand | None, args: list[str]) -> list[str]:
    """`oferta nueva` is `offer new`: the first word after the subcommand, in English."""
    takes_words = row is not None and row.name in ("customer", "offer", "offers")
    if takes_words and args and args[0].lower() in _ACTION_WORDS:
        return [_ACTION_WORDS[args[0].lower()], *args[1:]]
    return args
