"""Every modal the bot opens, built with slack_sdk.models.views (limits checked on build)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.points import Op
from bot.core.policy import Act
from bot.core.records import Approval
from bot.core.validation import DESCRIPTION_MAX, NAME_MAX, OFFER_NAME_MAX, REASON_MAX, Field
from bot.slack.blocks import (
    MAX_SECTION,
    Message,
    approval_in_home,
    customer_line,
    offer_line,
    plain,
    points,
)
from bot.slack.ids import ActionId, Form, FormContext, PickInForm
from bot.slack.text import escape, fit
from bot.smartpasses.models import Customer, Offer

MAX_PICKS = 20
MAX_OPTIONS = 100  # Slack's limit for a static select


def fit_plain(text: str, limit: int) -> str:
    """Plain text (an option's label) cut to `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _view(
    title: str,
    blocks: Sequence[Block | dict[str, Any]],
    *,
    form: str = Form.NOTICE,
    context: FormContext | None = None,
    submit: str | None = None,
    close: str = "Close",
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=form,
        title=plain(title, 24),
        submit=submit,
        close=close,
        blocks=list(blocks),
        private_metadata=context.encode() if context else None,
    )
    view.validate_json()
    return view.to_dict()


def _text_input(
    field: Field,
    label: str,
    value: str = "",
    *,
    optional: bool = False,
    max_length: int = NAME_MAX,
    hint: str | None = None,
    multiline: bool = False,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=field,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=ActionId.INPUT,
            initial_value=value or None,
            max_length=max_length,
            multiline=multiline or None,
            placeholder=placeholder,
        ),
    )


def _radio(field: Field, label: str, options: list[tuple[str, str]], selected: str) -> InputBlock:
    choices = [Option(value=value, text=text) for value, text in options]
    initial = next((o for o in choices if o.value == selected), None)
    return InputBlock(
        block_id=field,
        label=label,
        element=RadioButtonsElement(
            action_id=ActionId.INPUT, options=choices, initial_option=initial
        ),
    )


def loading(title: str, what: str) -> dict[str, Any]:
    """Opened at once (a trigger_id lasts ~3 s), then replaced with views.update."""
    return _view(
        title, [SectionBlock(text=MarkdownTextObject(text=f":hourglass_flowing_sand: {what}"))]
    )


def result(title: str, message: Message) -> dict[str, Any]:
    """A message shown in the modal that led to it (its buttons are for the message)."""
    shown: list[Block | dict[str, Any]] = [b for b in message.blocks if b.get("type") != "actions"]
    return _view(title, shown or [SectionBlock(text=MarkdownTextObject(text=message.text))])


def notice(title: str, text: str) -> dict[str, Any]:
    """A message in place of a form: a result, or why the form cannot be shown."""
    return _view(title, [SectionBlock(text=MarkdownTextObject(text=fit(text, MAX_SECTION)))])


def customer_form(context: FormContext, customer: Customer | None = None) -> dict[str, Any]:
    c = customer
    blocks: list[Block] = [
        _text_input(Field.FIRST_NAME, "First name", c.first_name if c else ""),
        _text_input(Field.LAST_NAME, "Last name", c.last_name if c else "", optional=True),
        _text_input(
            Field.EMAIL,
            "Email",
            c.email if c else "",
            optional=True,
            placeholder="name@example.com",
        ),
        _text_input(
            Field.PHONE,
            "Phone",
            c.phone if c else "",
            optional=True,
            hint="International form, with + and the country code: +52 999 411 6533",
            placeholder="+52 999 411 6533",
        ),
    ]
    if c:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Customer `{c.id}` · {points(c.points)} (change points with `/loyalty points`)"
                    )
                ]
            )
        )
    return _view(
        "Edit customer" if c else "New customer",
        blocks,
        form=Form.CUSTOMER,
        context=context,
        submit="Save" if c else "Create",
        close="Cancel",
    )


