"""Money amounts as people type them at the till: `250`, `250.00`, `1,250.50`, `$250`.

Read with Babel in the reader's locale (strict: a group mark in the wrong place is not
guessed). An amount that reads two ways is asked, never guessed, by the same rule as
points: one group of three digits after the reader's decimal mark (`1.500`: one and a
half, or fifteen hundred?). An amount written the other way round (`120,50` where "."
marks decimals, as a visitor from Spain writes it) is asked with its one reading (120.50):
a group mark is followed by three digits, so a 2-digit group is never read as thousands.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    parse_decimal,
)

from bot.domain.amounts import AmbiguousAmount
from bot.domain.errors import InvalidInput
from bot.domain.say import Code, Name, Say
from bot.domain.text_keys import fold

MOST_MONEY = Decimal(10) ** 9  # a sale this large is a typing mistake
_SYMBOLS = re.compile(r"^[$€£¥]|[$€£¥]$")
_NOT_DIGITS = re.compile(r"[^\d\s.,]+")
_ONE_GROUP = re.compile(r"(\d{1,3})([.,])(\d{3})")
# `1e5`, `NaN`, `١٠٠`: Decimal reads letters and any script's digits; a till's amount,
# like a number of points, is written with 0-9.
_NOT_TYPED_AMOUNT = re.compile(r"[^\W\d_]|(?![0-9])\d")
EXAMPLE = Code("250.00")
# Where the reader's decimal mark is ".", the other way of writing numbers (`1.250,50`),
# and the other way round.
_OTHER_WAY = {".": "de_DE", ",": "en_US"}


def precision(currency: str) -> int:
    """The decimals a currency's amounts have (2 for MXN, 0 for JPY)."""
    try:
        return int(get_currency_precision(currency.upper()))
    except (KeyError, ValueError):
        return 2


