import pytest

from bot.domain.amounts import Op
from bot.slack.ids import RerunText
from handlers.parsing import (
    amount_first,
    balance_question,
    customers_counted,
    help_asked,
    joined_sign,
    plain_words,
    split_reference,
    tokenize,
    verb_first,
    without_pronoun,
    without_unit,
)


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
        # a word before a customer as one says it: left out before what names one alone
        ("para 1870 2", ("1870", "2", "")),
        ("to <@U1> 3 thanks", ("<@U1>", "3", "thanks")),
        ("a ana@example.com 5", ("ana@example.com", "5", "")),
        ("a +52 999 411 6533 5", ("+52 999 411 6533", "5", "")),
        ("del rio 5", ("del rio", "5", "")),  # a name: the lookup decides (a surname?)
        ("a 5", ("a", "5", "")),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("juan = 100", ("juan", "=100", "")),
        ("1870 - 5 broke a cup", ("1870", "-5", "broke a cup")),
        ("Juan Pérez + 3", ("Juan Pérez", "+3", "")),
        ("+52 999 411 6533 − 2", ("+52 999 411 6533", "-2", "")),
        ("juan quitar 5 puntos", ("juan", "-5", "puntos")),
        ("juan Fijar 20", ("juan", "=20", "")),
        ("juan set 1.000", ("juan", "=1.000", "")),
        ("ana agregar 2 regalo", ("ana", "+2", "regalo")),
        ("Artur Mas 10", ("Artur Mas", "10", "")),  # a surname, not a sign
        ("juan quitar", ("juan", "quitar", "")),  # no number after it: left as typed
        ("= 5", ("=", "5", "")),  # no customer before it
    ],
)
def test_a_sign_typed_apart_or_as_a_verb_joins_its_number(text, expected) -> None:
    assert split_reference(joined_sign(tokenize(text))) == expected


@pytest.mark.parametrize(
    ("verb", "text", "expected"),
    [
        ("quitar", "juan 5", (["juan", "-5"], None)),
        (
            "Restar",
            "Juan Pérez 5 taza rota 2",
            (["Juan", "Pérez", "-5", "taza", "rota", "2"], None),
        ),
        ("remove", "1870 10pts", (["1870", "-10", "pts"], None)),
        ("fijar", "55 5000 1111 30", (["55 5000 1111", "=30"], None)),
        ("set", "ana 1.000", (["ana", "=1.000"], None)),  # asked later, with its sign
        ("descontar", "juan -5", (["juan", "-5"], None)),  # its own sign stands
        ("quitar", "juan", (["juan"], Op.DEDUCT)),  # the form opens on deducting
        ("poner", "juan perez", (["juan", "perez"], Op.SET)),
        ("dar", "juan 5", (["juan", "5"], None)),  # adding: nothing to sign
        ("points", "juan", (["juan"], None)),
        ("quita", "5 a ana", (["ana", "-5"], None)),  # the amount said first: still deducts
        ("add", "10 points to juan perez", (["juan", "perez", "+10", "points"], None)),
        ("resta", "2 al 1870", (["1870", "-2"], None)),
        ("remove", "5 from ana", (["ana", "-5"], None)),
        ("take", "5 points from ana", (["ana", "-5", "points"], None)),
        ("set", "ana to 50", (["ana", "=50"], None)),  # the balance it is set to
        ("fija", "a ana en 30", (["a", "ana", "=30"], None)),  # `a`: the lookup leaves it out
        ("suma", "ana a 30", (["ana", "a", "+30"], None)),  # only a balance is set "to"
    ],
)
def test_a_sign_verb_typed_first_signs_the_amount(verb, text, expected) -> None:
    assert verb_first(verb, tokenize(text), "MX") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 to juan perez", ["juan", "perez", "10"]),
        ("5 points to ana", ["ana", "5", "points"]),  # the unit stays with its amount
        ("7 para luis", ["luis", "7"]),
        ("1870 10", ["1870", "10"]),  # no word for "to": an id and an amount
        ("to ana 2", ["to", "ana", "2"]),  # the preposition before the customer: as it was
        ("10 to", ["10", "to"]),  # nobody after it
        # a reason after the customer, from a word for "because": after the amount
        ("10 a juan perez por su compra", ["juan", "perez", "10", "por", "su", "compra"]),
        ("5 points to ana for her birthday", ["ana", "5", "points", "for", "her", "birthday"]),
        ("5 for ana", ["ana", "5"]),  # "for" as "to": whom, not why
    ],
)
def test_an_amount_said_before_whom_it_is_for_goes_after_them(text, expected) -> None:
    assert amount_first(tokenize(text)) == expected


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("súmale", "suma"),
        ("quítale", "quita"),
        ("dale", "da"),
        ("ponle", "pon"),
        ("añádele", "añade"),  # the ñ stays
        ("búscame", "busca"),
        ("ayúdame", "ayuda"),
        ("sale", "sale"),  # a subcommand as it is
        ("table", "table"),  # no subcommand in it: as typed
    ],
)
def test_a_verb_with_a_pronoun_joined_is_the_verb(typed: str, meant: str) -> None:
    known = {"suma", "quita", "da", "pon", "añade", "busca", "ayuda", "sale"}
    assert without_pronoun(typed, known.__contains__) == meant


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("cuantos puntos tiene juan perez", ["juan", "perez"]),
        ("¿Cuántos puntos tiene Ana?", ["Ana"]),
        ("how many points does <@U1> have?", ["<@U1>"]),
        ("how many points has 1870", ["1870"]),
        ("puntos juan 5", None),
        ("cuantos puntos", None),  # nobody asked about
        ("¿quién es 999 411 6533?", ["999", "411", "6533"]),  # who someone is: the card
        ("who is 1870", ["1870"]),
        ("who's ana", ["ana"]),
        ("dame los puntos de ana", ["ana"]),
        ("¿Cuál es el saldo de Luis?", ["Luis"]),
        ("what is the balance of juan perez", ["juan", "perez"]),
        ("dame 10 puntos a ana", None),  # points given, not asked about
        ("revisar puntos de ana", ["ana"]),
        ("checa el saldo de Luis", ["Luis"]),
    ],
)
def test_a_balance_asked_as_a_question_names_its_customer(text: str, who) -> None:
    assert balance_question(tokenize(text)) == who


