import pytest

from handlers.parsing import split_reference, tokenize, without_unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1870 10 birthday gift", ("1870", "10", "birthday gift")),
        ("Juan Pérez -5", ("Juan Pérez", "-5", "")),
        ('"Ana García" =25 recount', ('"Ana García"', "=25", "recount")),
        ("+52 999 411 6533 10 x", ("+52 999 411 6533", "10", "x")),
        ("+52 999 411 6533 =4", ("+52 999 411 6533", "=4", "")),
        ("+529994116533 7", ("+529994116533", "7", "")),
        ("juan ten", ("juan", "ten", "")),
        ("juan", ("juan", None, "")),
        ("<@U1> 3 for 2 coffees", ("<@U1>", "3", "for 2 coffees")),
    ],
)
def test_split_reference(text, expected) -> None:
    assert split_reference(tokenize(text)) == expected


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        ("points", ""),
        ("Puntos cumpleaños", "cumpleaños"),
        ("pts. birthday gift", "birthday gift"),
        ("birthday points", "birthday points"),
        ("pointsy", "pointsy"),
        ("", ""),
    ],
)
def test_a_unit_typed_after_the_amount_is_not_the_reason(reason, kept) -> None:
    assert without_unit(reason) == kept


def test_tokenize_undoes_slack_escaping() -> None:
    assert tokenize("points <@U123ABC|juan perez> 5") == ["points", "<@U123ABC>", "5"]
    assert tokenize("customer <mailto:a@b.co|a@b.co>") == ["customer", "a@b.co"]
    assert tokenize("customers Tom &amp; Jerry &lt;3") == ["customers", "Tom", "&", "Jerry", "<3"]
    assert tokenize("customer “Ana García”") == ["customer", '"Ana García"']
    assert tokenize("customer O'Brien") == ["customer", "O'Brien"]
