"""The customer index built in a child process (issue 16, item 7): the same answers as one
built in the serving process, a child that dies replaced, a bad list refused."""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
import pytest

from bot.core.index import builder as index_builder
from bot.core.index.balances import BalanceList
from bot.core.index.builder import MEMORY_FILES, PREFIX, IndexBuilder
from bot.core.index.customer_index import CustomerIndex
from bot.core.index.customer_list import CustomerList
from bot.core.index.snapshot import Prepared, Snapshot
from bot.domain.errors import UnexpectedResponse
from bot.offline.slack_standin import SlackStandIn
from bot.runtime import app as app_module
from bot.runtime.wsgi_server import serving
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Customer
from handlers.workpool import BURST_ANSWERING, Answering
from tests.harness import BOT_TOKEN, TEAM, USERS, make_settings, stack_of, wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def builder():
    built = IndexBuilder()
    yield built
    built.close()


def _answers(index: CustomerIndex) -> list[list[int]]:
    queries = ["juan", "Juan Pérez", "#1870", "+52 999 411 6533", "juan.perez@example.com"]
    found = [[c.id for c in index.find(q).matches] for q in queries]
    found.append([c.id for c in index.search("rez")])
    found.append([c.id for c in index.all(by_points=True)])
    return found


def test_a_child_builds_what_the_serving_process_would(
    client: LoyaltyClient, builder: IndexBuilder, monkeypatch
) -> None:
    children: list[int] = []
    retire = IndexBuilder._retire

    def retiring(self, child, number):  # the child, seen before it leaves
        children.append(child.pid)
        if hasattr(os, "SCHED_IDLE"):  # Linux: the child runs only when a CPU is idle
            assert os.sched_getscheduler(child.pid) == os.SCHED_IDLE
        retire(self, child, number)

    monkeypatch.setattr(IndexBuilder, "_retire", retiring)
    here = CustomerIndex(functools.partial(client.list_customers, CustomerList.from_json), ttl=3600)
    there = CustomerIndex(client.list_customers_body, build=builder, ttl=3600)
    assert _answers(there) == _answers(here)
    assert [c.id for c in _answers_customers(there)] == [c.id for c in _answers_customers(here)]
    assert len(children) == 1 and children[0] != os.getpid()


def test_the_child_leaves_once_its_build_is_done(client: LoyaltyClient, builder) -> None:
    """An idle serving process keeps no builder; the next build starts another child."""
    seen: list[int] = []
    for _ in range(2):
        snapshot = builder(client.list_customers_body())
        child = builder._child
        seen.append(child.pid)
        snapshot.prepare()  # the second step: then the child leaves
        assert builder._child is None
        wait_until(lambda child=child: not child.alive(), what="the child's exit")
    assert seen[0] != seen[1]


def test_the_second_step_is_made_in_the_child_too(
    client: LoyaltyClient, builder: IndexBuilder, monkeypatch
) -> None:
    """The lookups' tables arrive first; the name order and search text follow from the
    child (this process could not make them: its `second_step` is broken here)."""
    here = CustomerIndex(functools.partial(client.list_customers, CustomerList.from_json), ttl=3600)
    expected = _answers(here)

    def not_here(self: Snapshot) -> None:
        raise AssertionError("made in the serving process")

    monkeypatch.setattr(Snapshot, "second_step", not_here)
    snapshot = builder(client.list_customers_body())
    assert not snapshot.prepared()
    there = CustomerIndex(client.list_customers_body, build=lambda _body: snapshot, ttl=3600)
    assert _answers(there) == expected and snapshot.prepared()


