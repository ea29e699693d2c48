import json

import pytest

from bot.smartpasses.json_stream import iter_json_array


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 7, 64, 10_000])
def test_items_cut_anywhere_by_chunks(size: int) -> None:
    items = [
        {"id": i, "name": f"Ñandú {i}", "nested": {"a": [1, 2, {"b": "]"}]}} for i in range(50)
    ]
    text = " \n" + json.dumps(items, indent=1)
    assert list(iter_json_array(_chunks(text, size))) == items


def test_empty_and_wrapped_lists() -> None:
    assert list(iter_json_array(["[", " ]"])) == []
    assert list(iter_json_array(['{"data": [1, ', "2]}"])) == [1, 2]


@pytest.mark.parametrize("text", ["", '{"id": 1}', '[{"id": 1}, {"id"', "[1, 2"])
def test_not_an_array_or_truncated(text: str) -> None:
    with pytest.raises(ValueError):
        list(iter_json_array(_chunks(text, 3)))
