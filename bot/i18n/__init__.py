"""Whose language: each person reads the bot in theirs (English or Spanish).

The language of the request being answered lives in a context variable, set by the
middleware from the person's Slack locale (and carried into the work done after the ack);
channel posts are written in `LOYALTY_LANGUAGE`. Presentation translates as it writes:
every `Say` template and every `_("…")` string is a msgid of the gettext catalog
(`bot/i18n/locale/<lang>/LC_MESSAGES/messages.po`, read directly, so no compile step can
be forgotten). Numbers and dates are formatted for the language's locale with Babel.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as gettext_module
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_timedelta, get_day_names
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, get_currency_precision, get_decimal_symbol

LANGUAGES = ("en", "es")
DEFAULT = "en"
LOCALES = {"en": "en_US", "es": "es_MX"}  # how numbers and dates are written
CATALOGS = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


def language() -> str:
    """The language being written now."""
    return _current.get()


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Write in `lang` inside the block."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def use(lang: str) -> None:
    """Write in `lang` from now on in this context (a request's thread: Bolt runs the
    listener after the middleware returns, so a `with` block would end too early)."""
    _current.set(lang if lang in LANGUAGES else DEFAULT)


def of_locale(locale: str | None, fallback: str = DEFAULT) -> str:
    """A Slack locale (`es-MX`, `en-US`) as one of our languages: `es-*` is Spanish."""
    if not locale:
        return fallback
    return "es" if locale.lower().startswith("es") else "en"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> msgstr for `lang` (translated, not fuzzy); English has none."""
    path = CATALOGS / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.exists():
        return {}
    with path.open("rb") as po:
        messages = read_po(po)
    return {
        str(m.id): str(m.string)
        for m in messages
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


@functools.cache
def plural_catalog(lang: str) -> tuple[dict[str, tuple[str, ...]], Any]:
    """singular msgid -> its translated forms, and the language's rule choosing one."""
    path = CATALOGS / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.exists():
        return {}, None
    with path.open("rb") as po:
        messages = read_po(po)
    forms = {
        str(m.id[0]): tuple(str(f) for f in m.string)
        for m in messages
        if isinstance(m.id, tuple) and m.string and all(m.string) and not m.fuzzy
    }
    return forms, gettext_module.c2py(messages.plural_expr)


def ngettext(singular: str, plural: str, count: int) -> str:
    """`singular` or `plural` as `count` asks, in the current language (its own plural
    rule and forms from the catalog: "1 oferta en borrador", "2 ofertas en borrador")."""
    forms, rule = plural_catalog(language())
    if singular in forms and rule is not None:
        chosen = forms[singular]
        return chosen[min(int(rule(count)), len(chosen) - 1)]
    return singular if count == 1 else plural


def gettext(message: str) -> str:
    """`message` in the current language (itself when there is no translation)."""
    return catalog(language()).get(message, message)


def _(message: str) -> str:
    """Mark and translate a string of ours (Babel extracts `_` and `Say`)."""
    return gettext(message)


def number(value: int | Decimal, *, signed: bool = False) -> str:
    """`1,000` as the current language's readers write it (`signed`: `+1,000`, `-5`); a
    Decimal with the decimals it has (`120.50`, not `120.5`)."""
    shown = -value if signed and value < 0 else value
    exponent = shown.as_tuple().exponent if isinstance(shown, Decimal) else 0
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    pattern = "#,##0." + "0" * places if places else None
    written = format_decimal(shown, format=pattern, locale=LOCALES[language()])
    return (("-" if value < 0 else "+") + written) if signed else written


def money(amount: Decimal, currency: str, *, trimmed: bool = False) -> str:
    """`250.00 MXN`: the amount with its currency's decimals, as the reader writes numbers
    (the code after it, as on a till receipt, rather than a symbol several currencies
    share); `trimmed`: a whole amount without them (`10 MXN`, in an earning rule)."""
    places = int(get_currency_precision(currency))
    if trimmed and amount == amount.to_integral_value():
        places = 0
    pattern = "#,##0." + "0" * places if places else "#,##0"
    written = format_decimal(
        amount, format=pattern, locale=LOCALES[language()], decimal_quantization=True
    )
    return f"{written} {currency}"


def locale_name() -> str:
    """The current language's Babel locale (`en_US`, `es_MX`): how its readers write numbers."""
    return LOCALES[language()]


def decimal_mark() -> str:
    """How the current language's readers mark decimals (`.` in en_US and es_MX): a
    number with one group after it (`1.000`) is asked about, never guessed."""
    return str(get_decimal_symbol(LOCALES[language()]))


def day(value: dt.date, pattern: str = "EEE d MMM y") -> str:
    """A date as the current language's readers write it (`jue 26 nov 2026`)."""
    return format_date(value, pattern, locale=LOCALES[language()])


def weekday_names() -> list[str]:
    """Monday to Sunday, abbreviated, as the current language's readers write them."""
    names = get_day_names("abbreviated", locale=LOCALES[language()])
    return [str(names[n]) for n in range(7)]


def duration(length: dt.timedelta) -> str:
    """`40 seconds`, `2 minutes` as the current language's readers say it."""
    return format_timedelta(length, threshold=2, locale=LOCALES[language()])


def N_(message: str) -> str:
    """Mark a string for the catalog where it is defined; it is translated where shown."""
    return message
