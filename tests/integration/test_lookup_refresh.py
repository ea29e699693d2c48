"""The customer index refreshing in the background while lookups go on: on threads."""

from __future__ import annotations

import threading

from bot.core.index.customer_index import CustomerIndex
from bot.offline.sandbox import DEMO_PROGRAM_ID, SandboxApp
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer
from tests.faults import Gate
from tests.harness import wait_until
from tests.unit.test_lookup import _index


def test_one_fetch_serves_lookups_then_refreshes_in_the_background(
    client: LoyaltyClient, sandbox: SandboxApp
) -> None:
    now = [100.0]
    index = _index(client, ttl=60, clock=lambda: now[0])
    index.find("juan")
    index.find("ana")
    assert index.fetch_count == 1
    sandbox.state.add_customer(DEMO_PROGRAM_ID, {"firstName": "Nuevo", "lastName": "Cliente"})
    assert index.find("Nuevo").matches == []
    now[0] += 50  # past 80% of the TTL, not past it
    gate = Gate(sandbox, "GET", "/customers")  # the background fetch is held...
    assert index.find("Nuevo").matches == []  # ...and the lookup answers from the snapshot
    assert gate.entered.wait(10)
    gate.release()
    assert index.refreshed.wait(10)
    assert [c.full_name for c in index.find("Nuevo").matches] == ["Nuevo Cliente"]
    assert index.fetch_count == 2
    assert len(sandbox.calls_to("GET", "/customers")) == 2


def test_nobody_waits_for_a_refresh_and_one_fetch_serves_them_all() -> None:
    now = [0.0]
    lists = [[Customer(id=1, firstName="Ana", lastName="Ruiz")]]
    release = threading.Event()
    fetching = threading.Event()

    def fetch() -> list[Customer]:
        if len(lists) > 1:  # every refresh after the first load is held
            fetching.set()
            release.wait(10)
        return lists[-1]

    index = CustomerIndex(fetch, ttl=60, clock=lambda: now[0])
    assert index.find("ana").found is not None
    lists.append([Customer(id=2, firstName="Beto", lastName="Ruiz")])
    now[0] = 50  # past 80% of the TTL, not past it
    answers = [len(index.find("ana").matches) for _ in range(50)]  # during the held fetch
    assert fetching.wait(10) and answers == [1] * 50  # nobody waited; the old snapshot
    release.set()
    assert index.refreshed.wait(10)
    assert index.fetch_count == 2  # one background fetch, however many asked
    assert index.find("beto").found is not None and index.find("ana").matches == []


def test_concurrent_lookups_during_refresh_cause_one_fetch() -> None:
    calls, asking = [], []
    answer = threading.Event()

    def slow_fetch() -> list[Customer]:
        calls.append(1)
        answer.wait(10)  # the list arrives only once every lookup is waiting for it
        return [Customer(id=1, firstName="Ana", lastName="Ruiz")]

    index = CustomerIndex(slow_fetch, ttl=60)
    results: list[int] = []

    def look_up() -> None:
        asking.append(1)
        results.append(len(index.find("ana").matches))

    threads = [threading.Thread(target=look_up) for _ in range(20)]
    for t in threads:
        t.start()
    wait_until(lambda: len(asking) == 20 and calls, what="20 lookups and a fetch")
    answer.set()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [1] * 20


def test_readers_never_see_half_an_upsert() -> None:
    """While the bot patches a customer thousands of times, every lookup of them by email,
    phone, id and name finds exactly that customer (no "No customer matches")."""
    others = [
        Customer(
            id=i, firstName=f"N{i}", lastName="Ruiz", email=f"n{i}@x.mx", phone=f"+5255{i:08d}"
        )
        for i in range(2, 1000)
    ]
    juan = Customer(
        id=1, firstName="Juan", lastName="Pérez", email="juan@x.mx", phone="+529994116533"
    )
    index = CustomerIndex(lambda: [juan, *others], ttl=3600)
    index.find("juan@x.mx")
    stop = threading.Event()

    def write() -> None:
        for points in range(400):
            index.upsert(
                Customer(
                    id=1,
                    firstName="Juan",
                    lastName="Pérez",
                    email="juan@x.mx",
                    phone="+529994116533",
                    points=points,
                )
            )
        stop.set()

    misses: list[str] = []
    lookups = 0
    writer = threading.Thread(target=write)
    writer.start()
    while not stop.is_set() or lookups < 1000:
        for reference in ("juan@x.mx", "+52 999 411 6533", "#1", '"Juan Pérez"'):
            found = [c.id for c in index.find(reference).matches]
            lookups += 1
            if found != [1]:
                misses.append(f"{reference}: {found}")
    writer.join()
    assert misses == [] and lookups >= 1000


def test_a_reload_keeps_the_patches_made_while_it_fetched() -> None:
    """The list fetched while the bot changed a customer may be older than the change."""
    started, finish = threading.Event(), threading.Event()
    old = Customer(id=1, firstName="Ana", points=5)
    fetches = [[old]]

    def fetch() -> list[Customer]:
        if len(fetches) > 1:  # the second fetch: a slow refresh
            started.set()
            finish.wait(10)
        return fetches[-1]

    index = CustomerIndex(fetch, ttl=3600)
    index.find("ana")
    fetches.append([old])  # the list as it was when the refresh began
    refresh = threading.Thread(target=index.refresh)
    refresh.start()
    started.wait(10)
    assert index.find("ana").found.points == 5  # readers use the current tables meanwhile
    index.upsert(Customer(id=1, firstName="Ana", points=15))  # the bot's own change
    finish.set()
    refresh.join()
    assert index.find("ana").found.points == 15
    assert index.fetch_count == 2


def test_a_guess_at_a_name_takes_the_list_as_loaded_and_never_waits() -> None:
    """`names_someone` (where a command's customer words end, before a form opens) reads
    nothing: False before the first load, and the loaded list however old it is."""
    now = [0.0]
    index = CustomerIndex(
        lambda: [Customer(id=1, firstName="Ana", lastName="Ruiz")], ttl=60, clock=lambda: now[0]
    )
    assert not index.names_someone("ana") and index.fetch_count == 0
    index.find("ana")
    now[0] = 600  # ten TTLs later: an answer would read the list again first
    assert index.names_someone("ana ruiz") and not index.names_someone("ana diez")
    assert index.fetch_count == 1
