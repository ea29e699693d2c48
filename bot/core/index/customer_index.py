"""Find a customer from what a person typed: id, email, phone or (part of) a name.

The API can only list every customer or fetch one by id, so the index is built
from one list fetch. The first lookup waits for it (concurrent ones wait for that same
fetch); after that the list is refreshed in the background once it is 80% of the TTL old
(stale-while-revalidate), and lookups meanwhile use the current snapshot. No lookup is
answered from a list older than the TTL: after a quiet spell the first lookup waits for
the list to be read again.
`warm()` starts the first fetch off the request path; `invalidate()` makes the next
lookup wait for a fresh list. With a TTL of 0, every lookup waits for a fresh list.

Readers never see half a change: every lookup and every patch (the bot's own writes)
runs under one lock, and a reload builds new tables outside it, replays the patches made
meanwhile, and swaps them in whole."""

from __future__ import annotations

import bisect
import difflib
import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

from bot.core import background
from bot.core.index.balances import BalanceList
from bot.core.index.customer_list import CustomerList
from bot.core.index.search import (
    _EMAIL,
    _ID,
    _PHONE,
    Listing,
    LookupResult,
    _haystack,
    _Lookup,
    _matches,
    _merged,
    _search_words,
    exact_reference,
)
from bot.core.index.snapshot import Snapshot, SnapshotBuilder, _Writes
from bot.domain.text_keys import name_tokens
from bot.smartpasses.models import Customer

log = logging.getLogger(__name__)
# How alike a typed name word and a listed one must be to be offered (difflib's ratio:
# `jaun` and `juan` 0.75, `ana` and `ama` 0.67).
NEAR_NAME = 0.75

REFRESH_AT = 0.8  # of the TTL: the list is refreshed before it is older than the TTL


REREAD_SECONDS = 3.0  # a miss reads the list again at most this often


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
        customers, here; an `IndexBuilder` indexes the API's body in a builder process)."""
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
        """No lookup is answered from a list older than the TTL: one nearly that old is
        refreshed in the background (answered from the current list meanwhile); one older
        (after a quiet spell) is read again first."""
        age = self._clock() - self._loaded_at
        if self._snapshot is not None and age < self.ttl * REFRESH_AT:
            return
        if self._snapshot is None or self._must_wait or self.ttl <= 0 or age >= self.ttl:
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

        background.start(refresh, "index-refresh")

    def snapshot(self) -> CustomerList | None:
        """Every customer, if the list is fresh (younger than the TTL); else None."""
        return self._listed(fresh=True)

    def balances(self) -> BalanceList:
        """Every customer's balance as of now, and the leaders (the summary's): from the
        snapshot if it is fresh, else from a list fetched now, which the index keeps
        (built as every reload is, in the builder process): one download serves both.
        A list fetched now gives its balances, with the bot's writes made meanwhile, as
        soon as they are read (bot.core.index.balances), before it is parsed whole; its
        lookup tables are built after, while the summary is made."""
        fresh = self._balances(fresh=True)
        if fresh is not None:
            return fresh
        early: Future[BalanceList | None] = Future()  # None: take the new snapshot's

        def reload() -> None:
            failed: BaseException | None = None
            try:
                with self._load_lock:
                    if not self._fresh():
                        self._reload(early)
                        self._must_wait = False
            except BaseException as exc:  # the next lookup reads the list again
                failed = exc
                if early.done():
                    log.warning("customer index build failed: %s", type(exc).__name__)
            finally:
                if not early.done():
                    if failed is None:
                        early.set_result(None)
                    else:
                        early.set_exception(failed)

        background.start(reload, "index-balances")
        counted = early.result()
        if counted is None:
            counted = self._balances(fresh=False)
        return self.balances() if counted is None else counted  # None: dropped meanwhile

    def _hand_over(self, early: Future[BalanceList | None], counted: BalanceList) -> None:
        """The balances just read, to `balances`' caller: with the writes made since the
        fetch began (the snapshot built from the list will hold them too). If those writes
        leave the leaders unknown, the caller waits for the snapshot instead."""
        with self._lock:
            latest = dict(self._patches or [])  # each customer as last written (None: gone)
        written = counted.with_writes(latest)
        if written is not None:
            early.set_result(written)

    def _balances(self, *, fresh: bool) -> BalanceList | None:
        """The snapshot's balances, with the bot's writes since (None: no snapshot, or
        not fresh)."""
        with self._lock:
            snapshot, writes = self._snapshot, self._writes
            if snapshot is None or (fresh and self._clock() - self._loaded_at >= self.ttl):
                return None
            latest = {customer_id: writes.by_id.get(customer_id) for customer_id in writes.touched}
        counted = BalanceList.of(snapshot.customers).with_writes(latest)
        if counted is None:  # most of the leaders written since: from the whole list
            listed = self._listed(fresh=False)
            counted = None if listed is None else BalanceList.of(listed)
        return counted

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
        return _with_writes(snapshot.customers, kept, written)

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

    def _reload(self, early: Future[BalanceList | None] | None = None) -> None:
        """Fetch and build outside the lock; swap the new snapshot in whole, with the
        writes made during the fetch kept beside it (they are at least as new). `early`:
        given the list's balances before it is parsed whole (`balances`)."""
        with self._lock:
            self._patches = []
        started = self._clock()
        try:
            fetched = self._fetch()
            if early is None:
                snapshot = self._build(fetched)
            elif isinstance(self._build, SnapshotBuilder):  # it parses: balances come first
                snapshot = self._build(fetched, balances=functools.partial(self._hand_over, early))
            else:  # the fetch parsed it
                self._hand_over(early, BalanceList.of(CustomerList.of(fetched).unique()))
                snapshot = self._build(fetched)
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
            background.start(snapshot.prepare, "index-prepare")
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

    def names_someone(self, reference: str) -> bool:
        """Whether the list as loaded names someone with `reference`, without waiting for
        any read (False before the first load): a guess at what words mean, never an
        answer (those wait for a fresh list: `find`)."""
        with self._lock:
            if self._snapshot is None:
                return False
            lookup = _Lookup(self._snapshot, self._writes, self.region)
            return bool(lookup.find(reference.strip()).matches)

    def near(self, reference: str) -> str | None:
        """A name nobody has, as the names in the list would spell it (`jaun perze` ->
        `juan perez`): each word replaced by the closest name word that starts with the
        same letter. None if a word has none close enough, or none was replaced."""
        words = [] if exact_reference(reference) else name_tokens(reference)
        with self._lock:
            snapshot, written = self._snapshot, list(self._writes.by_token)
        if not words or snapshot is None:
            return None
        listed = snapshot.by_token.tokens  # sorted
        spelled = []
        for word in words:
            start = bisect.bisect_left(listed, word[0])
            end = bisect.bisect_left(listed, word[0] + "\U0010ffff", start)
            same_start = [*listed[start:end], *(t for t in written if t[:1] == word[:1])]
            close = difflib.get_close_matches(word, same_start, n=1, cutoff=NEAR_NAME)
            if not close:
                return None
            spelled.append(close[0])
        return " ".join(spelled) if spelled != words else None


def _with_writes(
    customers: CustomerList, kept: list[int], written: Iterable[Customer]
) -> CustomerList:
    """The `kept` rows of a list, then the customers the bot wrote since it was read."""
    return CustomerList.joined([customers.take(kept), CustomerList.of(written)])
