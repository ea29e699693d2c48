"""A whole column of text made into keys at once gives what each text alone gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text_keys import (
    casefold_all,
    fold,
    fold_all,
    name_keys,
    name_tokens,
    phone_digits,
    phone_digits_all,
)

TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["Pérez", "ÅNGSTRÖM", "ß", "O'Brien", "ana_b", "\x00", "a\x00b", "٣٤٥", "ǅ"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, max_size=10))
def test_a_column_at_once_is_each_text_alone(texts: list[str]) -> None:
    assert fold_all(texts) == [fold(t) for t in texts]
    assert casefold_all(texts) == [t.casefold() for t in texts]
    assert name_keys(fold_all(texts)) == [" ".join(name_tokens(t)) for t in texts]
    assert phone_digits_all(texts) == [phone_digits(t) for t in texts]


def test_accents_and_case_fold_away() -> None:
    assert fold_all(["Pérez", "MARÍA", "Łukasz", "Zoë"]) == ["perez", "maria", "łukasz", "zoe"]
