"""Publication approvals: the request in the channel, its outcome, the list."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    SectionBlock,
)

from bot.domain.records import Approval
from bot.domain.say import Say
from bot.i18n import _, ngettext, number
from bot.slack.blocks.common import (
    Message,
    _chunked_sections,
    _context,
    _field,
    _message,
    _section,
    notice,
    points,
    slack_date,
)
from bot.slack.ids import (
    ActionId,
    ApprovalRef,
    BlockId,
    new_once,
)
from bot.slack.text import escape, mrkdwn

# -- publication approvals ----------------------------------------------------------------


def _claim(auto_claim: bool) -> str:
    return _("Yes, when the customer has the points") if auto_claim else _("No, staff claim it")


def _offer_as_customers_see_it(
    name: str, description: str, cost: int, auto_claim: bool
) -> list[Block]:
    described = escape(description) or _("_No description._")
    return [
        _section(f"*{escape(name)}*\n{described}"),
        SectionBlock(
            fields=[
                _field(f"*{_('Points cost')}*\n{number(cost)}"),
                _field(f"*{_('Auto-claim')}*\n{_claim(auto_claim)}"),
            ]
        ),
    ]


def approval_request(a: Approval, tz: ZoneInfo, ask: Say | None = None) -> Message:
    """The request message in the approvals channel, for each state it goes through.
    `ask`: who decides (the managers group, or the managers), mentioned while it is open."""
    blocks: list[Block] = [
        HeaderBlock(text=_("Publish this offer?") if a.is_open else _("Offer publication")),
        *_offer_as_customers_see_it(a.offer_name, a.description, a.points_cost, a.auto_claim),
        _context(
            _("Requested by {who} · {when} · offer `{id}`").format(
                who=f"<@{a.requested_by}>", when=slack_date(a.requested_at, tz), id=a.offer_id
            )
        ),
    ]
    decided = f"<@{a.decided_by}>" if a.decided_by else _("a manager")
    when = slack_date(a.decided_at, tz) if a.decided_at else ""
    note = _note(a)
    status = {
        "publishing": "⏳ " + _("Publishing…"),
        "published": "✅ "
        + _("*Published* by {who} at {when}. Customers see it on their passes.").format(
            who=decided, when=when
        ),
        "rejected": "❌ " + _("*Rejected* by {who}: {note}").format(who=decided, note=note),
        "stale": "⚠️ " + _("*Not published.* {note}").format(note=note),
        "failed": "⚠️ " + _("*Publishing did not finish:* {note}").format(note=note),
    }.get(a.state)
    if status:
        blocks.append(_section(status))
    asking = ""
    if a.is_open and ask is not None:
        asking = _("{managers}: please approve or reject.").format(managers=mrkdwn(ask))
        blocks.append(_section("🔔 " + asking))
    if a.is_open:
        blocks.append(_approval_buttons(a, BlockId.APPROVAL_ACTIONS))
    text = {"published": _("published"), "rejected": _("rejected")}.get(
        a.state, _("waiting for approval")
    )
    return _message(
        _("Offer “{name}”: {state}").format(name=escape(a.offer_name), state=text)
        + (f". {asking}" if asking else ""),
        blocks,
    )


def _approval_buttons(a: Approval, block_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=_("Approve"),
                action_id=ActionId.APPROVE,
                value=ApprovalRef(approval_id=a.id, once=new_once()).encode(),
                style="primary",
                confirm=ConfirmObject(
                    title=_("Publish to every pass?"),
                    text=_("Every customer will see this offer."),
                    confirm=_("Publish"),
                    deny=_("Not yet"),
                ),
            ),
            ButtonElement(
                text=_("Reject"),
                action_id=ActionId.REJECT,
                value=ApprovalRef(approval_id=a.id, once=new_once()).encode(),
                style="danger",
            ),
        ],
    )


def approval_in_home(a: Approval) -> list[Block]:
    """A waiting request on a manager's Home tab: the offer, who asked, the buttons."""
    link = f"<{a.permalink}|{escape(a.offer_name)}>" if a.permalink else escape(a.offer_name)
    line = _("*{offer}* · {points} · asked by {who}").format(
        offer=link, points=points(a.points_cost), who=f"<@{a.requested_by}>"
    )
    return [_section(line), _approval_buttons(a, f"{BlockId.APPROVAL_ACTIONS}_{a.id}")]


