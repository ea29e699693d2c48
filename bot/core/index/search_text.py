"""What a search by any part looks in: every row's names and email, and its phone digits,
each kind in one byte string searched in C."""

from __future__ import annotations

import itertools
import operator
import re
import sys
from array import array
from collections.abc import Iterable, Sequence

MIN_PHONE_DIGITS = 4  # fewer digits than this never match inside a phone
_AT_A_TIME = 5000  # texts made into a blob at a time


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

    def __init__(self, parts: Iterable[str], count: int | None = None) -> None:
        """`count`: how many `parts` (else `len(parts)`). Made a part at a time: the
        texts need not all be strings at once (`SearchText`)."""
        count = len(parts) if count is None else count  # type: ignore[arg-type]
        self.width = width = 6 if count < self.EIGHT_DIGITS_FROM else 8
        parts = iter(parts)
        self.blob = bytearray()  # never changed once made
        for first in range(0, count, _AT_A_TIME):
            chunk = list(itertools.islice(parts, _AT_A_TIME))
            if not all(map(str.isprintable, chunk)):  # rare: a control character is a space
                chunk = [_CONTROL.sub(" ", part) for part in chunk]
            numbers = tuple(range(first, first + len(chunk)))
            codes = (f"%0{width}x" * len(chunk) % numbers).translate(_TO_ROW_CODE)
            ends = itertools.count(width, width)
            each = map(codes.__getitem__, map(slice, range(0, len(codes), width), ends))
            rows = zip(chunk, itertools.repeat("\x00"), each)
            self.blob += "".join(itertools.chain.from_iterable(rows)).encode()

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

    def __init__(self, parts: Iterable[str]) -> None:
        starts = array("I", [0])
        self.blob = bytearray()  # never changed once made
        parts = iter(parts)
        while chunk := list(itertools.islice(parts, _AT_A_TIME)):
            # UTF-8 lengths one text at a time, then one encode: no list of encoded texts.
            sizes = map(operator.add, map(len, map(str.encode, chunk)), itertools.repeat(1))
            starts.extend(itertools.accumulate(sizes, initial=starts[-1]))
            del starts[-len(chunk) - 1]  # the chunk's start, there already
            self.blob += "\x00".join(chunk).encode() + b"\x00"
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

    def __init__(self, texts: list[str] | _NumberedBlob, phones: Iterable[str]) -> None:
        """Row i's names and email in `texts[i]` (or made already: `texts`), its phone
        digits the i-th of `phones` (read a part at a time)."""
        self.text = texts if isinstance(texts, _NumberedBlob) else _NumberedBlob(texts)
        self.phone = _OffsetBlob(phones)

    @staticmethod
    def texts(texts: Iterable[str], count: int) -> _NumberedBlob:
        """The names and emails of `count` rows, made a part at a time (the rows' strings
        need not be held while the phones are)."""
        return _NumberedBlob(texts, count)

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
