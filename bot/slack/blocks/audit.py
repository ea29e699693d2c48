"""What the audit log says: history lines and the audit channel's posts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.core.verify import Difference
from bot.domain.audit import POINTS_ACTIONS, Action, AuditEntry, Changes, Outcome, Resolved
from bot.domain.earning import Promotion
from bot.domain.phones import international
from bot.domain.policy import Act
from bot.i18n import N_, _, money, number
from bot.slack.blocks.cards import _status_word
from bot.slack.blocks.common import (
    Message,
    _chunked_sections,
    _context,
    _message,
    _section,
    notice,
    points,
    slack_date,
)
from bot.slack.blocks.sales import promotion_terms
from bot.slack.text import escape, mrkdwn, shorten
from bot.smartpasses.models import Customer

# -- what the audit log says: history lines and the audit channel ----------------------

_VERBS: dict[str, str] = {
    Action.POINTS_ADD: N_("added points"),
    Action.POINTS_DEDUCT: N_("deducted points"),
    Action.POINTS_SET: N_("set points"),
    Action.POINTS_UNDO: N_("undid a change"),
    Action.POINTS_REDEEM: N_("redeemed a reward"),
    Action.POINTS_SALE: N_("recorded a sale"),
    Action.PROMOTION_CREATE: N_("created promotion"),
    Action.PROMOTION_PAUSE: N_("paused promotion"),
    Action.PROMOTION_RESUME: N_("resumed promotion"),
    Action.PROMOTION_END: N_("ended promotion"),
    Action.CUSTOMER_CREATE: N_("created customer"),
    Action.CUSTOMER_UPDATE: N_("edited customer"),
    Action.CUSTOMER_DELETE: N_("deleted customer"),
    Action.OFFER_CREATE: N_("drafted offer"),
    Action.OFFER_UPDATE: N_("edited offer"),
    Action.OFFER_DELETE: N_("deleted offer"),
    Action.OFFER_CANCEL: N_("canceled offer"),
    Action.OFFER_PUBLISH: N_("published offer"),
    Action.PUBLISH_REQUEST: N_("asked to publish offer"),
    Action.PUBLISH_APPROVE: N_("approved publishing offer"),
    Action.PUBLISH_REJECT: N_("rejected publishing offer"),
    Action.REFUSED: N_("was refused"),
}
_FIELD_LABELS = {
    "first_name": N_("first name"),
    "last_name": N_("last name"),
    "email": N_("email"),
    "phone": N_("phone"),
    "name": N_("name"),
    "description": N_("description"),
    "points": N_("points"),
    "status": N_("status"),
    "offer_id": N_("offer"),
    "points_cost": N_("points cost"),
    "auto_claim": N_("auto-claim"),
}
_OUTCOME_NOTES: dict[str, str] = {
    Outcome.PENDING: N_("⏳ _not confirmed yet: it is being checked_"),
    Outcome.REFUSED: N_("*refused*"),
    Outcome.FAILED: N_("*not applied*"),
    Outcome.UNKNOWN: N_("*⚠️ could not tell whether it was applied*"),
}
_RESOLVED_NOTES: dict[str, str] = {
    Resolved.CHECKED: N_("_confirmed by checking_"),
    Resolved.RECONCILED: N_("_confirmed later_"),
}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int):
        return number(value)
    return shorten(escape(str(value)), 80)


_FIELD_ORDER = {name: place for place, name in enumerate(_FIELD_LABELS)}


def _form_order(change: tuple[str, Any]) -> tuple[int, str]:
    return _FIELD_ORDER.get(change[0], len(_FIELD_ORDER)), change[0]


def field_changes_text(changes: Changes, action: str = "") -> str:
    """`points cost 10 → 0, auto-claim no → yes` (a create lists the values it set), in
    the order the forms ask for them."""
    parts = []
    for name, (before, after) in sorted(changes.items(), key=_form_order):
        label = _(_FIELD_LABELS.get(name, name.replace("_", " ")))
        if name == "status":  # an offer's status, in the reader's words (escaped by _shown)
            before, after = _status_word(before), _status_word(after)
        elif name == "phone":  # as the card shows it: +52 55 4321 8765
            before, after = (international(v) if isinstance(v, str) else v for v in (before, after))
        if action.endswith(".create"):
            parts.append(f"{label} {_shown(after)}")
        elif after is None and action.endswith(".delete"):
            parts.append(f"{label} {_shown(before)}")
        else:
            parts.append(f"{label} {_shown(before)} → {_shown(after)}")
    return ", ".join(parts)


_UNDO_REASON = re.compile(r"undo of change #(\d+)")
# A role refusal, as bot.core.roles records it, read back in the reader's language.
_ROLE_REFUSAL = re.compile(r"needs manager role to (.+)")
_ACTS = frozenset(act.value for act in Act)
NEEDS_THE_ROLE = N_("needs the manager role to {act}")


def action_words(action: str) -> str:
    """What an entry's action did, in the reader's words ("added points")."""
    return _(_VERBS.get(action, action))


def describe(e: AuditEntry, *, name_target: bool = True) -> str:
    """One change as the audit log has it: what was done, to what, and each field."""
    verb = action_words(e.action)  # StrEnum keys: a stored string finds its member
    reason = e.reason
    if e.action == Action.POINTS_REDEEM and reason:  # the reason is the offer's name
        verb, reason = _("redeemed “{offer}”").format(offer=escape(shorten(reason, 80))), ""
    sale = e.changes.get("sale", [None, None])[1] if e.action == Action.POINTS_SALE else None
    if isinstance(sale, dict):
        verb = _sale_words(sale)
    if e.action in POINTS_ACTIONS:
        if e.before is not None and e.after is not None:
            change = f"{number(e.before)} → {number(e.after)} ({number(e.after - e.before, signed=True)})"
        elif e.before is not None:
            change = (
                _("from {before} ({requested} asked)").format(
                    before=number(e.before), requested=e.requested
                )
                if e.requested and e.requested != "+0"  # a sale that earns nothing: said after
                else _("from {before}").format(before=number(e.before))
            )
        else:
            change = ""
        target = (
            " " + _("for *{name}* (`{id}`)").format(name=escape(e.target_name), id=e.target_id)
            if name_target
            else ""
        )
        text = f"{verb}{target}: {change}" if name_target else f"{verb} {change}"
    else:
        text = verb
        if e.action == Action.REFUSED and e.requested:  # what was asked (a clerk's add)
            text += " " + _("({requested} asked)").format(requested=e.requested)
        if name_target and e.target_name:
            text += f" *{escape(e.target_name)}*"
        if name_target and e.target_id is not None:
            text += f" (`{e.target_id}`)"
        promotion = e.changes.get("promotion", [None, None])[1]
        if isinstance(promotion, dict):
            text += ": " + promotion_terms(Promotion.from_record(promotion))
        elif e.changes:
            text += ": " + field_changes_text(e.changes, e.action)
    if e.outcome in _OUTCOME_NOTES and e.action != Action.REFUSED:  # "was refused" says it
        text += " · " + _(_OUTCOME_NOTES[e.outcome])
    if e.outcome == Outcome.OK and e.resolved in _RESOLVED_NOTES:
        text += " · " + _(_RESOLVED_NOTES[e.resolved])
    if e.undone_at:
        text += " · " + _("_undone_")
    undo = _UNDO_REASON.fullmatch(reason)
    if undo:  # written by the bot when undoing: in the reader's words
        text += " · " + _("undo of change #{id}").format(id=undo.group(1))
    elif reason:
        text += f" · {escape(reason)}"
    if e.outcome != Outcome.OK and e.detail and e.outcome != Outcome.PENDING:
        text += f" · {_detail(e)}"
    return text.strip()


def _sale_words(sale: dict[str, Any]) -> str:
    """`recorded a sale of 250.00 MXN (+25 Tuesday double points)` from a sale's entry."""
    try:
        amount = money(Decimal(str(sale["amount"])), str(sale["currency"]))
    except (KeyError, ArithmeticError, ValueError):
        return _("recorded a sale")
    words = _("recorded a sale of {amount}").format(amount=amount)
    for promo in sale.get("promotions") or []:
        words += " " + _("(+{points} {promotion})").format(
            points=number(int(promo.get("points") or 0)),
            promotion=escape(shorten(str(promo.get("name") or ""), 60)),
        )
    return words


