"""The customer lookup index: each kind of reference, ambiguity, accents, TTL, one fetch."""

from __future__ import annotations

import functools
import json
import pickle
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.index import customer_list
from bot.core.index.customer_index import CustomerIndex
from bot.core.index.customer_list import CustomerList
from bot.core.index.search import exact_reference
from bot.core.index.snapshot import Snapshot
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer
from tests.clock import Clock


def _index(client: LoyaltyClient, **kw) -> CustomerIndex:
    return CustomerIndex(functools.partial(client.list_customers, CustomerList.from_json), **kw)


def _ids(result) -> list[int]:
    return [c.id for c in result.matches]


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("juan.perez@example.com", "email"),
        ("<@UJUAN>", ""),  # a Slack mention, not an email
        ("1870", "id"),
        ("#1870", "id"),
        ("+52 999 411 6533", "phone"),
        ("55 5000 1111", "phone"),
        ("(55) 5000-1111", "phone"),
        ("1870 30", ""),  # an id and a number: too few digits for a phone
        ("Juan Pérez", ""),
    ],
)
def test_each_kind_of_exact_reference_is_told_apart(query, kind) -> None:
    assert exact_reference(query) == kind


def test_by_id_with_or_without_hash(client: LoyaltyClient) -> None:
    index = _index(client)
    assert _ids(index.find("6629146321223680")) == [6629146321223680]
    assert _ids(index.find("#1869")) == [1869]


def test_by_email_case_insensitive(client: LoyaltyClient) -> None:
    assert _ids(_index(client).find("Juan.Perez@Example.COM")) == [1870]


def test_by_phone_in_any_format(client: LoyaltyClient) -> None:
    index = _index(client)
    for ref in ("+52 999 411 6533", "+529994116533", "529994116533", "+52 (999) 411-6533"):
        assert _ids(index.find(ref)) == [1870], ref


def test_by_name_accent_and_case_insensitive(client: LoyaltyClient) -> None:
    index = _index(client)
    assert _ids(index.find("ana garcia")) == [6629146321223680]
    assert _ids(index.find("HERNANDEZ")) == [1872]
    assert _ids(index.find("Anónimo #1869")) == [1869]


def test_partial_name_matches_several(client: LoyaltyClient) -> None:
    result = _index(client).find("perez")
    assert result.ambiguous and result.found is None
    assert {c.full_name for c in result.matches} == {"Juan Pérez", "Juana Pérez"}
    assert _ids(_index(client).find("Juana")) == [1871]
    assert sorted(_ids(_index(client).find("jua"))) == [1870, 1871]


def test_full_name_prefers_exact_and_quotes_require_it(client: LoyaltyClient) -> None:
    index = _index(client)
    assert _ids(index.find("Juan Pérez")) == [1870]
    assert _ids(index.find('"juan perez"')) == [1870]
    assert _ids(index.find('"Juan"')) == []


def test_no_match(client: LoyaltyClient) -> None:
    result = _index(client).find("nobody@example.com")
    assert result.matches == [] and result.found is None and not result.ambiguous
    assert _index(client).find("Zacarías").matches == []
    assert _index(client).find("  ").matches == []


def test_a_failed_refresh_keeps_the_snapshot(caplog) -> None:
    now = [0.0]
    broken = [False]

    def fetch() -> list[Customer]:
        if broken[0]:
            raise RuntimeError("down")
        return [Customer(id=1, firstName="Ana", lastName="Ruiz")]

    index = CustomerIndex(fetch, ttl=60, clock=lambda: now[0])
    index.find("ana")
    broken[0], now[0] = True, 50  # past 80% of the TTL: refreshed in the background
    assert index.find("ana").found is not None
    assert index.refreshed.wait(10) and "refresh failed" in caplog.text
    assert index.find("ana").found is not None  # still served; the next lookup retries
    now[0] = 61  # older than the TTL: never answered from it
    with pytest.raises(RuntimeError, match="down"):
        index.find("ana")
    broken[0] = False
    assert index.find("ana").found is not None and index.fetch_count == 2


