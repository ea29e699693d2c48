"""A snapshot of the customer list as lookup tables (ids, emails, phones, names), built
in two steps (from the API's body, a batch of the list at a time: `Snapshot.from_json`),
and the changes the bot made since it was taken."""

from __future__ import annotations

import bisect
import logging
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

from bot.core.index.customer_list import CustomerList, UnusualList, strictly_ascending
from bot.core.index.search_text import SearchText
from bot.core.index.tables import KeyHashes, KeyIndex, TokenRows
from bot.domain.text_keys import (
    casefold_all,
    fold,
    fold_all,
    name_keys,
    name_tokens,
    phone_digits,
    phone_digits_all,
)

if TYPE_CHECKING:
    from bot.core.index.balances import BalanceList
    from bot.core.index.mapped_text import RowsFile
    from bot.smartpasses.models import Customer

log = logging.getLogger(__name__)


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


_KEYS_APART = "\x00"  # between a batch's keys in `_KeyColumns` (unless one holds it)


class _KeyColumns:
    """The text keys the second step is made from, kept compact: each batch's column as
    one string (its keys joined by a separator none of them holds; else kept as they are),
    read back one column at a time."""

    def __init__(self) -> None:
        self._columns: tuple[list[str | list[str]], ...] = ([], [], [], [])

    @classmethod
    def of(cls, listed: CustomerList) -> _KeyColumns:
        columns = cls()
        columns.add(_text_keys(listed))
        return columns

    def add(self, keys: _TextKeys) -> None:
        for pieces, column in zip(self._columns, keys, strict=True):
            joined = _KEYS_APART.join(column)
            pieces.append(joined if joined.count(_KEYS_APART) == len(column) - 1 else column)

    def column(self, which: int) -> list[str]:
        """Folded full names (0), other human names (1), emails (2), phone digits (3)."""
        column: list[str] = []
        for piece in self._columns[which]:
            column.extend(piece.split(_KEYS_APART) if isinstance(piece, str) else piece)
        return column


class _Gathered:
    """What a snapshot's tables are made from, gathered a batch of the list at a time:
    only one batch's text is ever held as strings (a large list's columns of strings
    would be several times its tables: bench_memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.by_email, self.by_phone, self.by_name = KeyHashes(), KeyHashes(), KeyHashes()
        self.by_token = TokenRows()
        self.keys = _KeyColumns()

    def add(self, part: CustomerList) -> None:
        """The next rows (the part's text columns handed over)."""
        keys = _text_keys(part)
        folded_full, folded_other, folded_email, phone_keys = keys
        first, count = self.count, len(part)
        self.by_email.add([e.strip() for e in folded_email], range(first, first + count))
        self.by_phone.add(phone_keys, range(first, first + count))
        # Name keys: row * 2 for the full name, row * 2 + 1 for another human name.
        full_keys, other_keys = name_keys(folded_full), name_keys(folded_other)
        self.by_name.add(full_keys, range(2 * first, 2 * (first + count), 2))
        self.by_name.add(other_keys, range(2 * first + 1, 2 * (first + count), 2))
        self.by_token.add(full_keys, other_keys, first)
        del full_keys, other_keys
        self.keys.add(keys)
        self.count += count


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

    def __init__(self, customers: Sequence[Customer], gathered: _Gathered | None = None) -> None:
        """`gathered`: the tables' material, gathered from `customers` (a CustomerList,
        each customer once) batch by batch (`from_json`)."""
        if gathered is None:
            listed = CustomerList.of(customers).unique()
            gathered = _Gathered()
            gathered.add(listed)
        else:
            listed = cast(CustomerList, customers)
        self.customers = listed
        ids, count = listed.ids, len(listed)
        # The API lists customers by id: then the ids themselves are the index.
        ascending = strictly_ascending(ids)
        self.by_id = None if ascending else KeyIndex(ids, range(count), count)
        self.by_email = gathered.by_email.index(count)
        self.by_phone = gathered.by_phone.index(count)
        self.by_name = gathered.by_name.index(2 * count)
        self.by_token = gathered.by_token.table()
        # For `prepare`, until it has run (recomputed if it is gone: see __getstate__):
        self._pending: _KeyColumns | None = gathered.keys
        self._source: Callable[[], Prepared] | None = None
        self._prepare_lock = threading.Lock()
        self.rank = array("I")  # see Prepared (filled by `prepare`)
        self.by_name_order = array("I")
        self.search_text: SearchText | None = None

    @classmethod
    def from_json(cls, body: bytes) -> Snapshot:
        """The API's list body, indexed as it is parsed, a batch at a time; a list not as
        the API documents it, or with a customer listed twice, the slower way (whole)."""
        gathered = _Gathered()
        try:
            listed = CustomerList.gathered(
                _gathering(gathered, CustomerList.batches(body, text_columns=True))
            )
        except UnusualList:
            return cls(CustomerList.from_json(body, text_columns=True))
        del body  # all in the tables' material: gone now if the caller kept no reference
        return cls._made(listed, gathered)

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], rows: RowsFile | None = None) -> Snapshot:
        """As `from_json`, from the body read a part at a time (`chunks`), each part let go
        once parsed (CustomerList.streamed); `rows`: where the list's packed text grows."""
        gathered = _Gathered()
        batches = _gathering(gathered, CustomerList.streamed(chunks))
        return cls._made(CustomerList.gathered(batches, rows), gathered)

    @classmethod
    def _made(cls, listed: CustomerList, gathered: _Gathered) -> Snapshot:
        if listed.unique() is not listed:  # a customer listed twice: the slower way
            return cls(listed)
        return cls(listed, gathered)

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
        return second_step(*self.second_step_input())

    def second_step_input(self) -> tuple[array[int], _KeyColumns]:
        """The ids and text keys the second step is made from (handed over, not kept)."""
        keys = self._pending or _KeyColumns.of(self.customers)
        self._pending = None
        return self.customers.ids, keys

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
        return self.by_token.rows_starting_with(prefix)

    def in_name_order(self, rows: Iterable[int]) -> list[int]:
        if self.prepared():
            return sorted(rows, key=self.rank.__getitem__)
        return sorted(rows, key=lambda r: _sort_key(self.customers[r]))


