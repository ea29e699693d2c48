"""The customers' packed text grown in a file in memory and mapped by the serving process
(bot.core.index.mapped_text): the same text, never left behind as a file."""

from __future__ import annotations

import gc
import pickle

import pytest

from bot.core.index import mapped_text
from bot.core.index.customer_list import CustomerList
from bot.core.index.mapped_text import MappedText, RowsFile

PARTS = [b"Ana\x1fD\xc3\xadaz", b"", b"Luis\x1fPerez" * 500, b"Zo\xc3\xab"]


def grown(tmp_path) -> RowsFile:
    rows = RowsFile(str(tmp_path / "list.rows"))
    for part in PARTS:
        rows.add(part)
    return rows


def test_the_text_grows_in_a_file_and_crosses_as_its_path(tmp_path) -> None:
    text = grown(tmp_path).done()
    assert isinstance(text, MappedText) and text[:] == b"".join(PARTS)
    (path,) = tmp_path.iterdir()
    sent = pickle.dumps(text)
    assert len(sent) < 200  # the path, not the text
    received = pickle.loads(sent)  # as the serving process takes it
    assert isinstance(received, MappedText) and received[:] == b"".join(PARTS)
    assert received[3:9].decode() == "\x1fDíaz"
    assert not path.exists()  # mapped: the pages stay while the mapping does
    del text
    gc.collect()
    assert list(tmp_path.iterdir()) == []
    assert pickle.loads(pickle.dumps(received)) == b"".join(PARTS)  # no file now: its bytes


def test_a_text_never_sent_takes_its_file_with_it(tmp_path) -> None:
    text = grown(tmp_path).done()
    assert len(list(tmp_path.iterdir())) == 1
    del text
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_a_full_file_system_keeps_the_text_in_memory(tmp_path, monkeypatch) -> None:
    rows = RowsFile(str(tmp_path / "list.rows"))
    rows.add(PARTS[0])

    class Full:
        def __init__(self, file):
            self.file = file

        def write(self, data):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr(rows, "_file", Full(rows._file))
    for part in PARTS[1:]:
        rows.add(part)
    text = rows.done()
    assert isinstance(text, bytearray) and text == b"".join(PARTS)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_build_leaves_no_file(tmp_path) -> None:
    rows = grown(tmp_path)
    rows.discard()
    assert list(tmp_path.iterdir()) == []


def test_an_empty_text_is_no_file(tmp_path) -> None:
    assert RowsFile(str(tmp_path / "list.rows")).done() == b""
    assert list(tmp_path.iterdir()) == []


def test_a_list_reads_the_same_from_a_mapped_text(tmp_path) -> None:
    body = (
        b'[{"id": 1, "firstName": "Ana", "lastName": "D\xc3\xadaz", "points": 5},'
        b' {"id": 2, "firstName": "Luis", "email": "luis@example.com"}]'
    )
    rows = RowsFile(str(tmp_path / "list.rows"))
    mapped = CustomerList.gathered(CustomerList.batches(body, text_columns=True), rows)
    assert isinstance(mapped._rows, MappedText)
    received = pickle.loads(pickle.dumps(mapped))
    assert received == CustomerList.from_json(body)
    assert received.take([1, 0])[1].last_name == "Díaz"
    assert list(tmp_path.iterdir()) == []


def test_the_mapped_pages_are_read_in_at_once(tmp_path, monkeypatch) -> None:
    """So the serving process holds (and bench_memory counts) them from the start."""
    steps: list[int] = []
    original = MappedText.__getitem__

    def reading(self, index):
        if isinstance(index, slice):
            steps.append(index.step or 1)
        return original(self, index)

    monkeypatch.setattr(MappedText, "__getitem__", reading)
    pickle.loads(pickle.dumps(grown(tmp_path).done()))
    assert mapped_text.mmap.PAGESIZE in steps


@pytest.fixture(autouse=True)
def _collected():
    yield
    gc.collect()
