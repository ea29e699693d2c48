"""The snapshot's compact lookup tables: rows by an exact key (`KeyIndex`) and rows by
the start of a name token (`TokenTable`).

Built from whole columns with numpy (sorts and grouping in C), in the builder process;
read in the serving process as plain arrays, so the serving process never loads numpy."""

from __future__ import annotations

import bisect
import itertools
import operator
import zlib
from array import array
from collections.abc import Iterable, Sequence


def key_hash(key: str | int) -> int:
    """The same in every process (a snapshot is built in another one; `hash()` of a str
    differs between processes): CRC-32 of the key's bytes."""
    if isinstance(key, int):
        return zlib.crc32(key.to_bytes(16, "little", signed=True))
    return zlib.crc32(key.encode())


class KeyIndex:
    """Rows by an exact key, compact: each key's 32-bit hash with its row in the low bits,
    all in one sorted array (8 bytes a key instead of a dict entry and a string). A few
    keys share a hash: callers check the row's own key. Empty keys are left out."""

    def __init__(self, keys: Sequence[str | int], rows: Iterable[int], row_count: int) -> None:
        import numpy as np  # here, not above: only a builder makes tables

        self.bits = bits = max(20, row_count.bit_length())
        present = list(map(operator.ne, keys, itertools.repeat("")))
        hashes = (
            map(key_hash, keys)
            if keys and isinstance(keys[0], int)
            else map(zlib.crc32, map(str.encode, itertools.compress(keys, present)))  # type: ignore[arg-type]
        )
        packed = np.fromiter(hashes, dtype=np.int64) << bits
        packed |= np.fromiter(itertools.compress(rows, present), dtype=np.int64)
        packed.sort()
        self.entries = array("q")
        self.entries.frombytes(packed.data.cast("B"))  # its buffer, not a copy

    def rows_for(self, key: str | int) -> list[int]:
        bits, entries = self.bits, self.entries
        wanted = key_hash(key)
        at = bisect.bisect_left(entries, wanted << bits)
        found = []
        while at < len(entries) and entries[at] >> bits == wanted:
            found.append(entries[at] & ((1 << bits) - 1))
            at += 1
        return found


class TokenTable:
    """Rows by the start of any of their name tokens: each token once, sorted, and every
    token's rows in one column, in the tokens' order. The rows of all the tokens that
    start with a prefix are then one slice of that column."""

    def __init__(self, full_keys: list[str], other_keys: list[str]) -> None:
        """Row i's name key (its tokens joined by spaces) in `full_keys[i]`; the key of
        another human name it has in `other_keys[i]`, or ""."""
        import numpy as np  # here, not above: only a builder makes tables

        # Each name split as it is read (never all the tokens at once: their strings
        # would outweigh every other table).
        each_row = itertools.chain.from_iterable
        extra = [  # another human name's tokens the full name lacks: rarely any
            (row, sorted(set(other_keys[row].split()) - set(full_keys[row].split())))
            for row in itertools.compress(itertools.count(), other_keys)
        ]
        self.tokens = sorted(
            set(each_row(map(str.split, full_keys))).union(*(more for _, more in extra))
        )
        per_row = np.fromiter(map(len, map(str.split, full_keys)), np.int64, len(full_keys))
        rows = np.repeat(np.arange(len(full_keys), dtype=np.uint32), per_row)
        del per_row
        place = dict(zip(self.tokens, itertools.count()))
        in_names = each_row(map(str.split, full_keys))
        in_other_names = each_row(more for _, more in extra)
        count = len(rows) + sum(len(more) for _, more in extra)
        places = np.fromiter(
            map(place.__getitem__, itertools.chain(in_names, in_other_names)), np.int32, count
        )
        if extra:
            more_rows = each_row(itertools.repeat(row, len(more)) for row, more in extra)
            rows = np.concatenate([rows, np.fromiter(more_rows, np.uint32)])
        del place
        per_token = np.bincount(places, minlength=len(self.tokens))
        order = np.argsort(places)  # each token's rows together (read as a set)
        del places
        self.rows = array("I")
        self.rows.frombytes(rows[order].data.cast("B"))  # its buffer, not a copy
        del rows, order
        self.starts = array("I", [0])  # where each token's rows start, then the end
        self.starts.frombytes(np.cumsum(per_token).astype(np.uint32).data.cast("B"))

    def rows_starting_with(self, prefix: str) -> set[int]:
        tokens, starts = self.tokens, self.starts
        first = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff", first)
        return set(self.rows[starts[first] : starts[end]])
