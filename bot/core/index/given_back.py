"""Files in memory read once, from their start, each part's memory given back to the
system as soon as it is read (bot.domain.heap.release_file_range).

A file in memory (/dev/shm) holds all its pages until it is removed. The index builder's
files (the customer list going to the child, each step's tables coming back) are read
once into objects of their own: read whole and then removed, the file and what was read
from it are both held whole for a moment, the highest moment of a rebuild
(bench_memory). Read this way, the file shrinks as the objects grow.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from bot.domain.heap import release_file_range


def parts(file: io.FileIO, size: int) -> Iterator[bytes]:
    """The file (opened for writing too: to give parts back), `size` bytes at a time."""
    reader = GivenBackBehind(file)
    while piece := reader.read(size):
        yield piece


class GivenBackBehind:
    """A file (opened for writing too) read once from its start, as pickle.load reads."""

    def __init__(self, file: io.FileIO) -> None:
        self._file, self._read, self._releasing = file, 0, True

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size) or b""
        self._given_back(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer) or 0
        self._given_back(count)
        return count

    def readline(self) -> bytes:
        line = self._file.readline()
        self._given_back(len(line))
        return line

    def _given_back(self, count: int) -> None:
        """Where the file system cannot, it is not asked again."""
        if count and self._releasing:
            self._releasing = release_file_range(self._file.fileno(), self._read, count)
        self._read += count
