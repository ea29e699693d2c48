"""Checking what people typed into the forms, before anything is sent.

Each checker returns the cleaned values and a dict of field -> message (plain text); the
field names are `Field`'s.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain.amounts import (
    MAX_DIGITS,
    NotWhole,
    Op,
    PointsChange,
    ambiguous_readings,
    whole_number,
    without_points_unit,
)
from bot.domain.earning import Promotion
from bot.domain.phones import to_e164
from bot.domain.say import N_, Say, noun, said

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")


class Field(StrEnum):
    """The fields of the forms; errors are reported under these names (and presentation
    uses them as its input blocks' ids)."""

    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"
    PHONE = "phone"
    OFFER_NAME = "offer_name"
    OFFER_DESCRIPTION = "offer_description"
    OFFER_COST = "offer_cost"
    OFFER_AUTO_CLAIM = "offer_auto_claim"
    POINTS_OP = "points_op"
    POINTS_AMOUNT = "points_amount"
    POINTS_REASON = "points_reason"
    REDEEM_OFFER = "redeem_offer"
    CUSTOMER = "customer"  # a type-ahead choice of customer
    REJECT_REASON = "reject_reason"
    # Installed in any workspace: connecting its program, and its settings
    APP_KEY = "app_key"
    PROGRAM_ID = "program_id"
    MANAGERS = "managers"
    APPROVALS_CHANNEL = "approvals_channel"
    SUMMARY_CHANNEL = "summary_channel"
    AUDIT_CHANNEL = "audit_channel"
    SUMMARY_TIME = "summary_time"
    TIMEZONE = "timezone"
    LANGUAGE = "language"
    CLERK_MAX = "clerk_max_points"
    CLERK_DAILY = "clerk_daily_points"
    REGION = "region"
    ALERT_FACTOR = "alert_factor"
    ALERT_DAILY = "alert_daily_floor"
    ALERT_HOURLY = "alert_customer_hourly"
    EARN_POINTS = "earn_points"
    EARN_PER = "earn_per_amount"
    EARN_MINIMUM = "earn_minimum"
    EARN_ROUNDING = "earn_rounding"
    CURRENCY = "currency"
    # A promotion (bot.domain.earning.Promotion)
    PROMO_NAME = "promo_name"
    PROMO_KIND = "promo_kind"  # multiplier or bonus
    PROMO_VALUE = "promo_value"
    PROMO_DAYS = "promo_days"  # the chosen weekdays, comma-separated ("" or none: every day)
    PROMO_STARTS = "promo_starts"
    PROMO_ENDS = "promo_ends"
    PROMO_FIRST_DAY = "promo_first_day"
    PROMO_LAST_DAY = "promo_last_day"
    PROMO_UNDER = "promo_under_balance"
    PROMO_STACKING = "promo_stacking"


NAME_MAX, OFFER_NAME_MAX, DESCRIPTION_MAX, REASON_MAX = 100, 150, 2000, 300

# The Loyalty API's field names (in its 400/422 errors) -> our form fields.
API_FIELDS = {
    "firstName": Field.FIRST_NAME,
    "lastName": Field.LAST_NAME,
    "email": Field.EMAIL,
    "phone": Field.PHONE,
    "name": Field.OFFER_NAME,
    "description": Field.OFFER_DESCRIPTION,
    "pointsCost": Field.OFFER_COST,
    "autoClaim": Field.OFFER_AUTO_CLAIM,
    "points": Field.POINTS_AMOUNT,
}

Errors = dict[str, Say]  # a field's problem, written in the reader's language


@dataclass(frozen=True)
class CustomerFields:
    first_name: str
    last_name: str
    email: str
    phone: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def api_body(self) -> dict[str, str]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class OfferFields:
    name: str
    description: str
    points_cost: int
    auto_claim: bool

    def api_body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "points_cost": self.points_cost,
            "auto_claim": self.auto_claim,
        }


