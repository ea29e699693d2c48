"""A parsed list's packed text, kept in a file in memory that the serving process maps.

The index builder's child grows the customer list's packed text (CustomerList's rows, the
largest of its tables) in a file in memory as it parses the list (`RowsFile`), and sends
the file's path, not its bytes: the serving process maps the file and removes it. The
text then exists once, never copied from the child's memory into a file and from the file
into the serving process's (each copy held beside the other: bench_memory's rebuild
peak). A mapping reads as `bytes` does (slices, length).
"""

from __future__ import annotations

import contextlib
import mmap
import os


class MappedText(mmap.mmap):
    """Read-only text in a mapped file. Pickled as the file's path while the file is
    there (`RowsFile.done`): unpickled, it is mapped again and the file removed
    (`_mapped`); else as its bytes. A file never sent is removed with its mapping."""

    path: str | None = None
    _sent = False

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        if self.path is None:
            return bytes, (self[:],)
        self._sent = True
        return _mapped, (self.path,)

    def __del__(self) -> None:
        if self.path is not None and not self._sent:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def _mapped(path: str) -> MappedText | bytes:
    """The text in the file at `path`, mapped, each page read once (so it is held, and
    counted, as this process's: bench_memory), then the file removed (its pages stay while
    mapped)."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if not size:
                return b""
            text = MappedText(file.fileno(), size, access=mmap.ACCESS_READ)
        text[:: mmap.PAGESIZE]  # every page in now, not at its first lookup
        return text
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


class RowsFile:
    """Where a list's packed text grows as the list is parsed (`add`, as a bytearray's
    `+=`):
    a new file at `path` (only this user may read it). If the file cannot take it all (a
    small file system in memory), the text so far is read back and grows in this
    process's memory instead."""

    def __init__(self, path: str) -> None:
        """OSError if the file cannot be made (or is there already)."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self.path = path
        self._file = os.fdopen(fd, "r+b", buffering=0)
        self._held: bytearray | None = None

    def add(self, data: bytes | bytearray | mmap.mmap) -> None:
        if self._held is not None:
            self._held += data
            return
        view = memoryview(data)
        try:
            while view:
                view = view[self._file.write(view) or 0 :]
        except OSError:  # full: from here in memory
            self._file.seek(0)
            self._held = bytearray(self._file.read())
            self._held += view
            self._close()

    def done(self) -> MappedText | bytes | bytearray:
        """The text: the file mapped (sent as its path, and removed once the serving
        process maps it), or what this process holds."""
        if self._held is not None:
            return self._held
        try:
            size = os.fstat(self._file.fileno()).st_size
            if not size:
                self._close()
                return b""
            text = MappedText(self._file.fileno(), size, access=mmap.ACCESS_READ)
        except BaseException:
            self._close()
            raise
        self._file.close()  # the mapping stays
        text.path = self.path
        return text

    def discard(self) -> None:
        """The build failed: the file is not needed."""
        self._close()

    def _close(self) -> None:
        self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
