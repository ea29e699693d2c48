"""What a search by any part looks in: every row's names and email, and its phone digits,
each kind in one byte string searched in C."""

from __future__ import annotations

import itertools
import operator
import re
import sys
from array import array
from collections.abc import Sequence

MIN_PHONE_DIGITS = 4  # fewer digits than this never match inside a phone


# A row's number after its text, one hex digit a byte in 0x01-0x10: bytes no word typed
# holds (UTF-8 uses them only for control characters, which a blob never keeps).
_ROW_CODE = "".join(map(chr, range(1, 17)))
_TO_ROW_CODE = str.maketrans("0123456789abcdef", _ROW_CODE)
_FROM_ROW_CODE = bytes.maketrans(_ROW_CODE.encode(), b"0123456789abcdef")
_CONTROL = re.compile("[\x00-\x1f]")


class _NumberedBlob:
    """Texts in one UTF-8 byte string, each ended by a NUL and its row's number (in bytes
    no search holds), found with a compiled pattern: one pass in C gives the rows that
    hold a word, in order, with no Python step per hit (a short word is in thousands of
    names and emails)."""

    EIGHT_DIGITS_FROM = 1 << 24  # rows: from here a row's number takes 8 hex digits, not 6

    def __init__(self, parts: list[str]) -> None:
        count = len(parts)
        self.width = width = 6 if count < self.EIGHT_DIGITS_FROM else 8
        if not all(map(str.isprintable, parts)):  # rare: a control character is a space
            parts = [_CONTROL.sub(" ", part) for part in parts]
        codes = (f"%0{width}x" * count % tuple(range(count))).translate(_TO_ROW_CODE)
        ends = itertools.count(width, width)
        each = map(codes.__getitem__, map(slice, range(0, count * width, width), ends))
        rows = zip(parts, itertools.repeat("\x00"), each)
        self.blob = "".join(itertools.chain.from_iterable(rows)).encode()

    def containing(self, word: str) -> array[int]:
        """The rows whose text contains `word`, ascending (after a hit, the search goes on
        from the next text: a name and an email that both hold it are one hit)."""
        width, needle = self.width, _CONTROL.sub(" ", word).encode()  # as the texts hold it
        found = re.compile(
            re.escape(needle) + b"[^\x00]*\x00(" + b"[\x01-\x10]" * width + b")"
        ).findall(self.blob)
        rows = array("I")
        if found:
            pad = b"00" * (4 - width // 2)  # each number as 4 bytes
            digits = (pad + pad.join(found)).translate(_FROM_ROW_CODE)
            rows.frombytes(bytes.fromhex(digits.decode()))
            if sys.byteorder == "little":
                rows.byteswap()
        return rows


class _OffsetBlob:
    """Texts in one UTF-8 byte string, each ended by a NUL, searched with `bytes.find`. A
    hit's offset finds its text through a table of the text at every 64th byte, then a
    step or two. For short texts of few kinds of bytes (phone digits), where a row number
    after each would add half again to the scan and `find` outruns a pattern."""

    BLOCK = 6  # 64 bytes

    def __init__(self, parts: list[str]) -> None:
        # UTF-8 lengths one text at a time, then one encode: no list of encoded texts.
        sizes = map(operator.add, map(len, map(str.encode, parts)), itertools.repeat(1))
        starts = array("I", [0])
        starts.extend(itertools.accumulate(sizes))
        self.blob = "\x00".join(itertools.chain(parts, [""])).encode()
        self.starts = starts  # and the end, after the last text
        blocks = array("I")
        row = 0
        for offset in range(0, len(self.blob), 1 << self.BLOCK):
            while starts[row + 1] <= offset:
                row += 1
            blocks.append(row)
        self.blocks = blocks

    def containing(self, word: str) -> list[int]:
        """The rows whose text contains `word`, ascending."""
        starts, blocks, shift = self.starts, self.blocks, self.BLOCK
        find, needle = self.blob.find, word.encode()
        found: list[int] = []
        at = find(needle)
        while at >= 0:
            row = blocks[at >> shift]
            while starts[row + 1] <= at:
                row += 1
            found.append(row)
            at = find(needle, starts[row + 1])
        return found


class SearchText:
    """Every row's haystack: names and email in one blob, phone digits in another. A
    substring of a word is a substring of its UTF-8 bytes. Immutable: one per snapshot."""

    def __init__(self, texts: list[str], phones: list[str]) -> None:
        """Row i's names and email in `texts[i]`, its phone digits in `phones[i]`."""
        self.text, self.phone = _NumberedBlob(texts), _OffsetBlob(phones)

    def find(self, words: list[str]) -> Sequence[int]:
        """The rows every word is in (as `_matches` decides), in order."""
        result: Sequence[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # the longest is the rarest
            hits: Sequence[int] = self.text.containing(word)
            if len(word) >= MIN_PHONE_DIGITS and word.isdigit():
                hits = sorted(set(hits).union(self.phone.containing(word)))
            result = hits if result is None else sorted(set(result).intersection(hits))
            if not result:
                return []
        return result or []
