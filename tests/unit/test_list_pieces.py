"""The customer list read a part at a time (bot.core.index.list_pieces): whatever the
records hold and wherever the parts are cut, the list read this way is the list read
whole, and only a piece of it is decoded at a time."""

from __future__ import annotations

import itertools
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.index import list_pieces
from bot.core.index.customer_list import CustomerList
from bot.core.index.snapshot import Snapshot

# Record ends inside strings and nested objects: each is a place a piece may not end.
MISLEADING = st.sampled_from(["},{", "}, {", '"},', "}]", "]}", "\\", '"', "{", "}", ",", "é", ""])
TEXT = st.lists(st.one_of(MISLEADING, st.text(max_size=4)), max_size=4).map("".join)


@st.composite
def records(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 25))
    made = []
    for i in range(count):
        record: dict[str, Any] = {"id": 1000 + i, "points": draw(st.integers(0, 500))}
        record["firstName"] = draw(TEXT)
        record["lastName"] = draw(TEXT)
        record["email"] = draw(st.one_of(st.none(), TEXT))
        if draw(st.booleans()):  # a field the bot ignores, nested: its own `},`
            record["meta"] = {"tags": [{"x": draw(TEXT)}, {"y": 1}], "note": draw(TEXT)}
        made.append(record)
    return made


def chunked(body: bytes, sizes: list[int]) -> list[bytes]:
    """`body` cut at these sizes in turn (the last repeated)."""
    chunks, at = [], 0
    for size in itertools.chain(sizes, itertools.repeat(sizes[-1])):
        if at >= len(body):
            return chunks
        chunks.append(body[at : at + size])
        at += size
    return chunks


SPACING = {"compact": {"separators": (",", ":")}, "spaced": {}, "indented": {"indent": 2}}


def spelled(rows: list[dict[str, Any]], wrapped: bool, spacing: str = "compact") -> bytes:
    data: Any = {"data": rows} if wrapped else rows
    return json.dumps(data, ensure_ascii=False, **SPACING[spacing]).encode()


@settings(max_examples=100, deadline=None)
@given(
    records(),
    st.booleans(),
    st.sampled_from(sorted(SPACING)),
    st.lists(st.integers(1, 97), min_size=1, max_size=5),
    st.integers(16, 300),
)
def test_a_list_read_in_parts_is_the_list_read_whole(
    rows: list[dict[str, Any]], wrapped: bool, spacing: str, sizes: list[int], piece: int
) -> None:
    body = spelled(rows, wrapped, spacing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(list_pieces, "PIECE_BYTES", piece)  # many pieces from a short list
        patch.setattr(list_pieces, "_TOO_LONG", 64 * piece)
        read = list(CustomerList.streamed(chunked(body, sizes)))
    whole = CustomerList.from_json(body)
    assert CustomerList.joined(read) == whole
    assert [c.email for c in CustomerList.joined(read)] == [r.get("email") or "" for r in rows]


def test_each_piece_is_decoded_as_it_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a piece is decoded at a time: the first piece is parsed before the last
    chunk is even read."""
    monkeypatch.setattr(list_pieces, "PIECE_BYTES", 200)
    rows = [{"id": i, "firstName": f"Ana {i}", "points": i} for i in range(1, 301)]
    body = spelled(rows, wrapped=True)
    read: list[int] = []

    def chunks():
        for chunk in chunked(body, [100]):
            read.append(len(chunk))
            yield chunk

    pieces = CustomerList.streamed(chunks())
    first = next(pieces)
    assert 0 < len(first) < 300 and sum(read) < len(body) // 2
    rest = list(pieces)
    assert sum(map(len, [first, *rest])) == 300 and len(rest) > 5


def test_a_piece_not_as_documented_is_read_through_the_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Numbers as strings and snake_case names in one piece: that piece is read as the
    `Customer` model reads them, the rest as documented."""
    monkeypatch.setattr(list_pieces, "PIECE_BYTES", 120)
    rows: list[dict[str, Any]] = [
        {"id": i, "firstName": f"Ana {i}", "points": i} for i in range(1, 40)
    ]
    rows[20] = {"id": "21", "first_name": "Luz", "last_name": "Díaz", "points": "7"}
    body = spelled(rows, wrapped=False)
    read = CustomerList.joined(list(CustomerList.streamed(chunked(body, [50]))))
    assert read == CustomerList.from_json(body)
    assert (read[20].id, read[20].full_name, read[20].points) == (21, "Luz Díaz", 7)


@pytest.mark.parametrize(
    "body",
    [b"", b"[", b'[{"id": 1},', b'{"data": [{"id": 1}, {"id": 2]}', b"not json", b"{}"],
)
def test_a_list_that_is_not_json_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        Snapshot.from_chunks(chunked(body, [3]) if body else [])


def test_a_record_that_is_not_a_customer_is_a_value_error(monkeypatch) -> None:
    monkeypatch.setattr(list_pieces, "PIECE_BYTES", 64)
    body = msgspec.json.encode([{"id": i, "points": 1} for i in range(20)] + [{"id": "x"}])
    with pytest.raises(ValueError):
        Snapshot.from_chunks(chunked(body, [40]))


def test_an_unusual_opening_is_read_whole() -> None:
    """A wrapper with another field before `data`: read whole, the same customers."""
    body = b'{"total": 2, "data": [{"id": 1, "firstName": "Ana"}, {"id": 2}]}'
    read = CustomerList.joined(list(CustomerList.streamed(chunked(body, [5]))))
    assert [c.id for c in read] == [1, 2] and read[0].first_name == "Ana"


def test_an_empty_list_is_empty() -> None:
    for body in (b"[]", b' { "data" : [ ] } '):
        assert len(Snapshot.from_chunks([body]).customers) == 0
