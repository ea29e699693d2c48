"""Find a customer from what a person typed: id, email, phone or (part of) a name.

The API can only list every customer or fetch one by id, so the index is built
from one list fetch. Only the very first lookup waits for it (concurrent ones wait for
that same fetch); after that the list is refreshed in the background once it is older
than the TTL (stale-while-revalidate), and lookups meanwhile use the current snapshot.
`warm()` starts the first fetch off the request path; `invalidate()` makes the next
lookup wait for a fresh list. With a TTL of 0, every lookup waits for a fresh list.

Readers never see half a change: every lookup and every patch (the bot's own writes)
runs under one lock, and a reload builds new tables outside it, replays the patches made
meanwhile, and swaps them in whole.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import operator
import re
import threading
import time
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, overload

from bot.core.index.customer_list import CustomerList, CustomerSequence
from bot.domain.phones import digits as phone_digits
from bot.domain.phones import lookup_keys
from bot.domain.text_keys import (
    casefold_all,
    fold,
    fold_all,
    name_keys,
    name_tokens,
    phone_digits_all,
)
from bot.smartpasses.models import Customer

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_ID = re.compile(r"^#?(\d{1,20})$")
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


# A key usually names one customer: store the bare id, and a set only on collision.
_Ids = int | set[int]


def _put(table: dict[str, _Ids], key: str, customer_id: int) -> bool:
    """Add; True if the key is new."""
    current = table.get(key)
    if current is None:
        table[key] = customer_id
        return True
    if isinstance(current, int):
        if current != customer_id:
            table[key] = {current, customer_id}
    else:
        current.add(customer_id)
    return False


def _discard(table: dict[str, _Ids], key: str, customer_id: int) -> bool:
    """Remove; True if the key is gone."""
    current = table.get(key)
    if isinstance(current, set):
        current.discard(customer_id)
        if len(current) == 1:
            table[key] = next(iter(current))
        return False
    if current == customer_id:
        del table[key]
        return True
    return False


def _get(table: dict[str, _Ids], key: str) -> set[int]:
    current = table.get(key)
    if current is None:
        return set()
    return {current} if isinstance(current, int) else set(current)


def _sort_key(c: Customer) -> tuple[str, int]:
    return fold(c.display_name), c.id


class _Writes:
    """The bot's own writes since the snapshot was fetched: the customers as they are now
    (in small dict tables, patched in place) and every id written (`touched`), whose rows
    in the snapshot are out of date."""

    def __init__(self) -> None:
        self.touched: set[int] = set()
        self.by_id: dict[int, Customer] = {}
        self.by_email: dict[str, _Ids] = {}
        self.by_phone: dict[str, _Ids] = {}
        self.by_name: dict[str, _Ids] = {}
        self.by_token: dict[str, _Ids] = {}
        self._sorted_tokens: list[str] | None = None

    def _keys(self, c: Customer) -> list[tuple[dict[str, _Ids], str]]:
        keys: list[tuple[dict[str, _Ids], str]] = []
        if c.email.strip():
            keys.append((self.by_email, c.email.strip().casefold()))
        phone = phone_digits(c.phone)
        if phone:
            keys.append((self.by_phone, phone))
        for name in {c.full_name, c.human_name} - {""}:
            tokens = name_tokens(name)
            keys.append((self.by_name, " ".join(tokens)))
            keys.extend((self.by_token, token) for token in tokens)
        return keys

    def put(self, customer_id: int, customer: Customer | None) -> None:
        self.touched.add(customer_id)
        old = self.by_id.pop(customer_id, None)
        if old is not None:
            for table, key in self._keys(old):
                if _discard(table, key, customer_id) and table is self.by_token:
                    self._sorted_tokens = None
        if customer is not None:
            self.by_id[customer_id] = customer
            for table, key in self._keys(customer):
                if _put(table, key, customer_id) and table is self.by_token:
                    self._sorted_tokens = None

    def tokens_starting_with(self, prefix: str) -> set[int]:
        if self._sorted_tokens is None:
            self._sorted_tokens = sorted(self.by_token)
        tokens = self._sorted_tokens
        start = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff")
        ids: set[int] = set()
        for token in tokens[start:end]:
            ids |= _get(self.by_token, token)
        return ids


def _key_hash(key: str | int) -> int:
    """The same in every process (a snapshot is built in another one; `hash()` of a str
    differs between processes): CRC-32 of the key's bytes."""
    if isinstance(key, int):
        return zlib.crc32(key.to_bytes(16, "little", signed=True))
    return zlib.crc32(key.encode())


