"""A program's customer list, compact: what `LoyaltyClient.list_customers` returns.

A 100,000-customer program as 100,000 `Customer` objects (and their 500,000 strings) is
about 50 MB; as columns it is about 15: ids and points in two arrays, and each customer's
text fields in one UTF-8 `bytes`. A `Customer` is made when one is read (`list[i]`).
Parsed with orjson (C): the whole list in a fifth of the stdlib parser's time.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, repeat
from types import NoneType
from typing import Any, cast, overload

import orjson

from bot.smartpasses.models import Customer, parse_customer

SEPARATOR = "\x1f"  # between one customer's text fields (kept apart if a field holds it)
TEXT_KEYS = ("firstName", "lastName", "email", "phone", "humanName")
_KEYS = ("id", "points", *TEXT_KEYS)
_SNAKE_KEYS = frozenset({"first_name", "last_name", "human_name"})

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
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError("not a JSON array")
    return data


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
    def from_records(cls, records: list[Any]) -> CustomerList:
        """From the API's JSON objects. Well-formed lists take the fast path (columns
        checked as a whole); anything unusual goes through the `Customer` model, record by
        record, with its coercions and errors (ValueError)."""
        if not (
            set(map(type, records)) <= {dict}
            and _SNAKE_KEYS.isdisjoint(chain.from_iterable(records))  # every record's keys
        ):
            return cls.of(parse_customer(r) for r in records)
        ids, points, *texts = (list(map(dict.get, records, repeat(key))) for key in _KEYS)
        if not (
            set(map(type, ids)) <= {int}
            and set(map(type, points)) <= {int, NoneType}
            and all(set(map(type, column)) <= {str, NoneType} for column in texts)
        ):
            return cls.of(parse_customer(r) for r in records)
        if None in points:
            points = [p or 0 for p in points]
        texts = [[t or "" for t in column] if None in column else column for column in texts]
        return cls.from_columns(
            cast(list[int], ids), cast(list[int], points), cast(tuple[list[str], ...], tuple(texts))
        )

    @classmethod
    def from_json(cls, body: bytes) -> CustomerList:
        """The API's list: a JSON array, or an object wrapping it under `data`."""
        return cls.from_records(json_array(body))

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
        return tuple([row[field] for row in texts] for field in range(len(TEXT_KEYS)))

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