def test_the_child_starts_while_the_list_downloads(builder: IndexBuilder, monkeypatch) -> None:
    """A build's child is already starting (its imports under way, at its low priority)
    while the list arrives, and that child builds it."""
    during: list[int] = []
    built_by: list[int] = []
    retire = IndexBuilder._retire

    def retiring(self, child, number):
        built_by.append(child.pid)
        retire(self, child, number)

    def arriving():
        yield b'[{"id": 1, "firstName": "Ana",'
        during.append(builder._child.pid)
        yield b' "points": 2}]'

    monkeypatch.setattr(IndexBuilder, "_retire", retiring)
    snapshot = builder(builder.download(lambda keep: keep(arriving())))
    snapshot.prepare()
    assert [c.id for c in snapshot.customers] == [1]
    assert len(during) == 1 and during == built_by and during[0] != os.getpid()


def test_the_child_is_starting_before_the_list_is_asked_for(builder: IndexBuilder) -> None:
    """`download` (the bot's fetch) starts the child before it sends the request: the
    child's imports overlap the API's wait as well as the download."""
    when_asked: list[int] = []

    def list_body(keep):
        when_asked.append(builder._child.pid)
        return keep(iter([b'[{"id": 1, "firstName": "Ana", "points": 2}]']))

    snapshot = builder(builder.download(list_body))
    snapshot.prepare()
    assert [c.points for c in snapshot.customers] == [2] and len(when_asked) == 1


@pytest.mark.parametrize("in_memory", [True, False])
def test_the_list_and_the_index_cross_in_files_or_through_the_pipe(
    client: LoyaltyClient, tmp_path, in_memory: bool, monkeypatch
) -> None:
    """With a file system in memory the list and both steps cross in files, each gone once
    read (none are left; the list's before the tables are taken in, so the two are never
    held at once); without one, through the pipe. The same answers either way."""
    builder = IndexBuilder(memory_files=str(tmp_path) if in_memory else None)
    received: list[type] = []
    lists: list[str] = []
    load, spool = index_builder._loaded, index_builder._spooled

    def loaded(result):
        received.append(type(result))
        assert not any(map(os.path.exists, lists))  # the list's file is gone by then
        return load(result)

    def spooled(pieces, place):
        lists.append(spool(pieces, place))
        return lists[-1]

    monkeypatch.setattr(index_builder, "_loaded", loaded)
    monkeypatch.setattr(index_builder, "_spooled", spooled)
    try:
        here = CustomerIndex(
            functools.partial(client.list_customers, CustomerList.from_json), ttl=3600
        )
        there = CustomerIndex(streamed(client, builder), build=builder, ttl=3600)
        assert _answers(there) == _answers(here)
        there.refresh()
        assert _answers(there) == _answers(here)
        assert list(tmp_path.iterdir()) == []  # each file gone once read
        # Both steps of both builds: a file's path, or the objects themselves.
        assert received == ([str, str] if in_memory else [Snapshot, Prepared]) * 2
        assert len(lists) == (2 if in_memory else 0)
        # The list itself: written to a file as it arrived, or joined in this process.
        kept = builder.download(lambda keep: keep(iter([b'[{"id": 1,', b' "points": 2}]'])))
        if in_memory:
            assert isinstance(kept, str) and Path(kept).read_bytes() == b'[{"id": 1, "points": 2}]'
            assert [c.id for c in builder(kept).customers] == [1] and not Path(kept).exists()
        else:
            assert kept == b'[{"id": 1, "points": 2}]'
    finally:
        builder.close()


def test_files_left_by_a_killed_serving_process_are_removed(client, tmp_path) -> None:
    """A serving process killed in the middle of a build leaves its list in memory: the
    next builder on the machine removes it (never another live process's)."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f"loyalty-index-{gone.pid}-abc"
    live = tmp_path / f"loyalty-index-{os.getpid()}-def"
    other = tmp_path / "something-else"
    for path in (left, live, other):
        path.write_bytes(b"[]")
    builder = IndexBuilder(memory_files=str(tmp_path))
    try:
        builder(client.list_customers_body()).prepare()  # both steps taken
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
    finally:
        builder.close()
    assert [p.name for p in tmp_path.iterdir()] == [other.name]  # its own too, on close


def _answers_customers(index: CustomerIndex):
    return list(index.all())


def streamed(client: LoyaltyClient, builder: IndexBuilder):
    """The index's fetch as the bot makes it: the list kept by the builder as it arrives."""
    return functools.partial(builder.download, client.list_customers_body)