def _str_hashes(keys: Iterable[str | int]) -> Iterable[int]:
    """`_key_hash` of each non-empty key."""
    return map(zlib.crc32, map(str.encode, filter(None, keys)))  # type: ignore[arg-type]


class _KeyIndex:
    """Rows by an exact key, compact: each key's 32-bit hash with its row in the low bits,
    all in one sorted array (8 bytes a key instead of a dict entry and a string). A few
    keys share a hash: callers check the row's own key. Empty keys are left out."""

    def __init__(self, keys: Sequence[str | int], rows: Iterable[int], row_count: int) -> None:
        self.bits = bits = max(20, row_count.bit_length())
        # One pass in C (no Python call per key): a third of the time of a comprehension.
        rows = itertools.compress(rows, map(operator.ne, keys, itertools.repeat("")))
        hashes = map(_key_hash, keys) if keys and isinstance(keys[0], int) else _str_hashes(keys)
        packed = map(operator.or_, map(operator.lshift, hashes, itertools.repeat(bits)), rows)
        self.entries = array("q", sorted(packed))

    def rows_for(self, key: str | int) -> list[int]:
        bits, entries = self.bits, self.entries
        wanted = _key_hash(key)
        at = bisect.bisect_left(entries, wanted << bits)
        found = []
        while at < len(entries) and entries[at] >> bits == wanted:
            found.append(entries[at] & ((1 << bits) - 1))
            at += 1
        return found


# Folded full name, folded other human name ("" if none), folded email, phone digits.
_TextKeys = tuple[list[str], list[str], list[str], list[str]]


def _text_keys(listed: CustomerList) -> _TextKeys:
    """Each customer's text as the index keys it: one C pass per column (bot.domain.text_keys)."""
    first, last, email, phone, human = listed.columns()
    full = [f"{a.strip()} {b.strip()}".strip() for a, b in zip(first, last, strict=True)]
    del first, last
    other = [h if h != f else "" for h, f in zip(human, full, strict=True)]  # rarely set
    del human
    folded_full = fold_all(full)
    folded_other = fold_all(other) if any(other) else other
    del full, other
    return folded_full, folded_other, casefold_all(email), phone_digits_all(phone)


@dataclass(frozen=True)
class Prepared:
    """A snapshot's second step: its name order and its search text."""

    by_name_order: array[int]  # place in name order -> row
    rank: array[int]  # row -> its place in name order
    search_text: SearchText