def _text(values: dict[str, str | None], field: Field) -> str:
    return (
        " ".join((values.get(field) or "").split())
        if field != Field.OFFER_DESCRIPTION
        else (values.get(field) or "").strip()
    )


# What _whole calls its number.
# With its article in Spanish ("el costo en puntos"): not the audit's bare field names.
AMOUNT, POINTS_COST, BONUS = N_("amount"), N_("cost in points"), N_("bonus points")


def _whole(
    text: str, label: str, *, minimum: int, maximum: int | None, decimal_mark: str = ""
) -> tuple[int | None, Say | None]:
    what = noun(label)
    if not text:
        return None, Say("Enter the {label}.", label=what)
    number = without_points_unit(text[1:] if text.startswith("+") else text)
    if decimal_mark and (readings := ambiguous_readings(number, decimal_mark)):
        return None, (
            Say(
                "Did you mean {one} or {other}? Type it without the mark: {one_typed} or "
                "{other_typed}.",
                one=f"{readings[0]:,}",
                other=f"{readings[1]:,}",
                one_typed=str(readings[0]),
                other_typed=str(readings[1]),
            )
            if len(readings) == 2
            else Say(
                "Did you mean {one}? Type it without the mark: {one_typed}.",
                one=f"{readings[0]:,}",
                one_typed=str(readings[0]),
            )
        )
    read = whole_number(number)
    if read is NotWhole.FRACTION:
        return None, Say("The {label} must be a whole number, without fractions.", label=what)
    if read is NotWhole.WORDS:
        return None, Say("The {label} must be a whole number like 10 or 1,000.", label=what)
    assert isinstance(read, int)
    if read >= 10**MAX_DIGITS:
        return None, Say("The {label} can be at most {most:,}.", label=what, most=maximum or 0)
    value = read
    if value < minimum:
        return None, Say("The {label} must be at least {least}.", label=what, least=minimum)
    if maximum is not None and value > maximum:
        return None, Say("The {label} can be at most {most:,}.", label=what, most=maximum)
    return value, None


# What each form's points field is called in its messages ("The amount must be…").
_POINTS_LABELS = {
    Field.OFFER_COST: POINTS_COST,
    Field.POINTS_AMOUNT: AMOUNT,
    Field.PROMO_VALUE: BONUS,
}


def _points_field(
    values: dict[str, str | None],
    field: Field,
    errors: Errors,
    least: int,
    most: int,
    decimal_mark: str,
) -> int | None:
    """A form's number of points (`_whole`), or None with its problem put in `errors`."""
    read, problem = _whole(
        _text(values, field),
        _POINTS_LABELS[field],
        minimum=least,
        maximum=most,
        decimal_mark=decimal_mark,
    )
    if problem:
        errors[field] = problem
    return read


def reason_problem(reason: str) -> Say | None:
    """The one limit for reasons, wherever they are typed (command, form, rejection)."""
    if len(reason) > REASON_MAX:
        return Say(
            "Keep the reason to {most} characters (this one has {count:,}).",
            most=REASON_MAX,
            count=len(reason),
        )
    return None


def read_customer_form(
    values: dict[str, str | None], region: str = ""
) -> tuple[CustomerFields, Errors]:
    """The fields as typed; the phone, when valid, as E.164 (what Smart Passes stores)."""
    errors: Errors = {}
    first, last = _text(values, Field.FIRST_NAME), _text(values, Field.LAST_NAME)
    email, phone = _text(values, Field.EMAIL), _text(values, Field.PHONE)
    if not first:
        errors[Field.FIRST_NAME] = Say("Enter a first name.")
    for field, value in ((Field.FIRST_NAME, first), (Field.LAST_NAME, last)):
        if len(value) > NAME_MAX:
            errors[field] = Say("Keep it under {most} characters.", most=NAME_MAX)
    if email and not _EMAIL.match(email):
        errors[Field.EMAIL] = Say("That does not look like an email address (name@example.com).")
    if phone:
        e164 = to_e164(phone, region) if _PHONE_CHARS.match(phone) else None
        if e164 is None:
            errors[Field.PHONE] = (
                Say(
                    "That is not a phone number. Use the international form: + and the "
                    "country code, e.g. +52 999 411 6533, or a national number, e.g. 999 411 "
                    "6533."
                )
                if region
                else Say(
                    "That is not a phone number. Use the international form: + and the "
                    "country code, e.g. +52 999 411 6533."
                )
            )
        else:
            phone = e164
    return CustomerFields(first, last, email, phone), errors


