"""The index builder's child process, and the pipe between it and the serving process.

The child is a new interpreter running this module (`python -m`), not a multiprocessing
child: those run the program's main module again as they start (gunicorn's script, or
loyalty-bot's, which imports the whole bot), at the serving process's priority, once per
build. This module imports nothing heavy: the child lowers its priority first, and only
then imports the builder (the parsing and the tables: msgspec, not the models) and
takes requests.

Requests and replies cross two pipes as length-prefixed pickles, in order: a request is
(the name of one of the builder's child-side functions, its arguments); a reply is
(True, the result) or (False, the exception raised).
"""

from __future__ import annotations

import collections
import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any

from bot.domain.heap import return_freed_memory

_LENGTH = struct.Struct("<Q")
# A child needs file descriptors passed to a new process (POSIX). Elsewhere (Windows,
# where the bot runs only on a developer's machine) the index is built in the serving
# process: slower acks, the same answers.
SUPPORTED = os.name == "posix"
# The builder's child-side steps (in bot.core.index.builder), the only names a request may call.
CALLABLE = frozenset({"_ready", "_balances_step", "_first_step", "_second_step"})


class ChildGone(OSError):
    """The child exited (or was stopped) before it replied."""


def _write(fd: int, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes, or None at the end of the pipe (the other side is gone)."""
    pieces, left = [], size
    while left:
        piece = os.read(fd, min(left, 1 << 20))
        if not piece:
            return None
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def _read(fd: int) -> tuple[bool, Any]:
    """(True, the object) or (False, None) at the end of the pipe."""
    head = _read_exactly(fd, _LENGTH.size)
    body = None if head is None else _read_exactly(fd, _LENGTH.unpack(head)[0])
    return (False, None) if body is None else (True, pickle.loads(body))


class Child:
    """The serving process's handle on one child: `submit` queues a call, answered in
    order through a Future; `finish` lets it exit once its queue is done; `stop` kills it."""

    def __init__(self) -> None:
        requests_read, self._requests = os.pipe()
        self._replies, replies_write = os.pipe()
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    __name__,
                    str(os.getpid()),
                    str(requests_read),
                    str(replies_write),
                ],
                pass_fds=(requests_read, replies_write),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            for fd in (self._requests, self._replies):
                os.close(fd)
            raise
        finally:
            os.close(requests_read)
            os.close(replies_write)
        self.pid = self._process.pid
        self._lock = threading.Lock()
        self._waiting: collections.deque[Future[Any]] = collections.deque()
        self._open = True
        threading.Thread(
            target=self._take_replies, name="index-builder-replies", daemon=True
        ).start()

    def submit(self, name: str, *args: object) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if not self._open:
                raise ChildGone("the index builder's child has stopped")
            self._waiting.append(future)
            try:
                _write(self._requests, (name, args))
            except OSError as exc:
                self._waiting.remove(future)
                raise ChildGone(str(exc)) from exc
        return future

    def _take_replies(self) -> None:
        while True:
            more, reply = _read(self._replies)
            with self._lock:
                future = self._waiting.popleft() if more and self._waiting else None
            if future is None:
                break
            ok, value = reply
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        self._close_requests()
        self._process.wait()
        os.close(self._replies)
        with self._lock:
            waiting, self._waiting = list(self._waiting), collections.deque()
        for future in waiting:
            future.set_exception(ChildGone("the index builder's child exited"))

    def _close_requests(self) -> None:
        with self._lock:
            if self._open:
                self._open = False
                os.close(self._requests)

    def finish(self) -> None:
        """No more requests: the child exits once it has replied to those it has."""
        self._close_requests()

    def stop(self) -> None:
        """Kill it (a hung one too); whatever it had not replied to fails."""
        self._close_requests()
        with contextlib.suppress(OSError):
            self._process.kill()

    def alive(self) -> bool:
        return self._process.poll() is None


def in_the_child(parent: int) -> None:
    """Yield the CPU to the serving process (its acks come first): on Linux the child runs
    only when a CPU would otherwise be idle (a CPU never idle for the builder's timeout
    makes the build run in the serving process instead). Leave as soon as the parent is
    gone (killed, it cannot say)."""
    with contextlib.suppress(AttributeError, OSError):  # else build at the same priority
        os.nice(10)
    with contextlib.suppress(AttributeError, OSError):  # Linux: only when a CPU is idle
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    threading.Thread(target=_leave_with, args=(parent,), name="parent-watch", daemon=True).start()


def _leave_with(parent: int) -> None:
    """Exit once `parent` has."""
    try:
        handle = os.pidfd_open(parent)  # Linux: readable once the process has exited
    except (AttributeError, OSError):
        handle = None
    if handle is not None:
        select.select([handle], [], [])
    else:
        while os.getppid() == parent:
            time.sleep(1)
    os._exit(0)


def main(argv: list[str]) -> None:
    parent, requests, replies = (int(arg) for arg in argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the serving process's to handle
    in_the_child(parent)
    return_freed_memory()
    from bot.core.index import builder  # after the priority is lowered

    while True:
        more, request = _read(requests)
        if not more:
            return
        name, args = request
        try:
            if name not in CALLABLE:
                raise ValueError(f"not a builder step: {name!r}")
            reply: tuple[bool, Any] = (True, getattr(builder, name)(*args))
        except Exception as exc:
            reply = (False, exc)
        _write(replies, reply)


if __name__ == "__main__":
    main(sys.argv[1:])
