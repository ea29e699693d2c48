"""The customer lookup index, built in a child process.

Parsing and indexing a large customer list takes a long stretch of CPU. In the serving
process that holds the interpreter away from the threads that ack Slack's requests, and
its many short-lived strings leave the heap fragmented. Here the serving process only
downloads the list (waiting on the network), piece by piece into a file in memory
(`download`), and hands it to a child (bot.core.index.builder_child), which returns the
finished tables: a few large byte strings and arrays, taken in a small fraction of the
time (bench_lookup and bench_ack measure both). It returns them in two steps
(bot.core.index.snapshot.Snapshot): the lookups' tables as soon as they are built (the
index answers from then on), then the name order and search text; when a summary waits
for the list (`CustomerIndex.balances`), the balances come first, before the list is
parsed whole (bot.core.index.balances: bench_summary's "after a quiet spell" waits for
them). One child per serving
process at most, started as a build's list begins to download and gone once no other
build waits (an idle instance holds no builder: bench_memory); a child that dies is
replaced on the next build, and if none can start the build runs in the serving process
(slower acks, same answers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

from bot.core.index import builder_child
from bot.core.index.balances import BalanceList
from bot.core.index.builder_child import Child
from bot.core.index.given_back import GivenBackBehind, parts
from bot.core.index.list_pieces import PIECE_BYTES
from bot.core.index.mapped_text import RowsFile
from bot.core.index.snapshot import Prepared, Snapshot, build_snapshot, second_step
from bot.domain.heap import give_back_free_pages

log = logging.getLogger(__name__)
T = TypeVar("T")

BUILD_TIMEOUT_SECONDS = 300.0  # far beyond a 300,000-customer build (a few seconds)


# In the child: the list whose tables the serving process asks for next (when it asked
# for its balances first), and what the second step of a snapshot is made from.
_bodies: dict[int, bytes] = {}
_built: dict[int, tuple[Any, Any]] = {}  # what its second step is made from

# Where the list and the index cross between the processes, if this system has a file
# system in memory: a file is written and read in one system call each, with the
# interpreter free meanwhile, where a pipe takes many small pieces, each a moment of the
# serving interpreter's time (bench_ack's rebuilds during bursts show what that costs the
# acks). Else (or if it fails) they go through the pipe.
MEMORY_FILES = "/dev/shm"


# A file in MEMORY_FILES: (the directory, the name's start: the serving process's id).
Place = tuple[str, str]
PREFIX = "loyalty-index-"


def _written(place: Place, data: bytes | None = None, obj: object = None) -> str:
    """A new file (only this user may read it) holding `data`, or `obj` pickled; OSError
    (and no file) if it cannot be written whole (a small /dev/shm, say)."""
    fd, path = tempfile.mkstemp(prefix=place[1], dir=place[0])
    try:
        with os.fdopen(fd, "wb") as out:
            if data is not None:
                out.write(data)
            else:
                pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path


def _returned(result: T, place: Place | None) -> T | str:
    """What the child returns: a file's path, or (no file system in memory, or it is
    full) the result itself, through the pipe."""
    if place is not None:
        with contextlib.suppress(OSError):
            return _written(place, obj=result)
    return result


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's
        return True
    return True


def _sweep(directory: str) -> None:
    """Remove the files that serving processes killed in the middle of a build left."""
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            pid = name.removeprefix(PREFIX).split("-")[0]
            if name.startswith(PREFIX) and pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))


def _unexpected() -> Exception:
    """A list that is not what the API documents. Imported here, not by the child (its
    messages bring the translations in: memory the child never needs)."""
    from bot.domain.errors import UnexpectedResponse

    return UnexpectedResponse(200)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _taken(body: bytes | str) -> bytes:
    """In the child: the list, or the file holding it read and removed at once (the two
    copies are never held through the build; if this child dies now, the serving process
    cannot build from the file, and the next lookup reads the list again)."""
    if not isinstance(body, str):
        return body
    try:
        return _read(body)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(body)


TAKEN = ".taken"  # a list's file once the child reads it
ROWS = ".rows"  # beside it: the list's packed text, until the serving process maps it


def _released_as_read(path: str) -> Iterator[bytes]:
    """In the child: the list in the file at `path`, a part at a time, each part's memory
    given back to the system once read (a file in memory holds it all until it is
    removed, beside what is parsed from it: bench_memory's rebuild peak). Renamed first:
    the serving process then knows the child has it (a file partly given back cannot be
    built from; if this child dies, the next lookup reads the list again). Removed once
    read."""
    taken = path + TAKEN
    os.rename(path, taken)
    try:
        with open(taken, "r+b", buffering=0) as file:  # writable: to give parts back
            yield from parts(file, PIECE_BYTES)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(taken)


def _rows_file(body: str) -> RowsFile | None:
    """Where the list's packed text grows as the list in the file at `body` is parsed,
    to be mapped by the serving process (bot.core.index.mapped_text): named after it, so
    the serving process can remove it if the build fails; None: in this process's
    memory."""
    try:
        return RowsFile(body + ROWS)
    except OSError:
        return None


def _spooled(pieces: Iterator[bytes], place: Place) -> bytes | str:
    """The list's pieces, as they arrive, into a new file in memory: its path. If the
    file cannot be made or take them all (a small /dev/shm, say), the list itself."""
    try:
        fd, path = tempfile.mkstemp(prefix=place[1], dir=place[0])
    except OSError as exc:
        log.info("index builder: the list through the pipe (%s)", exc)
        return b"".join(pieces)
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            kept = 0
            for piece in pieces:
                left = memoryview(piece)
                while left:
                    try:
                        written = out.write(left) or 0
                    except OSError as exc:
                        log.info("index builder: the list through the pipe (%s)", exc)
                        with open(path, "rb") as file:
                            head = file.read(kept)
                        os.unlink(path)
                        return b"".join([head, bytes(left), *pieces])
                    kept += written
                    left = left[written:]
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path


def _loaded(result: T | str) -> T:
    """A child's result: itself, or (a path) unpickled from its file, which is then gone.
    Each part of the file is given back as it is read (bot.core.index.given_back)."""
    if not isinstance(result, str):
        return result
    try:
        with open(result, "r+b", buffering=0) as file:  # writable: to give parts back
            loaded: T = pickle.load(GivenBackBehind(file))  # large strings read in place
            return loaded
    finally:
        os.unlink(result)


def _balances_step(body: bytes | str, key: int, place: Place | None) -> BalanceList | str:
    """The list's balances, before it is parsed whole: for a summary waiting for them.
    The list is kept for the first step."""
    data = _bodies[key] = _taken(body)
    return _returned(BalanceList.from_json(data), place)


def _first_step(body: bytes | str | None, key: int, place: Place | None) -> Snapshot | str:
    """`body`: the list, or the path of a file holding it (read a part at a time:
    `_released_as_read`); None: the list `_balances_step` kept."""
    rows = _rows_file(body) if isinstance(body, str) else None
    try:
        if isinstance(body, str):
            snapshot = Snapshot.from_chunks(_released_as_read(body), rows)
        else:
            snapshot = Snapshot.from_json(_bodies.pop(key) if body is None else body)
        _built[key] = snapshot.second_step_input()  # not the snapshot: its memory goes
        give_back_free_pages()  # the parse's, before the snapshot is written
        return _returned(snapshot, place)
    except BaseException:
        if rows is not None:  # not sent: its file is not needed
            rows.discard()
        raise


def _second_step(key: int, place: Place | None) -> Prepared | str:
    return _returned(second_step(*_built.pop(key)), place)


def _ready() -> None:
    """Sent first to a new child: it imports this module (the parsing and the tables) at
    its low priority while the serving process is still downloading the list."""


class IndexBuilder:
    def __init__(
        self,
        memory_files: str | None = MEMORY_FILES,
        *,
        after_acks: Callable[[], None] = lambda: None,
    ) -> None:
        """`after_acks` waits while a burst of requests is being acked (the work pool's
        `Answering`): the parts of a build this process does itself (the list's
        download, taking in each step's tables from its file) wait for it, as the work
        after an ack does."""
        self._after_acks = after_acks
        self._lock = threading.Lock()
        self._child: Child | None = None
        self._builds = 0
        self._next_build = False  # a list is downloading for a build not yet queued
        self._memory_files = memory_files if memory_files and os.path.isdir(memory_files) else None
        self._place: Place | None = None  # set on the first build

    def download(self, list_body: Callable[..., Any]) -> bytes | str:
        """The list read with `list_body` (LoyaltyClient.list_customers_body), kept as
        `_keep` keeps it, the child starting as the request is sent (its imports then
        overlap the API's answer as well as the download). What `__call__` takes."""
        self._start_child()
        try:
            kept: bytes | str = list_body(keep=self._keep)
        except BaseException:
            self._no_build()
            raise
        return kept

    def _keep(self, pieces: Iterator[bytes]) -> bytes | str:
        """The list as it arrives from the API (LoyaltyClient.list_customers_body's
        `keep`): written to a file in memory if this system has them, so this process
        never holds it whole (nor joins it, which holds the interpreter while it copies);
        else joined."""
        self._after_acks()
        place = self._where()
        return b"".join(pieces) if place is None else _spooled(pieces, place)

    def _no_build(self) -> None:
        """The list did not come: the child need not stay for it."""
        with self._lock:
            self._next_build = False

    def _start_child(self) -> None:
        """A child for the build this list is for, starting while the list downloads."""
        if not builder_child.SUPPORTED:
            return
        try:
            with self._lock:
                self._next_build = True  # the child stays for it
                self._started().submit("_ready")
        except OSError as exc:  # the build starts another, or runs here
            log.info("index builder: no child yet (%s)", type(exc).__name__)
            self._discard()

    def __call__(
        self, body: bytes | str, balances: Callable[[BalanceList], None] | None = None
    ) -> Snapshot:
        """`body`: the list, or (from `download`) the path of a file holding it, which is
        gone once the build is done. `balances`: given the list's balances first (before
        it is parsed whole), if the child can send them."""
        if not builder_child.SUPPORTED:
            return self._here(body)
        sent = body if isinstance(body, str) else self._send(body)
        try:
            try:
                with self._lock:  # each build's steps queued together, in order
                    child = self._started()
                    self._builds += 1
                    number, self._next_build = self._builds, False
                    early: Future[BalanceList | str] | None = None
                    if balances is not None:
                        early = child.submit("_balances_step", sent, number, self._place)
                    first: Future[Snapshot | str] = child.submit(
                        "_first_step", None if early else sent, number, self._place
                    )
                    second: Future[Prepared | str] = child.submit(
                        "_second_step", number, self._place
                    )
                if early is not None and balances is not None:
                    counted = early.result(timeout=BUILD_TIMEOUT_SECONDS)
                    self._after_acks()
                    balances(_loaded(counted))
                built = first.result(timeout=BUILD_TIMEOUT_SECONDS)
                self._after_acks()
                snapshot: Snapshot = _loaded(built)
            except (OSError, TimeoutError) as exc:  # ChildGone among them
                if isinstance(sent, str) and not os.path.exists(sent):
                    raise  # the child had taken the list's file: the next lookup reads it again
                log.warning("index builder process failed (%s): building here", type(exc).__name__)
                self._discard()
                return self._here(sent)
        except ValueError:  # the list is not what the API documents
            raise _unexpected() from None
        finally:
            if isinstance(sent, str):
                # What a child that failed (or was killed) may leave: gone once loaded.
                for left in (sent, sent + TAKEN, sent + ROWS):
                    with contextlib.suppress(OSError):
                        os.unlink(left)
        snapshot.prepare_from(lambda: self._second(child, second, number))
        return snapshot

    @staticmethod
    def _here(body: bytes | str) -> Snapshot:
        """Built in this process, from the list or the file holding it (then gone)."""
        try:
            return build_snapshot(_read(body) if isinstance(body, str) else body)
        except ValueError:  # the list is not what the API documents
            raise _unexpected() from None
        finally:
            if isinstance(body, str):
                with contextlib.suppress(OSError):
                    os.unlink(body)

    def _where(self) -> Place | None:
        """Where the list and the index cross in files (None: through the pipe)."""
        if self._memory_files is not None and self._place is None:
            _sweep(self._memory_files)
            self._place = (self._memory_files, f"{PREFIX}{os.getpid()}-")
        return self._place

    def _send(self, body: bytes) -> bytes | str:
        """The list as the child takes it: in a file if this system has them in memory."""
        place = self._where()
        if place is None:
            return body
        try:
            return _written(place, data=body)
        except OSError as exc:  # full, say: through the pipe
            log.info("index builder: sending the list through the pipe (%s)", exc)
            return body

    def _second(self, child: Child, future: Future[Prepared | str], number: int) -> Prepared:
        try:
            made = future.result(timeout=BUILD_TIMEOUT_SECONDS)
        except (OSError, TimeoutError):
            self._discard(child)  # and the snapshot makes its second step itself
            raise
        self._retire(child, number)
        self._after_acks()
        return _loaded(made)

    def _retire(self, child: Child, number: int) -> None:
        """The child leaves once its last build is done, unless another was queued
        meanwhile: an idle serving process keeps no builder (its memory is back to the
        system between builds; the next build starts another child)."""
        with self._lock:
            if self._child is not child or self._builds != number or self._next_build:
                return
            self._child = None
        child.finish()

    def _started(self) -> Child:
        """The child (called under the lock): started if there is none, or it has exited."""
        if self._child is None or not self._child.alive():
            self._child = Child()
        return self._child

    def _discard(self, child: Child | None = None) -> None:
        """Stop the child (a hung one too) and forget it: the next build starts another.
        `child`: only if it is still that one."""
        with self._lock:
            if child is not None and child is not self._child:
                return
            child, self._child = self._child, None
        if child is not None:
            child.stop()

    def close(self) -> None:
        self._discard()
        if self._place is not None:  # any file a stopped child left
            directory, prefix = self._place
            with contextlib.suppress(OSError):
                for name in os.listdir(directory):
                    if name.startswith(prefix):
                        with contextlib.suppress(OSError):
                            os.unlink(os.path.join(directory, name))
