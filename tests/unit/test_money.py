"""A sale's amount as people type it (bot/domain/money.py), a promotion's form
(bot.core.validation) and its record (what the store and an audit entry keep)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from bot.core.validation import read_promotion_form
from bot.domain.amounts import AmbiguousAmount
from bot.domain.earning import Promotion
from bot.domain.errors import InvalidInput
from bot.domain.money import before_currency, other_currency, parse_money, without_currency

LOCALES = ["en_US", "es_MX"]


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(999_999), places=2),
    st.sampled_from(LOCALES),
)
def test_an_amount_written_the_readers_way_reads_back_or_is_asked(amount, locale) -> None:
    written = format_decimal(amount, format="#,##0.00", locale=locale)
    assert parse_money(written, locale, ".", "MXN") == amount
    plain = format_decimal(amount, format="0.##", locale=locale)
    try:
        assert parse_money(plain, locale, ".", "MXN") == amount
    except AmbiguousAmount as asked:  # 1.5 never: "1.500" is only ever asked
        assert amount in asked.readings


@pytest.mark.parametrize(
    ("typed", "readings"),
    [
        ("1.500", ("1.50", "1500.00")),
        ("250.005", ("250005.00",)),
        # Written the other way round (a decimal comma): its one reading is asked, never
        # a thousands reading of a 2-digit group (120,50 is never 12,050).
        ("120,50", ("120.50",)),
        ("12,5", ("12.50",)),
        ("$0,99", ("0.99",)),
        ("1.234,56", ("1234.56",)),
        ("1.234.567", ("1234567.00",)),
    ],
)
def test_an_amount_that_reads_two_ways_is_asked(typed, readings) -> None:
    for locale in LOCALES:
        with pytest.raises(AmbiguousAmount) as asked:
            parse_money(typed, locale, ".", "MXN")
        # as money is written: with the currency's decimals (shown so on the buttons)
        assert tuple(map(str, asked.value.readings)) == readings


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "How much was the sale?"),
        ("abc", "is not an amount of money"),
        ("1e5", "is not an amount of money"),  # never a till's way to write 100,000
        ("2E3", "is not an amount of money"),
        ("NaN", "is not an amount of money"),
        ("١٠٠", "is not an amount of money"),  # refused as points refuse them
        ("１００", "is not an amount of money"),
        ("1,0000", "is not an amount of money"),  # 4 decimals either way round
        ("12,345,67", "is not an amount of money"),
        ("1,5e3", "is not an amount of money"),
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("1000000000", "more than any sale"),
    ],
)
def test_what_is_not_money_is_explained(typed, said) -> None:
    with pytest.raises(InvalidInput, match=said):
        parse_money(typed, "en_US", ".", "MXN")


@pytest.mark.parametrize(
    "typed", ["250 MXN", "MXN 250", "250 pesos", "$ 250", "250 pesos mexicanos", "250 mxn"]
)
def test_an_amount_with_its_currency_named_is_the_amount(typed) -> None:
    """As a workflow's variable or a form's field may hold it: the currency is no part of
    the number (another one still is not an amount of this shop's)."""
    assert parse_money(typed, "es_MX", ".", "MXN") == Decimal("250.00")


@pytest.mark.parametrize(
    ("typed", "currency"),
    [
        ("250 USD", "MXN"),
        ("USD 250", "MXN"),
        ("250 dólares", "MXN"),
        ("€250", "MXN"),
        ("250€", "MXN"),
        ("250 euros", "MXN"),
        ("£ 250", "MXN"),
        ("250 pesos", "USD"),  # a shop in dollars, paid in pesos
        ("250 MXN", "USD"),
    ],
)
def test_an_amount_in_another_currency_is_refused_not_read_as_the_shops(typed, currency) -> None:
    """€250 in a shop in MXN is not 250 MXN: the reader is told the shop's currency."""
    with pytest.raises(InvalidInput, match=f"This shop's sales are in {currency}") as refused:
        parse_money(typed, "en_US", ".", currency)
    assert f"“{typed}” is not" in str(refused.value.message)


@pytest.mark.parametrize(
    ("word", "other"),
    [
        *[("usd", True), ("Dólares", True), ("€", True), ("gbp", True), ("$", False)],
        *[("pesos", False), ("mxn", False), ("sol", False), ("real", False), ("pen", False)],
    ],
)
def test_only_habitual_currencies_are_another_shops(word, other) -> None:
    """In a shop in MXN: `$` and the peso are its own; `sol`, `real`, `pen` are words
    (and names) before they are currencies."""
    assert other_currency(word, "MXN") is other


def test_a_currency_without_decimals_refuses_them() -> None:
    assert parse_money("$1,200", "en_US", ".", "JPY") == Decimal(1200)
    with pytest.raises(InvalidInput, match="JPY amounts have at most 0 decimals"):
        parse_money("12.5", "en_US", ".", "JPY")
    with pytest.raises(InvalidInput, match="is not an amount of money"):
        parse_money("12,5", "en_US", ".", "JPY")  # the other way round, it has decimals too


promotions = st.builds(
    Promotion,
    name=st.text(min_size=1, max_size=20),
    multiplier=st.decimals(min_value=1, max_value=10, places=2),
    bonus=st.integers(0, 1000),
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    first_day=st.none() | st.dates(),
    under_balance=st.none() | st.integers(1, 10**6),
    stacking=st.booleans(),
    paused=st.booleans(),
)


@given(promotions)
def test_a_promotions_record_gives_it_back(promotion) -> None:
    assert Promotion.from_record(promotion.as_record(), promotion.id) == promotion


def test_the_promotion_form_reads_a_window_past_midnight_and_a_welcome_bonus() -> None:
    promotion, errors = read_promotion_form(
        {
            "promo_name": " Late  night ",
            "promo_kind": "bonus",
            "promo_value": "50",
            "promo_days": "4,5",
            "promo_starts": "22:00",
            "promo_ends": "02:00",
            "promo_first_day": "2026-12-01",
            "promo_last_day": "2026-12-31",
            "promo_under_balance": "1",
            "promo_stacking": "stacking",
        }
    )
    assert errors == {}
    assert promotion == Promotion(
        "Late night",
        bonus=50,
        weekdays=frozenset({4, 5}),
        starts=dt.time(22),
        ends=dt.time(2),
        first_day=dt.date(2026, 12, 1),
        last_day=dt.date(2026, 12, 31),
        under_balance=1,
        stacking=True,
    )
    _, errors = read_promotion_form(
        {
            "promo_name": "x" * 61,
            "promo_kind": "multiplier",
            "promo_value": "11",
            "promo_first_day": "2026-12-31",
            "promo_last_day": "2026-12-01",
            "promo_under_balance": "lots",
        }
    )
    assert set(errors) == {"promo_name", "promo_value", "promo_last_day", "promo_under_balance"}


@pytest.mark.parametrize(
    ("kind", "typed", "mark", "read"),
    [
        ("multiplier", "x2", ".", Decimal(2)),
        ("multiplier", "1.5x", ".", Decimal("1.5")),
        ("multiplier", "× 3", ",", Decimal(3)),
        ("multiplier", "1,5", ",", Decimal("1.5")),
        ("bonus", "1,000", ".", 1000),  # was read as 1
        ("bonus", "1.000", ",", 1000),  # was read as 1
        ("bonus", "50 puntos", ".", 50),
        ("bonus", "1.000", ".", "Did you mean 1 or 1,000? Type it without the mark: 1 or 1000."),
        ("bonus", "2.5", ".", "The bonus points must be a whole number, without fractions."),
        ("bonus", "0", ".", "The bonus points must be at least 1."),
        ("bonus", "500,000", ".", "The bonus points can be at most 100,000."),
        ("multiplier", "x", ".", "Multiply by a number above 1 and at most 10, like 2 or 1.5."),
    ],
)
def test_a_promotions_value_is_read_as_people_write_it(kind, typed, mark, read) -> None:
    """A multiplier with its times sign; bonus points as the points form reads points
    (thousands marks, an amount two readers read apart asked, the unit after it)."""
    promotion, errors = read_promotion_form(
        {"promo_name": "Doble", "promo_kind": kind, "promo_value": typed}, mark
    )
    if isinstance(read, str):
        assert promotion is None and str(errors["promo_value"]) == read
    else:
        assert errors == {}
        assert (promotion.multiplier if kind == "multiplier" else promotion.bonus) == read


@pytest.mark.parametrize(
    ("currency", "note", "kept"),
    [
        ("MXN", "pesos", ""),
        ("MXN", "Pesos regalo", "regalo"),
        ("MXN", "mxn  ticket 18", "ticket 18"),
        ("MXN", "Mexican pesos gift", "gift"),
        ("MXN", "$ regalo", "regalo"),
        ("MXN", "regalo pesos", "regalo pesos"),  # only what follows the amount
        ("MXN", "pesitos", "pesitos"),
        ("MXN", "dólares", "dólares"),  # another currency: not this sale's unit
        ("USD", "dolares de regalo", "de regalo"),  # accents ignored
        ("USD", "US dollars", ""),
        ("XYZ", "xyz note", "note"),  # a code Babel does not know: the code alone
    ],
)
def test_the_currency_after_the_amount_is_not_the_note(currency, note, kept) -> None:
    assert without_currency(note, currency) == kept


@pytest.mark.parametrize(
    ("currency", "reference", "kept"),
    [
        ("MXN", "juan MXN", "juan"),
        ("MXN", "Juan Pérez $", "Juan Pérez"),
        ("MXN", "1870 pesos mexicanos", "1870"),
        ("MXN", "juan dólares", "juan dólares"),  # another currency
        ("MXN", "pesos", "pesos"),  # nothing before it: the customer, as typed
        ("MXN", "Pesos Ruiz", "Pesos Ruiz"),  # only what comes right before the amount
    ],
)
def test_the_currency_before_the_amount_is_not_the_customer(currency, reference, kept) -> None:
    assert before_currency(reference, currency) == kept
