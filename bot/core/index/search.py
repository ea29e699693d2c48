"""Reading what a person typed (an id, email, phone or name) and finding it in a\nsnapshot: exact references first, then names by their start, then any part."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import overload

from bot.core.index.customer_list import CustomerSequence
from bot.core.index.search_text import MIN_PHONE_DIGITS
from bot.core.index.snapshot import (
    Snapshot,
    _email_key,
    _get,
    _sort_key,
    _Writes,
)
from bot.domain.phones import lookup_keys
from bot.domain.text_keys import (
    fold,
    name_tokens,
    phone_digits,
)
from bot.smartpasses.models import Customer

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")  # not a Slack mention's `<@U…>`
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_ID = re.compile(r"^#?(\d{1,20})$")
# The fewest digits a phone number typed in full has (an id and a number: `1870 30`).
_PHONE_DIGITS = 7
_PHONE_PART = re.compile(r"[\d()+.-]*\d[\d()+.-]*")


# Groups of digits a phone number is said in (`411 6533`, `55 5000 1111`, `(999) 411`).
_DIGIT_GROUPS = re.compile(r"(?<=[\d)])[\s.-]+(?=[\d(])")


def _search_words(text: str) -> list[str]:
    """The words of a search, a phone number said in groups taken as one."""
    words = [_search_word(w) for w in _DIGIT_GROUPS.sub("", text).split()]
    return [w for w in words if w]


def _search_word(word: str) -> str:
    """A typed word as searched: folded; a phone's punctuation dropped (`411-6533`)."""
    word = word.strip("\"'“”")
    if _PHONE_PART.fullmatch(word):
        return phone_digits(word)
    return fold(word)


@dataclass(frozen=True)
class LookupResult:
    query: str
    # Made as they are read: a name's first letters may match thousands.
    matches: Sequence[Customer] = field(default_factory=list)

    @property
    def found(self) -> Customer | None:
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1


def _haystack(c: Customer) -> tuple[str, str]:
    """What a search by any part looks in: folded names and email; phone digits."""
    names = fold(c.full_name)
    if c.human_name and c.human_name != c.full_name:
        names += " " + fold(c.human_name)
    return f"{names} {c.email.casefold()}", phone_digits(c.phone)


def _matches(haystack: tuple[str, str], words: list[str]) -> bool:
    text, phone = haystack
    for word in words:
        if word in text:
            continue
        if len(word) >= MIN_PHONE_DIGITS and word.isdigit() and word in phone:
            continue
        return False
    return True


class Listing(CustomerSequence):
    """Customers in an order, made as they are read: snapshot rows (ints) and the bot's
    own writes (Customers). A page of a 100,000-customer list makes only its 20."""

    def __init__(self, snapshot: Snapshot | None, entries: Sequence[int | Customer]) -> None:
        self._snapshot, self._entries = snapshot, entries

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Customer: ...
    @overload
    def __getitem__(self, index: slice) -> list[Customer]: ...
    def __getitem__(self, index: int | slice) -> Customer | list[Customer]:
        if isinstance(index, slice):
            return [self._at(e) for e in self._entries[index]]
        return self._at(self._entries[index])

    def _at(self, entry: int | Customer) -> Customer:
        if isinstance(entry, int):
            assert self._snapshot is not None
            return self._snapshot.customers[entry]
        return entry

    def points(self, index: int) -> int:
        entry = self._entries[index]
        if isinstance(entry, int):
            assert self._snapshot is not None
            return self._snapshot.customers.points[entry]
        return entry.points

    def by_points(self) -> Listing:
        """Most points first; ties in this listing's order."""
        order = sorted(range(len(self)), key=lambda i: -self.points(i))
        return Listing(self._snapshot, [self._entries[i] for i in order])