@pytest.mark.parametrize(
    ("text", "counted"),
    [
        ("¿cuántos clientes tengo?", True),
        ("cuantos clientes hay", True),
        ("¿Cuántos clientes tiene la tienda?", True),
        ("how many customers do we have?", True),
        ("how many customers", True),
        ("cuántos clientes nuevos hoy", False),  # asks more than the total
        ("clientes", False),
    ],
)
def test_how_many_customers_is_the_lists_total(text: str, counted: bool) -> None:
    assert customers_counted(tokenize(text)) is counted


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("what can you do?", True),
        ("¿Qué puedes hacer?", True),
        ("como funciona", True),
        ("how does this work?", True),
        ("comandos", True),
        ("?", True),
        ("what juan", False),
        ("commands juan", False),
    ],
)
def test_what_the_bot_does_asked_in_words_is_the_help(text: str, asked: bool) -> None:
    assert help_asked(tokenize(text)) is asked


def test_tokenize_undoes_slack_escaping() -> None:
    assert tokenize("points <@U123ABC|juan perez> 5") == ["points", "<@U123ABC>", "5"]
    assert tokenize("customer <mailto:a@b.co|a@b.co>") == ["customer", "a@b.co"]
    assert tokenize("customers Tom &amp; Jerry &lt;3") == ["customers", "Tom", "&", "Jerry", "<3"]
    assert tokenize("customer “Ana García”") == ["customer", '"Ana García"']
    assert tokenize("customer O'Brien") == ["customer", "O'Brien"]


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        ("juan perez", True),
        ("Ana", True),
        ("1870", False),
        ("#1870", False),
        ('"Ana García"', False),
        ("<@U1>", False),
        ("+52 999 411 6533", False),
        ("ana@example.com", False),
    ],
)
def test_plain_words_are_a_name_not_an_exact_reference(reference, words) -> None:
    assert plain_words(reference) is words


@pytest.mark.parametrize(
    ("line", "meant"),
    [
        ("55 5000 1111", "cliente"),  # a national number alone, read in the shop's region
        ("55 5000 1111 10", "puntos"),  # with an amount after it
        ("1870 10", "puntos"),
        ("1870", "cliente"),
        ("10 puntos a juan perez", "puntos"),  # the amount said first
        ("+5 a ana", "puntos"),
        ("5 pts to ana", "puntos"),
        ("187", None),  # too short for an id anyone types
        ("juan perez", None),
    ],
)
def test_a_line_without_its_subcommand_is_offered_the_one_it_left_out(line, meant) -> None:
    from bot.i18n import speaking
    from handlers.command_help import unknown_command

    first, *rest = tokenize(line)
    with speaking("es"):
        shown = unknown_command(first, rest, "MX").text
    if meant is None:
        assert "Quisiste decir" not in shown
    else:
        assert f"¿Quisiste decir `/loyalty {meant}` con lo que escribiste después?" in shown


