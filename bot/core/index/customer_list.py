"""A program's customer list, compact: what `LoyaltyClient.list_customers` parses into.

A large program as one `Customer` object per customer (and five strings each) takes
several times the memory of columns: ids and points in two arrays, and each customer's
text fields in one UTF-8 `bytes` (bench_lookup measures it). A `Customer` is made when one is read (`list[i]`).
Decoded by msgspec (C) straight into typed records: no dict per customer.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import mmap
import operator
from array import array
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, cast, overload

import msgspec

if TYPE_CHECKING:
    from bot.core.index.mapped_text import RowsFile
    from bot.smartpasses.models import Customer

SEPARATOR = "\x1f"  # between one customer's text fields (kept apart if a field holds it)

Texts = tuple[str, str, str, str, str]  # first name, last name, email, phone, human name


_FIELD_NAMES = ("first_name", "last_name", "email", "phone", "human_name")


@functools.cache
def _model() -> type[Customer]:
    """The model, imported when a customer is first read: the index builder's child
    parses lists and builds tables without it (pydantic is most of that process's memory
    before a build: bench_memory counts it)."""
    from bot.smartpasses.models import Customer

    return Customer


def _customer(customer_id: int, points: int, texts: Texts) -> Customer:
    """A `Customer` from fields that were validated when the list was parsed (the model's
    validation again would double the cost of reading a large list)."""
    customer = object.__new__(_model())
    set_field = object.__setattr__  # the model is frozen
    set_field(customer, "id", customer_id)
    set_field(customer, "points", points)
    for name, value in zip(_FIELD_NAMES, texts, strict=True):
        set_field(customer, name, value)
    return customer


class _Record(msgspec.Struct, gc=False):
    """One customer as the API documents it (nulls allowed, other fields ignored)."""

    id: int
    points: int | None = None
    first_name: str | None = msgspec.field(default=None, name="firstName")
    last_name: str | None = msgspec.field(default=None, name="lastName")
    email: str | None = None
    phone: str | None = None
    human_name: str | None = msgspec.field(default=None, name="humanName")


_RECORD_FIELDS = ("id", "points", *_FIELD_NAMES)
_REPEATING = (0, 1)  # first and last names: shared by many customers
_SNAKE_NAMES = (b'"first_name"', b'"last_name"', b'"human_name"')  # the model takes these too
_LIST = msgspec.json.Decoder(list[_Record])


class UnusualList(Exception):
    """A list not as the API documents it (numbers as strings, snake_case names): read
    record by record through the `Customer` model instead."""


class _RawWrapped(msgspec.Struct):
    data: list[msgspec.Raw]


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw])
_RAW_WRAPPED = msgspec.json.Decoder(_RawWrapped)
BATCH = 5000  # records decoded at a time (a few milliseconds each)


def _snake_case(body: bytes) -> bool:
    """Whether a record spells a name field in snake_case: one scan of the body for what
    the three spellings end in, and each looked for only if that is there."""
    return b'_name"' in body and any(name in body for name in _SNAKE_NAMES)


def raw_records(body: bytes) -> list[msgspec.Raw]:
    """Each record's JSON, undecoded (a view into `body`)."""
    if body.lstrip()[:1] == b"{":
        return _RAW_WRAPPED.decode(body).data
    return _RAW_LIST.decode(body)


def int_column(values: Iterable[int]) -> array[int]:
    """Ids or balances as one 64-bit column; ValueError if one does not fit."""
    try:
        return array("q", values)
    except OverflowError:
        raise ValueError("a customer id or balance out of range") from None


def strictly_ascending(ids: Sequence[int]) -> bool:
    """Each id greater than the one before (as the API lists customers): in one C pass."""
    return all(map(operator.lt, ids, itertools.islice(ids, 1, None)))


# The packed text, read-only whichever it is (a bytearray: grown as a list was parsed; a
# mapping: bot.core.index.mapped_text), and where each row starts.
Rows = tuple[bytes | bytearray | mmap.mmap, "array[int]"]


def _pack(texts: Iterable[str]) -> Rows:
    """Texts as one UTF-8 `bytes` and where each starts (then the end)."""
    encoded = list(map(str.encode, texts))
    starts = array("Q", [0])
    starts.extend(itertools.accumulate(map(len, encoded)))
    return b"".join(encoded), starts


