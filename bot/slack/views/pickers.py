"""Choosing a customer or an offer inside a form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.validation import Field
from bot.i18n import _, number
from bot.slack.blocks import (
    MAX_SECTION,
    customer_line,
    offer_line,
)
from bot.slack.ids import ActionId, Form, FormContext, PickInForm
from bot.slack.text import escape, fit
from bot.slack.views.common import MAX_PICKS, _view
from bot.smartpasses.models import Customer, Offer


def pick_customer(
    context: FormContext, query: str, matches: Sequence[Customer], title: str
) -> dict[str, Any]:
    return _pick(context, query, "customers", [(c.id, customer_line(c)) for c in matches], title)


def pick_offer(
    context: FormContext, query: str, matches: Sequence[Offer], title: str
) -> dict[str, Any]:
    return _pick(context, query, "offers", [(o.id, offer_line(o)) for o in matches], title)


def _pick(
    context: FormContext, query: str, noun: str, choices: Sequence[tuple[int, str]], title: str
) -> dict[str, Any]:
    """Several matched: one Choose button each; choosing fills this modal with the form."""
    match = (
        _("{count} customers match “{query}”. Which one?")
        if noun == "customers"
        else _("{count} offers match “{query}”. Which one?")
    )
    text = fit(match.format(count=number(len(choices)), query=escape(query)), MAX_SECTION)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    for target_id, line in choices[:MAX_PICKS]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=fit(line, MAX_SECTION)),
                accessory=ButtonElement(
                    text=_("Choose"),
                    action_id=f"{ActionId.PICK_IN_FORM}_{target_id}",
                    value=PickInForm(form=Form(context.form), target_id=target_id).encode(),
                ),
            )
        )
    return _view(title, blocks, context=context)


# What views.update accepts of a view Slack sent back with a submission.


def choose_customer(context: FormContext, title: str, intro: str = "") -> dict[str, Any]:
    """Type a name, email or phone; choose the customer (a type-ahead select)."""
    blocks: list[Block] = []
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(intro, MAX_SECTION))))
    blocks += [
        InputBlock(
            block_id=Field.CUSTOMER,
            label=_("Customer"),
            element=ExternalDataSelectElement(
                action_id=ActionId.CUSTOMER_SEARCH,
                placeholder=_("Name, email or phone"),
                min_query_length=2,
            ),
        )
    ]
    return _view(title, blocks, form=Form.CHOOSE_CUSTOMER, context=context, submit=_("Next"))