@pytest.mark.parametrize(
    ("typed", "language", "answer"),
    [
        ("hola", "es", "👋 ¡Hola! `/loyalty ayuda` muestra lo que puedo hacer."),
        ("Hi", "en", "👋 Hello! `/loyalty help` lists what I can do."),
        ("gracias", "es", "¡De nada! 🙂"),
        ("thanks", "en", "You're welcome! 🙂"),
    ],
)
def test_a_greeting_or_thanks_is_answered_in_kind(typed, language, answer) -> None:
    """What a person new to the bot types first is not "I don't know hola"."""
    from bot.i18n import speaking
    from handlers.command_help import unknown_command

    with speaking(language):
        assert unknown_command(typed, [], "MX").text == answer


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("pnts", "points"), ("ayda", "help"), ("puntoss", "points"), ("nada", None), ("xyz", None)],
)
def test_a_short_word_must_be_nearer_to_be_taken_for_a_slip(typed, meant) -> None:
    """`nada` is as near `añade` (an alias of points) as `pnts` is to points by a longer
    word's measure: a word of four letters or fewer must be nearer."""
    from handlers.command_help import unknown_command

    shown = unknown_command(typed, [], "MX").text
    if meant is None:
        assert "Did you mean" not in shown, shown
    else:
        assert f"Did you mean `{meant}`?" in shown, shown


@pytest.mark.parametrize(
    ("line", "language", "meant", "runs"),
    [
        ("borrar rosa", "es", "cliente eliminar", "cliente eliminar rosa"),  # as the help says
        ("eliminar 1870", "es", "cliente eliminar", "cliente eliminar 1870"),
        ("edit juan", "en", "customer edit", "customer edit juan"),
        ("nuevo cliente", "es", "cliente nuevo", "cliente nuevo"),
        ("nueva oferta", "es", "oferta nueva", "oferta nueva"),
        ("new offer", "es", "oferta nueva", "oferta nueva"),  # the reader's words
        ("publicar 5002", "es", "oferta publicar", "oferta publicar 5002"),
        ("cancel offer 5001", "en", "offer cancel", "offer cancel 5001"),
        ("delete offer Pan dulce", "en", "offer delete", "offer delete Pan dulce"),
        ("alta María López", "es", "cliente nuevo", "cliente nuevo María López"),
        ("register Rosa Díaz", "en", "customer new", "customer new Rosa Díaz"),
        ("registra a Pedro", "es", "cliente nuevo", "cliente nuevo a Pedro"),
        ("registrar venta 250 a ana", "es", "venta", "venta 250 a ana"),  # a sale, recorded
        ("edita la oferta pan dulce", "es", "oferta editar", "oferta editar pan dulce"),
        ("borra al cliente sofía", "es", "cliente eliminar", "cliente eliminar sofía"),
        ("edit the offer Pan dulce", "en", "offer edit", "offer edit Pan dulce"),
    ],
)
def test_an_action_typed_first_is_offered_with_its_subcommand(line, language, meant, runs) -> None:
    """`borrar rosa` is `cliente eliminar rosa`: the button runs it (a deletion still asks
    to confirm); publish and cancel are an offer's, the rest a customer's unless named."""
    from bot.i18n import speaking
    from handlers.command_help import unknown_command

    first, *rest = tokenize(line)
    with speaking(language):
        shown = unknown_command(first, rest, "MX")
    assert f"`{meant}`" in shown.text
    assert "know" not in shown.text and "conozco" not in shown.text  # it understood the verb
    (button,) = [e for b in shown.blocks for e in b.get("elements", []) if e.get("value")]
    assert RerunText.decode(button["value"]).text == runs


@pytest.mark.parametrize(
    ("typed", "draft"),
    [
        (
            "Rosa Díaz rosa@example.com 55 1234 5678",
            ("Rosa", "Díaz", "rosa@example.com", "+52 55 1234 5678"),
        ),
        ("María de la Luz +52 (999) 411-6533", ("María", "de la Luz", "", "+52 999 411 6533")),
        ("pedro@x.mx", ("", "", "pedro@x.mx", "")),
        ("Pedro", ("Pedro", "", "", "")),
        ("a Pedro Páramo", ("Pedro", "Páramo", "", "")),  # `registra a Pedro Páramo`
        ("A", ("A", "", "", "")),
        ("", ("", "", "", "")),
        # not an email nor a phone number, but meant as one: the form says what is wrong
        ("Pedro pedro@example 55 1234", ("Pedro", "", "pedro@example", "55 1234")),
    ],
)
def test_what_customer_new_was_typed_with_fills_in_its_form(typed, draft) -> None:
    from handlers.parsing import customer_draft

    assert customer_draft(typed, "MX") == draft


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("juan 10pts", ("juan", "10", "pts")),
        ("juan +5Puntos visita", ("juan", "+5", "Puntos visita")),
        ("juan 10 pts", ("juan", "10", "pts")),
        ("juan 10x", ("juan", "10x", "")),  # not a unit: left as typed
        ("R2D2 5", ("R2D2", "5", "")),
    ],
)
def test_a_unit_joined_to_the_amount_is_read_apart(text, expected) -> None:
    from bot.domain.amounts import is_points_unit
    from handlers.parsing import unit_apart

    assert split_reference(unit_apart(tokenize(text), is_points_unit)) == expected
