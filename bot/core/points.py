"""Points amounts as people type them: `10` or `+10` adds, `-5` deducts, `=25` sets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core.errors import InvalidInput
from bot.core.say import Code, Name, Say

MAX_DIGITS = 9  # more is always over any limit (and never converted: Python limits int())
AMOUNT_LIKE = re.compile(r"^[+\-=−]?\d[\d.,]*$|^[+\-=−]\S*$")
# Thousands written the usual ways: 1,000 · 1.000 · 1 000 (also with a no-break space).
_GROUPED = re.compile(r"\d{1,3}(?:([,. \u00a0\u202f])\d{3})(?:\1\d{3})*")
_FRACTION = re.compile(r"[\d,. \u00a0\u202f]*\d[.,]\d+|\d+[.,]")


class NotWhole(StrEnum):
    FRACTION = "fraction"  # 2.5, 1,5, 10.
    WORDS = "words"  # ten, 1O, 5pts


def whole_number(text: str) -> int | NotWhole:
    """A whole number as people write it (`10`, `1,000`, `1.000`, `1 000`), the same in a
    command and in a form; otherwise what it is instead. The caller limits the size
    (`MAX_DIGITS` digits at most are worth converting)."""
    text = text.strip()
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


def parse_amount(text: str | None, max_points: int) -> PointsChange:
    """Parse an amount or raise InvalidInput explaining what is wrong."""
    if text is None or not text.strip():
        raise InvalidInput(Say("How many points? Add an amount: {how}.", how=HOW))
    raw = text.strip().replace("−", "-")  # a typographic minus from a phone keyboard
    sign, number = (raw[0], raw[1:]) if raw[:1] in ("+", "-", "=") else ("", raw)
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
