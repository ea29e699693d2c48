"""Phone numbers as people say and write them, with Google's libphonenumber (`phonenumbers`).

Smart Passes stores E.164 (`+529994116533`). With a default region (`MX`), a national
number in any usual writing (`999 411 6533`, `(999) 411-6533`, `9994116533`) is the same
number; without one, only the international form (`+52 …`) can be read.
"""

from __future__ import annotations

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
    """`text` as E.164 (`+529994116533`), or None when it is not a valid phone number."""
    number = _parsed(text.strip(), region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


def international(text: str) -> str:
    """A stored number as people read it (`+52 999 411 6533`); anything else unchanged."""
    number = _parsed(text.strip(), "") if text.strip().startswith("+") else None
    if number is None:
        return text
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def lookup_keys(text: str, region: str = "") -> list[str]:
    """The index keys a typed number may stand for: its digits as typed and, when it
    reads as a number of `region` (or an international one), its E.164 digits."""
    keys = [phone_digits(text)]
    e164 = to_e164(text, region)
    if e164 is not None and phone_digits(e164) not in keys:
        keys.append(phone_digits(e164))
    return keys


def numbers_in(text: str, region: str = "") -> list[str]:
    """The phone numbers written in a text (a message), as E.164, in order, each once:
    international ones anywhere; national ones when `region` says whose they are."""
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region or None):
        e164 = phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found
