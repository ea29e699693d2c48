"""The form for a new promotion (managers; `/loyalty promos new`)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    TimePickerElement,
)

from bot.core.validation import PROMO_NAME_MAX, Field
from bot.i18n import _, weekday_names
from bot.slack.ids import ActionId, Form, FormContext
from bot.slack.views.common import _radio, _text_input, _view


def _optional(field: Field, label: str, element: Any, hint: str | None = None) -> InputBlock:
    return InputBlock(block_id=field, label=label, optional=True, hint=hint, element=element)


def promotion_form(context: FormContext) -> dict[str, Any]:
    days = [Option(value=str(n), text=name) for n, name in enumerate(weekday_names())]
    blocks: list[Block] = [
        _text_input(
            Field.PROMO_NAME,
            _("Name"),
            max_length=PROMO_NAME_MAX,
            placeholder=_("Tuesday double points"),
            hint=_("Shown on the sale's receipt and in the history."),
        ),
        _radio(
            Field.PROMO_KIND,
            _("What it gives"),
            [
                ("multiplier", _("The sale's points multiplied")),
                ("bonus", _("Bonus points on each sale")),
            ],
            "multiplier",
        ),
        _text_input(
            Field.PROMO_VALUE,
            _("By how much"),
            max_length=10,
            placeholder="2",
            hint=_("Multiplied: 2 is double points. Bonus: the points added, like 50."),
        ),
        _optional(
            Field.PROMO_DAYS,
            _("Days"),
            CheckboxesElement(action_id=ActionId.INPUT, options=days),
            _("None chosen: every day."),
        ),
        _optional(
            Field.PROMO_STARTS,
            _("From (shop's time)"),
            TimePickerElement(action_id=ActionId.INPUT),
            _("Empty: all day."),
        ),
        _optional(
            Field.PROMO_ENDS,
            _("Until"),
            TimePickerElement(action_id=ActionId.INPUT),
            _("An end before the start runs past midnight."),
        ),
        _optional(
            Field.PROMO_FIRST_DAY, _("First day"), DatePickerElement(action_id=ActionId.INPUT)
        ),
        _optional(Field.PROMO_LAST_DAY, _("Last day"), DatePickerElement(action_id=ActionId.INPUT)),
        _text_input(
            Field.PROMO_UNDER,
            _("Only for customers with fewer points than"),
            optional=True,
            max_length=12,
            hint=_("Like 1 for a first-purchase bonus. Empty: everyone."),
        ),
        _optional(
            Field.PROMO_STACKING,
            _("With other promotions"),
            CheckboxesElement(
                action_id=ActionId.INPUT,
                options=[Option(value="stacking", text=_("Add on top of the best other one"))],
            ),
            _("Otherwise the promotion giving most points wins."),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=_("It starts at once and is announced in the audit channel.")
                )
            ]
        ),
    ]
    return _view(
        _("New promotion"), blocks, form=Form.PROMOTION, context=context, submit=_("Create")
    )