def _request_link(a: Approval) -> str:
    return f"<{a.permalink}|{_('the request')}>" if a.permalink else _("the request")


def publication_requested(a: Approval, channel: str) -> Message:
    """To the person who asked: where the request went, and a link to it."""
    return notice(
        "📨 "
        + _(
            "Asked the managers in {channel} to approve publishing *{offer}*. I will tell you "
            "their answer in a direct message and in the thread of {link}."
        ).format(channel=f"<#{channel}>", offer=escape(a.offer_name), link=_request_link(a))
    )


def rejection_sent(a: Approval) -> Message:
    """To the manager who rejected: where the requester is told why (a DM too, unless they
    rejected their own request: handlers.approvals.show_decision)."""
    if a.decided_by == a.requested_by:
        return notice("❌ " + _("Rejected. The request's thread says why."))
    return notice(
        "❌ "
        + _("Rejected. {who} is told why in a direct message and in the request's thread.").format(
            who=f"<@{a.requested_by}>"
        )
    )


def approval_outcome_for_requester(a: Approval) -> Message:
    """In the request's thread, mentioning the requester."""
    values = {
        "who": f"<@{a.requested_by}>",
        "offer": escape(a.offer_name),
        "by": f"<@{a.decided_by}>",
        "note": _note(a),
    }
    if a.state == "published":
        text = _("{who} “{offer}” was approved by {by} and is now published.")
    elif a.state == "rejected":
        text = _("{who} publishing “{offer}” was rejected by {by}: {note}")
    else:
        text = _("{who} “{offer}” was not published: {note}")
    return notice(text.format(**values))


def approval_outcome_dm(a: Approval) -> Message:
    """To the requester, in a DM: how their publication request ended, and what now."""
    values = {
        "offer": escape(a.offer_name),
        "by": f"<@{a.decided_by}>" if a.decided_by else _("a manager"),
        "note": _note(a),
        "request": _request_link(a),
        "edit": f"`/loyalty {_('offer')} {_('edit')} {a.offer_id}`",
        "card": f"`/loyalty {_('offer')} {a.offer_id}`",
    }
    if a.state == "published":
        text = "✅ " + _("“{offer}” was approved by {by} and is published: customers see it now.")
    elif a.state == "rejected":
        text = "❌ " + _(
            "Publishing “{offer}” was rejected by {by}: {note}\nFix the offer ({edit}) and ask "
            "again when it is ready."
        )
    elif a.state == "failed":
        text = "⚠️ " + _(
            "Publishing “{offer}” was approved by {by} but did not finish: {note}\nIt is not "
            "published yet. A manager can press *Approve* again on {request}."
        )
    else:
        text = "⚠️ " + _(
            "“{offer}” was not published: {note}\nCheck the offer ({card}) and ask again if it "
            "should be published."
        )
    return notice(text.format(**values))


def approvals_list(pending: Sequence[Approval], tz: ZoneInfo) -> Message:
    if not pending:
        return notice(_("No offer is waiting for publication approval."))
    lines = []
    for a in pending:
        link = (
            f"<{a.permalink}|{escape(a.offer_name)}>"
            if a.permalink
            else f"*{escape(a.offer_name)}*"
        )
        failed = " · " + _("_last attempt failed_") if a.state == "failed" else ""
        lines.append(
            _("{offer} · asked by {who} {when}").format(
                offer=link, who=f"<@{a.requested_by}>", when=slack_date(a.requested_at, tz)
            )
            + failed
        )
    title = ngettext(
        "{count} offer waiting for approval", "{count} offers waiting for approval", len(pending)
    ).format(count=number(len(pending)))
    blocks: list[Block] = [_section(f"*{title}*"), *_chunked_sections(lines)]
    return _message(title, blocks)


def _note(a: Approval) -> str:
    """Why it closed or failed: the bot's own note in the reader's words (older requests:
    its English); a rejection's reason as the manager typed it."""
    return mrkdwn(a.note_said) if a.note_said is not None else escape(a.note)
