"""Replies to a points change, a redemption and an undo."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)

from bot.core.service import PointsResult
from bot.domain.say import Say
from bot.i18n import _, number
from bot.slack.blocks.common import Message, _context, _message, _section, notice, points
from bot.slack.ids import (
    ActionId,
    RerunText,
    new_once,
)
from bot.slack.text import escape, mrkdwn

# -- points ------------------------------------------------------------------------


def points_changed(result: PointsResult, *, undo_minutes: int | None = None) -> Message:
    c = result.customer
    name = escape(c.display_name)
    before, after = number(result.before), number(result.after)
    text = _("*{name}*: {before} → *{after}* points ({delta})").format(
        name=name, before=before, after=after, delta=f"{number(result.delta, signed=True)}"
    )
    if result.reason:
        text += "\n" + _("_Reason:_ {reason}").format(reason=escape(result.reason))
    blocks: list[Block] = [_section("✅ " + text)]
    blocks += [_context(mrkdwn(remark)) for remark in result.remarks]
    blocks += _undo_hint(undo_minutes)
    return _message(
        _("{name}: {before} → {after} points").format(name=name, before=before, after=after),
        blocks,
    )


def command_choice(question: Say, texts: Sequence[tuple[str, str]]) -> Message:
    """Which command was meant (which amount, which subcommand): one button per reading,
    each carrying the command on with it (`texts`: (the button's words, the command));
    one of them acts, once."""
    once = new_once()
    text = mrkdwn(question)
    buttons = [
        ButtonElement(
            text=shown,
            action_id=f"{ActionId.AMOUNT}_{n}",
            value=RerunText(text=command, once=once).encode(),
        )
        for n, (shown, command) in enumerate(texts)
    ]
    return _message(text, [_section(text), ActionsBlock(elements=buttons)])


def _undo_hint(undo_minutes: int | None) -> list[Block]:
    """How to take a change back, for someone who may (nothing otherwise)."""
    if not undo_minutes:
        return []
    return [
        _context(
            _("Made a mistake? `/loyalty {undo}` within {minutes} minutes.").format(
                undo=_("undo"), minutes=undo_minutes
            )
        )
    ]


def redeemed(result: PointsResult, *, undo_minutes: int | None = None) -> Message:
    """A reward redeemed: what it cost and the balance left (and, for someone who may
    take it back, how)."""
    name = escape(result.customer.display_name)
    offer = escape(result.reason)
    text = "🎁 " + _(
        "*{offer}* redeemed for *{name}*: {before} → *{after}* points ({delta})"
    ).format(
        offer=offer,
        name=name,
        before=number(result.before),
        after=number(result.after),
        delta=f"{number(result.delta, signed=True)}",
    )
    blocks: list[Block] = [_section(text)]
    blocks += [_context(mrkdwn(remark)) for remark in result.remarks]
    blocks += _undo_hint(undo_minutes)
    return _message(
        _("{offer} redeemed for {name}: {after} points left").format(
            offer=offer, name=name, after=number(result.after)
        ),
        blocks,
    )


def undone(result: PointsResult) -> Message:
    """`/loyalty undo`: the balance is back where it was."""
    name = escape(result.customer.display_name)
    lines = [
        "↩️ "
        + _("Undone: *{name}* is back to {points} (was {before}).").format(
            name=name, points=points(result.after), before=number(result.before)
        ),
        *map(mrkdwn, result.remarks),
    ]
    return notice("\n".join(lines))
