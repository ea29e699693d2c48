"""Large blocks of memory go back to the system as soon as they are freed.

glibc's malloc gives a block of 128 KiB or more its own mapping, returned to the system
on free, but raises that threshold to the size of each such block freed (up to 32 MiB).
After the first index rebuild, the next one's large tables and buffers (a few MiB each)
then come from the heap, and what they leave there stays with the process between
rebuilds: a serving process would hold about one index more than it uses, and a builder
child would peak higher. Fixing the threshold (`mallopt`) turns that adjustment off;
bench_memory measures an instance with it.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_THRESHOLD_BYTES = 128 * 1024  # glibc's own starting value


def return_freed_memory() -> bool:
    """Fix malloc's mapping threshold, where the C library is glibc (elsewhere nothing
    changes: musl and macOS do not move theirs). True if it was set."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):  # not glibc (Windows: no C library by None)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES))
    if not done:
        log.info("malloc kept its own mapping threshold")
    return done


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # not glibc
        return None
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return trim


def give_back_free_pages() -> None:
    """Return the heap's free pages to the system now (glibc's `malloc_trim`): after a
    build's many small blocks are freed, the pages between the blocks still in use stay
    with the process otherwise (elsewhere nothing changes)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_PUNCH_HOLE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (linux/falloc.h)


@functools.cache
def _fallocate() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fallocate = getattr(libc, "fallocate64", None) or libc.fallocate
    except (AttributeError, OSError, TypeError):  # not glibc, or not Linux
        return None
    fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    fallocate.restype = ctypes.c_int
    return fallocate


def release_file_range(fd: int, offset: int, length: int) -> bool:
    """Give back the memory of part of a file kept in memory (tmpfs): from then on that
    part reads as zeros. True if done (Linux; elsewhere, or on a file system that cannot,
    nothing changes)."""
    fallocate = _fallocate()
    return fallocate is not None and fallocate(fd, _PUNCH_HOLE, offset, length) == 0
