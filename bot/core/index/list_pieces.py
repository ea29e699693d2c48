"""The customer list's JSON, split into pieces of whole records as it is read.

The index builder reads the list from a file a part at a time and gives each part's
memory back as it goes (bot.core.index.builder), so the list is never held whole beside
what is parsed from it (bench_memory's rebuild peak). A piece ends where a record's `}` is
followed by a `,`. Such a place inside a string or a nested object is not an end, and
the piece cut there is not JSON: its decoding fails, and the piece grows to the next
place. So a piece is only ever taken once it decodes, and the list read this way is the
list read whole (tests/unit/test_list_pieces.py checks it on lists made to mislead).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import msgspec

from bot.core.index.customer_list import raw_records

T = TypeVar("T")

PIECE_BYTES = 1 << 20  # about this much of the list decoded at a time
_HEAD = re.compile(rb'\s*(\[|\{\s*"data"\s*:\s*\[)')  # the list's opening, as documented
_RECORD_END = re.compile(rb"\}\s*,")
_TOO_LONG = 16 * PIECE_BYTES  # no end found that decodes in this much: read it whole
_OPENING_BYTES = 256  # the opening is in this much of the list, if it is as documented


def pieces(chunks: Iterable[bytes], decode: Callable[[bytes], T]) -> Iterator[T]:
    """`decode` of each piece of the list whose bytes are `chunks`: a JSON array of
    whole records (`decode` raises msgspec.DecodeError if the piece is not JSON). A list
    that does not open as the API documents it is read whole, then split. ValueError if
    the list is not JSON."""
    chunks = iter(chunks)
    buffer = bytearray()
    head = None
    for chunk in chunks:
        buffer += chunk
        head = _HEAD.match(buffer)
        if head is not None or len(buffer) >= _OPENING_BYTES:
            break
    if head is None:  # not as documented (or empty): read whole
        buffer += b"".join(chunks)
        yield from _whole(bytes(buffer), decode)
        return
    opening = bytes(buffer[: head.end()])
    start = look_from = head.end()  # the next piece's start; where its end may be
    for chunk in itertools.chain([b""], chunks):  # the first chunk's pieces, then the next
        del buffer[:start]
        look_from -= start
        start = 0
        buffer += chunk
        while len(buffer) - start >= PIECE_BYTES:
            end = _RECORD_END.search(buffer, max(look_from, start + PIECE_BYTES // 2))
            if end is None:
                break
            try:
                piece = decode(b"[%s]" % buffer[start : end.start() + 1])
            except msgspec.DecodeError:  # not a record's end: the next place may be
                look_from = end.end()
                continue
            yield piece
            start = look_from = end.end()
        if len(buffer) - start > _TOO_LONG:  # no end decodes: read the rest whole
            buffer[:start] = opening
            buffer += b"".join(chunks)
            yield from _whole(bytes(buffer), decode)
            return
    buffer[:start] = opening
    yield from _whole(bytes(buffer), decode)


def _whole(body: bytes, decode: Callable[[bytes], T]) -> Iterator[T]:
    """The list (or its rest, after its opening) split at its records."""
    try:
        records = raw_records(body)
    except msgspec.DecodeError:
        raise ValueError("not JSON") from None
    del body
    while records:
        size, count = 0, 0
        while count < len(records) and size < PIECE_BYTES:
            size += len(records[count])
            count += 1
        piece = b"[%s]" % b",".join(records[:count])
        del records[:count]
        yield decode(piece)