def read_offer_form(
    values: dict[str, str | None], max_cost: int = 1_000_000, decimal_mark: str = ""
) -> tuple[OfferFields | None, Errors]:
    errors: Errors = {}
    name, description = _text(values, Field.OFFER_NAME), _text(values, Field.OFFER_DESCRIPTION)
    if not name:
        errors[Field.OFFER_NAME] = Say("Enter the offer's name, as customers will see it.")
    elif len(name) > OFFER_NAME_MAX:
        errors[Field.OFFER_NAME] = Say("Keep it under {most} characters.", most=OFFER_NAME_MAX)
    if len(description) > DESCRIPTION_MAX:
        errors[Field.OFFER_DESCRIPTION] = Say(
            "Keep it under {most:,} characters.", most=DESCRIPTION_MAX
        )
    cost = _points_field(values, Field.OFFER_COST, errors, 0, max_cost, decimal_mark)
    auto_claim = (values.get(Field.OFFER_AUTO_CLAIM) or "no") == "yes"
    if errors:
        return None, errors
    return OfferFields(name, description, int(cost or 0), auto_claim), errors


def read_points_form(
    values: dict[str, str | None], max_points: int, decimal_mark: str = ""
) -> tuple[PointsChange | None, str, Errors]:
    """The operation (a form with one, a clerk's, shows no choice: it adds; the service
    checks the role whatever the form said), the amount and the reason."""
    errors: Errors = {}
    op_text = values.get(Field.POINTS_OP, Op.ADD.value) or ""
    op = Op(op_text) if op_text in {o.value for o in Op} else None
    if op is None:
        errors[Field.POINTS_OP] = Say("Choose add, deduct or set.")
    minimum = 0 if op is Op.SET else 1
    amount = _points_field(values, Field.POINTS_AMOUNT, errors, minimum, max_points, decimal_mark)
    reason = _text(values, Field.POINTS_REASON)
    if problem := reason_problem(reason):
        errors[Field.POINTS_REASON] = problem
    if errors or op is None or amount is None:
        return None, reason, errors
    return PointsChange(op, amount), reason, errors


def read_redeem_form(values: dict[str, str | None]) -> tuple[int | None, Errors]:
    """The offer chosen in the redeem form (its id)."""
    chosen = (values.get(Field.REDEEM_OFFER) or "").strip()
    if not chosen.isdigit() or len(chosen) > 19:
        return None, {Field.REDEEM_OFFER: Say("Choose the reward to redeem.")}
    return int(chosen), {}


def read_chosen_customer(values: dict[str, str | None]) -> tuple[int | None, Errors]:
    """The customer chosen in a type-ahead select (its id)."""
    chosen = (values.get(Field.CUSTOMER) or "").strip().lstrip("#")
    if not chosen.isdigit() or len(chosen) > 19:
        return None, {Field.CUSTOMER: Say("Type a name, email or phone, then choose the customer.")}
    return int(chosen), {}


def map_api_errors(field_errors: dict[str, list[str]], fallback: Field, message: Say) -> Errors:
    """A 400/422's per-field reasons (Smart Passes' words, as they came) onto our fields;
    anything unplaced onto `fallback`; `message` where a field has no reason given."""
    found: Errors = {}
    for api_field, reasons in field_errors.items():
        field = API_FIELDS.get(api_field, fallback)
        text = said("; ".join(reasons)) if reasons else message
        found[field] = (
            Say("{one}; {other}", one=found[field], other=text) if field in found else text
        )
    return found or {fallback: message}