def _detail(e: AuditEntry) -> str:
    """What the log says went wrong, in the reader's words when it was kept as said (or is
    a role refusal, bot.core.roles); else the record's English (older entries)."""
    if e.detail_said is not None:
        return mrkdwn(e.detail_said)
    refused = _ROLE_REFUSAL.fullmatch(e.detail or "")
    if e.action == Action.REFUSED and refused and refused.group(1) in _ACTS:
        return _(NEEDS_THE_ROLE).format(act=_(refused.group(1)))  # the Act is a msgid
    return escape(e.detail or "")


def change_announcement(e: AuditEntry) -> Message:
    """The audit channel's post for one completed change (and the workflow that made it,
    for a Workflow Builder step)."""
    text = f"<@{e.user_id}> {describe(e)}"
    if e.via:
        text += " " + _("(via workflow *{workflow}*)").format(workflow=escape(e.via))
    return _message(text, [_section(text)])


_SETTLED: dict[str, str] = {
    Outcome.OK: N_("✅ It was applied."),
    Outcome.FAILED: N_("It was not applied: nothing was changed, so it can be done again."),
    Outcome.UNKNOWN: N_(
        "⚠️ I still cannot tell whether it was applied. A manager should check the balance "
        "before changing it again."
    ),
}


def change_settled(e: AuditEntry, balance: int | None, tz: ZoneInfo) -> Message:
    """A direct message to the person whose change was settled after they were answered
    (the process answering them stopped, or Smart Passes' answer was unclear)."""
    lines = [
        _("Your change of {when} is settled: you {change}.").format(
            when=slack_date(e.at, tz), change=describe(e)
        ),
        _(_SETTLED.get(e.outcome, _SETTLED[Outcome.UNKNOWN])),
    ]
    if balance is not None and e.target_name:
        lines.append(
            _("*{name}* has {points} now.").format(
                name=escape(e.target_name), points=points(balance)
            )
        )
    text = "\n".join(lines)
    return _message(text, [_section(text)])


