"""Property tests: whatever text arrives, the parsers and validators answer without
surprises, nothing is changed at Smart Passes by what is not a valid command, and every
message and view the bot builds stays within Slack's limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.views import View

from bot.core.index.customer_index import CustomerIndex
from bot.core.index.search_text import _NumberedBlob, _OffsetBlob
from bot.core.service import PointsResult
from bot.core.validation import (
    Field,
    read_customer_form,
    read_offer_form,
    read_points_form,
    reason_problem,
)
from bot.domain.amounts import parse_amount
from bot.domain.audit import Action, Actor, AuditEntry
from bot.domain.errors import InvalidInput, MalformedRequest
from bot.domain.records import Approval
from bot.slack import blocks, views
from bot.slack.ids import (
    ApprovalRef,
    Confirm,
    CustomerRef,
    CustomersPage,
    Form,
    FormContext,
    OfferRef,
    PickInForm,
    RerunCommand,
)
from bot.slack.text import mrkdwn
from bot.smartpasses.models import Customer, Offer
from handlers.parsing import split_reference, tokenize

# Outside text at its worst: any unicode, RTL, emoji, control characters, mrkdwn, mentions,
# links, entities, long runs of what escaping makes longer.
HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<http://x|y>",
        "<@U1>",
        "&amp;",
        "*",
        "_",
        "`",
        "~",
        "<",
        ">",
        "&",
        "\n",
        "\u202e",
        "\u200b",
        "🎉",
        "👩‍👩‍👧",
        "مرحبا",
        "\x00",
        "\x1b[31m",
        "é",
        " ",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=40), HOSTILE), max_size=120).map("".join)
LONG = st.one_of(TEXT, st.builds(lambda s, n: (s or "<") * n, TEXT, st.integers(1, 3000)))
SETTINGS = settings(max_examples=150, deadline=None)


def _within_limits(message: blocks.Message) -> None:
    assert len(message.blocks) <= 50 and len(message.text) <= 3000
    for block in message.blocks:
        text = block.get("text")
        if text:
            assert len(text["text"]) <= (150 if block["type"] == "header" else 3000)
        for field in block.get("fields") or []:
            assert len(field["text"]) <= 2000
        for element in block.get("elements") or []:
            text = element.get("text")
            shown = text.get("text", "") if isinstance(text, dict) else text or ""
            assert len(shown) <= (75 if element.get("type") == "button" else 3000)
            assert len(element.get("value", "")) <= 2000
        accessory = block.get("accessory") or {}
        if accessory.get("value"):
            assert len(accessory["value"]) <= 2000


@SETTINGS
@given(TEXT)
def test_the_command_parser_always_answers(text: str) -> None:
    tokens = tokenize(text)
    assert all(isinstance(t, str) and t for t in tokens)
    reference, amount, reason = split_reference(tokens)
    assert isinstance(reference, str) and isinstance(reason, str)
    if amount is not None:
        try:
            change = parse_amount(amount, 1000)
        except InvalidInput as exc:
            assert exc.message and "<!" not in mrkdwn(exc.say)  # shown inert
        else:
            assert 0 <= change.amount <= 1000


@SETTINGS
@given(TEXT, st.integers(1, 10**6))
def test_amounts_are_bounded_or_explained(text: str, limit: int) -> None:
    try:
        change = parse_amount(text, limit)
    except InvalidInput as exc:
        assert exc.message
    else:
        assert 0 <= change.amount <= limit


@SETTINGS
@given(st.dictionaries(st.sampled_from([f.value for f in Field]), st.one_of(st.none(), LONG)))
def test_the_form_validators_always_answer(values: dict[str, Any]) -> None:
    fields, errors = read_customer_form(values)
    assert errors or fields.first_name
    offer, errors = read_offer_form(values)
    assert (offer is None) == bool(errors)
    change, reason, errors = read_points_form(values, 1000)
    assert (change is None) == bool(errors)
    assert errors or not reason_problem(reason)


@pytest.mark.parametrize(
    "model",
    [
        RerunCommand,
        CustomersPage,
        CustomerRef,
        OfferRef,
        ApprovalRef,
        Confirm,
        PickInForm,
        FormContext,
    ],
)
@SETTINGS
@given(value=st.one_of(TEXT, st.builds(str, st.integers()), st.just('{"target_id": 1e400}')))
def test_button_values_decode_or_are_malformed(model: Any, value: str) -> None:
    try:
        decoded = model.decode(value)
    except MalformedRequest:
        return
    assert isinstance(decoded, model)


def test_a_forms_starting_operation_is_one_of_the_points_operations() -> None:
    """The points form's `op` travels in private_metadata: only an Op (or none) is read."""
    assert FormContext.decode('{"form": "points", "op": "deduct"}').op == "deduct"
    with pytest.raises(MalformedRequest):
        FormContext.decode('{"form": "points", "op": "drop"}')


