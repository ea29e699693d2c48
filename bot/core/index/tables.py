"""The snapshot's compact lookup tables: rows by an exact key (`KeyIndex`) and rows by
the start of a name token (`TokenTable`).

Built from whole columns in the builder process, into plain arrays that cross to the
serving process as they are. Without numpy: its import alone is more than a builder's
tables at 100,000 customers, held at every peak of a rebuild (bench_memory)."""

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
        """The index, this made empty (its columns' memory goes as the next is built)."""
        index = KeyIndex.packed(self, row_count)
        self.hashes, self.rows = array("I"), array("q")
        return index


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
        self.bits = bits = max(20, row_count.bit_length())
        shifted = map(operator.lshift, gathered.hashes, itertools.repeat(bits))
        self.entries = _sorted_in_parts(
            array("q", map(operator.or_, shifted, gathered.rows)), 32 + bits
        )

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
        """The table, this made empty."""
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
        numbers, gathered._numbers = gathered._numbers, {}
        self.tokens = sorted(numbers)
        place = array("I", bytes(4 * len(numbers)))  # a token's number -> its sorted place
        for at, token in enumerate(self.tokens):
            place[numbers[token]] = at
        del numbers
        # Each entry as its token's place over its row, sorted: each token's rows together.
        places = map(place.__getitem__, gathered.numbers)
        shifted = map(operator.lshift, places, itertools.repeat(32))
        entries = array("q", map(operator.or_, shifted, gathered.rows))
        gathered.numbers, gathered.rows = array("I"), array("I")  # in `entries` now
        entries = _sorted_in_parts(entries, 32 + len(self.tokens).bit_length())
        self.rows = array("I", map(operator.and_, entries, itertools.repeat(0xFFFFFFFF)))
        # Where each token's rows start (its first entry), then the end.
        self.starts = array(
            "I", (bisect.bisect_left(entries, at << 32) for at in range(len(self.tokens) + 1))
        )

    def rows_starting_with(self, prefix: str) -> set[int]:
        tokens, starts = self.tokens, self.starts
        first = bisect.bisect_left(tokens, prefix)
        end = bisect.bisect_left(tokens, prefix + "\U0010ffff", first)
        return set(self.rows[starts[first] : starts[end]])


_PARTS = 4  # a column sorted a quarter at a time, each the values of two top bits


def _sorted_in_parts(column: array[int], width: int) -> array[int]:
    """`column` (non-negative values below 2**`width`, which it gives up: emptied),
    ascending. Sorted a part at a time, each part the values of some top bits, picked in
    C: a sort holds its values as Python objects, several times the column's own size,
    and the tables are built when the builder holds the most (bench_memory)."""
    shift = max(0, width - (_PARTS - 1).bit_length())
    tops = array("B", map(operator.rshift, column, itertools.repeat(shift)))
    done = array("q")
    for top in range(_PARTS):
        picked = itertools.compress(column, map(operator.eq, tops, itertools.repeat(top)))
        done.extend(sorted(picked))
    del column[:]
    return done
