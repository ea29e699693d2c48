"""What every modal is made of (Slack's limits checked on build), and the plain ones."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.validation import NAME_MAX, Field
from bot.i18n import _
from bot.slack.blocks import (
    MAX_SECTION,
    Message,
    plain,
)
from bot.slack.ids import ActionId, Form, FormContext
from bot.slack.text import fit

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
    close: str = "",
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=form,
        title=plain(title, 24),
        submit=submit,
        close=close or _("Close"),
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
