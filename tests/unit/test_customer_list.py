"""The customer list as columns (issue 16): parsed in C, read back as the same customers
the model would make, whatever the API sends; hostile text cannot shift a field."""

from __future__ import annotations

import json
import pickle
from typing import ClassVar
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.index import customer_list
from bot.core.index.balances import BalanceList
from bot.core.index.customer_index import CustomerIndex
from bot.core.index.customer_list import CustomerList
from bot.core.index.snapshot import Snapshot
from bot.domain.errors import UnexpectedResponse
from bot.smartpasses.models import Customer, parse_customer


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


RECORDS = [
    {
        "id": 5000000000000000,
        "firstName": "José",
        "lastName": "Pérez",
        "email": "jose@example.com",
        "phone": "+529994116533",
        "points": 120,
        "humanName": "Pepe",
    },
    {"id": 7, "firstName": None, "lastName": "Ruiz", "email": None, "points": None},
]


def test_a_well_formed_list_reads_back_as_the_models_customers() -> None:
    listed = CustomerList.from_json(_json(RECORDS))
    assert list(listed) == [parse_customer(r) for r in RECORDS]
    assert listed[1] == Customer(id=7, lastName="Ruiz") and listed[-1].points == 0
    assert listed[0:1] == [parse_customer(RECORDS[0])]
    assert list(listed.ids) == [5000000000000000, 7] and sum(listed.points) == 120
    assert listed == [parse_customer(r) for r in RECORDS] and listed != []


def test_a_list_wrapped_in_data_and_unusual_records_go_through_the_model() -> None:
    odd = [
        {"id": "12", "first_name": "Ana", "points": "30"},  # strings and snake case
        {"id": 13, "firstName": "Luz", "points": 4.0},
        {"id": 14, "firstName": 2024, "phone": 529994116533},  # numbers where text belongs
    ]
    listed = CustomerList.from_json(_json({"data": odd}))
    assert list(listed) == [parse_customer(r) for r in odd]
    assert [c.first_name for c in listed] == ["Ana", "Luz", "2024"] and listed[0].points == 30
    assert listed[2].phone == "529994116533"


def test_one_customer_with_a_number_for_text_leaves_the_others_found() -> None:
    """Beyond the balance leaders (whose records the summary reads whole), as on the
    first page: the index is built and every customer found, that one by its digits."""
    records = [{"id": i, "lastName": f"Ruiz{i}", "points": i} for i in range(1, 40)]
    records[3]["phone"] = 529994116533
    index = CustomerIndex(lambda: CustomerList.from_json(_json(records)), ttl=3600)
    assert [c.id for c in index.find("529994116533").matches] == [4]
    assert [c.id for c in index.find("Ruiz30").matches] == [30]
    assert BalanceList.from_json(_json(records)).top(1)[0].id == 39


def test_a_value_ending_like_a_snake_case_name_is_only_a_value() -> None:
    records = [{"id": 3, "lastName": "de_name", "email": "x_name", "points": 2}]
    assert list(CustomerList.from_json(_json(records))) == [parse_customer(r) for r in records]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"customers": []}',
        b'[{"firstName": "no id"}]',
        b'[{"id": 99999999999999999999}]',  # beyond 64 bits
        b'[{"id": 1, "points": 99999999999999999999}]',
        b'[{"id": 1, "firstName": ["a"]}]',
    ],
)
@pytest.mark.parametrize("parse", [CustomerList.from_json, BalanceList.from_json])
def test_anything_else_is_an_unexpected_answer(scripted, body: bytes, parse) -> None:
    """The whole list, or only its balances (a summary's): refused the same way."""
    api, client, _ = scripted
    api.responses[:] = [(200, {}, body)]
    with pytest.raises(UnexpectedResponse):
        client.list_customers(parse)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.integers(1, 2**63 - 1)},
            optional={
                key: st.one_of(st.none(), st.text(st.characters(codec="utf-8"), max_size=12))
                for key in ("firstName", "lastName", "email", "phone", "humanName")
            }
            | {"points": st.one_of(st.none(), st.integers(-(2**40), 2**40))},
        ),
        max_size=8,
    )
)
def test_any_text_reads_back_field_for_field(records: list[dict]) -> None:
    """Separators, NULs, emoji, RTL marks: each field comes back as it went in, decoded in
    batches of 3 here, with or without the text columns kept."""
    with patch.object(customer_list, "BATCH", 3):
        listed = CustomerList.from_json(_json(records))
        with_columns = CustomerList.from_json(_json(records), text_columns=True)
    assert list(listed) == [parse_customer(r) for r in records] == list(with_columns)
    assert listed.columns() == with_columns.columns()
    again = CustomerList.joined(
        [listed.take(reversed(range(len(listed)))), CustomerList.of(listed[:])]
    )
    assert list(again) == [*reversed(list(listed)), *listed]