def test_a_child_that_dies_is_replaced(client: LoyaltyClient, tmp_path, monkeypatch) -> None:
    """The build the dead child was given runs here, from the file the list arrived in;
    the next build has a child of its own."""
    builder = IndexBuilder(memory_files=str(tmp_path))
    started, retire = IndexBuilder._started, IndexBuilder._retire
    calls: list[int] = []
    children: list[int] = []

    def dying(self):
        child = started(self)
        calls.append(1)
        if len(calls) == 2:  # started as the list downloads; it dies before it takes the build
            os.kill(child.pid, signal.SIGKILL)
            wait_until(lambda: not child.alive(), what="the child's death")
            self._child = child  # not yet noticed
        return child

    def retiring(self, child, number):
        children.append(child.pid)
        retire(self, child, number)

    monkeypatch.setattr(IndexBuilder, "_started", dying)
    monkeypatch.setattr(IndexBuilder, "_retire", retiring)
    try:
        index = CustomerIndex(streamed(client, builder), build=builder, ttl=3600)
        index.refresh()  # the dead child is noticed: this build runs here
        assert index.find("#1870").found is not None and children == []
        index.refresh()  # the next in a new child
        assert index.find("#1870").found is not None and index.fetch_count == 2
        assert [c.id for c in index.search("rez")]  # its second step taken too
        assert len(children) == 1 and children[0] != os.getpid()
    finally:
        builder.close()
    assert list(tmp_path.iterdir()) == []


def test_the_child_gives_the_lists_file_back_as_it_reads_it(tmp_path, monkeypatch) -> None:
    """Memory (bench_memory): the list's file is taken (renamed: the serving process then
    cannot build from it) and each part's memory is given back once read, so the list is
    never held whole beside what is parsed from it; the file is gone at the end."""
    where = Path(MEMORY_FILES) if Path(MEMORY_FILES).is_dir() else tmp_path
    listed = where / f"{PREFIX}{os.getpid()}-test-list"
    body = msgspec.json.encode(
        [
            {"id": 1000 + i, "firstName": "Ana", "lastName": f"Díaz {i}", "points": i}
            for i in range(3000)
        ]
    )
    listed.write_bytes(body)
    taken = Path(f"{listed}{index_builder.TAKEN}")
    monkeypatch.setattr(index_builder, "PIECE_BYTES", 4096)  # a page: what a file gives back
    seen: list[tuple[bool, int]] = []
    parse = Snapshot.from_chunks

    def parsing(chunks, rows=None):
        def watched():
            for chunk in chunks:
                seen.append((listed.exists(), taken.stat().st_blocks))
                yield chunk

        return parse(watched(), rows)

    monkeypatch.setattr(Snapshot, "from_chunks", parsing)  # this process as the child
    try:
        snapshot = index_builder._first_step(str(listed), 1, None)
    finally:
        listed.unlink(missing_ok=True)
    assert len(seen) > 3 and not any(exists for exists, _ in seen)
    blocks = [held for _, held in seen]
    assert blocks == sorted(blocks, reverse=True) and blocks[-1] < blocks[0]
    assert not taken.exists()
    assert snapshot.customers == Snapshot.from_json(body).customers
    assert snapshot.name_rows("ana diaz 2999") == [2999]
    index_builder._built.clear()


def killed_as_the_build_is_queued(monkeypatch, after: Callable[[], None]) -> None:
    """The next build's child is killed as its build is queued, once `after` has run."""
    started = IndexBuilder._started
    calls: list[int] = []

    def dying(self):
        child = started(self)
        calls.append(1)
        if len(calls) == 2:  # the download's start, then the build's steps queued
            after()
            os.kill(child.pid, signal.SIGKILL)
            wait_until(lambda: not child.alive(), what="the child's death")
            self._child = child
        return child

    monkeypatch.setattr(IndexBuilder, "_started", dying)


