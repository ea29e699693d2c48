"""A program's customer list, compact: what `LoyaltyClient.list_customers` returns.

A 100,000-customer program as 100,000 `Customer` objects (and their 500,000 strings) is
about 50 MB; as columns it is about 15: ids and points in two arrays, and each customer's
text fields in one UTF-8 `bytes`. A `Customer` is made when one is read (`list[i]`).
Decoded by msgspec (C) straight into typed records: no dict per customer.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any, overload

import msgspec

from bot.smartpasses.models import Customer, parse_customer

SEPARATOR = "\x1f"  # between one customer's text fields (kept apart if a field holds it)

Texts = tuple[str, str, str, str, str]  # first name, last name, email, phone, human name


_FIELD_NAMES = ("first_name", "last_name", "email", "phone", "human_name")


def _customer(customer_id: int, points: int, texts: Texts) -> Customer:
    """A `Customer` from fields that were validated when the list was parsed (the model's
    validation again would double the cost of reading a large list)."""
    customer = object.__new__(Customer)
    set_field = object.__setattr__  # the model is frozen
    set_field(customer, "id", customer_id)
    set_field(customer, "points", points)
    for name, value in zip(_FIELD_NAMES, texts, strict=True):
        set_field(customer, name, value)
    return customer


def json_array(body: bytes) -> list[Any]:
    """A list as the API sends it: a JSON array, or an object wrapping it under `data`."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise ValueError("not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError("not a JSON array")
    return data


class _Record(msgspec.Struct, gc=False):
    """One customer as the API documents it (nulls allowed, other fields ignored)."""

    id: int
    points: int | None = None
    first_name: str | None = msgspec.field(default=None, name="firstName")
    last_name: str | None = msgspec.field(default=None, name="lastName")
    email: str | None = None
    phone: str | None = None
    human_name: str | None = msgspec.field(default=None, name="humanName")


class _Wrapped(msgspec.Struct):
    data: list[_Record]


_RECORD_FIELDS = ("id", "points", *_FIELD_NAMES)
_SNAKE_NAMES = (b'"first_name"', b'"last_name"', b'"human_name"')  # the model takes these too
_LIST = msgspec.json.Decoder(list[_Record])
_WRAPPED = msgspec.json.Decoder(_Wrapped)


def _decode_records(body: bytes) -> list[_Record]:
    if body.lstrip()[:1] == b"{":
        return _WRAPPED.decode(body).data
    return _LIST.decode(body)


class CustomerList(Sequence[Customer]):
    """Customers as columns. Immutable; `take` and `concat` make new lists."""

    __slots__ = ("_columns", "_odd", "_rows", "ids", "points")

    def __init__(
        self,
        ids: array[int],
        points: array[int],
        rows: list[bytes],
        odd: dict[int, Texts] | None = None,
        columns: tuple[list[str], ...] | None = None,
    ) -> None:
        self.ids, self.points = ids, points
        self._rows = rows  # SEPARATOR-joined text fields, UTF-8
        self._odd = odd or {}  # rows whose text holds the separator: kept whole
        self._columns = columns  # the parsed text columns, until `columns` hands them over

    # -- building ----------------------------------------------------------

    @classmethod
    def from_columns(
        cls, ids: list[int], points: list[int], texts: tuple[list[str], ...]
    ) -> CustomerList:
        joined = list(map(SEPARATOR.join, zip(*texts, strict=True)))
        odd: dict[int, Texts] = {}
        if SEPARATOR.join(joined).count(SEPARATOR) != len(joined) * len(texts) - 1:
            for row, fields in enumerate(zip(*texts, strict=True)):
                if any(SEPARATOR in field for field in fields):
                    odd[row] = fields
                    joined[row] = ""
        try:
            id_column, point_column = array("q", ids), array("q", points)
        except OverflowError:
            raise ValueError("a customer id or balance out of range") from None
        rows = list(map(str.encode, joined))
        return cls(id_column, point_column, rows, odd, texts)

    @classmethod
    def of(cls, customers: Iterable[Customer]) -> CustomerList:
        if isinstance(customers, CustomerList):
            return customers
        customers = list(customers)
        texts = tuple([getattr(c, name) for c in customers] for name in _FIELD_NAMES)
        return cls.from_columns([c.id for c in customers], [c.points for c in customers], texts)

    @classmethod
    def from_json(cls, body: bytes) -> CustomerList:
        """The API's list: a JSON array, or an object wrapping it under `data`. A list as
        the API documents it is decoded by msgspec straight into typed records (C; no dict
        per customer); anything unusual (numbers as strings, snake_case names) goes through
        the `Customer` model record by record, with its coercions and errors (ValueError)."""
        if not any(name in body for name in _SNAKE_NAMES):
            try:
                records = _decode_records(body)
            except msgspec.ValidationError:
                pass
            except msgspec.DecodeError:
                raise ValueError("not JSON") from None
            else:
                return cls._from_records(records)
        return cls.of(parse_customer(r) for r in json_array(body))

    @classmethod
    def _from_records(cls, records: list[_Record]) -> CustomerList:
        ids, points, *texts = (list(map(attrgetter(name), records)) for name in _RECORD_FIELDS)
        del records
        if None in points:
            points = [p or 0 for p in points]
        texts = [[t or "" for t in column] if None in column else column for column in texts]
        return cls.from_columns(ids, points, tuple(texts))

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

    def __repr__(self) -> str:
        return f"<CustomerList of {len(self)}>"

    def __eq__(self, other: object) -> bool:  # as a list of customers would compare
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking, as a list

    def texts(self, row: int) -> Texts:
        if row in self._odd:
            return self._odd[row]
        return tuple(self._rows[row].decode().split(SEPARATOR))  # type: ignore[return-value]

    def columns(self) -> tuple[list[str], ...]:
        """The five text columns (first, last, email, phone, human name). The parsed
        ones are handed over once (and not kept); after that they are decoded again."""
        columns, self._columns = self._columns, None
        if columns is not None:
            return columns
        texts = list(map(self.texts, range(len(self))))
        return tuple([row[field] for row in texts] for field in range(len(_FIELD_NAMES)))

    def take(self, rows: Iterable[int]) -> CustomerList:
        """These rows, in this order."""
        rows = list(rows)
        odd = {new: self._odd[old] for new, old in enumerate(rows) if old in self._odd}
        return CustomerList(
            array("q", map(self.ids.__getitem__, rows)),
            array("q", map(self.points.__getitem__, rows)),
            list(map(self._rows.__getitem__, rows)),
            odd,
        )

    def concat(self, other: CustomerList) -> CustomerList:
        shift = len(self)
        odd = {**self._odd, **{row + shift: t for row, t in other._odd.items()}}
        return CustomerList(
            self.ids + other.ids, self.points + other.points, self._rows + other._rows, odd
        )

    def top(self, count: int) -> list[Customer]:
        """The `count` customers with the most points (ties: the oldest id first)."""
        import heapq

        rows = heapq.nlargest(count, range(len(self)), key=lambda r: (self.points[r], -self.ids[r]))
        return [self[r] for r in rows]