def test_after_a_quiet_spell_the_first_lookup_reads_the_list_again() -> None:
    """Nothing was asked for longer than the TTL: the first lookup is not answered from
    the old list (a customer who joined meanwhile is found on the first try)."""
    clock = Clock(0.0)
    lists = [[Customer(id=1, firstName="Ana", lastName="Ruiz")]]
    index = CustomerIndex(lambda: lists[-1], ttl=60, clock=clock)
    assert index.find("ana").found is not None and index.fetch_count == 1
    lists.append([*lists[0], Customer(id=2, firstName="Rosa", lastName="Díaz")])
    clock.advance(60)
    assert [c.id for c in index.find("rosa").matches] == [2]
    assert index.fetch_count == 2


def test_warm_loads_off_the_request_path() -> None:
    index = CustomerIndex(lambda: [Customer(id=1, firstName="Ana", lastName="Ruiz")], ttl=60)
    index.warm()
    assert index.refreshed.wait(10) and index.fetch_count == 1
    assert index.find("ana").found is not None and index.fetch_count == 1


def test_own_writes_patch_the_index(client: LoyaltyClient) -> None:
    index = _index(client)
    index.all()
    created = client.create_customer(first_name="Rosa", email="rosa@example.com")
    index.upsert(created)
    assert _ids(index.find("rosa@example.com")) == [created.id]
    renamed = client.update_customer(created.id, first_name="Rosalía")
    index.upsert(renamed)
    assert _ids(index.find("Rosalía")) == [created.id]
    assert index.find("rosa").matches[0].first_name == "Rosalía"
    index.remove(created.id)
    assert index.find("rosa@example.com").matches == []
    assert index.fetch_count == 1


def test_invalidate_forces_refetch(client: LoyaltyClient) -> None:
    index = _index(client)
    index.find("x")
    index.invalidate()
    index.find("x")
    assert index.fetch_count == 2


def test_search_finds_any_part_of_names_emails_and_phones(core) -> None:
    def found(text: str) -> list[str]:
        return [c.display_name for c in core.service.customers_page(text).customers]

    assert found("rez") == ["Juan Pérez", "Juana Pérez", "Sofía Ramírez"]  # inside names
    assert found("PEREZ juana") == ["Juana Pérez"]  # every word must match
    assert found("example.com")[:2] == ["Ana García", "Juan Pérez"]  # part of an email
    assert found("6533") == ["Juan Pérez"]  # four digits of a phone
    assert found("411-6533") == ["Juan Pérez"]
    assert found("55") == []  # fewer than four digits never match inside a phone
    page = core.service.customers_page(by_points=True)
    assert [c.points for c in page.customers] == sorted(
        (c.points for c in page.customers), reverse=True
    )


def test_search_sees_the_bots_own_writes(core) -> None:
    from bot.domain.audit import Actor
    from tests.unit.test_records import customer_fields

    core.service.customers_page("zz")  # builds the search tables
    core.service.create_customer(Actor("UMANAGER"), customer_fields(first_name="Zzyzx"))
    assert [c.first_name for c in core.service.customers_page("zzy").customers] == ["Zzyzx"]


def test_the_refresh_starts_before_the_ttl_runs_out() -> None:
    now = [0.0]
    index = CustomerIndex(
        lambda: [Customer(id=1, firstName="Ana", lastName="Ruiz")], ttl=60, clock=lambda: now[0]
    )
    index.find("ana")
    now[0] = 47.0  # under 80% of the TTL: nothing to do
    index.find("ana")
    assert index.fetch_count == 1
    now[0] = 49.0  # past 80%: refreshed in the background while the list is still fresh
    index.find("ana")
    assert index.refreshed.wait(10) and index.fetch_count == 2
    assert index.snapshot() is not None  # and the summary can keep using it


# -- the snapshot's compact tables answer as the bot's own writes' dict tables do ------