def offer_form(context: FormContext, offer: Offer | None = None) -> dict[str, Any]:
    o = offer
    blocks: list[Block] = [
        _text_input(
            Field.OFFER_NAME,
            "Name",
            o.name if o else "",
            max_length=OFFER_NAME_MAX,
            placeholder="Café Gratis",
        ),
        _text_input(
            Field.OFFER_DESCRIPTION,
            "Description",
            o.description if o else "",
            optional=True,
            multiline=True,
            max_length=DESCRIPTION_MAX,
            hint="Customers see this on their wallet pass.",
        ),
        _text_input(
            Field.OFFER_COST,
            "Points cost",
            str(o.points_cost) if o else "",
            max_length=9,
            placeholder="10",
        ),
        _radio(
            Field.OFFER_AUTO_CLAIM,
            "Auto-claim",
            [
                ("yes", "Yes: claimed automatically when the customer has the points"),
                ("no", "No: staff claim it for the customer"),
            ],
            "yes" if o and o.auto_claim else "no",
        ),
    ]
    if o:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Offer `{o.id}` · status _{escape(o.status)}_")]
            )
        )
    return _view(
        "Edit offer" if o else "New offer",
        blocks,
        form=Form.OFFER,
        context=context,
        submit="Save" if o else "Create draft",
        close="Cancel",
    )


_OP_LABELS = {Op.ADD: "Add points", Op.DEDUCT: "Deduct points", Op.SET: "Set the balance to"}


