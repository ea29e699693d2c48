"""Points amounts as people type them: `10` or `+10` adds, `-5` deducts, `=25` sets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from bot.domain.errors import InvalidInput
from bot.domain.say import Code, Name, Say

MAX_DIGITS = 9  # more is always over any limit (and never converted: Python limits int())
AMOUNT_LIKE = re.compile(r"^[+\-=−]?\d[\d.,]*$|^[+\-=−]\S*$")
# Thousands written the usual ways: 1,000 · 1.000 · 1 000 (also with a no-break space).
_GROUPED = re.compile(r"\d{1,3}(?:([,. \u00a0\u202f])\d{3})(?:\1\d{3})*")
_FRACTION = re.compile(r"[\d,. \u00a0\u202f]*\d[.,]\d+|\d+[.,]")


class NotWhole(StrEnum):
    FRACTION = "fraction"  # 2.5, 1,5, 10.
    WORDS = "words"  # ten, 1O, 5pts
    AMBIGUOUS = "ambiguous"  # 1.000 where "." marks decimals: one, or a thousand?


# One group of three digits after a mark (`1.000`, `12,500`): thousands to some readers,
# decimals to others.
_ONE_GROUP = re.compile(r"(\d{1,3})([.,])(\d{3})")


def ambiguous_readings(text: str, decimal_mark: str) -> tuple[int, ...]:
    """The whole numbers `text` may mean when its one group mark is also the reader's
    decimal mark (`1.000`: 1 or 1,000; `2.500`: only 2,500 is whole); () when it is not
    ambiguous to them."""
    match = _ONE_GROUP.fullmatch(text.strip())
    if match is None or match.group(2) != decimal_mark:
        return ()
    whole, decimals = int(match.group(1)), match.group(3)
    thousands = int(match.group(1) + decimals)
    return (whole, thousands) if decimals == "000" else (thousands,)


# The unit typed with a points number (`10 points birthday`, `10 puntos`, `10pts`), in
# either language whatever the reader's: people type it; nobody means it as more.
POINTS_UNITS = frozenset(
    {"point", "points", "pt", "pts", "pts.", "punto", "puntos", "pto", "ptos", "ptos."}
)
_NUMBER_THEN_WORD = re.compile(r"(.*\d)\s*([^\W\d_]+\.?)")


def is_points_unit(word: str) -> bool:
    return word.casefold() in POINTS_UNITS


def without_points_unit(text: str) -> str:
    """`50 puntos`, `50pts` -> `50`: a points number typed in a form, its unit dropped."""
    number = _NUMBER_THEN_WORD.fullmatch(text.strip())
    return number.group(1) if number and is_points_unit(number.group(2)) else text


def whole_number(text: str, decimal_mark: str = "") -> int | NotWhole:
    """A whole number as people write it (`10`, `1,000`, `1.000`, `1 000`), the same in a
    command and in a form; otherwise what it is instead. With the reader's `decimal_mark`,
    a number it makes ambiguous is AMBIGUOUS (asked, never guessed). The caller limits
    the size (`MAX_DIGITS` digits at most are worth converting)."""
    text = text.strip()
    if decimal_mark and ambiguous_readings(text, decimal_mark):
        return NotWhole.AMBIGUOUS
    if (text.isascii() and text.isdigit()) or _GROUPED.fullmatch(text):
        digits = "".join(ch for ch in text if ch.isdigit()).lstrip("0") or "0"
        return int(digits) if len(digits) <= MAX_DIGITS else 10**MAX_DIGITS
    if _FRACTION.fullmatch(text):
        return NotWhole.FRACTION
    return NotWhole.WORDS


class Op(StrEnum):
    ADD = "add"
    DEDUCT = "deduct"
    SET = "set"


@dataclass(frozen=True)
class PointsChange:
    op: Op
    amount: int

    def new_balance(self, old: int) -> int:
        match self.op:
            case Op.ADD:
                return old + self.amount
            case Op.DEDUCT:
                return old - self.amount
            case Op.SET:
                return self.amount

    def __str__(self) -> str:
        return _SIGNS[self.op] + str(self.amount)

    @classmethod
    def parse(cls, text: str) -> PointsChange:
        """The inverse of `str()`: "+10", "-5", "=25" (as the audit log stores them)."""
        op = next(op for op, sign in _SIGNS.items() if text.startswith(sign))
        return cls(op, int(text[1:]))


_SIGNS = {Op.ADD: "+", Op.DEDUCT: "-", Op.SET: "="}


# How amounts are typed, for the messages that explain them.
HOW = Say(
    "{add} adds, {deduct} deducts, {set} sets the balance",
    add=Code("10"),
    deduct=Code("-5"),
    set=Code("=25"),
)


class AmbiguousAmount(InvalidInput):
    """`1.000` where the reader's decimal mark is "." : which did they mean? Nothing is
    changed until they choose (`readings`, each with the same sign as typed: whole points,
    or a sale's money)."""

    def __init__(self, text: str, sign: str, readings: tuple[int | Decimal, ...]) -> None:
        shown = [Code(f"{sign}{n:,}") for n in readings]
        super().__init__(
            Say(
                "Did you mean {one} or {other}? Nothing was changed yet.",
                one=shown[0],
                other=shown[1],
            )
            if len(shown) == 2
            else Say("Did you mean {one}? Nothing was changed yet.", one=shown[0])
        )
        self.text, self.sign, self.readings = text, sign, readings


def parse_amount(text: str | None, max_points: int, decimal_mark: str = "") -> PointsChange:
    """Parse an amount or raise InvalidInput explaining what is wrong (AmbiguousAmount
    when the reader's `decimal_mark` makes it mean two numbers)."""
    if text is None or not text.strip():
        raise InvalidInput(Say("How many points? Add an amount: {how}.", how=HOW))
    raw = text.strip().replace("−", "-")  # a typographic minus from a phone keyboard
    sign, number = (raw[0], raw[1:]) if raw[:1] in ("+", "-", "=") else ("", raw)
    if decimal_mark and (readings := ambiguous_readings(number, decimal_mark)):
        raise AmbiguousAmount(text.strip(), sign, readings)
    read = whole_number(number)
    if read is NotWhole.FRACTION:
        raise InvalidInput(
            Say("Points are whole numbers: “{text}” has a fraction.", text=Name(text))
        )
    if read is NotWhole.WORDS:
        raise InvalidInput(
            Say(
                "“{text}” is not a number of points. Use a whole number: {how}.",
                text=Name(text),
                how=HOW,
            )
        )
    assert isinstance(read, int)
    if read >= 10**MAX_DIGITS:
        raise InvalidInput(
            Say(
                "That is more points than the largest single change allowed ({most:,}).",
                most=max_points,
            )
        )
    amount = read
    op = {"": Op.ADD, "+": Op.ADD, "-": Op.DEDUCT, "=": Op.SET}[sign]
    if amount == 0 and op is not Op.SET:
        raise InvalidInput(
            Say("Adding or deducting zero points changes nothing: use a non-zero amount.")
        )
    if amount > max_points:
        raise InvalidInput(
            Say(
                "{amount:,} points is more than the largest single change allowed ({most:,}).",
                amount=amount,
                most=max_points,
            )
        )
    return PointsChange(op, amount)