def change_flagged(e: AuditEntry) -> Message:
    """The audit channel's warning about a change nobody can settle: the record and the
    changes recorded for it do not agree."""
    text = "⚠️ " + _(
        "<@{user}> {change}. Flagged: the balance does not match the changes I recorded, so "
        "someone should check {history} and the balance."
    ).format(
        user=e.user_id,
        change=describe(e),
        history=f"`/loyalty {_('history')} #{e.target_id}`"
        if e.target_id is not None
        else f"`/loyalty {_('history')}`",
    )
    return _message(text, [_section(text)])


def outside_flagged(d: Difference) -> Message:
    """The audit channel's warning about a balance that moved away from the bot's records
    on a customer whose last change through the bot was made while fenced or unknown."""
    text = "⚠️ " + _(
        "*{name}* (`{id}`) has {live}, but my records say {recorded} and my last change to "
        "them was not confirmed when it was made. Check `/loyalty {history} #{id}` and the "
        "balance."
    ).format(
        name=escape(d.name),
        id=d.customer_id,
        live=points(d.live),
        recorded=points(d.recorded),
        history=_("history"),
    )
    return _message(text, [_section(text)])


def _history_line(e: AuditEntry, tz: ZoneInfo) -> str:
    return f"{slack_date(e.at, tz)} · <@{e.user_id}> {describe(e, name_target=False)}"


def history(c: Customer, entries: Sequence[AuditEntry], tz: ZoneInfo) -> Message:
    if not entries:
        return notice(
            _("No changes to *{name}* have been made through the bot yet.").format(
                name=escape(c.display_name)
            )
        )
    blocks: list[Block] = [
        _section(
            _("*Recent changes to {name}* (`{id}`, now {points})").format(
                name=escape(c.display_name), id=c.id, points=points(c.points)
            )
        ),
        *_chunked_sections(_history_line(e, tz) for e in entries),
        _context(_("Only changes made through this bot are listed.")),
    ]
    return _message(_("History of {name}").format(name=escape(c.display_name)), blocks)