class Snapshot:
    """One fetched list, indexed; never changed (a reload builds a new one).

    Built in two steps. The lookups' tables (id, email, phone, name, name tokens) come
    first: the index answers as soon as they are in. The name order and the search text
    (for `/loyalty customers` and search by any part) follow (`prepare`), on another
    thread or on their first use, whichever comes first; or from a builder process
    (`prepare_from`)."""

    def __init__(self, customers: Sequence[Customer]) -> None:
        listed = CustomerList.of(customers)
        if len(set(listed.ids)) != len(listed):  # a customer listed twice: the last wins
            listed = listed.take(sorted({cid: row for row, cid in enumerate(listed.ids)}.values()))
        self.customers = listed
        folded_full, folded_other, folded_email, phone_keys = _text_keys(listed)
        ids, count = listed.ids, len(listed)
        # The API lists customers by id: then the ids themselves are the index.
        ascending = all(map(operator.lt, ids, itertools.islice(ids, 1, None)))
        self.by_id = None if ascending else _KeyIndex(ids, range(count), count)
        email_keys = [e.strip() for e in folded_email]
        self.by_email = _KeyIndex(email_keys, range(count), count)
        del email_keys
        self.by_phone = _KeyIndex(phone_keys, range(count), count)
        full_keys, other_keys = name_keys(folded_full), name_keys(folded_other)
        # Name keys: row * 2 for the full name, row * 2 + 1 for another human name.
        names = full_keys
        entries: Iterable[int] = range(0, 2 * count, 2)
        if any(other_keys):
            names = full_keys + other_keys
            entries = itertools.chain(entries, range(1, 2 * count, 2))
        self.by_name = _KeyIndex(names, entries, 2 * count)
        self.by_token, self.tokens = _token_table(full_keys, other_keys)
        del full_keys, other_keys
        # For `prepare`, until it has run (recomputed if it is gone: see __getstate__):
        self._pending: _TextKeys | None = (folded_full, folded_other, folded_email, phone_keys)
        self._source: Callable[[], Prepared] | None = None
        self._prepare_lock = threading.Lock()
        self.rank = array("I")  # see Prepared (filled by `prepare`)
        self.by_name_order = array("I")
        self.search_text: SearchText | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Sent from a builder process (bot.core.index.builder) without its second step:
        that follows, made there (`prepare_from`)."""
        state = dict(self.__dict__)
        del state["_prepare_lock"]
        state["_pending"] = state["_source"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._prepare_lock = threading.Lock()

    def prepare_from(self, source: Callable[[], Prepared]) -> None:
        """`prepare` takes the second step from `source` (made elsewhere)."""
        self._source = source

    def prepare(self) -> None:
        """The second step (once; a second caller waits for the first)."""
        with self._prepare_lock:
            if self.prepared():
                return
            made = None
            if self._source is not None:
                try:
                    made = self._source()
                except Exception as exc:  # made here instead
                    log.warning("index second step failed elsewhere (%s)", type(exc).__name__)
                self._source = None
            made = made or self.second_step()
            self.by_name_order, self.rank = made.by_name_order, made.rank
            self.search_text = made.search_text

    def second_step(self) -> Prepared:
        """The name order and the search text, made from this snapshot's text keys."""
        folded_full, folded_other, folded_email, phone_keys = self._pending or _text_keys(
            self.customers
        )
        self._pending = None
        ids = self.customers.ids
        shown = [
            o or f or fold(f"Anónimo #{i}")
            for o, f, i in zip(folded_other, folded_full, ids, strict=True)
        ]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        order.sort(key=shown.__getitem__)
        del shown
        rank = array("I", bytes(4 * len(order)))
        for place, row in enumerate(order):
            rank[row] = place
        haystacks = [
            f"{folded_full[r]} {folded_other[r]} {folded_email[r]}"
            if folded_other[r]
            else f"{folded_full[r]} {folded_email[r]}"
            for r in order
        ]
        search_text = SearchText(haystacks, [phone_keys[r] for r in order])
        return Prepared(array("I", order), rank, search_text)

    def prepared(self) -> bool:
        return self.search_text is not None

    def texts(self, row: int) -> tuple[str, str, str, str, str]:
        return self.customers.texts(row)

    def email_rows(self, key: str) -> list[int]:
        return [r for r in self.by_email.rows_for(key) if _email_key(self.texts(r)[2]) == key]

    def phone_rows(self, key: str) -> list[int]:
        return [r for r in self.by_phone.rows_for(key) if phone_digits(self.texts(r)[3]) == key]

    def name_rows(self, key: str) -> list[int]:
        rows = []
        for entry in self.by_name.rows_for(key):
            first, last, _email, _phone, human = self.texts(entry // 2)
            name = human if entry % 2 else f"{first.strip()} {last.strip()}".strip()
            if " ".join(name_tokens(name)) == key:
                rows.append(entry // 2)
        return rows

    def id_row(self, customer_id: int) -> int | None:
        ids = self.customers.ids
        if self.by_id is None:  # ascending
            row = bisect.bisect_left(ids, customer_id)
            return row if row < len(ids) and ids[row] == customer_id else None
        for row in self.by_id.rows_for(customer_id):
            if ids[row] == customer_id:
                return row
        return None

    def token_rows(self, prefix: str) -> set[int]:
        tokens = self.tokens
        start = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff")
        rows: set[int] = set()
        for token in tokens[start:end]:
            found = self.by_token[token]
            if isinstance(found, int):
                rows.add(found)
            else:
                rows.update(found)
        return rows

    def in_name_order(self, rows: Iterable[int]) -> list[int]:
        if self.prepared():
            return sorted(rows, key=self.rank.__getitem__)
        return sorted(rows, key=lambda r: _sort_key(self.customers[r]))


def _email_key(email: str) -> str:
    return email.strip().casefold()


def _token_table(
    full_keys: list[str], other_keys: list[str]
) -> tuple[dict[str, int | array[int]], list[str]]:
    """Rows by each name token (a token of one customer as a bare row), and the tokens
    sorted for prefixes. `other_keys`: another human name's key, or ""."""
    grouped: defaultdict[str, list[int]] = defaultdict(list)
    for row, full in enumerate(full_keys):
        for token in full.split():
            grouped[token].append(row)
    for row, other in enumerate(other_keys):
        if other:
            for token in set(other.split()) - set(full_keys[row].split()):
                grouped[token].append(row)
    table: dict[str, int | array[int]] = {
        token: rows[0] if len(rows) == 1 else array("I", rows) for token, rows in grouped.items()
    }
    return table, sorted(table)


MIN_PHONE_DIGITS = 4  # fewer digits than this never match inside a phone
REFRESH_AT = 0.8  # of the TTL: the list is refreshed before it is older than the TTL


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


class _Blob:
    """Texts in one UTF-8 byte string, each ended by a NUL, searched with a compiled
    pattern (C speed). A hit's offset finds its text through a table of the text at every
    64th byte, then a step or two: no bisection per hit."""

    BLOCK = 6  # 64 bytes

    def __init__(self, parts: list[str]) -> None:
        encoded = list(map(str.encode, parts))
        starts = array("I", [0])
        starts.extend(itertools.accumulate(len(e) + 1 for e in encoded))
        self.blob = b"\x00".join(encoded) + b"\x00" if encoded else b""
        self.starts = starts  # and the end, after the last text
        blocks = array("I")
        row = 0
        for offset in range(0, len(self.blob), 1 << self.BLOCK):
            while starts[row + 1] <= offset:
                row += 1
            blocks.append(row)
        self.blocks = blocks

    def containing(self, word: str) -> set[int]:
        """The texts that contain `word` (after a hit, the search goes on from the next
        text: a name and an email that both hold it cost one hit, not two)."""
        starts, blocks, shift = self.starts, self.blocks, self.BLOCK
        find, needle = self.blob.find, word.encode()
        found: list[int] = []
        at = find(needle)
        while at >= 0:
            row = blocks[at >> shift]
            while starts[row + 1] <= at:
                row += 1
            found.append(row)
            at = find(needle, starts[row + 1])
        return set(found)


class SearchText:
    """Every row's haystack: names and email in one blob, phone digits in another. A
    substring of a word is a substring of its UTF-8 bytes. Immutable: one per snapshot."""

    def __init__(self, texts: list[str], phones: list[str]) -> None:
        """Row i's names and email in `texts[i]`, its phone digits in `phones[i]`."""
        self.text, self.phone = _Blob(texts), _Blob(phones)

    def find(self, words: list[str]) -> list[int]:
        """The rows every word is in (as `_matches` decides), in order."""
        result: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # the longest is the rarest
            hits = self.text.containing(word)
            if len(word) >= MIN_PHONE_DIGITS and word.isdigit():
                hits |= self.phone.containing(word)
            result = hits if result is None else result & hits
            if not result:
                return []
        return sorted(result or ())


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


def build_snapshot(body: bytes, *, prepare: bool = True) -> Snapshot:
    """The index of the API's customer list body (what a builder process runs); with
    `prepare=False`, its first step only."""
    snapshot = Snapshot(CustomerList.from_json(body, text_columns=True))
    if prepare:
        snapshot.prepare()
    return snapshot


class SnapshotBuilder(Protocol):
    """Builds the index elsewhere (a child process: bot.core.index.builder): `receive`
    keeps the API's list body as its pieces arrive; called with what it kept, it builds."""

    def receive(self, pieces: Iterator[bytes], /) -> Any: ...

    def __call__(self, received: Any, /) -> Snapshot: ...


REREAD_SECONDS = 3.0  # a miss reads the list again at most this often


def exact_reference(query: str) -> str:
    """What kind of exact reference `query` is: "id", "email", "phone" or ""."""
    query = query.strip()
    if _EMAIL.match(query):
        return "email"
    if _ID.match(query):
        return "id"
    if _PHONE.match(query):
        return "phone"
    return ""


class CustomerIndex:
    def __init__(
        self,
        fetch: Callable[[], Any],
        *,
        build: Callable[[Any], Snapshot] = Snapshot,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        region: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`fetch` gives the customer list; `build` indexes what it gave (by default
        customers, here; `build_snapshot` indexes the API's body, in a builder process)."""
        self._fetch, self._build = fetch, build
        self.region = region  # for national phone numbers (bot.domain.phones)
        self.ttl = ttl
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._writes = _Writes()
        self._listings: dict[str, Listing] = {}  # by name / by points, until the next change
        self._loaded_at = 0.0
        self._load_lock = threading.Lock()  # one fetch at a time
        self._lock = threading.Lock()  # the snapshot and the writes: every read and patch
        self._patches: list[tuple[int, Customer | None]] | None = None  # during a fetch
        self._version = 0  # bumped by every patch and reload
        self._refreshing = False  # a background refresh is running
        self._must_wait = False  # invalidated: the next lookup waits for the list
        self.refreshed = threading.Event()  # set when a background refresh ends
        self.loaded: Callable[[], None] | None = None  # told after each fetch (a budget)
        self.fetch_count = 0
        self._reread_at = float("-inf")  # when a miss last read the list again
        self._reread_lock = threading.Lock()
        self._sleep = sleep
        self._read_from = float("-inf")  # when the list's read began (it holds what was then)

    # -- freshness -------------------------------------------------------

    def _fresh(self) -> bool:
        return self._snapshot is not None and self._clock() - self._loaded_at < self.ttl

    def _ensure_fresh(self) -> None:
        age = self._clock() - self._loaded_at
        if self._snapshot is not None and age < self.ttl * REFRESH_AT:
            return
        if self._snapshot is None or self._must_wait or self.ttl <= 0:
            with self._load_lock:
                # Another thread may have refreshed while we waited for the lock.
                if not self._fresh():
                    self._reload()
                    self._must_wait = False
            return
        self._refresh_in_background()  # stale: answer from the snapshot we have

    def _refresh_in_background(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
            self.refreshed.clear()

        def refresh() -> None:
            try:
                with self._load_lock:
                    if self._snapshot is None or self._clock() - self._loaded_at >= (
                        self.ttl * REFRESH_AT
                    ):
                        self._reload()
            except Exception as exc:  # the snapshot keeps serving; the next lookup retries
                log.warning("customer list refresh failed: %s", type(exc).__name__)
            finally:
                with self._lock:  # one refresh's end can never be taken for the next's
                    self._refreshing = False
                    self.refreshed.set()

        threading.Thread(target=refresh, name="index-refresh", daemon=True).start()

    def snapshot(self) -> CustomerList | None:
        """Every customer, if the list is fresh (younger than the TTL); else None."""
        return self._listed(fresh=True)

    def current(self) -> CustomerList:
        """Every customer as of now: the snapshot if it is fresh, else a list fetched now
        (and built as every reload is, in the builder process), which the index keeps:
        the summary's list, never parsed a second time."""
        with self._load_lock:
            if not self._fresh():
                self._reload()
                self._must_wait = False
            listed = self._listed(fresh=False)
        assert listed is not None
        return listed

    def _listed(self, *, fresh: bool) -> CustomerList | None:
        with self._lock:
            snapshot, writes = self._snapshot, self._writes
            if snapshot is None or (fresh and self._clock() - self._loaded_at >= self.ttl):
                return None
            if not writes.touched:
                return snapshot.customers
            kept_mask = bytearray(b"\x01") * len(snapshot.customers)
            for customer_id in writes.touched:
                if (row := snapshot.id_row(customer_id)) is not None:
                    kept_mask[row] = 0
            kept = list(itertools.compress(range(len(kept_mask)), kept_mask))
            written = list(writes.by_id.values())
        return CustomerList.joined([snapshot.customers.take(kept), CustomerList.of(written)])

    def ready(self) -> bool:
        """A list is loaded (lookups answer without waiting)."""
        return self._snapshot is not None

    def size(self) -> int:
        """How many customers are loaded (0 before the first load or after `drop`)."""
        with self._lock:
            if self._snapshot is None:
                return 0
            snapshot, writes = self._snapshot, self._writes
            stale = sum(1 for i in writes.touched if snapshot.id_row(i) is not None)
            return len(snapshot.customers) - stale + len(writes.by_id)

    def drop(self) -> None:
        """Forget the loaded list (to free its memory); the next lookup loads it again."""
        with self._load_lock, self._lock:
            self._snapshot, self._writes, self._listings = None, _Writes(), {}
            self._loaded_at = 0.0

    def warm(self) -> None:
        """Load the list in the background (at start, off the request path)."""
        if self._snapshot is None:
            self._refresh_in_background()

    def _reload(self) -> None:
        """Fetch and build outside the lock; swap the new snapshot in whole, with the
        writes made during the fetch kept beside it (they are at least as new)."""
        with self._lock:
            self._patches = []
        started = self._clock()
        try:
            snapshot = self._build(self._fetch())
        except BaseException:
            with self._lock:
                self._patches = None
            raise
        self.fetch_count += 1
        with self._lock:
            writes = _Writes()
            for customer_id, customer in self._patches or []:
                writes.put(customer_id, customer)
            self._patches = None
            self._snapshot, self._writes, self._listings = snapshot, writes, {}
            self._loaded_at = self._clock()
            self._read_from = started  # the list is as Smart Passes had it at this moment
            self._version += 1
        if not snapshot.prepared():  # built here: the name order and search text follow
            threading.Thread(target=snapshot.prepare, name="index-prepare", daemon=True).start()
        if self.loaded is not None:
            self.loaded()

    def refresh(self) -> None:
        with self._load_lock:
            self._reload()

    def now(self) -> float:
        """This index's clock (when a lookup was asked, for `reread`)."""
        return self._clock()

    def reread(self, asked: float | None = None) -> bool:
        """A whole email or phone is not in the list: read the list again (a customer who
        signed up a moment ago is in the new one), once for everyone asking at that moment
        and at most every `REREAD_SECONDS`: a miss soon after the last such read waits for
        its window (its person is told meanwhile, `LoyaltyService.find_customers`). True if
        the list is newer than when asked (`asked`: on this index's clock; by default now)."""
        asked = self._clock() if asked is None else asked
        with self._reread_lock:  # askers queue here; the first one's read serves the rest
            if self._read_from >= asked:  # a read that began after the ask has it all
                return True
            pause = REREAD_SECONDS - (self._clock() - self._reread_at)
            if pause > 0:
                self._sleep(pause)  # Smart Passes is spared: one read per window
            with self._load_lock:
                if self._read_from >= asked:
                    return True
                self._reread_at = self._clock()
                self._reload()
                self._must_wait = False
            return True

    def invalidate(self) -> None:
        """The next lookup waits for a fresh list."""
        self._loaded_at = float("-inf")
        self._must_wait = True

    def all(self, *, by_points: bool = False) -> Listing:
        """Every customer by name (or most points first). Ordered outside the lock, once
        per change: a fresh snapshot is in name order already."""
        self._ensure_fresh()
        kind = "points" if by_points else "name"
        with self._lock:
            if kind in self._listings:
                return self._listings[kind]
            snapshot, writes, version = self._snapshot, self._writes, self._version
            assert snapshot is not None
            ids = snapshot.customers.ids
            touched = set(writes.touched)
            written = list(writes.by_id.values())
        snapshot.prepare()
        in_order = snapshot.by_name_order
        if touched:
            rows = [r for r in in_order if ids[r] not in touched]
            listing = Listing(snapshot, _merged(snapshot, rows, written))
        else:
            listing = Listing(snapshot, in_order)
        if by_points:
            listing = listing.by_points()
        with self._lock:
            if self._version == version:
                self._listings[kind] = listing
        return listing

    def search(self, text: str) -> Listing:
        """Customers matching any part of what was typed: each word inside a name (accents
        and case ignored) or an email, or, with 4 digits or more, inside a phone; by name.
        An id, or a whole email or phone, finds its customer first."""
        self._ensure_fresh()
        query = text.strip()
        exact = _ID.match(query) or _EMAIL.match(query) or _PHONE.match(query)
        direct = self.find(query).matches if exact else []  # names: the scan finds them
        words = _search_words(text)
        if not words:
            return Listing(None, direct)
        with self._lock:
            snapshot, writes = self._snapshot, self._writes
            assert snapshot is not None
            touched = set(writes.touched)
            written = [c for c in writes.by_id.values() if _matches(_haystack(c), words)]
        shown = {c.id for c in direct}
        ids = snapshot.customers.ids
        snapshot.prepare()
        assert snapshot.search_text is not None
        in_order = snapshot.by_name_order
        rows = list(map(in_order.__getitem__, snapshot.search_text.find(words)))
        if touched or shown:
            rows = [row for row in rows if ids[row] not in touched and ids[row] not in shown]
        written = [c for c in written if c.id not in shown]
        return Listing(snapshot, [*direct, *_merged(snapshot, rows, written)])

    # -- the bot's own writes ----------------------------------------------

    def upsert(self, customer: Customer) -> None:
        self._patch(customer.id, customer)

    def remove(self, customer_id: int) -> None:
        self._patch(customer_id, None)

    def _patch(self, customer_id: int, customer: Customer | None) -> None:
        with self._lock:
            if self._patches is not None:
                self._patches.append((customer_id, customer))
            if self._snapshot is not None:
                self._writes.put(customer_id, customer)
                self._listings = {}
                self._version += 1

    # -- lookups ---------------------------------------------------------

    def find(self, reference: str) -> LookupResult:
        self._ensure_fresh()
        with self._lock:
            assert self._snapshot is not None
            return _Lookup(self._snapshot, self._writes, self.region).find(reference.strip())


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