def test_a_field_holding_the_separator_is_kept_whole() -> None:
    record = {"id": 1, "firstName": "a\x1fb", "lastName": "\x1f", "email": "e"}
    (customer,) = CustomerList.from_json(_json([record]))
    assert (customer.first_name, customer.last_name, customer.email) == ("a\x1fb", "\x1f", "e")


def test_the_top_customers_by_points_then_oldest() -> None:
    listed = CustomerList.of(
        [Customer(id=i, points=p) for i, p in [(3, 10), (1, 10), (2, 50), (4, 0)]]
    )
    assert [c.id for c in listed.top(3)] == [2, 1, 3]


@given(
    st.dictionaries(st.integers(1, 10**6), st.integers(-5, 5), max_size=30),
    st.integers(0, 8),
)
def test_the_top_is_the_head_of_the_whole_list_sorted(balances: dict[int, int], count) -> None:
    listed = CustomerList.of([Customer(id=i, points=p) for i, p in balances.items()])
    expected = sorted(balances, key=lambda i: (-balances[i], i))[:count]
    assert [c.id for c in listed.top(count)] == expected


def test_a_list_is_sent_between_processes_without_its_text_columns() -> None:
    """The builder's child keeps the parsed columns for the tables; the list it sends
    carries only the packed rows (the same text), so it reads back the same."""
    body = _json([*RECORDS, {"id": 9, "firstName": "a\x1fb"}])
    with_columns = CustomerList.from_json(body, text_columns=True)
    sent = pickle.dumps(with_columns)
    assert sent == pickle.dumps(CustomerList.from_json(body))
    assert list(pickle.loads(sent)) == list(with_columns)


def test_each_customer_once_the_later_row_kept() -> None:
    listed = CustomerList.of(
        [Customer(id=1, firstName="Old"), Customer(id=2), Customer(id=1, firstName="New")]
    )
    assert [(c.id, c.first_name) for c in listed.unique()] == [(2, ""), (1, "New")]
    once = CustomerList.of([Customer(id=1), Customer(id=2)])
    assert once.unique() is once


@pytest.mark.parametrize(
    "records",
    [
        [{"id": 1, "firstName": "Old"}, {"id": 2}, {"id": 1, "firstName": "New"}],
        [{"id": 1, "firstName": "Ana"}, {"id": "2", "first_name": "Luz"}],  # the model's way
    ],
    ids=["listed twice", "unusual"],
)
def test_a_snapshot_made_a_batch_at_a_time_falls_back_to_the_whole_list(records) -> None:
    """The builder indexes the list as it parses it; a customer listed twice (the later
    row kept) or a list the model must read (after some batches were indexed) is indexed
    whole instead, with the same customers as the list read whole."""
    with patch.object(customer_list, "BATCH", 1):
        snapshot = Snapshot.from_json(_json(records))
        expected = CustomerList.from_json(_json(records)).unique()
    assert list(snapshot.customers) == list(expected)
    assert [c.first_name for c in snapshot.customers] == [c.first_name for c in expected]
    snapshot.prepare()
    for customer in expected:
        assert snapshot.id_row(customer.id) is not None
        if customer.first_name:
            (row,) = snapshot.name_rows(customer.first_name.casefold())
            assert snapshot.customers[row] == customer


class _Body(bytes):
    """A list body that says when it is freed (bytes take no weak reference)."""

    freed: ClassVar[list[bool]] = []

    def __del__(self) -> None:
        self.freed.append(True)


def test_a_snapshot_lets_the_list_go_before_it_packs_its_tables(monkeypatch) -> None:
    """Memory (bench_memory: the builder's peak is while the tables are packed): once every
    batch is in the tables' material, the build holds the body no longer."""
    freed_when_packed = []
    packing = Snapshot.__init__

    def watched(self, *args, **kwargs) -> None:
        freed_when_packed.append(bool(_Body.freed))
        packing(self, *args, **kwargs)

    monkeypatch.setattr(Snapshot, "__init__", watched)
    monkeypatch.setattr(_Body, "freed", [])
    snapshot = Snapshot.from_json(_Body(_json(RECORDS)))
    assert freed_when_packed == [True]
    assert [c.id for c in snapshot.customers] == [r["id"] for r in RECORDS]
