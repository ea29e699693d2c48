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
import functools
import logging
import re
import threading
import time
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.core.phones import digits as phone_digits
from bot.core.phones import lookup_keys
from bot.smartpasses.models import Customer

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")
_ID = re.compile(r"^#?(\d{1,20})$")
_WORD = re.compile(r"[^\W_]+")
_PHONE_PART = re.compile(r"[\d()+.-]*\d[\d()+.-]*")


@functools.lru_cache(maxsize=65536)  # names repeat: a program has far fewer than customers
def fold(text: str) -> str:
    """Lower-case and strip accents: "Pérez" -> "perez"."""
    folded = text.casefold()
    if folded.isascii():  # most text: nothing to strip
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _search_word(word: str) -> str:
    """A typed word as searched: folded; a phone's punctuation dropped (`411-6533`)."""
    word = word.strip("\"'“”")
    if _PHONE_PART.fullmatch(word):
        return phone_digits(word)
    return fold(word)


def name_tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True)
class LookupResult:
    query: str
    matches: list[Customer] = field(default_factory=list)

    @property
    def found(self) -> Customer | None:
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1


# A key usually names one customer: store the bare id, and a set only on collision
# (a set per key would double the index's memory for a large program).
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


class _Tables:
    """The index proper. Rebuilt on refresh; patched in place after the bot's own writes."""

    def __init__(self, customers: Iterable[Customer]) -> None:
        self.by_id: dict[int, Customer] = {}
        self.by_email: dict[str, _Ids] = {}
        self.by_phone: dict[str, _Ids] = {}
        self.by_name: dict[str, _Ids] = {}
        self.by_token: dict[str, _Ids] = {}
        self._sorted_tokens: list[str] | None = None
        self.sorted_all: list[Customer] | None = None  # CustomerIndex.all() fills it
        # For searches by any part (CustomerIndex.search): built on the first search of a
        # snapshot; the bot's own writes since then are kept beside it, in `patched`.
        self.search_text: SearchText | None = None
        self.sort_keys: dict[int, tuple[str, int]] = {}  # filled as customers are listed
        self.patched: dict[int, tuple[str, str] | None] = {}
        for customer in customers:
            self.add(customer)

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

    def add(self, customer: Customer) -> None:
        self.by_id[customer.id] = customer
        self.sorted_all = None
        self.sort_keys.pop(customer.id, None)
        if self.search_text is not None:
            self.patched[customer.id] = _haystack(customer)
        for table, key in self._keys(customer):
            if _put(table, key, customer.id) and table is self.by_token:
                self._sorted_tokens = None

    def remove(self, customer_id: int) -> None:
        old = self.by_id.pop(customer_id, None)
        if old is None:
            return
        self.sorted_all = None
        self.sort_keys.pop(customer_id, None)
        if self.search_text is not None:
            self.patched[customer_id] = None
        for table, key in self._keys(old):
            if _discard(table, key, customer_id) and table is self.by_token:
                self._sorted_tokens = None

    def tokens_starting_with(self, prefix: str) -> list[str]:
        if self._sorted_tokens is None:
            self._sorted_tokens = sorted(self.by_token)
        tokens = self._sorted_tokens
        start = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff")
        return tokens[start:end]

    def customers(self, ids: Iterable[int]) -> list[Customer]:
        """These customers by name (each one's sort key folded once per snapshot)."""
        found = [self.by_id[i] for i in ids if i in self.by_id]
        return sorted(found, key=self._sort_key)

    def _sort_key(self, c: Customer) -> tuple[str, int]:
        key = self.sort_keys.get(c.id)
        if key is None:
            key = self.sort_keys[c.id] = (fold(c.display_name), c.id)
        return key


def _haystack(c: Customer) -> tuple[str, str]:
    """What a search by any part looks in: folded names and email; phone digits."""
    names = fold(c.full_name)
    if c.human_name and c.human_name != c.full_name:
        names += " " + fold(c.human_name)
    return f"{names} {c.email.casefold()}", phone_digits(c.phone)


MIN_PHONE_DIGITS = 4  # fewer digits than this never match inside a phone
REFRESH_AT = 0.8  # of the TTL: the list is refreshed before it is older than the TTL


def _matches(haystack: tuple[str, str], words: list[str]) -> bool:
    text, phone = haystack
    for word in words:
        if word in text:
            continue
        if len(word) >= MIN_PHONE_DIGITS and word.isdigit() and word in phone:
            continue
        return False
    return True


