"""Asking a manager to confirm a deletion or a cancellation, and the outcome."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
)

from bot.domain.audit import Action
from bot.domain.say import Say
from bot.i18n import N_, _
from bot.slack.blocks.common import Message, _message, _section, notice, points
from bot.slack.ids import (
    ActionId,
    BlockId,
    Confirm,
)
from bot.slack.text import escape, mrkdwn
from bot.smartpasses.models import Customer, Offer

# -- confirmations ---------------------------------------------------------------------

_ACTS: dict[str, tuple[str, str]] = {
    Action.CUSTOMER_DELETE: (N_("Delete customer"), N_("✅ *{name}* was deleted by {who}.")),
    Action.OFFER_DELETE: (N_("Delete offer"), N_("✅ *{name}* was deleted by {who}.")),
    Action.OFFER_CANCEL: (N_("Cancel offer"), N_("✅ *{name}* was canceled by {who}.")),
}


def consequences(kind: str, record: Customer | Offer) -> str:
    """What deleting or canceling `record` does, said before the person confirms."""
    if isinstance(record, Customer):
        label = f"*{escape(record.display_name)}* (`{record.id}`)"
        return _(
            "This permanently deletes the customer {label}, who has {points}. Their wallet "
            "pass stops working and the points are lost."
        ).format(label=label, points=points(record.points))
    label = f"*{escape(record.name)}* (`{record.id}`)"
    if kind == Action.OFFER_DELETE:
        return _(
            "This deletes the draft offer {label} ({points}). It was never published, so no "
            "customer sees it."
        ).format(label=label, points=points(record.points_cost))
    return _(
        "This cancels the published offer {label} ({points}): it disappears from every "
        "customer's wallet pass."
    ).format(label=label, points=points(record.points_cost))


def confirmation(kind: str, token: str, what_happens: str) -> Message:
    """What will happen, and a button that names the act (plus Slack's confirm dialog)."""
    act = _(_ACTS[kind][0])
    blocks: list[Block] = [
        _section(f"⚠️ {what_happens}"),
        ActionsBlock(
            block_id=BlockId.CONFIRM_ACTIONS,
            elements=[
                ButtonElement(
                    text=act,
                    action_id=ActionId.CONFIRM,
                    style="danger",
                    value=Confirm(token=token).encode(),
                    confirm=ConfirmObject(
                        title=_("Are you sure?"),
                        text=_("This cannot be undone."),
                        confirm=act,
                        deny=_("Keep it"),
                        style="danger",
                    ),
                ),
                ButtonElement(text=_("Never mind"), action_id=ActionId.DISMISS, value=token),
            ],
        ),
    ]
    return _message(f"{act}?", blocks)


def confirmed(kind: str, name: str, user_id: str, remarks: Sequence[Say] = ()) -> Message:
    done = _(_ACTS[kind][1]).format(name=escape(name), who=f"<@{user_id}>")
    return notice("\n".join([done, *map(mrkdwn, remarks)]))