def test_a_child_that_dies_after_taking_the_list_fails_the_build(
    client: LoyaltyClient, tmp_path, monkeypatch
) -> None:
    """It cannot be built here from a file that is gone: the build fails (the index reads
    the list again on the next lookup) and the next build has a new child."""
    builder = IndexBuilder(memory_files=str(tmp_path))

    def taken() -> None:  # the list taken
        for path in tmp_path.iterdir():
            path.unlink()

    killed_as_the_build_is_queued(monkeypatch, after=taken)
    try:
        kept = builder.download(client.list_customers_body)
        with pytest.raises(OSError):
            builder(kept)
        index = CustomerIndex(streamed(client, builder), build=builder, ttl=3600)
        index.refresh()
        assert index.find("#1870").found is not None
    finally:
        builder.close()
    assert list(tmp_path.iterdir()) == []


def test_a_child_killed_while_parsing_leaves_no_file(
    client: LoyaltyClient, tmp_path, monkeypatch
) -> None:
    """A child killed with the list taken and its text's file begun: the serving process
    removes both as the build fails (memory a container counts), not at its close."""
    builder = IndexBuilder(memory_files=str(tmp_path))

    def parsing() -> None:  # what a child mid-parse holds
        (listed,) = tmp_path.iterdir()
        listed.rename(f"{listed}{index_builder.TAKEN}")
        Path(f"{listed}{index_builder.ROWS}").write_bytes(b"Ana\x1fP\xc3\xa9rez")

    killed_as_the_build_is_queued(monkeypatch, after=parsing)
    try:
        kept = builder.download(client.list_customers_body)
        with pytest.raises(OSError):
            builder(kept)
        assert list(tmp_path.iterdir()) == []
    finally:
        builder.close()


def test_a_list_that_is_not_one_is_an_unexpected_answer(builder: IndexBuilder) -> None:
    with pytest.raises(UnexpectedResponse):
        builder(b'{"customers": "none"}')


def test_the_child_leaves_when_the_serving_process_is_killed(tmp_path) -> None:
    """A SIGKILLed bot cannot stop its child: the child notices and exits by itself (else it
    would linger, holding the bot's output pipe open)."""
    script = tmp_path / "serving.py"
    script.write_text(
        "import signal\n"
        "from bot.core.index.builder import IndexBuilder\n"
        "if __name__ == '__main__':\n"
        "    builder = IndexBuilder()\n"
        "    builder(b'[]')\n"
        "    print(builder._child.pid, flush=True)\n"
        "    signal.pause()  # serving, until killed\n"
    )
    serving = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    child = int(serving.stdout.readline())
    serving.kill()
    serving.wait(10)
    wait_until(lambda: not Path(f"/proc/{child}").exists(), what="the child's exit")


def test_the_child_does_not_run_the_programs_main_module(tmp_path) -> None:
    """The child is a small interpreter of its own: the serving program's main module
    (gunicorn's script, loyalty-bot's) is not run again in it at each build."""
    runs = tmp_path / "runs"
    script = tmp_path / "serving.py"
    script.write_text(
        "import os\n"
        f"with open({str(runs)!r}, 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
        "from bot.core.index.builder import IndexBuilder\n"
        "if __name__ == '__main__':\n"
        "    builder = IndexBuilder()\n"
        "    for _ in range(2):\n"
        "        builder(b'[{\"id\": 1}]').prepare()\n"
        "    print('built', flush=True)\n"
    )
    serving = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert serving.stdout == "built\n", serving.stderr
    assert len(runs.read_text().split()) == 1  # the serving process's own run, only