def parse_money(text: str | None, locale: str, decimal_mark: str, currency: str) -> Decimal:
    """A sale's amount, or InvalidInput saying what is wrong (AmbiguousAmount, with one
    reading per meaning, when it reads two ways)."""
    if text is None or not text.strip():
        raise InvalidInput(
            Say("How much was the sale? Add an amount, e.g. {example}.", example=EXAMPLE)
        )
    raw = text.strip()
    # `250 MXN`, `MXN 250`, `250 pesos` (a form's field, a workflow's variable): the amount
    number = before_currency(without_currency(raw, currency), currency)
    if any(other_currency(word, currency) for word in _NOT_DIGITS.findall(number)):
        raise InvalidInput(in_another_currency(raw, currency))
    number = _SYMBOLS.sub("", number).strip()
    places = precision(currency)
    one = _ONE_GROUP.fullmatch(number)
    if one is not None and one.group(2) == decimal_mark:
        small = plain(Decimal(f"{one.group(1)}.{one.group(3)}"))
        large = Decimal(one.group(1) + one.group(3))
        fits = tuple(_shown(r, places) for r in (small, large) if _places(r) <= places)
        raise AmbiguousAmount(raw, "", fits)
    try:
        if _NOT_TYPED_AMOUNT.search(number):
            raise InvalidOperation(number)
        amount = parse_decimal(number, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        other = _the_other_way(number, decimal_mark, places)
        if other is not None:
            raise AmbiguousAmount(raw, "", (_shown(other, places),)) from None
        raise InvalidInput(
            Say(
                "“{text}” is not an amount of money. Write it like {example}.",
                text=Name(raw),
                example=EXAMPLE,
            )
        ) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(
            Say("A sale's amount is more than zero: “{text}” is not.", text=Name(raw))
        )
    if amount >= MOST_MONEY:
        raise InvalidInput(Say("“{text}” is more than any sale I can record.", text=Name(raw)))
    if _places(amount) > places:
        raise InvalidInput(
            Say(
                "{currency} amounts have at most {places} decimals: “{text}” has more.",
                currency=currency,
                places=places,
                text=Name(raw),
            )
        )
    return amount.quantize(Decimal(1).scaleb(-places))


def _places(value: Decimal) -> int:
    exponent = plain(value).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _the_other_way(number: str, decimal_mark: str, places: int) -> Decimal | None:
    """`number` read with the marks the other way round (`120,50` as 120.50 where "."
    marks decimals), if it reads so strictly, is more than zero and has no more decimals
    than the currency; else None. Never a number of letters or other digits."""
    other_locale = _OTHER_WAY.get(decimal_mark)
    if other_locale is None or _NOT_TYPED_AMOUNT.search(number):
        return None
    try:
        value = parse_decimal(number, locale=other_locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        return None
    if not value.is_finite() or value <= 0 or value >= MOST_MONEY:
        return None
    other_mark = "," if decimal_mark == "." else "."
    typed_places = len(number.rpartition(other_mark)[2]) if other_mark in number else 0
    return value if typed_places <= places else None


def _shown(value: Decimal, places: int) -> Decimal:
    """A reading as money is written: with its currency's decimals (`120.50`)."""
    return value.quantize(Decimal(1).scaleb(-places))


def without_currency(note: str, currency: str) -> str:
    """A sale's note without what only names its currency, typed after the amount (`250
    pesos`, `250 MXN regalo`, `250 pesos mexicanos`): nobody means it as the note."""
    words = [fold(word) for word in note.split()]
    for name in _currency_names(currency):
        if tuple(words[: len(name)]) == name:
            rest = note.split(None, len(name))
            return rest[len(name)].strip() if len(rest) > len(name) else ""
    return note


def before_currency(reference: str, currency: str) -> str:
    """A sale's customer without what only names its currency, typed before the amount
    (`juan MXN 250`, `juan $ 250`): nobody means it as part of the customer."""
    words = reference.split()
    folded = [fold(word) for word in words]
    for name in _currency_names(currency):
        if len(words) > len(name) and tuple(folded[-len(name) :]) == name:
            return " ".join(words[: -len(name)])
    return reference


def in_another_currency(text: str, currency: str) -> Say:
    """Why an amount in another currency (`250 USD` in a shop in MXN) is not recorded."""
    return Say(
        "This shop's sales are in {currency}, and “{text}” is not: write the amount in "
        "{currency}, e.g. {example}.",
        currency=currency.upper(),
        text=Name(text),
        example=EXAMPLE,
    )


# Currencies named by habit in a shop that records another (a tourist's dollars): an
# amount in one is refused, never read as the shop's. Not every currency's names: `sol`,
# `real` and `pen` are words and names too.
_HABITUAL = ("USD", "EUR", "CAD", "MXN")
_HABITUAL_SIGNS = (("gbp",), ("£",), ("jpy",), ("¥",))


def other_currency(word: str, currency: str) -> bool:
    """Whether `word` alone names a currency other than `currency` (`USD`, `dólares`, `€`
    in a shop in MXN). `$` is anyone's: the Americas' sign for money."""
    key = (fold(word),)
    if key == ("$",) or key in _currency_names(currency):
        return False
    return key in _HABITUAL_SIGNS or any(
        key in _currency_names(code) for code in _HABITUAL if code != currency.upper()
    )


def names_currency(word: str, currency: str) -> bool:
    """Whether `word` alone names `currency` (`mxn`, `pesos`, `$`)."""
    return (fold(word),) in _currency_names(currency)


@functools.cache
def _currency_names(currency: str) -> tuple[tuple[str, ...], ...]:
    """What names `currency` in either language, folded word by word, longest first: its
    code and symbols, its names (`pesos mexicanos`, `Mexican pesos`) and the word in them
    that names the money (`pesos`, `peso`: the first of a Spanish name, the last of an
    English one)."""
    code = currency.upper()
    found: set[tuple[str, ...]] = {(fold(code),)}
    try:
        for locale, noun in (("es_MX", 0), ("en_US", -1)):
            found.add((fold(str(get_currency_symbol(code, locale=locale))),))
            for count in (1, 2):
                name = tuple(map(fold, str(get_currency_name(code, count, locale)).split()))
                found |= {name, (name[noun],)}
    except (KeyError, ValueError, IndexError):  # a code Babel does not know: the code alone
        pass
    return tuple(sorted(found, key=len, reverse=True))


def plain(value: Decimal) -> Decimal:
    """`1.500` as 1.5 and `1500.0` as 1500 (never `1.5E+3`)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
