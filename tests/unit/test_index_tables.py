"""The lookup index's tables (bot.core.index.tables), against the plain reading of their
columns: a key finds every row that has it, and a prefix exactly the rows with a name
token that starts with it; the same after the trip from the builder's child (pickled)."""

from __future__ import annotations

import pickle

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.index.tables import KeyHashes, KeyIndex, TokenRows, TokenTable, key_hash

# Few letters: keys and tokens repeat, and share their starts.
WORD = st.text("abñé", min_size=1, max_size=3)
NAME_KEY = st.lists(WORD, max_size=3).map(" ".join)  # a name key: tokens joined by a space


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.just(""), WORD), max_size=30), WORD)
def test_a_key_finds_every_row_that_has_it(keys: list[str], wanted: str) -> None:
    index = pickle.loads(pickle.dumps(KeyIndex(keys, range(len(keys)), len(keys))))
    found = index.rows_for(wanted)
    assert sorted(found) == found  # rows of one hash in order
    assert {r for r, k in enumerate(keys) if k == wanted} <= set(found)
    # Any other row found only shares the key's hash (callers check the row's own key).
    assert all(key_hash(keys[r]) == key_hash(wanted) for r in found)
    assert index.rows_for("") == [] or "" not in keys


def test_keys_with_the_same_hash_find_each_other_and_no_other_row() -> None:
    # "plumless" and "buckeroo" have the same CRC-32.
    assert key_hash("plumless") == key_hash("buckeroo")
    keys = ["plumless", "ana", "", "buckeroo", "plumless"]
    index = KeyIndex(keys, [10, 11, 12, 13, 14], 20)
    assert index.rows_for("plumless") == [10, 13, 14]
    assert index.rows_for("ana") == [11]
    assert index.rows_for("nobody") == []


def test_integer_keys_and_row_numbers_past_the_hash_bits() -> None:
    ids = [5_000_000_000_000_000 + i * 7 for i in range(50)]
    rows = [(1 << 21) + i for i in range(50)]  # more bits for rows than the least
    index = KeyIndex(ids, rows, 1 << 22)
    assert index.bits == 23
    for customer_id, row in zip(ids, rows, strict=True):
        assert row in index.rows_for(customer_id)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(NAME_KEY, st.one_of(st.just(""), NAME_KEY)), max_size=25),
    st.text("abñé", max_size=2),
)
def test_a_prefix_finds_exactly_the_rows_with_a_token_that_starts_with_it(
    names: list[tuple[str, str]], prefix: str
) -> None:
    full, other = [f for f, _ in names], [o for _, o in names]
    table = pickle.loads(pickle.dumps(TokenTable(full, other)))
    expected = {
        row
        for row, (f, o) in enumerate(names)
        if any(token.startswith(prefix) for token in f.split() + o.split())
    }
    assert table.rows_starting_with(prefix) == expected


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(NAME_KEY, st.one_of(st.just(""), NAME_KEY)), max_size=25),
    st.integers(1, 6),
)
def test_tables_gathered_a_batch_at_a_time_are_the_tables_made_whole(
    names: list[tuple[str, str]], batch: int
) -> None:
    """What the builder makes as it parses the list in batches (bot.core.index.snapshot):
    the same entries, the same tokens and the same rows for each token."""
    full, other = [f for f, _ in names], [o for _, o in names]
    keys, tokens = KeyHashes(), TokenRows()
    for first in range(0, len(names), batch):
        keys.add(full[first : first + batch], range(first, first + batch))
        tokens.add(full[first : first + batch], other[first : first + batch], first)
    whole = TokenTable(full, other)
    gathered = tokens.table()
    assert gathered.tokens == whole.tokens and gathered.starts == whole.starts
    for token in range(len(whole.tokens)):
        span = slice(whole.starts[token], whole.starts[token + 1])
        assert sorted(gathered.rows[span]) == sorted(whole.rows[span])
    assert keys.index(len(names)).entries == KeyIndex(full, range(len(names)), len(names)).entries