def test_without_child_processes_the_index_is_built_here(
    client: LoyaltyClient, tmp_path, monkeypatch
) -> None:
    """Where no child can be given its pipes (Windows), the serving process builds it:
    the same answers, no child, no file left."""
    monkeypatch.setattr(index_builder.builder_child, "SUPPORTED", False)
    builder = IndexBuilder(memory_files=str(tmp_path))
    try:
        here = CustomerIndex(
            functools.partial(client.list_customers, CustomerList.from_json), ttl=3600
        )
        there = CustomerIndex(streamed(client, builder), build=builder, ttl=3600)
        assert _answers(there) == _answers(here)
        assert builder._child is None and list(tmp_path.iterdir()) == []
    finally:
        builder.close()


class _FullAfter:
    """A file that takes `room` bytes, then is full (a small /dev/shm)."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, data) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = bytes(data[: self.room])
        self.room -= len(taken)
        return self.file.write(taken)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def test_a_list_that_does_not_fit_in_memory_files_goes_through_the_pipe(
    tmp_path, monkeypatch
) -> None:
    """Whole and in order, and no file left."""
    pieces = [bytes([65 + n]) * 10 for n in range(6)]
    fdopen = os.fdopen
    monkeypatch.setattr(
        index_builder.os, "fdopen", lambda fd, *a, **k: _FullAfter(fdopen(fd, *a, **k), 25)
    )
    kept = index_builder._spooled(iter(pieces), (str(tmp_path), "loyalty-index-1-"))
    assert kept == b"".join(pieces)
    assert list(tmp_path.iterdir()) == []


def test_a_download_cut_short_leaves_no_file(tmp_path) -> None:
    def pieces():
        yield b"[{"
        raise ConnectionError("cut")

    builder = IndexBuilder(memory_files=str(tmp_path))
    try:
        with pytest.raises(ConnectionError):
            builder.download(lambda keep: keep(pieces()))
        assert list(tmp_path.iterdir()) == []
    finally:
        builder.close()


def test_what_the_serving_process_does_of_a_build_waits_for_a_bursts_acks(
    client: LoyaltyClient, tmp_path, monkeypatch
) -> None:
    """The list's download, and taking in each step's tables, come after the acks of a
    burst being answered (as the work after an ack does); the child builds meanwhile."""
    answering = Answering()
    builder = IndexBuilder(
        memory_files=str(tmp_path),
        after_acks=functools.partial(answering.after_the_burst, 60),
    )
    body = client.list_customers_body()
    steps: list[str] = []
    load = index_builder._loaded
    monkeypatch.setattr(index_builder, "_loaded", lambda r: steps.append("tables") or load(r))

    def pieces():
        steps.append("download")
        yield body

    def build() -> None:
        snapshot = builder(builder.download(lambda keep: keep(pieces())))
        snapshot.prepare()  # the second step's tables
        built.append(snapshot)

    built: list[Snapshot] = []
    try:
        for _ in range(BURST_ANSWERING):
            answering.arrived()  # a burst of requests being answered
        thread = threading.Thread(target=build)
        thread.start()
        wait_until(lambda: answering.waiting == 1, what="the download waiting")
        assert steps == []
        for _ in range(BURST_ANSWERING):
            answering.answered()
        thread.join(60)
        assert steps == ["download", "tables", "tables"] and built[0].prepared()
    finally:
        builder.close()


def test_a_serving_process_builds_its_index_after_the_acks(
    sandbox_url: str, sqlite_url: str
) -> None:
    """As `serve` and gunicorn build the bot (bot.runtime.app.build): its index builder
    waits for the acks of its work pool's bursts."""
    slack = SlackStandIn(token=BOT_TOKEN, team_id=TEAM, users=USERS)
    with serving(slack) as slack_url:
        slack.base_url = slack_url
        running = app_module._build(
            make_settings(sandbox_url, slack_url, sqlite_url), socket_mode=False
        )
        try:
            builder, answering = running.index_builder, running.work.answering
            assert builder is not None
            running.app.client  # noqa: B018  (built: the index warms meanwhile)
            for _ in range(BURST_ANSWERING):
                answering.arrived()
            consumed = threading.Event()

            def pieces():
                consumed.set()
                yield b"[]"

            thread = threading.Thread(target=lambda: builder.download(lambda keep: keep(pieces())))
            thread.start()
            wait_until(
                lambda: (
                    consumed.is_set() or any(f == "after_the_burst" for _, f in stack_of(thread))
                ),
                what="the download waiting, or made",
            )
            assert not consumed.is_set()
            for _ in range(BURST_ANSWERING):
                answering.answered()
            thread.join(60)
            assert consumed.is_set()
        finally:
            running.shutdown()


