"""The daily summary."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.core.summary import SalesTotal, Summary, sparkline
from bot.core.summary import arrow as _moved
from bot.i18n import _, day, money, ngettext, number
from bot.slack.blocks.cards import customer_line, status_of
from bot.slack.blocks.common import (
    Message,
    _chunked_sections,
    _context,
    _field,
    _message,
    points,
    slack_date,
)
from bot.slack.text import escape

# -- the daily summary ----------------------------------------------------------------


def arrow(delta: int | None) -> str:
    """▲ +3 / ▼ −2 / = no change, in the reader's words."""
    moved = _moved(delta)
    return f"= {_('no change')}" if moved == "=" else moved


def _sales_line(sales: SalesTotal) -> list[Block]:
    """`Sales today: 3 sales, 750.00 MXN, 75 points (25 from promotions)` (none: nothing;
    no promotion's points: no brackets)."""
    if not sales.count:
        return []
    money_text = ", ".join(money(amount, currency) for currency, amount in sales.money.items())
    words = {
        "count": number(sales.count),
        "money": money_text or "—",
        "points": number(sales.points),
        "promoted": number(sales.from_promotions),
    }
    if not sales.from_promotions:
        line = ngettext(
            "Sales today: {count} sale, {money}, {points} points",
            "Sales today: {count} sales, {money}, {points} points",
            sales.count,
        )
    else:
        line = ngettext(
            "Sales today: {count} sale, {money}, {points} points ({promoted} from promotions)",
            "Sales today: {count} sales, {money}, {points} points ({promoted} from promotions)",
            sales.count,
        )
    return [_context(line.format(**words))]


def summary_message(s: Summary, tz: ZoneInfo) -> Message:
    since = (
        " " + _("since {day}").format(day=day(dt.date.fromisoformat(s.previous_day)))
        if s.previous_day
        else ""
    )
    new = (
        _("{count} new").format(count=number(s.new_customers)) + since
        if s.new_customers is not None
        else _("first summary: nothing to compare yet")
    )
    headline = [
        _field(f"*{_('Customers')}*\n{number(s.customers)} {arrow(s.customers_change)}\n{new}"),
        _field(
            f"*{_('Points outstanding')}*\n{number(s.points_outstanding)}"
            + (  # the first summary has nothing to compare with: no arrow, no empty line
                f" {arrow(s.net_change)}\n" + _("net change of all balances") + since
                if s.net_change is not None
                else ""
            )
        ),
        _field(
            f"*{_('Added via the bot, 24 h')}*\n{number(s.points_added_24h)} "
            f"{arrow(s.points_added_24h - s.points_added_prior_24h)}"
        ),
        _field(
            f"*{_('Deducted via the bot, 24 h')}*\n{number(s.points_deducted_24h)} "
            f"{arrow(s.points_deducted_24h - s.points_deducted_prior_24h)}"
        ),
    ]
    trend_values = [v for _day, v in s.trend]
    trend = _("`{sparkline}` points added per day, {first} → {last}: {values}").format(
        sparkline=sparkline(trend_values),
        first=day(s.trend[0][0], "EEE d"),
        last=day(s.trend[-1][0], "EEE d"),
        values=", ".join(number(v) for v in trend_values),
    )
    top = [f"{i}. {customer_line(c)}" for i, c in enumerate(s.top_customers, 1)] or [
        _("No customers yet.")
    ]
    staff = [
        f"<@{t.user_id}> · "
        + ngettext("{n} change", "{n} changes", t.changes).format(n=number(t.changes))
        + f" · +{number(t.added)} / −{number(t.deducted)}"
        for t in s.staff
    ] or [_("No points changes via the bot.")]
    offers = " · ".join(
        f"{status_of(status)}: {n}" for status, n in s.offers_by_status.items()
    ) or _("No offers.")
    events = [
        (
            _("Published: *{offer}* by {who}")
            if e.action == "offer.publish"
            else _("Canceled: *{offer}* by {who}")
        ).format(offer=escape(e.target_name), who=f"<@{e.user_id}>")
        for e in s.offer_events
    ]
    pending = [
        (f"<{a.permalink}|{escape(a.offer_name)}>" if a.permalink else f"*{escape(a.offer_name)}*")
        + " "
        + _("(asked by {who})").format(who=f"<@{a.requested_by}>")
        for a in s.pending
    ]
    rewards, redeemed = s.redeemed_today
    outside = s.outside.differences
    changed_outside = (
        [
            _context(
                ngettext(
                    "Changed outside the bot: {count} customer, +{added} / −{removed} points",
                    "Changed outside the bot: {count} customers, +{added} / −{removed} points",
                    len(outside),
                ).format(
                    count=number(len(outside)),
                    added=number(s.outside.added),
                    removed=number(s.outside.removed),
                )
                + (
                    " · ⚠️ "
                    + _("{flagged} flagged in the audit channel").format(
                        flagged=number(len(s.outside.flagged))
                    )
                    if s.outside.flagged
                    else ""
                )
            )
        ]
        if outside
        else []
    )
    blocks: list[Block] = [
        HeaderBlock(text=_("Loyalty summary · {day}").format(day=day(s.day))),
        SectionBlock(fields=headline),
        _context(trend),
        _context(
            ngettext(
                "Redeemed today: {rewards} reward", "Redeemed today: {rewards} rewards", rewards
            ).format(rewards=number(rewards))
            + ", "
            + points(redeemed)
        ),
        *_sales_line(s.sales_today),
        *changed_outside,
        DividerBlock(),
        *_chunked_sections([f"*{_('Top customers by points')}*", *top]),
        *_chunked_sections([f"*{_('Who changed points most (24 h)')}*", *staff]),
        *_chunked_sections([f"*{_('Offers')}* · {offers}", *events]),
    ]
    if pending:
        waiting = _("Waiting for publication approval ({count})").format(count=len(pending))
        blocks += _chunked_sections([f"*{waiting}*", *pending[:20]])
    blocks.append(
        _context(
            _("Generated {when} · `/loyalty {summary}` shows it any time.").format(
                when=slack_date(s.generated_at, tz), summary=_("summary")
            )
        )
    )
    return _message(
        _("Loyalty summary for {day}: {customers} customers, {points} points outstanding").format(
            day=day(s.day, "d MMM"),
            customers=number(s.customers),
            points=number(s.points_outstanding),
        ),
        blocks,
    )
