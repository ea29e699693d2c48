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
import logging

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