class _CutAfter(httpx.SyncByteStream):
    """A body that breaks off after its first piece (the connection dropped)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self):
        yield self.body[:10]
        raise httpx.ReadError("connection reset")


def test_a_list_cut_off_mid_download_is_fetched_again_whole(tmp_path) -> None:
    """The list's GET is retried; the piece written before the cut is gone with its file."""
    body = b'[{"id": 1, "firstName": "Ana", "points": 3}]'
    calls: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        stream = _CutAfter(body) if len(calls) == 1 else httpx.ByteStream(body)
        return httpx.Response(200, stream=stream)

    client = LoyaltyClient(
        app_key="key",
        program_id=1,
        base_url="https://api.example/",
        transport=httpx.MockTransport(answer),
        sleep=lambda _: None,
    )
    builder = IndexBuilder(memory_files=str(tmp_path))
    try:
        kept = builder.download(client.list_customers_body)
        assert len(calls) == 2 and Path(kept).read_bytes() == body
        assert [p.name for p in tmp_path.iterdir()] == [Path(kept).name]
        snapshot = builder(kept)
        snapshot.prepare()  # both steps taken: every file gone
        assert [c.id for c in snapshot.customers] == [1]
        assert list(tmp_path.iterdir()) == []
    finally:
        builder.close()


def test_a_summarys_balances_come_before_the_lookup_tables() -> None:
    """`balances` on a list too old: the balances of the list fetched for them are handed
    back as soon as it is read, with the bot's writes made during the fetch (a change, a
    sign-up, a deletion); the lookup tables are built after (here they wait for
    `tables`), and the index keeps that same list."""
    tables = threading.Event()
    lists = [[Customer(id=1, firstName="Ana", lastName="Ruiz", points=5)]]
    index: CustomerIndex

    def fetch() -> list[Customer]:
        if index.fetch_count:  # the bot's own writes while the list is read
            index.upsert(Customer(id=1, firstName="Ana", lastName="Ruiz", points=9))
            index.upsert(Customer(id=3, firstName="Eva", lastName="Sanz"))
            index.remove(4)  # deleted in Slack meanwhile
        return lists[-1]

    def slow_tables(customers: list[Customer]) -> Snapshot:
        if index.fetch_count:
            assert tables.wait(10)
        return Snapshot(customers)

    index = CustomerIndex(fetch, build=slow_tables, ttl=60)
    index.find("ana")
    lists.append(
        [
            *lists[0],
            Customer(id=2, firstName="Rosa", lastName="Díaz"),
            Customer(id=4, firstName="Leo", lastName="Gil"),
        ]
    )
    index.invalidate()
    counted = index.balances()  # while the tables wait
    assert not tables.is_set() and index.fetch_count == 1
    assert sorted(zip(counted.ids, counted.points, strict=True)) == [(1, 9), (2, 0), (3, 0)]
    assert [(c.id, c.points) for c in counted.top(5)] == [(1, 9), (2, 0), (3, 0)]
    tables.set()
    assert [c.id for c in index.find("rosa").matches] == [2]
    assert index.find("ana").found.points == 9 and index.find("leo").matches == []
    assert index.fetch_count == 2 and list(index.balances().ids) == [2, 1, 3]


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_summary_gets_the_balances_from_the_child_before_its_tables(
    client: LoyaltyClient, tmp_path, in_memory: bool, monkeypatch
) -> None:
    """`balances` on a list too old: the child sends the list's balances first (in a file
    or through the pipe), then the tables as every build does; the index keeps that
    build."""
    builder = IndexBuilder(memory_files=str(tmp_path) if in_memory else None)
    received: list[type] = []
    load = index_builder._loaded

    def loaded(result):
        made = load(result)
        received.append(type(made))
        return made

    monkeypatch.setattr(index_builder, "_loaded", loaded)
    try:
        index = CustomerIndex(streamed(client, builder), build=builder, ttl=3600)
        index.find("juan")
        index.all()  # the first build's second step taken now, not by a late thread
        index.invalidate()
        counted = index.balances()
        expected = client.list_customers(CustomerList.from_json)
        assert (counted.ids, counted.points) == (expected.ids, expected.points)
        assert counted.top(10) == expected.top(10)
        wait_until(lambda: index.fetch_count == 2, what="the tables after the list")
        index.all()  # the second step
        assert received == [Snapshot, Prepared, BalanceList, Snapshot, Prepared]
        assert list(tmp_path.iterdir()) == []
    finally:
        builder.close()


