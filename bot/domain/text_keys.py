"""How typed and stored text becomes lookup keys: folded (case and accents ignored),
name tokens, phone digits. One text at a time, or a whole column at once: joined with a
separator and done in one pass in C, which for 100,000 names is ten times faster than
100,000 calls."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

_WORD = re.compile(r"[^\W_]+")
_NOT_NAME = re.compile(r"[^\w\x00]+")  # with the separator kept; underscores made spaces first
_NOT_DIGIT = re.compile(r"[^0-9\x00]")
_SEPARATOR = "\x00"  # neither casefold nor NFKD makes or removes it


def _fold(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():  # most text: nothing to strip
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    # The few distinct accents present, each removed in one C pass over the whole text.
    for mark in {ch for ch in set(decomposed) if unicodedata.combining(ch)}:
        decomposed = decomposed.replace(mark, "")
    return decomposed


fold = functools.lru_cache(maxsize=65536)(_fold)  # names repeat
fold.__doc__ = """Lower-case and strip accents: "Pérez" -> "perez"."""


def name_tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _each(texts: list[str], whole: Callable[[str], str], one: Callable[[str], str]) -> list[str]:
    """`one(text)` for each text, computed as `whole` over all of them joined; one by one
    when a text holds the separator itself (it would shift every text after it)."""
    if not texts:
        return []
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:
        return list(map(one, texts))
    return whole(joined).split(_SEPARATOR)


def fold_all(texts: list[str]) -> list[str]:
    """`fold` of each text."""
    return _each(texts, _fold, _fold) if any(texts) else texts


def casefold_all(texts: list[str]) -> list[str]:
    return _each(texts, str.casefold, str.casefold)


def _name_key(folded: str) -> str:
    return " ".join(_WORD.findall(folded))


def _name_keys_joined(joined: str) -> str:
    return _NOT_NAME.sub(" ", joined.replace("_", " "))


def name_keys(folded: list[str]) -> list[str]:
    """Each folded text's name tokens joined by one space (`" ".join(name_tokens(t))`)."""
    if not any(folded):
        return folded
    return [key.strip() for key in _each(folded, _name_keys_joined, _name_key)]


_NOT_DIGITS = re.compile(r"[^0-9]")


def phone_digits(text: str) -> str:
    """Digits only: the key phones are indexed by (E.164 without its +)."""
    if text.isascii():  # as Smart Passes stores them: the fast way
        return _NOT_DIGITS.sub("", text)
    return "".join(ch for ch in text if ch.isdigit())


def _digits_joined(joined: str) -> str:
    return (
        _NOT_DIGIT.sub("", joined)
        if joined.isascii()
        else _SEPARATOR.join(map(phone_digits, joined.split(_SEPARATOR)))
    )


def phone_digits_all(phones: list[str]) -> list[str]:
    """`phone_digits` of each phone (stored phones are ASCII: one regex pass)."""
    return _each(phones, _digits_joined, phone_digits)
