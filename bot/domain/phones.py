"""Phone numbers as people say and write them, with Google's libphonenumber (`phonenumbers`).

Smart Passes stores E.164 (`+529994116533`). With a default region (`MX`), a national
number in any usual writing (`999 411 6533`, `(999) 411-6533`, `9994116533`) is the same
number; without one, only the international form (`+52 …`) can be read.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from bot.domain.text_keys import phone_digits


@lru_cache(maxsize=4096)
def _parsed(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, region or None)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def to_e164(text: str, region: str = "") -> str | None:
    """`text` as E.164 (`+529994116533`), or None when it is not a valid phone number.
    A Mexican mobile written the old way stays so (`+5215512345678`)."""
    number = _parsed(text.strip(), region) or _old_mexican_national(text.strip(), region)
    if number is not None:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return _old_mexican_mobile(text.strip())


_WRITTEN_PHONE = re.compile(r"^\+[\d\s().-]+$")
_WRITTEN_NATIONAL = re.compile(r"^[\d\s().-]+$")
# Dialled before a Mexican number until 2019, and still in many contact lists: 044 and
# 045 (a mobile), 01 (long distance). libphonenumber no longer strips them.
_OLD_MEXICAN_PREFIXES = (("044", 13), ("045", 13), ("01", 12))


def _old_mexican_national(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """`044 55 1234 5678` as `55 1234 5678` in a Mexican shop, when that is valid."""
    if region != "MX" or not _WRITTEN_NATIONAL.match(text):
        return None
    digits = phone_digits(text)
    for prefix, length in _OLD_MEXICAN_PREFIXES:
        if len(digits) == length and digits.startswith(prefix):
            return _parsed(digits[len(prefix) :], region)
    return None


def _old_mexican_mobile(text: str) -> str | None:
    """`+52 1 55 1234 5678` as `+5215512345678` when today's spelling of it
    (`+52 55 1234 5678`) is a valid number; else None."""
    if not _WRITTEN_PHONE.match(text):
        return None
    digits = phone_digits(text)
    today = mexican_mobile_twin(digits) if len(digits) == 13 else None
    return "+" + digits if today is not None and _parsed("+" + today, "") else None


def international(text: str) -> str:
    """A stored number as people read it (`+52 999 411 6533`); anything else unchanged."""
    number = _parsed(text.strip(), "") if text.strip().startswith("+") else None
    if number is not None:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    old = _old_mexican_mobile(text.strip())
    if old is not None:  # in groups as today's, with its 1: +52 1 55 1234 5678
        today = international("+" + (mexican_mobile_twin(old[1:]) or ""))
        return today.replace("+52 ", "+52 1 ", 1)
    return text


def lookup_keys(text: str, region: str = "") -> list[str]:
    """The index keys a typed number may stand for: its digits as typed and, when it
    reads as a number of `region` (or an international one), its E.164 digits; and a
    Mexican number in its other spelling (`mexican_mobile_twin`)."""
    keys = [phone_digits(text)]
    e164 = to_e164(text, region)
    if e164 is not None and phone_digits(e164) not in keys:
        keys.append(phone_digits(e164))
    for key in list(keys):
        twin = mexican_mobile_twin(key)
        if twin is not None and twin not in keys:
            keys.append(twin)
    return keys


def mexican_mobile_twin(digits: str) -> str | None:
    """Mexico's mobiles were written +52 1 and ten digits until 2019, and many customer
    lists still hold them so (`5215512345678`); today they are +52 and the ten digits.
    Either spelling's E.164 digits give the other's, so a clerk typing the number as it
    is said today finds a customer stored the old way, and the other way round."""
    if len(digits) == 13 and digits.startswith("521"):
        return "52" + digits[3:]
    if len(digits) == 12 and digits.startswith("52"):
        return "521" + digits[2:]
    return None


def numbers_in(text: str, region: str = "") -> list[str]:
    """The phone numbers written in a text (a message), as E.164, in order, each once:
    international ones anywhere; national ones when `region` says whose they are."""
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region or None):
        e164 = phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found
