"""The forms: a customer, an offer, a points change, a redemption, a rejection."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.validation import DESCRIPTION_MAX, NAME_MAX, OFFER_NAME_MAX, REASON_MAX, Field
from bot.domain.amounts import Op
from bot.domain.phones import international
from bot.i18n import N_, _, number
from bot.slack.blocks import (
    MAX_SECTION,
    points,
    status_of,
)
from bot.slack.ids import ActionId, Form, FormContext
from bot.slack.text import escape, fit
from bot.slack.views.common import MAX_OPTIONS, _radio, _text_input, _view, fit_plain, notice
from bot.smartpasses.models import Customer, Offer


def customer_form(
    context: FormContext,
    customer: Customer | None = None,
    draft: tuple[str, str, str, str] = ("", "", "", ""),
) -> dict[str, Any]:
    """A customer's form: `customer` to edit, or a new one, filled in with `draft` (first
    name, last name, email, phone: what `customer new` was typed with, cut to fit)."""
    c = customer
    first, last, email, phone = (text[:NAME_MAX] for text in draft)
    blocks: list[Block] = [
        _text_input(Field.FIRST_NAME, _("First name"), c.first_name if c else first),
        _text_input(Field.LAST_NAME, _("Last name"), c.last_name if c else last, optional=True),
        _text_input(
            Field.EMAIL,
            _("Email"),
            c.email if c else email,
            optional=True,
            placeholder="name@example.com",
        ),
        _text_input(
            Field.PHONE,
            _("Phone"),
            international(c.phone) if c else phone,
            optional=True,
            hint=_("International form, with + and the country code: +52 999 411 6533"),
            placeholder="+52 999 411 6533",
        ),
    ]
    if c:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=_(
                            "Customer `{id}` · {points} (change points with `/loyalty {command}`)"
                        ).format(id=c.id, points=points(c.points), command=_("points"))
                    )
                ]
            )
        )
    return _view(
        _("Edit customer") if c else _("New customer"),
        blocks,
        form=Form.CUSTOMER,
        context=context,
        submit=_("Save") if c else _("Create"),
        close=_("Cancel"),
    )


def offer_form(context: FormContext, offer: Offer | None = None) -> dict[str, Any]:
    o = offer
    blocks: list[Block] = [
        _text_input(
            Field.OFFER_NAME,
            _("Name"),
            o.name if o else "",
            max_length=OFFER_NAME_MAX,
            placeholder="Café Gratis",
        ),
        _text_input(
            Field.OFFER_DESCRIPTION,
            _("Description"),
            o.description if o else "",
            optional=True,
            multiline=True,
            max_length=DESCRIPTION_MAX,
            hint=_("Customers see this on their wallet pass."),
        ),
        _text_input(
            Field.OFFER_COST,
            _("Points cost"),
            str(o.points_cost) if o else "",
            max_length=9,
            placeholder="10",
        ),
        _radio(
            Field.OFFER_AUTO_CLAIM,
            _("Auto-claim"),
            [
                ("yes", _("Yes: claimed automatically when the customer has the points")),
                ("no", _("No: staff claim it for the customer")),
            ],
            "yes" if o and o.auto_claim else "no",
        ),
    ]
    if o:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=_("Offer `{id}` · status _{status}_").format(
                            id=o.id, status=status_of(o.status)
                        )
                    )
                ]
            )
        )
    return _view(
        _("Edit offer") if o else _("New offer"),
        blocks,
        form=Form.OFFER,
        context=context,
        submit=_("Save") if o else _("Create draft"),
        close=_("Cancel"),
    )


_OP_LABELS = {
    Op.ADD: N_("Add points"),
    Op.DEDUCT: N_("Deduct points"),
    Op.SET: N_("Set the balance to"),
}


def points_form(
    context: FormContext,
    customer: Customer,
    max_points: int,
    ops: Sequence[Op] = tuple(Op),
    *,
    start: Op = Op.ADD,
) -> dict[str, Any]:
    """`ops`: what this person may do (a clerk only adds, up to the clerk allowance: the
    title says so, and there is no choice to show); `start`: the one chosen as it opens."""
    choice = _radio(Field.POINTS_OP, _("Change"), [(op, _(_OP_LABELS[op])) for op in ops], start)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=fit(
                    _("*{name}* has *{points}*.").format(
                        name=escape(customer.display_name), points=points(customer.points)
                    ),
                    MAX_SECTION,
                )
            )
        ),
        *([choice] if len(ops) > 1 else []),
        _text_input(
            Field.POINTS_AMOUNT,
            _("Amount"),
            max_length=9,
            placeholder="10",
            hint=_("A whole number, at most {most}.").format(most=number(max_points)),
        ),
        _text_input(
            Field.POINTS_REASON,
            _("Reason"),
            optional=True,
            max_length=REASON_MAX,
            placeholder=_("Birthday gift"),
        ),
    ]
    return _view(
        _("Change points") if len(ops) > 1 else _(_OP_LABELS[ops[0]]),
        blocks,
        form=Form.POINTS,
        context=context,
        submit=_("Apply"),
        close=_("Cancel"),
    )


def redeem_form(
    context: FormContext, customer: Customer, offers: Sequence[Offer]
) -> dict[str, Any]:
    """Choose a Published offer to redeem; those the customer can afford come first."""
    intro = _("*{name}* has *{points}*.").format(
        name=escape(customer.display_name), points=points(customer.points)
    )
    if not offers:
        return notice(
            _("Redeem a reward"), intro + "\n" + _("There are no Published offers to redeem.")
        )
    options = []
    for offer in offers[:MAX_OPTIONS]:
        missing = offer.points_cost - customer.points
        label = f"{offer.name} · {points(offer.points_cost)}"
        if missing > 0:
            label += " " + _("(needs {missing} more)").format(missing=number(missing))
        options.append(Option(value=str(offer.id), text=fit_plain(label, 75)))
    affordable = [o for o in offers if o.points_cost <= customer.points]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=fit(intro, MAX_SECTION))),
        InputBlock(
            block_id=Field.REDEEM_OFFER,
            label=_("Reward"),
            element=StaticSelectElement(
                action_id=ActionId.INPUT,
                placeholder=_("Choose a reward"),
                options=options,
                initial_option=options[0] if affordable else None,
            ),
        ),
    ]
    if len(offers) > MAX_OPTIONS:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=_(
                            "The {shown} cheapest of {count} offers are listed; `/loyalty "
                            "{redeem} <customer> <offer>` redeems any of them."
                        ).format(shown=MAX_OPTIONS, count=number(len(offers)), redeem=_("redeem"))
                    )
                ]
            )
        )
    return _view(
        _("Redeem a reward"),
        blocks,
        form=Form.REDEEM,
        context=context,
        submit=_("Redeem"),
        close=_("Cancel"),
    )


_VIEW_KEYS = ("type", "title", "submit", "close", "blocks", "private_metadata", "callback_id")
_PROBLEM = "loyalty_form_problem"


def refused_form(
    submitted: dict[str, Any],
    problems: dict[str, str],
    why: str | None,
    context: FormContext | None = None,
) -> dict[str, Any]:
    """A submitted form shown again as it was filled in, with what was refused: `why`
    above it (None: the problems say it all, and are not said twice: a pointer to them),
    and each problem under its field (as the field's hint). `context` replaces what the
    form carries (its private_metadata)."""
    why = why or _("Nothing was changed: see why below.")
    view = {k: v for k, v in submitted.items() if k in _VIEW_KEYS}
    if context is not None:
        view["private_metadata"] = context.encode()
    typed = form_values(submitted.get("state") or {})
    blocks: list[dict[str, Any]] = [
        SectionBlock(
            block_id=_PROBLEM, text=MarkdownTextObject(text=fit("⚠️ " + why, MAX_SECTION))
        ).to_dict()
    ]
    for original in view.get("blocks", []):
        if original.get("block_id") == _PROBLEM:
            continue
        block = copy.deepcopy(original)
        if block.get("type") == "input":
            element, value = block["element"], typed.get(block["block_id"])
            if element.get("type") in ("radio_buttons", "static_select"):
                chosen = [o for o in element.get("options", []) if o.get("value") == value]
                element.pop("initial_option", None)
                if chosen:
                    element["initial_option"] = chosen[0]
            elif value:
                element["initial_value"] = value
            else:
                element.pop("initial_value", None)
            if block["block_id"] in problems:
                problem = fit("⚠️ " + problems[block["block_id"]], 2000)
                block["hint"] = {"type": "plain_text", "text": problem}
        blocks.append(block)
    view["blocks"] = blocks
    View(**view).validate_json()
    return view


def form_values(state: dict[str, Any]) -> dict[str, str | None]:
    """`view.state.values` as {block_id: the typed or chosen value}."""
    values: dict[str, str | None] = {}
    for block_id, actions in (state.get("values") or {}).items():
        element: dict[str, Any] = actions.get(ActionId.INPUT) or next(iter(actions.values()), {})
        if element.get("type") == "radio_buttons" or "selected_option" in element:
            selected = element.get("selected_option") or {}
            values[block_id] = selected.get("value")
        elif "selected_options" in element:  # checkboxes: the chosen values, comma-separated
            chosen = element.get("selected_options") or []
            values[block_id] = ",".join(str(o.get("value", "")) for o in chosen)
        elif "selected_time" in element or "selected_date" in element:
            values[block_id] = element.get("selected_time") or element.get("selected_date")
        else:
            values[block_id] = element.get("value")
    return values


def reject_form(context: FormContext, offer_name: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=fit(
                    _("Reject publishing *{offer}*? It stays a Draft.").format(
                        offer=escape(offer_name)
                    ),
                    MAX_SECTION,
                )
            )
        ),
        _text_input(
            Field.REJECT_REASON,
            _("Reason (the requester sees it)"),
            max_length=REASON_MAX,
            multiline=True,
            placeholder=_("The photo is missing; fix it and ask again."),
        ),
    ]
    return _view(
        _("Reject publication"),
        blocks,
        form=Form.REJECT,
        context=context,
        submit=_("Reject"),
        close=_("Cancel"),
    )
