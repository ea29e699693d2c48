"""Points changes in the core: what reaches Smart Passes, what the store records, what the
person is told. (Through Slack, end to end: tests/e2e/test_commands.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.validation import reason_problem
from bot.domain.amounts import Op, PointsChange, parse_amount
from bot.domain.errors import InvalidInput
from bot.i18n import speaking
from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from bot.slack import blocks
from bot.slack.text import mrkdwn
from tests.core import AS_CLERK, AS_GROUP_MANAGER, AS_MANAGER, points_added, told
from tests.demo import ANA, JUAN, JUANA
from tests.harness import CLERK, MANAGER

TZ = dt.UTC


def add(n: int) -> PointsChange:
    return PointsChange(Op.ADD, n)


def test_an_add_posts_the_amount_and_records_before_and_after(core) -> None:
    result = core.service.change_points(AS_MANAGER, JUAN, add(10), "birthday")
    assert core.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    assert core.points(JUAN) == 15 and (result.before, result.after) == (5, 15)
    shown = told(lambda: blocks.points_changed(result, undo_minutes=15))
    assert "*Juan Pérez*: 5 → *15* points (+10)" in shown and "birthday" in shown
    (entry,) = core.store.entries(target_id=JUAN)
    assert (entry.user_id, entry.action, entry.before, entry.after, entry.reason) == (
        MANAGER,
        "points.add",
        5,
        15,
        "birthday",
    )
    assert entry.outcome == "ok"


def test_deduct_and_set_put_the_new_balance_after_a_fresh_read(core) -> None:
    core.service.change_points(AS_MANAGER, ANA, PointsChange(Op.DEDUCT, 5))
    core.service.change_points(AS_MANAGER, ANA, PointsChange(Op.SET, 40), "recount")
    puts = core.sandbox.calls_to("PUT", f"/customers/{ANA}")
    assert [c.body for c in puts] == [{"points": 20}, {"points": 40}]
    assert len(core.sandbox.calls_to("GET", f"/customers/{ANA}")) >= 2
    assert core.sandbox.calls_to("POST", "/points/add") == []
    assert [e.action for e in core.store.entries(target_id=ANA)] == ["points.set", "points.deduct"]


def test_below_zero_is_refused_recorded_and_nothing_sent(core) -> None:
    shown = told(lambda: core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.DEDUCT, 6)))
    assert "has 5 points" in shown and "below zero" in shown
    assert core.writes() == [] and core.points(JUAN) == 5
    (entry,) = core.store.entries(target_id=JUAN)
    assert entry.outcome == "refused"
    # The history says why in the reader's words (the refusal is kept as it was said)
    customer = core.service.customer(JUAN)
    with speaking("es"):
        history = told(lambda: blocks.history(customer, [entry], TZ))
    assert "así que restar 6 dejaría -1" in history and "below zero" not in history, history


def test_a_set_over_the_largest_change_is_refused(core) -> None:
    shown = told(lambda: core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.SET, 5000)))
    assert "more than the largest single change allowed (1,000)" in shown
    assert core.writes() == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0", "zero"),
        ("2.5", "whole numbers"),
        ("ten", "“ten” is not a number"),
        ("5000", "more than the largest single change allowed (1,000"),
        ("-1001", "largest single change"),
        ("9" * 5000, "more points than the largest single change allowed"),
    ],
)
def test_bad_amounts_are_explained(typed: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed, 1000)
    assert expected in mrkdwn(refused.value.say)


@pytest.mark.parametrize(
    ("typed", "change"),
    [("10", add(10)), ("+10", add(10)), ("-5", PointsChange(Op.DEDUCT, 5)), ("=0", None)],
)
def test_amounts_as_people_type_them(typed: str, change: PointsChange | None) -> None:
    expected = change or PointsChange(Op.SET, 0)
    assert parse_amount(typed, 1000) == expected
    assert PointsChange.parse(str(expected)) == expected


def test_one_limit_for_reasons() -> None:
    assert reason_problem("r" * 300) is None
    assert (
        str(reason_problem("r" * 3000)) == "Keep the reason to 300 characters (this one has 3,000)."
    )


@pytest.mark.parametrize(
    ("reference", "name"),
    [
        ("1870", "Juan Pérez"),
        ("#1869", "Anónimo #1869"),
        ("JUAN.PEREZ@EXAMPLE.COM", "Juan Pérez"),
        ("529994116533", "Juan Pérez"),
        ("+52 999 411 6533", "Juan Pérez"),
        ("hernandez", "Luis Hernández"),
        ('"ana garcia"', "Ana García"),
        ("Ana García", "Ana García"),
    ],
)
def test_every_kind_of_reference_finds_the_customer(core, reference: str, name: str) -> None:
    found = core.service.find_customers(reference).found
    assert found is not None and found.display_name == name


def test_several_matches_are_all_offered(core) -> None:
    result = core.service.find_customers("perez")
    assert result.found is None
    assert {c.id for c in result.matches} == {JUAN, JUANA}
    picker = told(lambda: blocks.customer_picker("perez", result.matches, "points", "10"))
    assert "2 customers match" in picker and "Nothing has been changed" in picker


def test_roles_clerk_refused_and_recorded(core) -> None:
    shown = told(lambda: core.service.change_points(AS_CLERK, JUAN, add(10)))
    assert "Only loyalty *managers* can add points" in shown
    assert core.writes() == [] and core.points(JUAN) == 5
    (entry,) = core.store.entries(user_id=CLERK)
    assert entry.outcome == "refused" and "add points" in entry.detail


def test_a_member_of_the_manager_group_may(core) -> None:
    core.service.change_points(AS_GROUP_MANAGER, JUAN, add(1))
    assert core.points(JUAN) == 6
    core.group.members.clear()  # Slack now says the group is empty: cached for a while
    core.service.change_points(AS_GROUP_MANAGER, JUAN, add(1))
    assert core.points(JUAN) == 7


def test_a_failing_group_lookup_denies(core) -> None:
    core.group.broken = True
    assert "Only loyalty *managers*" in told(
        lambda: core.service.change_points(AS_GROUP_MANAGER, JUAN, add(1))
    )
    assert core.writes() == []


def test_history_newest_first_in_plain_words(core) -> None:
    core.service.change_points(AS_MANAGER, JUAN, add(10), "first")
    core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.DEDUCT, 3), "second")
    lines = told(
        lambda: blocks.history(core.service.customer(JUAN), core.service.history(JUAN), TZ)
    )
    assert lines.index("second") < lines.index("first")
    assert "<@UMANAGER> deducted points 15 → 12 (-3)" in lines and "<!date^" in lines


def test_undo_reverts_your_own_last_change_once(core) -> None:
    core.service.change_points(AS_MANAGER, JUAN, add(10))
    shown = told(lambda: blocks.undone(core.service.undo_last(AS_MANAGER)))
    assert "back to 5 points" in shown and "(was 15)" in shown
    assert core.points(JUAN) == 5
    assert core.sandbox.calls_to("PUT", f"/customers/{JUAN}")[-1].body == {"points": 5}
    assert "already undone" in told(lambda: blocks.undone(core.service.undo_last(AS_MANAGER)))
    assert core.points(JUAN) == 5


def test_undo_is_refused_when_the_balance_moved_since(core) -> None:
    core.service.change_points(AS_MANAGER, JUAN, add(10))
    core.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"points": 99})
    assert "balance changed since" in told(
        lambda: blocks.undone(core.service.undo_last(AS_MANAGER))
    )
    assert core.points(JUAN) == 99


def test_undo_is_refused_when_too_old_or_there_is_nothing(core) -> None:
    assert "no points change to undo" in told(
        lambda: blocks.undone(core.service.undo_last(AS_MANAGER))
    )
    points_added(core.store, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    late = told(lambda: blocks.undone(core.service.undo_last(AS_MANAGER)))
    assert "Too late to undo" in late and "made 20 minutes ago" in late, late
    with speaking("es"):  # how long ago, in the reader's words too
        tarde = told(lambda: blocks.undone(core.service.undo_last(AS_MANAGER)))
    assert "se hizo hace 20 minutos" in tarde and "minutes" not in tarde, tarde


def test_undo_touches_only_your_own_changes_and_needs_a_manager(core) -> None:
    core.service.change_points(AS_GROUP_MANAGER, JUAN, add(10))
    assert "no points change to undo" in told(
        lambda: blocks.undone(core.service.undo_last(AS_MANAGER))
    )
    # A clerk (no allowance here) has nothing to undo, and is told just that.
    assert "no points change to undo" in told(
        lambda: blocks.undone(core.service.undo_last(AS_CLERK))
    )
    assert core.points(JUAN) == 15


def test_api_down_is_explained_without_internals(core) -> None:
    core.sandbox.fail_rate = 1.0
    shown = told(lambda: core.service.change_points(AS_MANAGER, JUAN, add(1)))
    assert "Smart Passes had a problem on its side" in shown and "Traceback" not in shown


def test_a_malformed_api_answer_is_explained(core) -> None:
    core.sandbox._dispatch = lambda *a: {"id": "not-a-number"}
    assert "answered in a way the bot did not expect" in told(
        lambda: blocks.customer_card(core.service.customer(JUAN), lambda act: True)
    )


def test_a_dropped_connection_on_a_read_is_retried(core) -> None:
    core.sandbox.inject("get_customer", Fault.DROP)
    assert core.service.customer(JUAN).points == 5
    assert len(core.sandbox.calls_to("GET", f"/customers/{JUAN}")) == 2


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1,000", 1000), ("1.000", 1000), ("1 000", 1000), ("+10", 10), ("10", 10), ("=1,000", 1000)],
)
def test_numbers_are_read_as_people_write_them_in_commands_and_forms(typed, amount) -> None:
    from bot.core.validation import Field, read_points_form
    from handlers.parsing import split_reference, tokenize

    _, typed_amount, reason = split_reference(tokenize(f"1870 {typed} gift"))
    assert (typed_amount, reason) == (typed, "gift")
    assert parse_amount(typed_amount, 5000).amount == amount
    change, _, errors = read_points_form(
        {Field.POINTS_OP: "set", Field.POINTS_AMOUNT: typed.lstrip("=")}, 5000
    )
    assert errors == {} and change is not None and change.amount == amount


@pytest.mark.parametrize(
    ("typed", "command_says", "form_says"),
    [
        ("2.5", "has a fraction", "without fractions"),
        ("1,5", "has a fraction", "without fractions"),
        ("1,0000", "has a fraction", "without fractions"),
        ("ten", "is not a number of points", "a whole number like 10 or 1,000"),
        ("1O", "is not a number of points", "a whole number like 10 or 1,000"),
    ],
)
def test_decimals_and_words_get_one_clear_message(typed, command_says, form_says) -> None:
    from bot.core.validation import Field, read_points_form

    with pytest.raises(InvalidInput) as raised:
        parse_amount(typed, 1000)
    assert command_says in str(raised.value)
    _, _, errors = read_points_form({Field.POINTS_OP: "add", Field.POINTS_AMOUNT: typed}, 1000)
    assert form_says in str(errors[Field.POINTS_AMOUNT])


@pytest.mark.parametrize(
    ("typed", "told"),
    [
        ("diez", "Escribe la cantidad con cifras, como 10 o 1,000."),
        ("2.5", "Escribe la cantidad como número entero, sin decimales."),
        ("", "Escribe la cantidad."),
        ("5001", "El máximo para la cantidad es 5,000."),
    ],
)
def test_a_spanish_reader_is_told_about_the_amount_in_a_sentence(typed, told) -> None:
    """Each message starts as a sentence does and names the field with its article (it
    once read "cantidad: como máximo 5,000")."""
    from bot.core.validation import Field, read_points_form
    from bot.i18n import speaking
    from bot.slack.text import plain

    _, _, errors = read_points_form({Field.POINTS_OP: "add", Field.POINTS_AMOUNT: typed}, 5000)
    with speaking("es"):  # as a form shows it beside the field
        assert plain(errors[Field.POINTS_AMOUNT]) == told


@pytest.mark.parametrize(
    ("typed", "mark", "readings"),
    [
        ("1.000", ".", (1, 1000)),  # one point, or a thousand?
        ("2.500", ".", (2500,)),  # 2.5 is no number of points: only 2,500 is whole
        ("1,000", ".", ()),  # a comma before three digits is thousands to this reader
        ("1,000", ",", (1, 1000)),  # ... and decimals to one who marks them with a comma
        ("1.000.000", ".", ()),  # two groups: thousands, whoever reads it
        ("10", ".", ()),
    ],
)
def test_an_amount_is_ambiguous_only_where_the_readers_decimal_mark_makes_it(
    typed, mark, readings
) -> None:
    from bot.domain.amounts import ambiguous_readings

    assert ambiguous_readings(typed, mark) == readings


def test_the_points_form_asks_for_an_ambiguous_amount_without_the_mark() -> None:
    from bot.core.validation import Field, read_points_form

    change, _reason, errors = read_points_form(
        {Field.POINTS_OP: "add", Field.POINTS_AMOUNT: "1.000"}, 1000, decimal_mark="."
    )
    assert change is None
    assert str(errors[Field.POINTS_AMOUNT]) == (
        "Did you mean 1 or 1,000? Type it without the mark: 1 or 1000."
    )
    change, _reason, errors = read_points_form(
        {Field.POINTS_OP: "add", Field.POINTS_AMOUNT: "1000"}, 1000, decimal_mark="."
    )
    assert change is not None and change.amount == 1000 and not errors


def test_an_offers_cost_is_named_as_a_sentence_names_it_in_both_languages() -> None:
    """The form's sentence gives the field its article in Spanish; the audit's list of
    changed fields keeps the bare name (tests/unit/test_blocks.py)."""
    from bot.core.validation import Field, read_offer_form
    from bot.i18n import speaking
    from bot.slack.text import plain

    _, errors = read_offer_form({Field.OFFER_NAME: "Pastel", Field.OFFER_COST: "diez"})
    assert plain(errors[Field.OFFER_COST]) == (
        "The cost in points must be a whole number like 10 or 1,000."
    )
    with speaking("es"):
        assert plain(errors[Field.OFFER_COST]) == (
            "Escribe el costo en puntos con cifras, como 10 o 1,000."
        )