class SearchText:
    """Every customer's haystack in two long byte strings (names and emails; phone
    digits) in UTF-8, searched with a compiled pattern (C speed): a hit's offset finds its
    customer by bisection. UTF-8 keeps it at about a byte a character, and a substring of
    a word is a substring of its bytes. Immutable: one per snapshot of the tables."""

    SEPARATOR = b"\x00"

    def __init__(self, customers: Iterable[Customer]) -> None:
        """`customers` in name order: the search's hits are then in name order too."""
        self.ids = array("q")  # compact: a large program's ids are 64-bit
        self.text_starts, self.phone_starts = array("L"), array("L")
        text, phone = bytearray(), bytearray()  # no list of 100,000 small strings
        for c in customers:
            haystack, digits = _haystack(c)
            self.ids.append(c.id)
            self.text_starts.append(len(text))
            text += haystack.encode() + self.SEPARATOR
            self.phone_starts.append(len(phone))
            phone += digits.encode() + self.SEPARATOR
        self.text, self.phone = text, phone  # not copied to bytes: no second copy at build

    @staticmethod
    def _hits(blob: bytearray, starts: array[int], word: str) -> set[int]:
        """Positions (in `ids`) of the records that contain `word`."""
        locate = bisect.bisect_right
        pattern = re.compile(re.escape(word.encode()))
        return {locate(starts, m.start()) - 1 for m in pattern.finditer(blob)}

    def find(self, words: list[str]) -> list[int]:
        """Ids of the customers every word is in (as `_matches` decides), in name order."""
        result: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # the longest is the rarest
            hits = self._hits(self.text, self.text_starts, word)
            if len(word) >= MIN_PHONE_DIGITS and word.isdigit():
                hits |= self._hits(self.phone, self.phone_starts, word)
            result = hits if result is None else result & hits
            if not result:
                return []
        ids = self.ids
        return [ids[i] for i in sorted(result or ())]


def _by_name_order(customers: Iterable[Customer]) -> list[Customer]:
    """By (folded name, id), as `_Tables.customers` orders. Two stable sorts with plain keys
    (folded names are cached and shared) instead of 100,000 key tuples: less memory."""
    by_id = sorted(customers, key=lambda c: c.id)
    return sorted(by_id, key=lambda c: fold(c.display_name))