NAMES = ["José", "Jose", "María", "Ana", "Ana María", "O'Brien", "Łukasz", "", " Zoë ", "ana_b"]
PEOPLE = st.builds(
    lambda first, last, human, mail, phone, points: dict(
        firstName=first,
        lastName=last,
        humanName=human,
        email=mail,
        phone=phone,
        points=points,
    ),
    st.sampled_from(NAMES),
    st.sampled_from(NAMES),
    st.sampled_from(["", "Pepe", "José Pérez", "\x00x"]),
    st.sampled_from(["", "a@x.mx", "A@X.mx ", "b@x.mx"]),
    st.sampled_from(["", "+529994116533", "+52 999 411 6533", "5255123", "٣٤٥٦٧٨٩"]),
    st.integers(0, 3),
)
QUERIES = [
    "jose",
    "JOSÉ",
    "ana",
    "ana maria",
    '"Ana María"',
    "o'brien",
    "brien",
    "luk",
    "zoe",
    "a@x.mx",
    "#3",
    "3",
    "+52 999 411 6533",
    "9994116533",
    "pepe",
    "b",
    "ana_b",
    "6533",
    "x.mx",
    "999",
    "",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(PEOPLE, max_size=12),
    st.lists(st.tuples(st.integers(0, 14), st.one_of(st.none(), PEOPLE)), max_size=6),
    st.permutations(list(range(12))),
)
def test_the_snapshot_answers_as_the_dict_tables_do(people, writes, shuffle) -> None:
    """Every lookup, search and listing gives the same customers in the same order whether
    they come from a fetched list (compact tables: made whole, or from the API's body a
    batch at a time) or from the bot's own writes (dicts), with ids in any order and
    writes on top."""
    records = [{"id": i, **people[i]} for i in shuffle if i < len(people)]  # not ascending
    customers = [Customer(**record) for record in records]
    from_list = CustomerIndex(lambda: customers, ttl=3600)
    body = json.dumps(records).encode()
    from_body = CustomerIndex(lambda: body, build=Snapshot.from_json, ttl=3600)
    from_writes = CustomerIndex(lambda: [], ttl=3600)
    with patch.object(customer_list, "BATCH", 2):  # batches of two customers
        for index in (from_list, from_body, from_writes):
            index.find("x")  # loaded: writes before the first load are not kept
    for customer in customers:
        from_writes.upsert(customer)
    for customer_id, person in writes:
        for index in (from_list, from_body, from_writes):
            if person is None:
                index.remove(customer_id)
            else:
                index.upsert(Customer(id=customer_id, **person))
    for query in QUERIES:
        assert _ids(from_list.find(query)) == _ids(from_writes.find(query)), query
        assert _ids(from_body.find(query)) == _ids(from_writes.find(query)), query
        for index in (from_list, from_body):
            assert [c.id for c in index.search(query)] == [
                c.id for c in from_writes.search(query)
            ], query
    for by_points in (False, True):
        assert list(from_list.all(by_points=by_points)) == list(
            from_writes.all(by_points=by_points)
        )
        assert list(from_body.all(by_points=by_points)) == list(
            from_writes.all(by_points=by_points)
        )
    assert from_list.size() == from_writes.size()
    by_id = {c.id: c for c in from_list.snapshot() or []}
    assert by_id == {c.id: c for c in from_writes.snapshot() or []}
    assert len(by_id) == len(from_list.snapshot() or [])


def test_keys_that_share_a_hash_find_their_own_customer() -> None:
    """The exact-key tables keep a 32-bit hash of each key: "plumless" and "buckeroo"
    share one (CRC-32), and ids out of order get a table of their own."""
    index = CustomerIndex(
        lambda: [
            Customer(id=6, firstName="Plumless", email="plumless"),
            Customer(id=5, firstName="Buckeroo", email="buckeroo"),
        ],
        ttl=60,
    )
    assert [c.id for c in index.find("plumless").matches] == [6]
    assert [c.id for c in index.find('"buckeroo"').matches] == [5]
    assert [c.first_name for c in index.find("#5").matches] == ["Buckeroo"]
    assert [c.first_name for c in index.find("6").matches] == ["Plumless"]
    assert index.find("#7").matches == []


