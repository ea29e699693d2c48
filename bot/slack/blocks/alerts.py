"""The managers' alert about points given far beyond the usual: what went over which
figure, and each change with an Undo button (bot.core.alerts decides when)."""

from __future__ import annotations

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from bot.core.alerts import Alert
from bot.i18n import _, number
from bot.slack.blocks.audit import describe
from bot.slack.blocks.common import Message, _message, _section
from bot.slack.ids import ActionId
from bot.slack.text import escape


def unusual_points(alert: Alert) -> Message:
    if alert.kind == "person":
        head = _(
            "⚠️ *Unusual points:* <@{user}> has given {total} points today, more than {limit} "
            "(their usual day gives up to {usual}). Check the changes below; a manager can "
            "undo each."
        ).format(
            user=alert.user_id,
            total=number(alert.total),
            limit=number(alert.limit),
            usual=number(alert.usual),
        )
    else:
        head = _(
            "⚠️ *Unusual points:* *{name}* (`{id}`) has gained {total} points in the last hour, "
            "more than {limit}. Check the changes below; a manager can undo each."
        ).format(
            name=escape(alert.customer_name),
            id=alert.customer_id,
            total=number(alert.total),
            limit=number(alert.limit),
        )
    sections = [_section(head)]
    for e in alert.entries:
        line = f"#{e.id} · <@{e.user_id}> {describe(e)}"
        sections.append(
            _section(
                line,
                accessory=ButtonElement(
                    text=_("Undo"),
                    action_id=ActionId.UNDO_ENTRY,
                    value=str(e.id),
                    style="danger",
                    confirm=ConfirmObject(
                        title=_("Undo this change?"),
                        text=_("The balance goes back to what it was before it."),
                        confirm=_("Undo"),
                        deny=_("Keep it"),
                    ),
                ),
            )
        )
    return _message(head, sections)
