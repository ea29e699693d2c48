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


class KeyHashes:
    """Keys' hashes and their rows, gathered a batch of the list at a time (only a
    batch's keys are ever strings at once), made into a `KeyIndex` once all are in."""

    def __init__(self) -> None:
        self.hashes = array("I")  # CRC-32: 32 bits
        self.rows = array("q")

    def add(self, keys: Sequence[str], rows: Iterable[int]) -> None:
        """Each key's row (empty keys are left out)."""
        present = list(map(operator.ne, keys, itertools.repeat("")))
        self.hashes.extend(map(zlib.crc32, map(str.encode, itertools.compress(keys, present))))
        self.rows.extend(itertools.compress(rows, present))

    def index(self, row_count: int) -> KeyIndex:
        return KeyIndex.packed(self, row_count)


class KeyIndex:
    """Rows by an exact key, compact: each key's 32-bit hash with its row in the low bits,
    all in one sorted array (8 bytes a key instead of a dict entry and a string). A few
    keys share a hash: callers check the row's own key. Empty keys are left out."""

    def __init__(self, keys: Sequence[str | int], rows: Iterable[int], row_count: int) -> None:
        gathered = KeyHashes()
        if keys and isinstance(keys[0], int):
            gathered.hashes.extend(map(key_hash, keys))
            gathered.rows.extend(rows)
        else:
            gathered.add(keys, rows)  # type: ignore[arg-type]
        self._pack(gathered, row_count)

    @classmethod
    def packed(cls, gathered: KeyHashes, row_count: int) -> KeyIndex:
        index = cls.__new__(cls)
        index._pack(gathered, row_count)
        return index

    def _pack(self, gathered: KeyHashes, row_count: int) -> None:
        import numpy as np  # here, not above: only a builder makes tables

        self.bits = bits = max(20, row_count.bit_length())
        packed = np.frombuffer(gathered.hashes, dtype=np.uint32).astype(np.int64) << bits
        packed |= np.frombuffer(gathered.rows, dtype=np.int64)
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


class TokenRows:
    """Every name token's rows, gathered a batch of the list at a time (each token kept
    once, numbered as it first comes), made into a `TokenTable` once all are in."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self.numbers = array("I")  # each entry's token's number
        self.rows = array("I")  # and its row

    def add(self, full_keys: list[str], other_keys: list[str], first_row: int = 0) -> None:
        """Row `first_row + i`'s name key (its tokens joined by spaces) in `full_keys[i]`;
        the key of another human name it has in `other_keys[i]`, or ""."""
        each_row = itertools.chain.from_iterable
        split = list(map(str.split, full_keys))
        extra = [  # another human name's tokens the full name lacks: rarely any
            (first_row + i, sorted(set(other_keys[i].split()) - set(split[i])))
            for i in itertools.compress(itertools.count(), other_keys)
        ]
        numbers = self._numbers
        for token in set(each_row(split)).union(*(more for _, more in extra)) - numbers.keys():
            numbers[token] = len(numbers)
        self.numbers.extend(map(numbers.__getitem__, each_row(split)))
        self.rows.extend(
            each_row(map(itertools.repeat, itertools.count(first_row), map(len, split)))
        )
        for row, more in extra:
            self.numbers.extend(map(numbers.__getitem__, more))
            self.rows.extend(itertools.repeat(row, len(more)))

    def table(self) -> TokenTable:
        table = TokenTable.__new__(TokenTable)
        table._take(self)
        return table


class TokenTable:
    """Rows by the start of any of their name tokens: each token once, sorted, and every
    token's rows in one column, in the tokens' order. The rows of all the tokens that
    start with a prefix are then one slice of that column."""

    def __init__(self, full_keys: list[str], other_keys: list[str]) -> None:
        """As `TokenRows.add`, all rows at once."""
        gathered = TokenRows()
        gathered.add(full_keys, other_keys)
        self._take(gathered)

    def _take(self, gathered: TokenRows) -> None:
        import numpy as np  # here, not above: only a builder makes tables

        numbers, gathered._numbers = gathered._numbers, {}
        self.tokens = sorted(numbers)
        place = np.empty(len(numbers), np.uint32)  # a token's number -> its sorted place
        place[np.fromiter(map(numbers.__getitem__, self.tokens), np.int64, len(numbers))] = (
            np.arange(len(numbers), dtype=np.uint32)
        )
        del numbers
        places = place[np.frombuffer(gathered.numbers, dtype=np.uint32)]
        per_token = np.bincount(places, minlength=len(self.tokens))
        order = np.argsort(places, kind="stable")  # each token's rows together (a set)
        del places
        self.rows = array("I")
        self.rows.frombytes(np.frombuffer(gathered.rows, dtype=np.uint32)[order].data.cast("B"))
        del order
        self.starts = array("I", [0])  # where each token's rows start, then the end
        self.starts.frombytes(np.cumsum(per_token).astype(np.uint32).data.cast("B"))

    def rows_starting_with(self, prefix: str) -> set[int]:
        tokens, starts = self.tokens, self.starts
        first = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff", first)
        return set(self.rows[starts[first] : starts[end]])