def test_the_child_sends_each_customer_once(builder: IndexBuilder) -> None:
    """A customer listed twice is the later row, in the balances sent first as in the
    tables."""
    body = (
        b'[{"id": 7, "points": 1, "firstName": "Old"}, {"id": 7, "points": 2, "firstName": "New"}]'
    )
    early: list[BalanceList] = []
    snapshot = builder(body, balances=early.append)
    (counted,) = early
    assert (list(counted.ids), list(counted.points)) == ([7], [2])
    (customer,) = counted.top(5)
    assert (customer.first_name, customer.points) == ("New", 2)
    assert list(snapshot.customers) == [customer]


def test_a_list_that_is_not_one_is_refused_before_any_table(builder: IndexBuilder) -> None:
    early: list[BalanceList] = []
    with pytest.raises(UnexpectedResponse):
        builder(b'{"customers": "none"}', balances=early.append)
    assert early == []


def test_the_child_builds_without_the_models_phone_parsing_or_translations() -> None:
    """Memory (bench_memory): the child parses the list and builds the tables with the
    index's own modules and msgspec; pydantic, phonenumbers and Babel stay in the serving
    process."""
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from bot.core.index import builder\n"
            'snapshot = builder._first_step(b\'[{"id": 1, "firstName": "Ana"}]\', 1, None)\n'
            "builder._second_step(1, None)\n"
            "print(len(snapshot.customers), *sorted({'pydantic', 'phonenumbers', 'babel'}"
            " & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    assert ran.stdout.split() == ["1"]


def test_the_serving_process_maps_the_childs_text_and_answers_from_its_tables() -> None:
    """The child grows the customers' packed text in a file in memory; the serving
    process maps it (no copy) and removes it, and answers from the child's tables
    (plain arrays, built without numpy: bench_memory)."""
    ran = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys\n"
            "from bot.core.index.builder import MEMORY_FILES, PREFIX, IndexBuilder\n"
            "builder = IndexBuilder()\n"
            'body = b\'[{"id": 1, "firstName": "Ana", "lastName": "Perez", '
            '"email": "ana@example.com"}, {"id": 2, "firstName": "Luis"}]\'\n'
            "snapshot = builder(body)\n"
            "snapshot.prepare()\n"  # its second step taken in too
            "mine = f'{PREFIX}{os.getpid()}-'\n"
            "left = [n for n in os.listdir(MEMORY_FILES) if n.startswith(mine)]\n"
            "print(snapshot.token_rows('pe'), snapshot.email_rows('ana@example.com'), "
            "snapshot.name_rows('luis'), type(snapshot.customers._rows).__name__, "
            "snapshot.customers[0].email, left, 'numpy' in sys.modules)\n"
            "builder.close()",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    text = "MappedText" if os.path.isdir(MEMORY_FILES) else "bytearray"
    expected = ["{0}", "[0]", "[1]", text, "ana@example.com", "[]", "False"]
    assert ran.stdout.split() == expected, ran.stderr
