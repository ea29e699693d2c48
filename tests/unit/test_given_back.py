"""Files read once with each part's memory given back as it is read
(bot.core.index.given_back): the same bytes, and the file shrinks as they are read."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from bot.core.index.builder import MEMORY_FILES
from bot.core.index.given_back import GivenBackBehind, parts

PAGE = 4096


@pytest.fixture
def in_memory(tmp_path) -> Path:
    """A file in memory where this system has them (else on disk: it may not shrink)."""
    where = Path(MEMORY_FILES) if Path(MEMORY_FILES).is_dir() else tmp_path
    path = where / f"test-given-back-{os.getpid()}"
    yield path
    path.unlink(missing_ok=True)


def test_the_parts_are_the_file_and_it_shrinks_as_they_are_read(in_memory) -> None:
    data = os.urandom(64 * PAGE + 123)
    in_memory.write_bytes(data)
    held = []
    with open(in_memory, "r+b", buffering=0) as file:
        read = []
        for piece in parts(file, 8 * PAGE):
            read.append(piece)
            held.append(in_memory.stat().st_blocks)
    assert b"".join(read) == data
    if Path(MEMORY_FILES).is_dir():  # tmpfs gives back whole pages
        assert held == sorted(held, reverse=True) and held[-1] < held[0] // 4


def test_pickle_loads_through_it(in_memory) -> None:
    tables = {"rows": os.urandom(40 * PAGE), "names": ["Ana", "Luz"] * 1000, "n": 7}
    in_memory.write_bytes(pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
    whole = in_memory.stat().st_blocks
    with open(in_memory, "r+b", buffering=0) as file:
        assert pickle.load(GivenBackBehind(file)) == tables
    if Path(MEMORY_FILES).is_dir():  # all given back but the pages a read ended inside
        assert in_memory.stat().st_blocks < whole // 8
