"""Sales and promotions: the receipt of a sale, the promotions' list and their terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.core.sales import SaleResult, rule_words
from bot.domain.earning import EarningRule, Promotion
from bot.i18n import _, day, money, number, weekday_names
from bot.slack.blocks.common import Message, _context, _message, _section, notice
from bot.slack.blocks.replies import _undo_hint
from bot.slack.ids import ActionId, PromotionRef
from bot.slack.text import escape, mrkdwn, shorten


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def promotion_terms(promo: Promotion) -> str:
    """`×2 · Tue 16:00–18:00 · 1 Dec – 31 Dec 2026 · under 100 points · adds to others`,
    in the reader's language (no outside text: the name is shown apart)."""
    parts = []
    if promo.multiplier > 1:
        parts.append(_("×{multiplier} points").format(multiplier=_plain(promo.multiplier)))
    if promo.bonus:
        parts.append(_("+{bonus} points per sale").format(bonus=number(promo.bonus)))
    if len(promo.weekdays) < 7:
        names = weekday_names()
        parts.append(", ".join(names[d] for d in sorted(promo.weekdays)))
    if promo.starts is not None and promo.ends is not None:
        parts.append(f"{_hhmm(promo.starts)}–{_hhmm(promo.ends)}")
    if promo.first_day and promo.last_day:
        parts.append(
            _("{first} to {last}").format(
                first=day(promo.first_day, "d MMM y"), last=day(promo.last_day, "d MMM y")
            )
        )
    elif promo.first_day:
        parts.append(_("from {first}").format(first=day(promo.first_day, "d MMM y")))
    elif promo.last_day:
        parts.append(_("until {last}").format(last=day(promo.last_day, "d MMM y")))
    if promo.under_balance == 1:
        parts.append(_("customers with no points yet"))
    elif promo.under_balance is not None:
        parts.append(
            _("customers under {points} points").format(points=number(promo.under_balance))
        )
    if promo.stacking:
        parts.append(_("adds to the others"))
    return " · ".join(parts)


def _plain(value: Decimal) -> str:
    return number(int(value)) if value == value.to_integral_value() else str(value.normalize())


def sale_recorded(result: SaleResult, *, undo_minutes: int | None = None) -> Message:
    """The receipt: `Juan Pérez: 250.00 MXN → 25 points (+25 Tuesday double points) ·
    5 → 55`, in blocks and in the notification."""
    points = result.points
    name = escape(points.customer.display_name)
    earned = result.earned
    extras = "".join(
        " "
        + _("(+{points} {promotion})").format(
            points=number(extra), promotion=escape(shorten(promo.name, 60))
        )
        for promo, extra in earned.extras
    )
    parts = {
        "name": name,
        "amount": money(result.amount, result.currency),
        "points": number(earned.base),
        "extras": extras,
        "before": number(points.before),
        "after": number(points.after),
    }
    line = _("{name}: {amount} → {points} points{extras} · {before} → {after}").format(**parts)
    bold = _("*{name}*: {amount} → {points} points{extras} · {before} → *{after}*").format(**parts)
    if points.reason:
        bold += "\n" + _("_Note:_ {note}").format(note=escape(points.reason))
    blocks: list[Block] = [_section("✅ " + bold)]
    blocks += [_context(mrkdwn(remark)) for remark in points.remarks]
    blocks += _undo_hint(undo_minutes)
    return _message(line, blocks)


def no_earning_rule(distributed: bool, manager: bool) -> Message:
    """Said when `/loyalty sale` is used before sales earn points."""
    if distributed and manager:
        how = _(
            "Set how many points a sale earns in *Settings* on my Home tab (points per amount "
            "of money, a minimum sale, the currency)."
        )
    elif distributed:
        how = _("A manager sets how many points a sale earns in my Settings.")
    else:
        how = _(
            "Whoever runs the bot for the shop sets how many points a sale earns "
            "(the earning rule in the operations guide)."
        )
    return notice(_("Sales do not earn points yet.") + " " + how)


def promotion_list(promos: Sequence[Promotion], rule: EarningRule | None, manage: bool) -> Message:
    """The promotions that have not ended, each with Pause/Resume and End for managers."""
    head = (
        _("*Promotions* ({count}) · sales earn {rule}").format(
            count=number(len(promos)), rule=mrkdwn(rule_words(rule))
        )
        if rule
        else _("*Promotions* ({count}) · sales do not earn points yet").format(
            count=number(len(promos))
        )
    )
    blocks: list[Block] = [_section(head)]
    if not promos:
        blocks.append(_section(_("No promotions right now.")))
    for promo in promos:
        state = " · " + _("_paused_") if promo.paused else ""
        text = (
            f"*{escape(shorten(promo.name, 100))}* (`{promo.id}`){state}\n{promotion_terms(promo)}"
        )
        blocks.append(_section(text))
        if manage:
            ref = PromotionRef(promotion_id=promo.id).encode()
            toggle = (
                ButtonElement(
                    text=_("Resume"), action_id=f"{ActionId.PROMO_RESUME}_{promo.id}", value=ref
                )
                if promo.paused
                else ButtonElement(
                    text=_("Pause"), action_id=f"{ActionId.PROMO_PAUSE}_{promo.id}", value=ref
                )
            )
            end = ButtonElement(
                text=_("End"),
                action_id=f"{ActionId.PROMO_END}_{promo.id}",
                value=ref,
                style="danger",
            )
            blocks.append(ActionsBlock(elements=[toggle, end]))
    if manage:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=_("New promotion"),
                        action_id=ActionId.PROMO_NEW,
                        value="new",
                        style="primary",
                    )
                ]
            )
        )
    blocks.append(
        _context(
            _(
                "When several apply to a sale, the one giving most wins; those that add to the "
                "others are added on top. Times are the shop's."
            )
        )
    )
    return _message(_("Promotions: {count}").format(count=number(len(promos))), blocks)


def promotion_changed(said: str, promo: Promotion) -> Message:
    """After a promotion was created, paused, resumed or ended (`said`: ours, escaped)."""
    text = f"✅ {said}\n{promotion_terms(promo)}"
    return _message(said, [_section(text)])


def promotion_said(action: str, name: str) -> str:
    words: dict[str, Any] = {
        "promotion.create": _("Promotion *{name}* created."),
        "promotion.pause": _("Promotion *{name}* paused."),
        "promotion.resume": _("Promotion *{name}* resumed."),
        "promotion.end": _("Promotion *{name}* ended."),
    }
    return str(words[action]).format(name=escape(shorten(name, 100)))
