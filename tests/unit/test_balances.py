"""A summary's balances (bot.core.index.balances): the same ids, points and leaders as the
whole list parsed and de-duplicated, whatever the API sends; the bot's own writes made
while the list was read are in them, and the leaders are never guessed."""

from __future__ import annotations

import json
import pickle
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import summary as summary_core
from bot.core.index import balances as balances_module
from bot.core.index.balances import LEADERS, SURE, BalanceList
from bot.core.index.customer_list import CustomerList
from bot.smartpasses.models import Customer


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


def _same_as_the_whole_list(counted: BalanceList, body: bytes) -> None:
    whole = CustomerList.from_json(body).unique()
    assert (counted.ids, counted.points) == (whole.ids, whole.points)
    assert len(counted) == len(whole)
    for count in range(SURE + 1):
        assert counted.top(count) == whole.top(count)


RECORDS = st.lists(
    st.fixed_dictionaries(
        {"id": st.integers(1, 40)},  # few ids: customers listed twice
        optional={
            key: st.one_of(st.none(), st.text(st.characters(codec="utf-8"), max_size=6))
            for key in ("firstName", "lastName", "email", "phone", "humanName")
        }
        | {"points": st.one_of(st.none(), st.integers(-5, 30))},
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(RECORDS, st.booleans())
def test_balances_are_the_whole_lists(records: list[dict], wrapped: bool) -> None:
    """Ids and points in the list's order (a customer listed twice: the later row), null
    points as 0, and the leaders with every field: decoded in batches of 3 here."""
    body = _json({"data": records} if wrapped else records)
    with patch.object(balances_module, "BATCH", 3):
        counted = BalanceList.from_json(body)
    _same_as_the_whole_list(counted, body)
    _same_as_the_whole_list(pickle.loads(pickle.dumps(counted)), body)  # from the child


def test_unusual_records_are_read_as_the_whole_list_reads_them() -> None:
    odd = [
        {"id": "12", "first_name": "Ana", "points": "30"},  # strings and snake case
        {"id": 13, "firstName": "Luz", "points": 4.0},
        {"id": 15, "firstName": "Sol", "points": True},
    ]
    body = _json(odd)
    _same_as_the_whole_list(BalanceList.from_json(body), body)
    snake = _json([{"id": 16, "first_name": "Ana", "human_name": "Anita", "points": 3}])
    _same_as_the_whole_list(BalanceList.from_json(snake), snake)
    assert BalanceList.from_json(snake).top(1)[0].human_name == "Anita"
    strings = _json([{"id": 14, "firstName": "Eva", "points": "7"}])  # no snake case
    assert [(c.first_name, c.points) for c in BalanceList.from_json(strings).top(1)] == [("Eva", 7)]


def _listed(balances: dict[int, int]) -> CustomerList:
    return CustomerList.of(
        [Customer(id=i, firstName=f"C{i}", points=p) for i, p in sorted(balances.items())]
    )


# Lists about as long as LEADERS, and writes (None: deleted; a new id: a sign-up) to the
# leaders and to any other customers, often down.
LISTS = st.dictionaries(st.integers(1, 30), st.integers(-5, 40), min_size=18, max_size=30)
VALUES = st.none() | st.integers(-5, 3) | st.integers(-5, 40)


@settings(max_examples=300, deadline=None)
@given(LISTS, st.data())
def test_writes_made_while_the_list_was_read_are_in_the_balances(
    balances: dict[int, int], data: st.DataObject
) -> None:
    """Each customer as last written. The leaders are right or not given at all: None
    (the caller waits for the whole list) only when fewer than SURE of them can be
    known."""
    ranked = sorted(balances, key=lambda i: (-balances[i], i))
    leading = ranked[: data.draw(st.integers(0, len(ranked)))]  # the first by points
    others = data.draw(st.lists(st.sampled_from([*ranked, 31, 32]), unique=True))
    writes = {i: data.draw(VALUES) for i in dict.fromkeys([*leading, *others])}
    latest = {
        i: None if p is None else Customer(id=i, firstName=f"W{i}", points=p)
        for i, p in writes.items()
    }
    after = {i: p for i, p in balances.items() if i not in writes}
    after |= {i: p for i, p in writes.items() if p is not None}
    expected = _listed(after)
    counted = BalanceList.of(_listed(balances)).with_writes(latest)
    if counted is None:
        leaders = ranked[:LEADERS]
        last = (-balances[leaders[-1]], leaders[-1])
        known = [i for i in leaders if i not in writes]
        known += [i for i, p in writes.items() if p is not None and (-p, i) <= last]
        assert len(balances) > LEADERS and len(known) < SURE, (balances, writes)
        return
    assert sorted(zip(counted.ids, counted.points, strict=True)) == sorted(after.items())
    by_id = {c.id: c for c in expected}
    by_id |= {c.id: c for c in latest.values() if c is not None}
    for count in range(min(SURE, len(after)) + 1):
        top = counted.top(count)
        assert [(c.id, c.points) for c in top] == [(c.id, c.points) for c in expected.top(count)]
        assert all(c == by_id[c.id] for c in top)  # names as last written


def test_leaders_written_down_make_the_caller_wait_for_the_whole_list() -> None:
    listed = _listed({i: 100 + i for i in range(1, 41)} | {100: 1})
    counted = BalanceList.of(listed)
    assert len(counted.leaders) == LEADERS
    down = {i: Customer(id=i, points=0) for i in range(40, 40 - (LEADERS - SURE + 1), -1)}
    assert counted.with_writes(down) is None  # the 11th of 40 by points is not known here
    almost = dict(list(down.items())[:-1])
    still = counted.with_writes(almost)
    assert still is not None and [c.id for c in still.top(SURE)] == list(range(30, 20, -1))
    with pytest.raises(ValueError, match="known"):
        still.top(len(still.leaders) + 1)


def test_the_summary_shows_no_more_leaders_than_are_always_known() -> None:
    assert summary_core.TOP <= SURE