def points_form(
    context: FormContext, customer: Customer, max_points: int, ops: Sequence[Op] = tuple(Op)
) -> dict[str, Any]:
    """`ops`: what this person may do (a clerk only adds, up to the clerk allowance)."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=fit(
                    f"*{escape(customer.display_name)}* has *{points(customer.points)}*.",
                    MAX_SECTION,
                )
            )
        ),
        _radio(Field.POINTS_OP, "Change", [(op, _OP_LABELS[op]) for op in ops], Op.ADD),
        _text_input(
            Field.POINTS_AMOUNT,
            "Amount",
            max_length=9,
            placeholder="10",
            hint=f"A whole number, at most {max_points:,}.",
        ),
        _text_input(
            Field.POINTS_REASON,
            "Reason",
            optional=True,
            max_length=REASON_MAX,
            placeholder="Birthday gift",
        ),
    ]
    return _view(
        "Change points", blocks, form=Form.POINTS, context=context, submit="Apply", close="Cancel"
    )


def redeem_form(
    context: FormContext, customer: Customer, offers: Sequence[Offer]
) -> dict[str, Any]:
    """Choose a Published offer to redeem; those the customer can afford come first."""
    intro = f"*{escape(customer.display_name)}* has *{points(customer.points)}*."
    if not offers:
        return notice("Redeem a reward", intro + "\nThere are no Published offers to redeem.")
    options = []
    for offer in offers[:MAX_OPTIONS]:
        missing = offer.points_cost - customer.points
        label = f"{offer.name} · {offer.points_cost:,} points"
        if missing > 0:
            label += f" (needs {missing:,} more)"
        options.append(Option(value=str(offer.id), text=fit_plain(label, 75)))
    affordable = [o for o in offers if o.points_cost <= customer.points]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=fit(intro, MAX_SECTION))),
        InputBlock(
            block_id=Field.REDEEM_OFFER,
            label="Reward",
            element=StaticSelectElement(
                action_id=ActionId.INPUT,
                placeholder="Choose a reward",
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
                        text=f"The {MAX_OPTIONS} cheapest of {len(offers):,} offers are listed; "
                        "`/loyalty redeem <customer> <offer>` redeems any of them."
                    )
                ]
            )
        )
    return _view(
        "Redeem a reward",
        blocks,
        form=Form.REDEEM,
        context=context,
        submit="Redeem",
        close="Cancel",
    )


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
    text = fit(f"{len(choices)} {noun} match “{escape(query)}”. Which one?", MAX_SECTION)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    for target_id, line in choices[:MAX_PICKS]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=fit(line, MAX_SECTION)),
                accessory=ButtonElement(
                    text="Choose",
                    action_id=f"{ActionId.PICK_IN_FORM}_{target_id}",
                    value=PickInForm(form=Form(context.form), target_id=target_id).encode(),
                ),
            )
        )
    return _view(title, blocks, context=context)


# What views.update accepts of a view Slack sent back with a submission.
_VIEW_KEYS = ("type", "title", "submit", "close", "blocks", "private_metadata", "callback_id")
_PROBLEM = "loyalty_form_problem"


def refused_form(
    submitted: dict[str, Any],
    problems: dict[str, str],
    why: str,
    context: FormContext | None = None,
) -> dict[str, Any]:
    """A submitted form shown again as it was filled in, with what was refused: `why`
    above it, and each problem under its field (as the field's hint). `context` replaces
    what the form carries (its private_metadata)."""
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
        else:
            values[block_id] = element.get("value")
    return values


def reject_form(context: FormContext, offer_name: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=fit(
                    f"Reject publishing *{escape(offer_name)}*? It stays a Draft.", MAX_SECTION
                )
            )
        ),
        _text_input(
            Field.REJECT_REASON,
            "Reason (the requester sees it)",
            max_length=REASON_MAX,
            multiline=True,
            placeholder="The photo is missing; fix it and ask again.",
        ),
    ]
    return _view(
        "Reject publication",
        blocks,
        form=Form.REJECT,
        context=context,
        submit="Reject",
        close="Cancel",
    )


@dataclass(frozen=True)
class HomeFigures:
    """Today's figures on a manager's Home tab."""

    customers: int
    points_outstanding: int
    added_24h: int
    deducted_24h: int
    rewards_today: int
    redeemed_today: int


def home(
    allows: Callable[[Act], bool],
    is_manager: bool,
    figures: HomeFigures | None = None,
    pending: Sequence[Approval] = (),
) -> dict[str, Any]:
    """The App Home tab, for the counter: what this person may do, as buttons first."""
    buttons = [ButtonElement(text="Find customer", action_id=ActionId.HOME_FIND, style="primary")]
    if allows(Act.ADD_POINTS):
        label = "Change points" if allows(Act.CHANGE_POINTS) else "Add points"
        buttons.append(ButtonElement(text=label, action_id=ActionId.HOME_ADD_POINTS))
    if allows(Act.REDEEM):
        buttons.append(ButtonElement(text="Redeem", action_id=ActionId.HOME_REDEEM))
    if is_manager:
        buttons += [
            ButtonElement(text="New customer", action_id=ActionId.HOME_NEW_CUSTOMER),
            ButtonElement(text="New offer", action_id=ActionId.HOME_NEW_OFFER),
        ]
    role = (
        "You are a loyalty *manager*: you can change points, delete, cancel and approve."
        if is_manager
        else "You can find customers, create and edit them, and ask for offer publication."
        + (" You can add points and redeem rewards." if allows(Act.ADD_POINTS) else "")
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text="*Loyalty* · " + role)),
        ActionsBlock(block_id="loyalty_home_actions", elements=buttons),
    ]
    if figures is not None:
        f = figures
        blocks += [
            DividerBlock(),
            SectionBlock(
                fields=[
                    MarkdownTextObject(text=f"*Customers*\n{f.customers:,}"),
                    MarkdownTextObject(text=f"*Points outstanding*\n{f.points_outstanding:,}"),
                    MarkdownTextObject(
                        text=f"*Points, 24 h*\n+{f.added_24h:,} / −{f.deducted_24h:,}"
                    ),
                    MarkdownTextObject(
                        text=f"*Redeemed today*\n{f.rewards_today:,} rewards, "
                        f"{f.redeemed_today:,} points"
                    ),
                ]
            ),
        ]
    if is_manager and pending:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=f"*Waiting for publication approval ({len(pending)})*")
            )
        )
        for approval in pending[:10]:
            blocks += approval_in_home(approval)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Anywhere in Slack: `/loyalty help` lists what I can do.")
            ]
        )
    )
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()


def choose_customer(context: FormContext, title: str, intro: str = "") -> dict[str, Any]:
    """Type a name, email or phone; choose the customer (a type-ahead select)."""
    blocks: list[Block] = []
    if intro:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(intro, MAX_SECTION))))
    blocks += [
        InputBlock(
            block_id=Field.CUSTOMER,
            label="Customer",
            element=ExternalDataSelectElement(
                action_id=ActionId.CUSTOMER_SEARCH,
                placeholder="Name, email or phone",
                min_query_length=2,
            ),
        )
    ]
    return _view(title, blocks, form=Form.CHOOSE_CUSTOMER, context=context, submit="Next")