def _customer(first: str, last: str, email: str) -> Customer:
    return Customer(id=1870, firstName=first, lastName=last, email=email, points=5)


def ALLOW_ALL(act: object) -> bool:
    return True


@SETTINGS
@given(LONG, LONG, LONG, LONG)
def test_customer_messages_and_views_fit(first: str, last: str, email: str, reason: str) -> None:
    c = _customer(first, last, email)
    _within_limits(blocks.customer_card(c, ALLOW_ALL))
    _within_limits(blocks.customer_picker(reason, [c] * 12, "points", reason))
    result = PointsResult(c, 5, 15, reason, None, Actor("U1"), [reason])
    _within_limits(blocks.points_changed(result, undo_minutes=15))
    entry = AuditEntry(
        id=1,
        at=dt.datetime.now(dt.UTC),
        team_id="",
        user_id="U1",
        action=Action.CUSTOMER_UPDATE,
        target_type="customer",
        target_id=1870,
        target_name=c.display_name,
        before=5,
        after=15,
        reason=reason,
        outcome="ok",
        detail=reason,
        undone_at=None,
        changes={"first_name": [last, first], "email": [email, reason]},
    )
    _within_limits(blocks.change_announcement(entry))
    _within_limits(blocks.history(c, [entry] * 15, dt.UTC))
    context = FormContext(form=Form.CUSTOMER, target_id=1870)
    for view in (views.customer_form(context, c), views.points_form(context, c, 1000)):
        View(**view).validate_json()


@SETTINGS
@given(LONG, LONG, LONG)
def test_offer_messages_fit(name: str, description: str, note: str) -> None:
    offer = Offer(id=5002, name=name[:150], description=description[:2000], pointsCost=15)
    _within_limits(blocks.offer_card(offer, ALLOW_ALL))
    _within_limits(blocks.offer_list([offer] * 60, None))
    approval = Approval(
        id=1,
        offer_id=5002,
        offer_name=name,
        description=description,
        points_cost=15,
        auto_claim=False,
        fingerprint="f",
        team_id="",
        requested_by="U1",
        requested_at=dt.datetime.now(dt.UTC),
        channel_id="C1",
        message_ts="1.2",
        permalink=None,
        state="rejected",
        decided_by="U2",
        decided_at=dt.datetime.now(dt.UTC),
        note=note,
    )
    _within_limits(blocks.approval_request(approval, dt.UTC))
    _within_limits(blocks.approval_outcome_for_requester(approval))
    View(**views.offer_form(FormContext(form=Form.OFFER, target_id=5002), offer)).validate_json()
    View(**views.reject_form(FormContext(form=Form.REJECT, target_id=1), name)).validate_json()


_SEARCHED = CustomerIndex(
    lambda: [
        Customer(id=1, firstName="Juan", lastName="Pérez", email="juan@example.com"),
        Customer(id=2, firstName="Zoë", lastName="Ødegård", phone="+525550001111"),
    ],
    ttl=3600,
)


@given(TEXT)
def test_search_by_any_part_always_answers(text: str) -> None:
    """Whatever is typed (regex characters, control characters, right-to-left text), the
    search answers with customers, never an error."""
    found = _SEARCHED.search(text)
    assert all(isinstance(c, Customer) for c in found)
    assert _SEARCHED.search("ødeg") and _SEARCHED.search("0001111")


_SOME_TEXT = st.text(st.characters(max_codepoint=0x2FF), max_size=12)  # controls and NULs too


@given(st.lists(_SOME_TEXT, max_size=40), _SOME_TEXT.filter(bool))
def test_the_search_text_finds_exactly_the_rows_that_hold_a_word(texts, word) -> None:
    """Each row once, in order, whatever the texts and the word hold: the row numbers
    kept after each text are never found as text."""

    def spaced(text: str) -> str:  # a control character is kept (and searched) as a space
        return "".join(" " if ch < " " else ch for ch in text)

    expected = [row for row, text in enumerate(texts) if spaced(word) in spaced(text)]
    assert list(_NumberedBlob(texts).containing(word)) == expected


@given(st.lists(st.text("0123456789", max_size=14), max_size=40), st.text("0123", min_size=1))
def test_phone_digits_find_exactly_the_rows_that_hold_them(phones, digits) -> None:
    expected = [row for row, phone in enumerate(phones) if digits in phone]
    assert _OffsetBlob(phones).containing(digits) == expected


def test_row_numbers_of_eight_digits_are_found_as_well(monkeypatch) -> None:
    monkeypatch.setattr(_NumberedBlob, "EIGHT_DIGITS_FROM", 2)
    texts = ["ana pérez", "luis", "pérez\x00ruiz", "", "zoë pérez"] * 70
    blob = _NumberedBlob(texts)
    assert blob.width == 8
    assert list(blob.containing("pérez")) == [r for r, t in enumerate(texts) if "pérez" in t]