class CustomerIndex:
    def __init__(
        self,
        fetch: Callable[[], list[Customer]],
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        region: str = "",
    ) -> None:
        self._fetch = fetch
        self.region = region  # for national phone numbers (bot.core.phones)
        self.ttl = ttl
        self._clock = clock
        self._tables: _Tables | None = None
        self._loaded_at = 0.0
        self._load_lock = threading.Lock()  # one fetch at a time
        self._lock = threading.Lock()  # the tables: every read and every patch
        self._patches: list[tuple[int, Customer | None]] | None = None  # during a fetch
        self._version = 0  # bumped by every patch and reload
        self._refreshing = False  # a background refresh is running
        self._must_wait = False  # invalidated: the next lookup waits for the list
        self.refreshed = threading.Event()  # set when a background refresh ends
        self.loaded: Callable[[], None] | None = None  # told after each fetch (a budget)
        self.fetch_count = 0

    # -- freshness -------------------------------------------------------

    def _fresh(self) -> bool:
        return self._tables is not None and self._clock() - self._loaded_at < self.ttl

    def _ensure_fresh(self) -> None:
        age = self._clock() - self._loaded_at
        if self._tables is not None and age < self.ttl * REFRESH_AT:
            return
        if self._tables is None or self._must_wait or self.ttl <= 0:
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
                    if self._tables is None or self._clock() - self._loaded_at >= (
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

    def snapshot(self) -> list[Customer] | None:
        """Every customer, if the list is fresh (younger than the TTL); else None."""
        with self._lock:
            if self._tables is None or self._clock() - self._loaded_at >= self.ttl:
                return None
            return list(self._tables.by_id.values())

    def ready(self) -> bool:
        """A list is loaded (lookups answer without waiting)."""
        return self._tables is not None

    def size(self) -> int:
        """How many customers are loaded (0 before the first load or after `drop`)."""
        with self._lock:
            return 0 if self._tables is None else len(self._tables.by_id)

    def drop(self) -> None:
        """Forget the loaded list (to free its memory); the next lookup loads it again."""
        with self._load_lock, self._lock:
            self._tables = None
            self._loaded_at = 0.0

    def warm(self) -> None:
        """Load the list in the background (at start, off the request path)."""
        if self._tables is None:
            self._refresh_in_background()

    def _reload(self) -> None:
        """Fetch and build outside the tables' lock; swap the new tables in whole, with
        the patches made during the fetch applied (they are at least as new)."""
        with self._lock:
            self._patches = []
        try:
            tables = _Tables(self._fetch())
            tables.search_text = SearchText(_by_name_order(tables.by_id.values()))
        except BaseException:
            with self._lock:
                self._patches = None
            raise
        self.fetch_count += 1
        with self._lock:
            for customer_id, customer in self._patches or []:
                tables.remove(customer_id)
                if customer is not None:
                    tables.add(customer)
            self._patches = None
            self._tables = tables
            self._loaded_at = self._clock()
            self._version += 1
        if self.loaded is not None:
            self.loaded()

    def refresh(self) -> None:
        with self._load_lock:
            self._reload()

    def invalidate(self) -> None:
        """The next lookup waits for a fresh list."""
        self._loaded_at = float("-inf")
        self._must_wait = True

    def all(self) -> list[Customer]:
        """Every customer by name. Sorted outside the lock; kept until the next change."""
        self._ensure_fresh()
        with self._lock:
            tables, version = self._tables, self._version
            assert tables is not None
            if tables.sorted_all is not None:
                return tables.sorted_all
            if tables.search_text is not None and not tables.patched:
                # Sorted once, when the snapshot was built: the search text's order.
                tables.sorted_all = [tables.by_id[i] for i in tables.search_text.ids]
                return tables.sorted_all
            customers = list(tables.by_id.values())
        ordered = _by_name_order(customers)
        with self._lock:
            if self._version == version:
                tables.sorted_all = ordered
        return ordered

    def search(self, text: str) -> list[Customer]:
        """Customers matching any part of what was typed: each word inside a name (accents
        and case ignored) or an email, or, with 4 digits or more, inside a phone; by name.
        An id, or a whole email or phone, finds its customer first."""
        self._ensure_fresh()
        query = text.strip()
        exact = _ID.match(query) or _EMAIL.match(query) or _PHONE.match(query)
        direct = self.find(query).matches if exact else []  # names: the scan finds them
        words = [_search_word(w) for w in text.split()]
        words = [w for w in words if w]
        if not words:
            return direct
        with self._lock:
            tables, version = self._tables, self._version
            assert tables is not None
            search_text, patched = tables.search_text, dict(tables.patched)
            customers = None if search_text else list(tables.by_id.values())
        if search_text is None:  # built with the snapshot; only if that build was skipped
            search_text = SearchText(_by_name_order(customers or []))
            with self._lock:
                if self._version == version:
                    tables.search_text, tables.patched = search_text, {}
                else:  # patched meanwhile: check every customer one by one
                    patched = {i: _haystack(c) for i, c in tables.by_id.items()}
        shown = {c.id for c in direct}
        skip = shown | patched.keys()  # the bot's own writes since: as they are now
        ordered = [i for i in search_text.find(words) if i not in skip]
        extra = [i for i, h in patched.items() if h is not None and _matches(h, words)]
        with self._lock:
            by_id = tables.by_id
            found = [by_id[i] for i in ordered if i in by_id]
            for customer in tables.customers(i for i in extra if i not in shown):
                bisect.insort(found, customer, key=tables._sort_key)
        return direct + found

    # -- the bot's own writes ----------------------------------------------

    def upsert(self, customer: Customer) -> None:
        self._patch(customer.id, customer)

    def remove(self, customer_id: int) -> None:
        self._patch(customer_id, None)

    def _patch(self, customer_id: int, customer: Customer | None) -> None:
        with self._lock:
            if self._patches is not None:
                self._patches.append((customer_id, customer))
            if self._tables is not None:
                self._tables.remove(customer_id)
                if customer is not None:
                    self._tables.add(customer)
                self._version += 1

    # -- lookups ---------------------------------------------------------

    def find(self, reference: str) -> LookupResult:
        self._ensure_fresh()
        with self._lock:
            assert self._tables is not None
            return self._find(self._tables, reference.strip())

    def _find(self, tables: _Tables, query: str) -> LookupResult:
        quoted = len(query) >= 2 and query[0] == query[-1] and query[0] in "\"'“”"
        if quoted or (query.startswith("“") and query.endswith("”")):
            name = " ".join(name_tokens(query[1:-1]))
            return LookupResult(query, tables.customers(_get(tables.by_name, name)))
        if not query:
            return LookupResult(query)
        ids: set[int] = set()
        if match := _ID.match(query):
            customer_id = int(match.group(1))
            if customer_id in tables.by_id:
                ids.add(customer_id)
        if _EMAIL.match(query):
            ids |= _get(tables.by_email, query.casefold())
            return LookupResult(query, tables.customers(ids))
        if _PHONE.match(query):
            for key in lookup_keys(query, self.region):
                ids |= _get(tables.by_phone, key)
        if ids:
            return LookupResult(query, tables.customers(ids))
        return LookupResult(query, tables.customers(self._by_name(tables, query)))

    @staticmethod
    def _by_name(tables: _Tables, query: str) -> set[int]:
        tokens = name_tokens(query)
        if not tokens:
            return set()
        exact = _get(tables.by_name, " ".join(tokens))
        if exact:
            return exact
        result: set[int] | None = None
        for token in tokens:
            ids: set[int] = set()
            for candidate in tables.tokens_starting_with(token):
                ids |= _get(tables.by_token, candidate)
            result = ids if result is None else result & ids
            if not result:
                return set()
        return result or set()