def _answers(index: CustomerIndex) -> list[list[int]]:
    queries = ["juan", "Juan Pérez", "#1870", "+52 999 411 6533", "juana@example.com", "zzz"]
    found = [_ids(index.find(q)) for q in queries]
    found += [[c.id for c in index.search(q)] for q in ("rez", "example", "6533")]
    found += [[c.id for c in index.all(by_points=b)] for b in (False, True)]
    return found


def test_a_snapshot_from_a_builder_process_takes_or_makes_its_second_step(
    client: LoyaltyClient, caplog
) -> None:
    """A snapshot pickled in a builder process comes without its name order and search
    text: they follow from there (`prepare_from`), or, if that fails, are made here."""
    customers = client.list_customers(CustomerList.from_json)
    expected = _answers(CustomerIndex(lambda: customers, ttl=3600))
    assert sum(1 for ids in expected if ids) == len(expected) - 1  # all but "zzz" find some
    sent = pickle.dumps(Snapshot(customers))
    made_there = Snapshot(customers).second_step()

    received = pickle.loads(sent)
    assert not received.prepared()
    received.prepare_from(lambda: made_there)
    assert _answers(CustomerIndex(lambda: customers, build=lambda _: received)) == expected
    assert received.search_text is made_there.search_text

    def lost() -> None:
        raise OSError("the builder process is gone")

    on_its_own = pickle.loads(sent)
    on_its_own.prepare_from(lost)
    assert _answers(CustomerIndex(lambda: customers, build=lambda _: on_its_own)) == expected
    assert "second step failed" in caplog.text
    alone = pickle.loads(sent)
    assert _answers(CustomerIndex(lambda: customers, build=lambda _: alone)) == expected


def test_a_build_that_fails_after_the_list_came_is_read_again_by_the_next_lookup(
    caplog,
) -> None:
    fail = [False]
    index = CustomerIndex(lambda: [Customer(id=1, firstName="Ana", lastName="Ruiz")], ttl=60)

    def build(customers: list[Customer]) -> Snapshot:
        if fail[0]:
            raise OSError("out of memory, say")
        return Snapshot(customers)

    index._build = build
    index.find("ana")
    index.invalidate()
    fail[0] = True
    assert list(index.balances().ids) == [1]  # the summary has its list
    assert "customer index build failed: OSError" in caplog.text
    fail[0] = False
    assert index.find("ana").found is not None and index.fetch_count == 2  # read again


def test_a_list_that_cannot_be_read_fails_the_summary() -> None:
    def fetch() -> list[Customer]:
        raise OSError("Smart Passes is down")

    with pytest.raises(OSError, match="down"):
        CustomerIndex(fetch, ttl=60).balances()


def test_a_fresh_lists_balances_hold_the_bots_own_writes() -> None:
    """From the snapshot, no list read again: a change, a sign-up and a deletion made in
    Slack are in the balances and the leaders. When the writes leave too few leaders
    known, the balances come from the whole list (still no read)."""
    listed = [Customer(id=i, firstName=f"C{i}", points=100 + i) for i in range(1, 41)]
    index = CustomerIndex(lambda: listed, ttl=60)
    index.find("#1")
    index.upsert(Customer(id=1, firstName="C1", points=999))
    index.upsert(Customer(id=50, firstName="New", points=500))
    index.remove(40)
    counted = index.balances()
    assert sorted(zip(counted.ids, counted.points, strict=True)) == sorted(
        [(1, 999), (50, 500)] + [(i, 100 + i) for i in range(2, 40)]
    )
    assert [c.id for c in counted.top(4)] == [1, 50, 39, 38]
    for i in range(39, 25, -1):  # most of the leaders written down
        index.upsert(Customer(id=i, firstName=f"C{i}", points=0))
    counted = index.balances()
    assert [c.id for c in counted.top(5)] == [1, 50, 25, 24, 23]
    assert index.fetch_count == 1