class CustomerSequence(Sequence["Customer"]):
    """Customers made as they are read (this list, or the lookup index's listings); equal
    to a list of the same customers."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a list's

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)}>"


class CustomerList(CustomerSequence):
    """Customers as columns. Immutable; `take` and `joined` make new lists."""

    __slots__ = ("_columns", "_odd", "_rows", "_starts", "ids", "points")

    def __init__(
        self,
        ids: array[int],
        points: array[int],
        rows: Rows,
        odd: dict[int, Texts] | None = None,
        columns: tuple[list[str], ...] | None = None,
    ) -> None:
        self.ids, self.points = ids, points
        # Each row's text fields joined by SEPARATOR, in UTF-8, all in one `bytes` (or a
        # bytearray, never changed: a parsed list's, grown batch by batch): one allocation,
        # not 100,000 small ones that would pin memory after the parse.
        self._rows, self._starts = rows  # the rows; where each starts, and the end
        self._odd = odd or {}  # rows whose text holds the separator: kept whole
        self._columns = columns  # the parsed text columns, until `columns` hands them over

    # -- building ----------------------------------------------------------

    @classmethod
    def from_columns(
        cls, ids: list[int], points: list[int], texts: tuple[list[str], ...], *, keep: bool = True
    ) -> CustomerList:
        """`keep`: keep the text columns for `columns()` (else only the packed rows)."""
        joined = list(map(SEPARATOR.join, zip(*texts, strict=True)))
        odd: dict[int, Texts] = {}
        if SEPARATOR.join(joined).count(SEPARATOR) != len(joined) * len(texts) - 1:
            for row, fields in enumerate(zip(*texts, strict=True)):
                if any(SEPARATOR in field for field in fields):
                    odd[row] = fields
                    joined[row] = ""
        return cls(int_column(ids), int_column(points), _pack(joined), odd, texts if keep else None)

    @classmethod
    def of(cls, customers: Iterable[Customer]) -> CustomerList:
        if isinstance(customers, CustomerList):
            return customers
        customers = list(customers)
        texts = tuple([getattr(c, name) for c in customers] for name in _FIELD_NAMES)
        return cls.from_columns([c.id for c in customers], [c.points for c in customers], texts)

    @classmethod
    def from_json(cls, body: bytes, *, text_columns: bool = False) -> CustomerList:
        """The API's list: a JSON array, or an object wrapping it under `data`.

        A list as the API documents it is decoded by msgspec straight into typed records
        (C; no dict per customer), a few thousand at a time: other threads get the
        interpreter between batches, and only one batch is ever records. Anything unusual
        (numbers as strings, snake_case names) goes through the `Customer` model record by
        record, with its coercions and errors (ValueError). `text_columns`: keep the text
        fields as columns too, for `columns()` (the lookup index builds from them)."""
        try:
            return cls.gathered(cls.batches(body, text_columns=text_columns))
        except UnusualList:
            pass
        from bot.smartpasses.models import json_array, parse_customer

        return cls.of(parse_customer(r) for r in json_array(body))

    @classmethod
    def batches(cls, body: bytes, *, text_columns: bool = False) -> Iterator[CustomerList]:
        """The list as `from_json` reads a list as the API documents it: a few thousand
        customers at a time, each batch a list of its own (rows from 0). UnusualList,
        maybe after some batches, if it is not one (then read it with `from_json`);
        ValueError if it is not JSON."""
        if _snake_case(body):
            raise UnusualList
        try:
            each = raw_records(body)
            while each:  # each batch's raw records let go as it is read: their memory
                batch = each[:BATCH]  # is reused by the next batches' columns
                del each[:BATCH]
                records = _LIST.decode(b"[%s]" % b",".join(batch))
                del batch
                yield cls._from_records(records, text_columns)
        except msgspec.ValidationError:
            raise UnusualList from None
        except msgspec.DecodeError:
            raise ValueError("not JSON") from None

    @classmethod
    def streamed(cls, chunks: Iterable[bytes]) -> Iterator[CustomerList]:
        """The list whose JSON is `chunks` (read a part at a time), a piece at a time as
        `batches` gives it, text columns kept: only a piece of its JSON is held at once
        (bot.core.index.list_pieces). A piece not as the API documents it is read through
        the `Customer` model (`from_json`'s way with a whole list). ValueError if it is not
        JSON, or a record is not a customer."""
        from bot.core.index.list_pieces import pieces

        return pieces(chunks, cls._piece)

    @classmethod
    def _piece(cls, records: bytes) -> CustomerList:
        """A JSON array of whole records (msgspec.DecodeError if it is not one)."""
        if not _snake_case(records):
            try:
                return cls._from_records(_LIST.decode(records), text_columns=True)
            except msgspec.ValidationError:
                pass
        each = _RAW_LIST.decode(records)  # not JSON: msgspec.DecodeError
        from bot.smartpasses.models import parse_customer

        return cls.of(parse_customer(msgspec.json.decode(raw)) for raw in each)

    @classmethod
    def gathered(
        cls, batches: Iterable[CustomerList], into: RowsFile | None = None
    ) -> CustomerList:
        """Batches one after another, their packed text grown in one buffer as each comes
        (joined at the end, the batches' and the whole would be held at once); `into`: in
        that file instead (bot.core.index.mapped_text)."""
        parts: list[CustomerList] = []
        text = bytearray()
        for part in batches:
            if into is None:
                text += part._rows
            else:
                into.add(part._rows)
            part._rows = b""
            parts.append(part)
        return cls.joined(parts, text if into is None else into.done())

    @classmethod
    def _from_records(cls, records: list[_Record], text_columns: bool) -> CustomerList:
        ids, points, *texts = (list(map(attrgetter(name), records)) for name in _RECORD_FIELDS)
        del records
        if None in points:
            points = [p or 0 for p in points]
        texts = [[t or "" for t in column] if None in column else column for column in texts]
        if text_columns:  # kept for the index: names repeat, each kept once
            seen: dict[str, str] = {}
            for field in _REPEATING:
                texts[field] = list(map(seen.setdefault, texts[field], texts[field]))
        return cls.from_columns(ids, points, tuple(texts), keep=text_columns)

    @classmethod
    def joined(
        cls, parts: list[CustomerList], rows: bytes | bytearray | mmap.mmap | None = None
    ) -> CustomerList:
        """These lists one after another (their text columns too, if each kept them).
        `rows`: their packed text, already joined."""
        ids, points, starts = array("q"), array("q"), array("Q", [0])
        odd: dict[int, Texts] = {}
        keep = bool(parts) and all(part._columns is not None for part in parts)
        columns: tuple[list[str], ...] = tuple([] for _ in _FIELD_NAMES)
        for part in parts:
            odd.update({row + len(ids): texts for row, texts in part._odd.items()})
            ids.extend(part.ids)
            points.extend(part.points)
            starts.extend(map(starts[-1].__add__, itertools.islice(part._starts, 1, None)))
            if keep and part._columns is not None:
                for column, more in zip(columns, part._columns, strict=True):
                    column.extend(more)
        if rows is None:
            rows = b"".join(part._rows for part in parts)
        return cls(ids, points, (rows, starts), odd, columns if keep else None)

    def unique(self) -> CustomerList:
        """Each customer once: a customer listed twice is the later row (as the API would
        answer a read of it last)."""
        ids = self.ids
        if strictly_ascending(ids) or len(set(ids)) == len(self):  # the first: no set held
            return self
        return self.take(sorted({cid: row for row, cid in enumerate(ids)}.values()))

    def __reduce__(self) -> tuple[type[CustomerList], tuple[object, ...]]:
        """Pickled without its text columns (sent from the index builder's child, which
        keeps them for the lookup tables): the packed rows hold the same text."""
        return CustomerList, (self.ids, self.points, (self._rows, self._starts), self._odd)

    # -- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Customer: ...
    @overload
    def __getitem__(self, index: slice) -> list[Customer]: ...
    def __getitem__(self, index: int | slice) -> Customer | list[Customer]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        return _customer(self.ids[index], self.points[index], self.texts(index))

    def __iter__(self) -> Iterator[Customer]:
        return (self[i] for i in range(len(self)))

    def texts(self, row: int) -> Texts:
        if row in self._odd:
            return self._odd[row]
        text = self._rows[self._starts[row] : self._starts[row + 1]].decode()
        return tuple(text.split(SEPARATOR))  # type: ignore[return-value]

    def columns(self) -> tuple[list[str], ...]:
        """The five text columns (first, last, email, phone, human name). The parsed
        ones are handed over once (and not kept); after that they are decoded again."""
        columns, self._columns = self._columns, None
        if columns is not None:
            return columns
        texts = list(map(self.texts, range(len(self))))
        return tuple([row[field] for row in texts] for field in range(len(_FIELD_NAMES)))

    def take(self, rows: Iterable[int]) -> CustomerList:
        """These rows, in this order (their packed text copied as it is: one C pass)."""
        rows = list(rows)
        odd = (
            {new: self._odd[old] for new, old in enumerate(rows) if old in self._odd}
            if self._odd
            else {}
        )
        starts = self._starts
        ends = map(starts.__getitem__, map(operator.add, rows, itertools.repeat(1)))
        text = cast(bytes, self._rows)  # or a bytearray: its slices join the same way
        pieces = list(map(text.__getitem__, map(slice, map(starts.__getitem__, rows), ends)))
        new_starts = array("Q", [0])
        new_starts.extend(itertools.accumulate(map(len, pieces)))
        return CustomerList(
            array("q", map(self.ids.__getitem__, rows)),
            array("q", map(self.points.__getitem__, rows)),
            (b"".join(pieces), new_starts),
            odd,
        )

    def _row_text(self, row: int) -> str:
        return (
            ""
            if row in self._odd
            else self._rows[self._starts[row] : self._starts[row + 1]].decode()
        )

    def top(self, count: int) -> list[Customer]:
        """The `count` customers with the most points (ties: the oldest id first)."""
        return [self[r] for r in leading_rows(self.ids, self.points, count)]


def rank(customer_id: int, points: int) -> tuple[int, int]:
    """A customer's place by points, as a sort key: most points first; ties: the oldest
    id (the lowest) first."""
    return -points, customer_id


def leading_rows(ids: Sequence[int], points: Sequence[int], count: int) -> list[int]:
    """The rows of the `count` customers with the most points, in `rank` order."""
    if count <= 0 or not points:
        return []
    least = heapq.nlargest(count, points)[-1]  # the balances compared in C, first
    candidates = itertools.compress(
        range(len(points)), map(operator.ge, points, itertools.repeat(least))
    )
    return sorted(candidates, key=lambda row: rank(ids[row], points[row]))[:count]
