"""The managers' alert about points given far beyond the usual: what went over which
figure, and each change with an Undo button (bot.core.alerts decides when)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ButtonElement, ConfirmObject

from bot.core.alerts import Alert
from bot.i18n import _, number
from bot.slack.blocks.audit import describe
from bot.slack.blocks.common import Message, _message, _section
from bot.slack.ids import ActionId
from bot.slack.text import escape


def unusual_points(alert: Alert) -> Message:
    figures = {"total": number(alert.total), "limit": number(alert.limit)}
    if alert.kind == "person" and alert.usual:
        head = _(
            "⚠️ *Unusual points:* <@{user}> has given {total} points today, more than {limit}: "
            "a usual day of theirs gives up to {usual}."
        ).format(user=alert.user_id, usual=number(alert.usual), **figures)
    elif alert.kind == "person":
        head = _(
            "⚠️ *Unusual points:* <@{user}> has given {total} points today, more than the "
            "{limit} I tell managers about."
        ).format(user=alert.user_id, **figures)
    else:
        head = _(
            "⚠️ *Unusual points:* *{name}* (`{id}`) has gained {total} points in the last hour, "
            "more than {limit}."
        ).format(name=escape(alert.customer_name), id=alert.customer_id, **figures)
    head += " " + _("Check the changes below; a manager can undo each.")
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


def marked_undone(alert: dict[str, Any], entry_id: int, user_id: str | None) -> dict[str, Any]:
    """The alert message as Slack holds it (`blocks`, `text`), with the change `entry_id`
    marked undone by `user_id` (None: undone before, elsewhere) in place of its Undo
    button: whoever reads it next sees it is handled. Its other lines are left as they
    are (their text is already escaped)."""
    blocks = []
    for block in alert.get("blocks") or []:
        button = block.get("accessory") or {}
        if button.get("action_id") == ActionId.UNDO_ENTRY and button.get("value") == str(entry_id):
            block = {key: value for key, value in block.items() if key != "accessory"}
            done = _("↩️ Undone by <@{user}>.").format(user=user_id) if user_id else _("↩️ Undone.")
            block["text"] = {**block["text"], "text": f"{block['text']['text']} · {done}"}
        blocks.append(block)
    return {"blocks": blocks, "text": alert.get("text") or ""}