def _merged(
    snapshot: Snapshot | None, rows: Iterable[int], written: Iterable[Customer]
) -> list[int | Customer]:
    """Snapshot rows (given in name order) and written customers, in name order."""
    entries: list[int | Customer] = list(rows)
    extra = sorted(written, key=_sort_key)
    if not extra:
        return entries
    assert snapshot is not None or not entries

    def key(entry: int | Customer) -> tuple[str, int]:
        if isinstance(entry, int):
            assert snapshot is not None
            return _sort_key(snapshot.customers[entry])
        return _sort_key(entry)

    at = [bisect.bisect_left(entries, _sort_key(c), key=key) for c in extra]
    merged: list[int | Customer] = []
    done = 0
    for position, customer in zip(at, extra, strict=True):
        merged.extend(entries[done:position])
        merged.append(customer)
        done = position
    merged.extend(entries[done:])
    return merged


def exact_reference(query: str) -> str:
    """What kind of exact reference `query` is: "id", "email", "phone" or ""."""
    query = query.strip()
    if _EMAIL.match(query):
        return "email"
    if _ID.match(query):
        return "id"
    if _PHONE.match(query) and sum(c.isdigit() for c in query) >= _PHONE_DIGITS:
        return "phone"
    return ""


class _Lookup:
    """One lookup over the snapshot and the writes since (under the index's lock)."""

    def __init__(self, snapshot: Snapshot, writes: _Writes, region: str) -> None:
        self.snapshot, self.writes, self.region = snapshot, writes, region

    def _current(self, rows: Iterable[int]) -> set[int]:
        """Snapshot rows whose customer the bot has not written since."""
        ids, touched = self.snapshot.customers.ids, self.writes.touched
        return {r for r in rows if ids[r] not in touched}

    def _result(self, query: str, rows: set[int], written: set[int]) -> LookupResult:
        customers = [self.writes.by_id[i] for i in written]
        entries = _merged(self.snapshot, self.snapshot.in_name_order(rows), customers)
        return LookupResult(query, Listing(self.snapshot, entries))

    def find(self, query: str) -> LookupResult:
        snapshot, writes = self.snapshot, self.writes
        quoted = len(query) >= 2 and query[0] == query[-1] and query[0] in "\"'“”"
        if quoted or (query.startswith("“") and query.endswith("”")):
            name = " ".join(name_tokens(query[1:-1]))
            rows = self._current(snapshot.name_rows(name))
            return self._result(query, rows, _get(writes.by_name, name))
        if not query:
            return LookupResult(query)
        rows, written = set(), set()
        if match := _ID.match(query):
            customer_id = int(match.group(1))
            if customer_id in writes.by_id:
                written.add(customer_id)
            elif (row := snapshot.id_row(customer_id)) is not None:
                rows |= self._current([row])
        if _EMAIL.match(query):
            key = _email_key(query)
            rows |= self._current(snapshot.email_rows(key))
            return self._result(query, rows, written | _get(writes.by_email, key))
        if _PHONE.match(query):
            for key in lookup_keys(query, self.region):
                rows |= self._current(snapshot.phone_rows(key))
                written |= _get(writes.by_phone, key)
        if rows or written:
            return self._result(query, rows, written)
        return self._result(query, *self._by_name(query))

    def _by_name(self, query: str) -> tuple[set[int], set[int]]:
        snapshot, writes = self.snapshot, self.writes
        tokens = name_tokens(query)
        if not tokens:
            return set(), set()
        name = " ".join(tokens)
        rows, written = self._current(snapshot.name_rows(name)), _get(writes.by_name, name)
        if rows or written:
            return rows, written
        all_rows: set[int] | None = None
        all_written: set[int] | None = None
        for token in tokens:
            rows = self._current(snapshot.token_rows(token))
            written = writes.tokens_starting_with(token)
            all_rows = rows if all_rows is None else all_rows & rows
            all_written = written if all_written is None else all_written & written
            if not all_rows and not all_written:
                return set(), set()
        return all_rows or set(), all_written or set()