def _gathering(gathered: _Gathered, batches: Iterator[CustomerList]) -> Iterator[CustomerList]:
    """`batches`, each added to `gathered` as it passes."""
    for part in batches:
        gathered.add(part)
        yield part


def _email_key(email: str) -> str:
    return email.strip().casefold()


def second_step(ids: Sequence[int], keys: _KeyColumns) -> Prepared:
    """The name order and the search text, from the rows' ids and text keys (each column
    read back only while it is needed, and no column of every row's haystack: each is
    made as the search text takes it)."""
    count = len(ids)
    folded_full, folded_other = keys.column(0), keys.column(1)
    shown = [
        o or f or fold(f"Anónimo #{i}")
        for o, f, i in zip(folded_other, folded_full, ids, strict=True)
    ]
    ascending = strictly_ascending(ids)  # as the API lists them: the rows' order is the ids'
    order = list(range(count)) if ascending else sorted(range(count), key=ids.__getitem__)
    order.sort(key=shown.__getitem__)
    del shown
    by_name_order = array("I", order)
    del order  # its Python ints are several times the array
    rank = array("I", bytes(4 * count))
    for place, row in enumerate(by_name_order):
        rank[row] = place
    folded_email = keys.column(2)
    haystacks = _haystacks(by_name_order, folded_full, folded_other, folded_email)
    texts = SearchText.texts(haystacks, count)
    del haystacks, folded_full, folded_other, folded_email
    phone_keys = keys.column(3)
    search_text = SearchText(texts, map(phone_keys.__getitem__, by_name_order))
    return Prepared(by_name_order, rank, search_text)


def _haystacks(
    rows: Iterable[int], full: list[str], other: list[str], email: list[str]
) -> Iterator[str]:
    """Each row's text that a search looks in, as it is taken."""
    for r in rows:
        yield f"{full[r]} {other[r]} {email[r]}" if other[r] else f"{full[r]} {email[r]}"


def build_snapshot(body: bytes) -> Snapshot:
    """The index of the API's customer list body, both steps (where no builder process
    can run; the builder's own steps are in bot.core.index.builder)."""
    snapshot = Snapshot.from_json(body)
    snapshot.prepare()
    return snapshot


@runtime_checkable
class SnapshotBuilder(Protocol):
    """Builds the index elsewhere (a child process: bot.core.index.builder): `download`
    reads the API's list body with the function given and keeps it as its pieces arrive;
    called with what it kept, it builds, giving `balances` the list's balances first
    (before the list is parsed whole) if asked."""

    def download(self, list_body: Callable[..., Any], /) -> Any: ...

    def __call__(
        self, received: Any, /, balances: Callable[[BalanceList], None] | None = None
    ) -> Snapshot: ...


# A key usually names one customer: store the bare id, and a set only on collision.
_Ids = int | set[int]
