"""Phone numbers as people say them (bot.domain.phones), in lookups, commands and forms."""

from __future__ import annotations

import pytest

from bot.core.index.customer_index import CustomerIndex
from bot.core.validation import Field, read_customer_form
from bot.domain.phones import international, lookup_keys, to_e164
from bot.smartpasses.models import Customer
from handlers.parsing import split_reference, tokenize

JUAN = Customer(id=1870, firstName="Juan", lastName="Pérez", phone="+529994116533", points=5)


@pytest.mark.parametrize(
    "typed", ["999 411 6533", "(999) 411-6533", "9994116533", "+52 999 411 6533", "+529994116533"]
)
def test_national_numbers_in_any_writing_find_the_customer_with_a_region(typed: str) -> None:
    index = CustomerIndex(lambda: [JUAN], region="MX")
    assert index.find(typed).found == JUAN


def test_without_a_region_only_the_international_form_finds() -> None:
    index = CustomerIndex(lambda: [JUAN])
    assert index.find("+52 999 411 6533").found == JUAN
    assert index.find("999 411 6533").matches == []


def test_e164_and_international_formats() -> None:
    assert to_e164("(999) 411-6533", "MX") == "+529994116533"
    assert to_e164("999 411 6533") is None  # national, and no region to read it in
    assert to_e164("+52 123", "MX") is None  # impossible
    assert international("+529994116533") == "+52 999 411 6533"
    assert international("not a phone") == "not a phone"
    assert lookup_keys("999 411 6533", "MX") == ["9994116533", "529994116533", "5219994116533"]


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("+5215512345678", "55 1234 5678"),  # stored the way mobiles were written before 2019
        ("+5215512345678", "+52 55 1234 5678"),
        ("+525512345678", "+52 1 55 1234 5678"),  # typed the old way, stored today's
        ("+525512345678", "+5215512345678"),
        ("+525512345678", "044 55 1234 5678"),  # dialled from a landline before 2019
        ("+525512345678", "045 55 1234 5678"),
        ("+528112345678", "01 81 1234 5678"),  # long distance, before 2019
        ("+5215512345678", "0445512345678"),
    ],
)
def test_a_mexican_mobile_is_found_in_either_spelling(stored: str, typed: str) -> None:
    pedro = Customer(id=7, firstName="Pedro", lastName="Páramo", phone=stored, points=0)
    index = CustomerIndex(lambda: [JUAN, pedro], region="MX")
    assert index.find(typed).found == pedro


def test_a_mexican_mobile_stored_the_old_way_is_shown_in_groups() -> None:
    assert international("+5215512345678") == "+52 1 55 1234 5678"
    assert international("+525512345678") == "+52 55 1234 5678"


def test_the_old_mexican_prefixes_are_read_only_in_a_mexican_shop() -> None:
    assert to_e164("044 55 1234 5678", "MX") == "+525512345678"
    assert to_e164("01 800 123 4567", "MX") == "+528001234567"
    assert to_e164("044 55 1234 5678", "") is None  # no region: only +52 reads
    assert to_e164("044 55 1234 5678", "ES") is None
    assert to_e164("044 55 1234", "MX") is None  # the number after it must be whole


def test_only_a_mexican_number_has_a_twin() -> None:
    assert lookup_keys("+34 612 345 678", "MX") == ["34612345678"]
    assert lookup_keys("+1 415 555 0100", "MX") == ["14155550100"]


@pytest.mark.parametrize(
    ("text", "reference", "amount"),
    [
        ("points 999 411 6533 10 birthday", "999 411 6533", "10"),
        ("points (999) 411-6533 10", "(999) 411-6533", "10"),
        ("points 999 411 6533", "999 411 6533", None),
        ("points 1870 10 birthday", "1870", "10"),  # an id and an amount stay apart
        ("points 1870 100", "1870", "100"),
        ("points +52 1 55 1234 5678", "+52 1 55 1234 5678", None),  # a mobile the old way
        ("points +52 1 55 1234 5678 5", "+52 1 55 1234 5678", "5"),
        ("points +52 999 411 6533 10", "+52 999 411 6533", "10"),
        ("points 044 55 1234 5678 10", "044 55 1234 5678", "10"),
    ],
)
def test_a_national_number_typed_in_groups_is_one_reference(text, reference, amount) -> None:
    got_reference, got_amount, _ = split_reference(tokenize(text)[1:], "MX")
    assert (got_reference, got_amount) == (reference, amount)


def test_forms_send_e164_and_reject_impossible_numbers_on_the_field() -> None:
    values = {Field.FIRST_NAME: "Rosa", Field.PHONE: "(999) 411-6534"}
    fields, errors = read_customer_form(values, "MX")
    assert errors == {} and fields.phone == "+529994116534"
    _, errors = read_customer_form({**values, Field.PHONE: "+52 123"}, "MX")
    assert "not a phone number" in str(errors[Field.PHONE])
    _, errors = read_customer_form({**values, Field.PHONE: "999 411 6534"})  # no region
    assert "international form" in str(errors[Field.PHONE])
    # A Mexican mobile stored the old way (the edit form shows it so) saves as it is.
    fields, errors = read_customer_form({**values, Field.PHONE: "+52 1 55 1234 5678"}, "MX")
    assert errors == {} and fields.phone == "+5215512345678"
    _, errors = read_customer_form({**values, Field.PHONE: "+52 1 123 4567 890"}, "MX")
    assert "not a phone number" in str(errors[Field.PHONE])