PROMO_NAME_MAX = 60
MOST_MULTIPLIER = Decimal(10)
MOST_BONUS = 100_000


def read_promotion_form(
    values: dict[str, str | None], decimal_mark: str = ""
) -> tuple[Promotion | None, Errors]:
    """A new promotion from its form: a name, double points (a multiplier above 1, `x2`
    too) or a fixed bonus (points, read as the points form reads them: `1.000` is asked),
    the days and hours it runs (local), its dates, who gets it."""
    errors: Errors = {}
    name = _text(values, Field.PROMO_NAME)
    if not name:
        errors[Field.PROMO_NAME] = Say("Give the promotion a name, like Tuesday double points.")
    elif len(name) > PROMO_NAME_MAX:
        errors[Field.PROMO_NAME] = Say("At most {most} characters.", most=PROMO_NAME_MAX)
    bonus_kind = (values.get(Field.PROMO_KIND) or "multiplier") == "bonus"
    multiplier, bonus = Decimal(1), 0
    if bonus_kind:
        bonus = _points_field(values, Field.PROMO_VALUE, errors, 1, MOST_BONUS, decimal_mark) or 0
    else:
        # `x2`, `2x`, `×1.5`: the times sign people write a multiplier with.
        value = _text(values, Field.PROMO_VALUE).strip("xX×* ").replace(",", ".")
        try:
            number = Decimal(value)
            if not 1 < number <= MOST_MULTIPLIER or number.as_tuple().exponent < -2:  # type: ignore[operator]
                raise ValueError(value)
            multiplier = number
        except (ArithmeticError, ValueError):
            errors[Field.PROMO_VALUE] = Say(
                "Multiply by a number above 1 and at most 10, like 2 or 1.5."
            )
    days = {int(d) for d in (values.get(Field.PROMO_DAYS) or "").split(",") if d.strip().isdigit()}
    weekdays = frozenset(d for d in days if 0 <= d <= 6) or frozenset(range(7))
    starts, ends = _time(values, Field.PROMO_STARTS), _time(values, Field.PROMO_ENDS)
    if (starts is None) != (ends is None) or (starts is not None and starts == ends):
        errors[Field.PROMO_ENDS] = Say(
            "Give both a start and an end time (an end before the start runs past midnight), "
            "or neither for all day."
        )
    first, last = _date(values, Field.PROMO_FIRST_DAY), _date(values, Field.PROMO_LAST_DAY)
    if first and last and last < first:
        errors[Field.PROMO_LAST_DAY] = Say("The last day comes before the first.")
    under_text = _text(values, Field.PROMO_UNDER)
    under = None
    if under_text:
        under, problem = _whole(under_text, N_("balance"), minimum=1, maximum=10**MAX_DIGITS - 1)
        if problem:
            errors[Field.PROMO_UNDER] = problem
    stacking = "stacking" in (values.get(Field.PROMO_STACKING) or "").split(",")
    if errors:
        return None, errors
    return (
        Promotion(
            name,
            multiplier=multiplier,
            bonus=bonus,
            weekdays=weekdays,
            starts=starts,
            ends=ends if starts is not None else None,
            first_day=first,
            last_day=last,
            under_balance=under,
            stacking=stacking,
        ),
        errors,
    )


def _time(values: dict[str, str | None], field: Field) -> dt.time | None:
    try:
        return dt.time.fromisoformat(values.get(field) or "")
    except ValueError:
        return None


def _date(values: dict[str, str | None], field: Field) -> dt.date | None:
    try:
        return dt.date.fromisoformat(values.get(field) or "")
    except ValueError:
        return None
