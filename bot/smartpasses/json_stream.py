"""Decode a JSON array item by item as its text streams in (stdlib `raw_decode`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

_SKIP = " \t\r\n,"


def iter_json_array(
    chunks: Iterable[str], wrapper_keys: tuple[str, ...] = ("data",)
) -> Iterator[Any]:
    """Yield each element of a top-level JSON array.

    A top-level object wrapping the list under one of `wrapper_keys` is accepted too
    (read whole). Raises ValueError for anything else or for truncated input.
    """
    decoder = json.JSONDecoder()
    stream = iter(chunks)
    buffer, pos = "", 0
    for chunk in stream:
        buffer += chunk
        stripped = buffer.lstrip()
        if stripped:
            break
    else:
        raise ValueError("empty body")
    if stripped[0] != "[":
        whole = json.loads(buffer + "".join(stream))
        if isinstance(whole, dict):
            for key in wrapper_keys:
                if isinstance(whole.get(key), list):
                    yield from whole[key]
                    return
        raise ValueError("not a JSON array")
    buffer, pos = stripped, 1
    while True:
        while pos < len(buffer) and buffer[pos] in _SKIP:
            pos += 1
        if pos < len(buffer):
            if buffer[pos] == "]":
                return
            try:
                item, pos = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                pass  # the item is cut by the chunk boundary: read more
            else:
                yield item
                continue
        more = next(stream, None)
        if more is None:
            raise ValueError("truncated JSON array")
        buffer, pos = buffer[pos:] + more, 0
