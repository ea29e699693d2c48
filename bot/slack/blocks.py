"""Every Block Kit message the bot sends, built with slack_sdk.models.blocks.

Customer-supplied text (names, emails, reasons) always goes through `escape()` so a
customer called `<!channel>` pings nobody: in the blocks and in the message's `text`.
Messages stay within Slack's limits whatever the text: at most 50 blocks, and every text
is cut to its limit after escaping (`fit`), never through an entity or a mention.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.audit import POINTS_ACTIONS, Action, AuditEntry, Changes, Outcome, Resolved
from bot.core.lookup import fold
from bot.core.phones import international
from bot.core.policy import Act
from bot.core.records import Approval
from bot.core.say import Say
from bot.core.service import TOP_WORDS, CustomerPage, PointsResult
from bot.core.summary import Summary, arrow, sparkline
from bot.slack.ids import (
    ActionId,
    ApprovalRef,
    BlockId,
    Confirm,
    CustomerRef,
    CustomersPage,
    OfferRef,
    OffersPage,
    PickerPage,
    RerunCommand,
    new_once,
)
from bot.slack.text import escape, fit, mrkdwn, shorten
from bot.smartpasses.models import Customer, Offer

MAX_BLOCKS = 50
MAX_SECTION = 3000  # a section's or context element's text
MAX_FIELD = 2000  # a section field's text
MAX_TEXT = 3000  # a message's top-level text (the notification): Slack allows more
MAX_PICKER = 10


@dataclass(frozen=True)
class Message:
    """What to send: `text` (notifications, fallback) and `blocks`, both mrkdwn."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def _message(text: str, blocks: Sequence[Block]) -> Message:
    """`text` is ours, with any outside text in it already escaped."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks is over Slack's limit of {MAX_BLOCKS}")
    return Message(text=fit(text, MAX_TEXT), blocks=[b.to_dict() for b in blocks])


def plain(text: str, limit: int = 150) -> str:
    """Untrusted text for plain_text fields (buttons, headers): no escaping needed, just
    length, and never empty (Slack refuses an empty text)."""
    return shorten(text, limit) or "—"


def slack_date(moment: dt.datetime, tz: ZoneInfo) -> str:
    """A date Slack shows in each reader's own time zone, with a fallback in ours."""
    fallback = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, MAX_SECTION)), **kwargs)


def _field(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=fit(text, MAX_FIELD))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(text, MAX_SECTION))])


def _chunked_sections(lines: Iterable[str]) -> list[SectionBlock]:
    """Pack lines into as few sections as fit under the 3,000-character limit."""
    sections: list[SectionBlock] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = fit(line, MAX_SECTION - 1)
        if current and size + len(line) + 1 > MAX_SECTION:
            sections.append(_section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def points(n: int) -> str:
    return f"{n:,} point" + ("" if abs(n) == 1 else "s")


# -- simple replies ------------------------------------------------------------


def saved(message: Message, text: str, remarks: Sequence[Say] = ()) -> Message:
    """A card shown after a form saved it: `text` (ours, escaped) as the notification,
    and whatever the person should also know below the card."""
    notes = [_context(mrkdwn(remark)).to_dict() for remark in remarks]
    return Message(text=fit(text, MAX_TEXT), blocks=[*message.blocks, *notes][:MAX_BLOCKS])


def notice(text: str) -> Message:
    """A one-paragraph reply; `text` is ours (already escaped where needed)."""
    return _message(text, [_section(text)])


_CUSTOMER_IS = (
    '`<customer>` is an id, email, phone, name (`"quoted full name"` for an exact match) '
    "or a Slack @mention."
)


def help_message(briefs: Sequence[tuple[str, str]]) -> Message:
    """The short help, one line per subcommand: (name, what it does in a few words)."""
    lines = [f"`/loyalty {name}` · {brief}" for name, brief in briefs]
    blocks: list[Block] = [
        HeaderBlock(text="Loyalty bot: what you can ask"),
        *_chunked_sections(lines),
        _context(f"`/loyalty help <subcommand>` gives its details and examples. {_CUSTOMER_IS}"),
    ]
    return _message("Loyalty bot help", blocks)


def help_detail(name: str, usages: Sequence[tuple[str, str, Sequence[str]]]) -> Message:
    """`help <subcommand>`: each form of use, what it does, and examples."""
    lines = [
        f"*`/loyalty {usage}`*\n{summary}" + "".join(f"\n>`/loyalty {e}`" for e in examples)
        for usage, summary, examples in usages
    ]
    blocks: list[Block] = [
        HeaderBlock(text=f"/loyalty {name}"),
        *_chunked_sections(lines),
        _context(_CUSTOMER_IS),
    ]
    return _message(f"/loyalty {name}", blocks)


# -- customers -------------------------------------------------------------------


def customer_line(c: Customer) -> str:
    return f"*{escape(c.display_name)}* · {points(c.points)} · `{c.id}`"


def customer_card(c: Customer, allows: Callable[[Act], bool]) -> Message:
    """The card, with the buttons the viewer may use (`allows`, from the policy)."""
    fields = [
        _field(f"*Email*\n{escape(c.email) or '—'}"),
        _field(f"*Phone*\n{escape(international(c.phone)) or '—'}"),
        _field(f"*Points*\n{c.points:,}"),
        _field(f"*Id*\n`{c.id}`"),
    ]
    ref = CustomerRef(customer_id=c.id).encode()
    buttons = []
    if allows(Act.ADD_POINTS):
        buttons.append(
            ButtonElement(
                text="Change points" if allows(Act.CHANGE_POINTS) else "Add points",
                action_id=ActionId.CUSTOMER_POINTS,
                value=ref,
                style="primary",
            )
        )
    if allows(Act.REDEEM):
        buttons.append(ButtonElement(text="Redeem", action_id=ActionId.CUSTOMER_REDEEM, value=ref))
    if allows(Act.EDIT_CUSTOMER):
        buttons.append(ButtonElement(text="Edit", action_id=ActionId.CUSTOMER_EDIT, value=ref))
    buttons.append(ButtonElement(text="History", action_id=ActionId.CUSTOMER_HISTORY, value=ref))
    if allows(Act.DELETE_CUSTOMER):
        buttons.append(
            ButtonElement(
                text="Delete", action_id=ActionId.CUSTOMER_DELETE, value=ref, style="danger"
            )
        )
    blocks: list[Block] = [
        HeaderBlock(text=plain(c.display_name)),
        SectionBlock(fields=fields),
        ActionsBlock(block_id=BlockId.CUSTOMER_ACTIONS, elements=buttons),
    ]
    return _message(f"{escape(c.display_name)}: {points(c.points)}", blocks)


def customer_picker(
    query: str,
    matches: Sequence[Customer],
    command: str,
    rest: str,
    *,
    page: int = 1,
    once: str = "",
) -> Message:
    """Several customers match: one button each; picking one carries on `command`."""
    choices = []
    for c in matches:
        detail = " · ".join(escape(x) for x in (c.email, international(c.phone)) if x)
        choices.append((c.id, customer_line(c) + (f"\n{detail}" if detail else "")))
    hint = 'An email, phone or `"full name"` narrows it down.'
    return _picker(query, "customer", choices, command, rest, hint, page, once)


def _picker(
    query: str,
    kind: str,
    choices: Sequence[tuple[int, str]],
    command: str,
    rest: str,
    hint: str,
    page: int = 1,
    once: str = "",
) -> Message:
    """A page of Choose buttons, with the total and a way forward and back (each page
    looks the matches up again; every Choose of one picker shares one one-time key)."""
    once = once or new_once()
    pages = max(1, -(-len(choices) // MAX_PICKER))
    page = min(max(1, page), pages)
    start = (page - 1) * MAX_PICKER
    shown = choices[start : start + MAX_PICKER]
    noun = f"{kind}s"
    showing = f", showing {start + 1:,}–{start + len(shown):,}" if pages > 1 else ""
    blocks: list[Block] = [
        _section(
            f"{len(choices):,} {noun} match “{escape(query)}”{showing}. Which one did you "
            "mean? Nothing has been changed yet."
        )
    ]
    for target_id, line in shown:
        blocks.append(
            _section(
                line,
                accessory=ButtonElement(
                    text="Choose",
                    action_id=f"{ActionId.PICK}_{target_id}",
                    value=RerunCommand.carrying(command, target_id, rest, once).encode(),
                ),
            )
        )
    if pages > 1:

        def to(number: int, label: str) -> ButtonElement:
            value = PickerPage.carrying(
                kind=kind, query=query, command=command, rest=rest, page=number, once=once
            )
            return ButtonElement(
                text=label, action_id=f"{ActionId.PICKER_PAGE}_{label}", value=value.encode()
            )

        blocks.append(ActionsBlock(block_id=BlockId.PAGER, elements=_pager(page, pages, to)))
        blocks.append(_context(f"Page {page:,} of {pages:,}. {hint}"))
    return _message(f"{len(choices)} {noun} match “{escape(query)}”", blocks)


def _pager(page: int, pages: int, to: Callable[[int, str], ButtonElement]) -> list[ButtonElement]:
    """First / Previous / More / Last, as far as there is somewhere to go."""
    buttons = []
    if page > 2:
        buttons.append(to(1, "First"))
    if page > 1:
        buttons.append(to(page - 1, "Previous"))
    if page < pages:
        buttons.append(to(page + 1, "More"))
    if page < pages - 1:
        buttons.append(to(pages, "Last"))
    return buttons


def customer_list(page: CustomerPage) -> Message:
    """A page of customers, each with an Open button for the card; a way forward and back."""
    if page.query and fold(page.query) in TOP_WORDS:
        title = "Customers by points"
    elif page.query:
        title = f"Customers matching “{escape(page.query)}”"
    else:
        title = "Customers"
    if page.total == 0:
        return notice(
            f"{title}: none. Try a part of the name, of the email, or 4 digits of the phone."
        )
    first, last = page.first_number, page.first_number + len(page.customers) - 1
    blocks: list[Block] = [
        _section(f"*{title}*: {page.total:,} in all, showing {first:,}–{last:,}")
    ]
    for c in page.customers:
        blocks.append(
            _section(
                customer_line(c),
                accessory=ButtonElement(
                    text="Open",
                    action_id=f"{ActionId.CUSTOMER_OPEN}_{c.id}",
                    value=CustomerRef(customer_id=c.id).encode(),
                ),
            )
        )

    def to(number: int, label: str) -> ButtonElement:
        return ButtonElement(
            text=label,
            action_id=f"{ActionId.CUSTOMERS_PAGE}_{label}",
            value=CustomersPage(query=page.query, page=number).encode(),
        )

    if page.pages > 1:
        blocks.append(
            ActionsBlock(block_id=BlockId.PAGER, elements=_pager(page.page, page.pages, to))
        )
        blocks.append(_context(f"Page {page.page:,} of {page.pages:,}."))
    return _message(f"{page.total} customers", blocks)


# -- points ------------------------------------------------------------------------


def points_changed(result: PointsResult, *, undo_minutes: int | None = None) -> Message:
    c = result.customer
    name = escape(c.display_name)
    text = f"*{name}*: {result.before:,} → *{result.after:,}* points ({result.delta:+,})"
    if result.reason:
        text += f"\n_Reason:_ {escape(result.reason)}"
    blocks: list[Block] = [_section("✅ " + text)]
    blocks += [_context(mrkdwn(remark)) for remark in result.remarks]
    if undo_minutes:
        blocks.append(_context(f"Made a mistake? `/loyalty undo` within {undo_minutes} minutes."))
    return _message(f"{name}: {result.before:,} → {result.after:,} points", blocks)


def redeemed(result: PointsResult) -> Message:
    """A reward redeemed: what it cost and the balance left."""
    name = escape(result.customer.display_name)
    offer = escape(result.reason)
    text = (
        f"🎁 *{offer}* redeemed for *{name}*: {result.before:,} → *{result.after:,}* points "
        f"({result.delta:+,})"
    )
    blocks: list[Block] = [_section(text)]
    blocks += [_context(mrkdwn(remark)) for remark in result.remarks]
    return _message(f"{offer} redeemed for {name}: {result.after:,} points left", blocks)


def undone(result: PointsResult) -> Message:
    """`/loyalty undo`: the balance is back where it was."""
    name = escape(result.customer.display_name)
    lines = [
        f"↩️ Undone: *{name}* is back to {points(result.after)} (was {result.before:,}).",
        *map(mrkdwn, result.remarks),
    ]
    return notice("\n".join(lines))


# -- what the audit log says: history lines and the audit channel ----------------------

_VERBS: dict[str, str] = {
    Action.POINTS_ADD: "added points",
    Action.POINTS_DEDUCT: "deducted points",
    Action.POINTS_SET: "set points",
    Action.POINTS_UNDO: "undid a change",
    Action.POINTS_REDEEM: "redeemed a reward",
    Action.CUSTOMER_CREATE: "created customer",
    Action.CUSTOMER_UPDATE: "edited customer",
    Action.CUSTOMER_DELETE: "deleted customer",
    Action.OFFER_CREATE: "drafted offer",
    Action.OFFER_UPDATE: "edited offer",
    Action.OFFER_DELETE: "deleted offer",
    Action.OFFER_CANCEL: "canceled offer",
    Action.OFFER_PUBLISH: "published offer",
    Action.PUBLISH_REQUEST: "asked to publish offer",
    Action.PUBLISH_APPROVE: "approved publishing offer",
    Action.PUBLISH_REJECT: "rejected publishing offer",
    Action.REFUSED: "was refused",
}
_FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "points_cost": "points cost",
    "auto_claim": "auto-claim",
}
_OUTCOME_NOTES: dict[str, str] = {
    Outcome.PENDING: " · ⏳ _not confirmed yet: it is being checked_",
    Outcome.REFUSED: " · *refused*",
    Outcome.FAILED: " · *not applied*",
    Outcome.UNKNOWN: " · *⚠️ could not tell whether it was applied*",
}
_RESOLVED_NOTES: dict[str, str] = {
    Resolved.CHECKED: " · _confirmed by checking_",
    Resolved.RECONCILED: " · _confirmed later_",
}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return shorten(escape(str(value)), 80)


def field_changes_text(changes: Changes, action: str = "") -> str:
    """`points cost 10 → 0, auto-claim no → yes` (a create lists the values it set)."""
    parts = []
    for name, (before, after) in sorted(changes.items()):
        label = _FIELD_LABELS.get(name, name.replace("_", " "))
        if action.endswith(".create"):
            parts.append(f"{label} {_shown(after)}")
        elif after is None and action.endswith(".delete"):
            parts.append(f"{label} {_shown(before)}")
        else:
            parts.append(f"{label} {_shown(before)} → {_shown(after)}")
    return ", ".join(parts)


def describe(e: AuditEntry, *, name_target: bool = True) -> str:
    """One change as the audit log has it: what was done, to what, and each field."""
    verb = _VERBS.get(e.action, e.action)  # StrEnum keys: a stored string finds its member
    reason = e.reason
    if e.action == Action.POINTS_REDEEM and reason:  # the reason is the offer's name
        verb, reason = f"redeemed “{escape(shorten(reason, 80))}”", ""
    if e.action in POINTS_ACTIONS:
        if e.before is not None and e.after is not None:
            change = f"{e.before:,} → {e.after:,} ({e.after - e.before:+,})"
        elif e.before is not None:
            change = (
                f"from {e.before:,} ({e.requested} asked)" if e.requested else f"from {e.before:,}"
            )
        else:
            change = ""
        target = f" for *{escape(e.target_name)}* (`{e.target_id}`)" if name_target else ""
        text = f"{verb}{target}: {change}" if name_target else f"{verb} {change}"
    else:
        text = verb
        if name_target and e.target_name:
            text += f" *{escape(e.target_name)}*"
        if name_target and e.target_id is not None:
            text += f" (`{e.target_id}`)"
        if e.changes:
            text += ": " + field_changes_text(e.changes, e.action)
    text += _OUTCOME_NOTES.get(e.outcome, "")
    text += _RESOLVED_NOTES.get(e.resolved, "") if e.outcome == Outcome.OK else ""
    if e.undone_at:
        text += " · _undone_"
    if reason:
        text += f" · {escape(reason)}"
    if e.outcome != Outcome.OK and e.detail and e.outcome != Outcome.PENDING:
        text += f" · {escape(e.detail)}"
    return text.strip()


def change_announcement(e: AuditEntry) -> Message:
    """The audit channel's post for one completed change."""
    text = f"<@{e.user_id}> {describe(e)}"
    return _message(text, [_section(text)])


def _history_line(e: AuditEntry, tz: ZoneInfo) -> str:
    return f"{slack_date(e.at, tz)} · <@{e.user_id}> {describe(e, name_target=False)}"


def history(c: Customer, entries: Sequence[AuditEntry], tz: ZoneInfo) -> Message:
    if not entries:
        return notice(
            f"No changes to *{escape(c.display_name)}* have been made through the bot yet."
        )
    blocks: list[Block] = [
        _section(
            f"*Recent changes to {escape(c.display_name)}* (`{c.id}`, now {points(c.points)})"
        ),
        *_chunked_sections(_history_line(e, tz) for e in entries),
        _context("Only changes made through this bot are listed."),
    ]
    return _message(f"History of {escape(c.display_name)}", blocks)


# -- offers ------------------------------------------------------------------------


def offer_line(o: Offer) -> str:
    claim = "auto-claim" if o.auto_claim else "claimed by staff"
    return f"*{escape(o.name) or '(no name)'}* · {points(o.points_cost)} · {claim} · _{escape(o.status)}_ · `{o.id}`"


OFFERS_PER_PAGE = 20


def offer_list(offers: Sequence[Offer], status: str | None, page: int = 1) -> Message:
    """A page of offers, each with an Open button; never silently cut."""
    label = f"{status.lower()} offers" if status else "offers"
    if not offers:
        return notice(f"No {label} in the program.")
    pages = max(1, -(-len(offers) // OFFERS_PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * OFFERS_PER_PAGE
    shown = offers[start : start + OFFERS_PER_PAGE]
    showing = f", showing {start + 1:,}–{start + len(shown):,}" if pages > 1 else ""
    blocks: list[Block] = [_section(f"*{len(offers):,} {label}*{showing}")]
    for o in shown:
        blocks.append(
            _section(
                offer_line(o),
                accessory=ButtonElement(
                    text="Open",
                    action_id=f"{ActionId.OFFER_OPEN}_{o.id}",
                    value=OfferRef(offer_id=o.id).encode(),
                ),
            )
        )

    def to(number: int, text: str) -> ButtonElement:
        return ButtonElement(
            text=text,
            action_id=f"{ActionId.OFFERS_PAGE}_{text}",
            value=OffersPage(status=status or "", page=number).encode(),
        )

    if pages > 1:
        blocks.append(ActionsBlock(block_id=BlockId.PAGER, elements=_pager(page, pages, to)))
        blocks.append(_context(f"Page {page:,} of {pages:,}."))
    return _message(f"{len(offers)} {label}", blocks)


def offer_card(o: Offer, allows: Callable[[Act], bool]) -> Message:
    """The card, with the buttons the viewer may use on an offer in this status."""
    claim = "Yes, when the customer has the points" if o.auto_claim else "No, staff claim it"
    fields = [
        _field(f"*Points cost*\n{o.points_cost:,}"),
        _field(f"*Auto-claim*\n{claim}"),
        _field(f"*Status*\n{escape(o.status)}"),
        _field(f"*Id*\n`{o.id}`"),
    ]
    ref = OfferRef(offer_id=o.id).encode()
    actions = []
    if o.is_draft and allows(Act.REQUEST_PUBLICATION):
        actions.append(
            ButtonElement(
                text="Request publication",
                style="primary",
                action_id=ActionId.OFFER_PUBLISH,
                value=OfferRef(offer_id=o.id, once=new_once()).encode(),
            )
        )
    editable = Act.EDIT_DRAFT_OFFER if o.is_draft else Act.EDIT_LIVE_OFFER
    if not o.is_canceled and allows(editable):
        actions.append(ButtonElement(text="Edit", action_id=ActionId.OFFER_EDIT, value=ref))
    if o.is_draft and allows(Act.DELETE_OFFER):
        actions.append(
            ButtonElement(text="Delete", action_id=ActionId.OFFER_DELETE, value=ref, style="danger")
        )
    if o.is_published and allows(Act.CANCEL_OFFER):
        actions.append(
            ButtonElement(
                text="Cancel offer", action_id=ActionId.OFFER_CANCEL, value=ref, style="danger"
            )
        )
    blocks: list[Block] = [
        HeaderBlock(text=plain(o.name or "(no name)")),
        _section(escape(o.description) or "_No description._"),
        SectionBlock(fields=fields),
    ]
    if actions:
        blocks.append(ActionsBlock(block_id=BlockId.OFFER_ACTIONS, elements=actions))
    return _message(f"Offer {escape(o.name)}: {points(o.points_cost)}, {escape(o.status)}", blocks)


def offer_picker(
    query: str,
    matches: Sequence[Offer],
    command: str,
    rest: str = "",
    *,
    page: int = 1,
    once: str = "",
) -> Message:
    choices = [(o.id, offer_line(o)) for o in matches]
    return _picker(query, "offer", choices, command, rest, "The offer's id is exact.", page, once)


# -- confirmations ---------------------------------------------------------------------

_ACTS: dict[str, tuple[str, str]] = {
    Action.CUSTOMER_DELETE: ("Delete customer", "deleted"),
    Action.OFFER_DELETE: ("Delete offer", "deleted"),
    Action.OFFER_CANCEL: ("Cancel offer", "canceled"),
}


def consequences(kind: str, record: Customer | Offer) -> str:
    """What deleting or canceling `record` does, said before the person confirms."""
    if isinstance(record, Customer):
        label = f"*{escape(record.display_name)}* (`{record.id}`)"
        return (
            f"This permanently deletes the customer {label}, who has "
            f"{points(record.points)}. Their wallet pass stops working and the points are lost."
        )
    label = f"*{escape(record.name)}* (`{record.id}`)"
    if kind == Action.OFFER_DELETE:
        return (
            f"This deletes the draft offer {label} ({points(record.points_cost)}). "
            "It was never published, so no customer sees it."
        )
    return (
        f"This cancels the published offer {label} ({points(record.points_cost)}): "
        "it disappears from every customer's wallet pass."
    )


def confirmation(kind: str, token: str, what_happens: str) -> Message:
    """What will happen, and a button that names the act (plus Slack's confirm dialog)."""
    act, _ = _ACTS[kind]
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
                        title="Are you sure?",
                        text="This cannot be undone.",
                        confirm=act,
                        deny="Keep it",
                        style="danger",
                    ),
                ),
                ButtonElement(text="Never mind", action_id=ActionId.DISMISS, value=token),
            ],
        ),
    ]
    return _message(f"{act}?", blocks)


def confirmed(kind: str, name: str, user_id: str, remarks: Sequence[Say] = ()) -> Message:
    _, done = _ACTS[kind]
    lines = [f"✅ *{escape(name)}* was {done} by <@{user_id}>.", *map(mrkdwn, remarks)]
    return notice("\n".join(lines))


# -- publication approvals ----------------------------------------------------------------


def _offer_as_customers_see_it(
    name: str, description: str, cost: int, auto_claim: bool
) -> list[Block]:
    claim = "Yes, when the customer has the points" if auto_claim else "No, staff claim it"
    return [
        _section(f"*{escape(name)}*\n{escape(description) or '_No description._'}"),
        SectionBlock(fields=[_field(f"*Points cost*\n{cost:,}"), _field(f"*Auto-claim*\n{claim}")]),
    ]


def approval_request(a: Approval, tz: ZoneInfo, ask: Say | None = None) -> Message:
    """The request message in the approvals channel, for each state it goes through.
    `ask`: who decides (the managers group, or the managers), mentioned while it is open."""
    blocks: list[Block] = [
        HeaderBlock(text="Publish this offer?" if a.is_open else "Offer publication"),
        *_offer_as_customers_see_it(a.offer_name, a.description, a.points_cost, a.auto_claim),
        _context(
            f"Requested by <@{a.requested_by}> · {slack_date(a.requested_at, tz)} · "
            f"offer `{a.offer_id}`"
        ),
    ]
    decided = f"<@{a.decided_by}>" if a.decided_by else "a manager"
    when = slack_date(a.decided_at, tz) if a.decided_at else ""
    status = {
        "publishing": "⏳ Publishing…",
        "published": f"✅ *Published* by {decided} at {when}. Customers see it on their passes.",
        "rejected": f"❌ *Rejected* by {decided}: {escape(a.note)}",
        "stale": f"⚠️ *Not published.* {escape(a.note)}",
        "failed": f"⚠️ *Publishing did not finish:* {escape(a.note)}",
    }.get(a.state)
    if status:
        blocks.append(_section(status))
    asking = ""
    if a.is_open and ask is not None:
        asking = f"{mrkdwn(ask)}: please approve or reject."
        blocks.append(_section("🔔 " + asking))
    if a.is_open:
        blocks.append(_approval_buttons(a, BlockId.APPROVAL_ACTIONS))
    text = {"published": "published", "rejected": "rejected"}.get(a.state, "waiting for approval")
    return _message(
        f"Offer “{escape(a.offer_name)}”: {text}" + (f". {asking}" if asking else ""), blocks
    )


def _approval_buttons(a: Approval, block_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text="Approve",
                action_id=ActionId.APPROVE,
                value=ApprovalRef(approval_id=a.id, once=new_once()).encode(),
                style="primary",
                confirm=ConfirmObject(
                    title="Publish to every pass?",
                    text="Every customer will see this offer.",
                    confirm="Publish",
                    deny="Not yet",
                ),
            ),
            ButtonElement(
                text="Reject",
                action_id=ActionId.REJECT,
                value=ApprovalRef(approval_id=a.id, once=new_once()).encode(),
                style="danger",
            ),
        ],
    )


def approval_in_home(a: Approval) -> list[Block]:
    """A waiting request on a manager's Home tab: the offer, who asked, the buttons."""
    link = f"<{a.permalink}|{escape(a.offer_name)}>" if a.permalink else escape(a.offer_name)
    line = f"*{link}* · {points(a.points_cost)} · asked by <@{a.requested_by}>"
    return [_section(line), _approval_buttons(a, f"{BlockId.APPROVAL_ACTIONS}_{a.id}")]


def publication_requested(a: Approval, channel: str) -> Message:
    """To the person who asked: where the request went, and a link to it."""
    link = f"<{a.permalink}|the request>" if a.permalink else "the request"
    return notice(
        f"📨 Asked the managers in <#{channel}> to approve publishing "
        f"*{escape(a.offer_name)}*. You will hear back here: see {link}."
    )


def rejection_sent(a: Approval) -> Message:
    """To the manager who rejected: the requester is told why."""
    return notice(f"❌ Rejected. <@{a.requested_by}> is told why in the request's thread.")


def approval_outcome_for_requester(a: Approval) -> Message:
    if a.state == "published":
        text = f"<@{a.requested_by}> “{escape(a.offer_name)}” was approved by <@{a.decided_by}> and is now published."
    elif a.state == "rejected":
        text = f"<@{a.requested_by}> publishing “{escape(a.offer_name)}” was rejected by <@{a.decided_by}>: {escape(a.note)}"
    else:
        text = f"<@{a.requested_by}> “{escape(a.offer_name)}” was not published: {escape(a.note)}"
    return notice(text)


def approval_outcome_dm(a: Approval) -> Message:
    """To the requester, in a DM: how their publication request ended, and what now."""
    name = escape(a.offer_name)
    by = f"<@{a.decided_by}>" if a.decided_by else "a manager"
    request = f"<{a.permalink}|the request>" if a.permalink else "the request"
    if a.state == "published":
        text = f"✅ “{name}” was approved by {by} and is published: customers see it now."
    elif a.state == "rejected":
        text = (
            f"❌ Publishing “{name}” was rejected by {by}: {escape(a.note)}\nFix the offer "
            f"(`/loyalty offer edit {a.offer_id}`) and ask again when it is ready."
        )
    elif a.state == "failed":
        text = (
            f"⚠️ Publishing “{name}” was approved by {by} but did not finish: {escape(a.note)}"
            f"\nIt is not published yet. A manager can press *Approve* again on {request}."
        )
    else:
        text = (
            f"⚠️ “{name}” was not published: {escape(a.note)}\nCheck the offer "
            f"(`/loyalty offer {a.offer_id}`) and ask again if it should be published."
        )
    return notice(text)


def approvals_list(pending: Sequence[Approval], tz: ZoneInfo) -> Message:
    if not pending:
        return notice("No offer is waiting for publication approval.")
    lines = []
    for a in pending:
        link = (
            f"<{a.permalink}|{escape(a.offer_name)}>"
            if a.permalink
            else f"*{escape(a.offer_name)}*"
        )
        failed = " · _last attempt failed_" if a.state == "failed" else ""
        lines.append(
            f"{link} · asked by <@{a.requested_by}> {slack_date(a.requested_at, tz)}{failed}"
        )
    blocks: list[Block] = [
        _section(f"*{len(pending)} offer(s) waiting for approval*"),
        *_chunked_sections(lines),
    ]
    return _message(f"{len(pending)} offers waiting for approval", blocks)


# -- the daily summary ------------------------------------------------------------------


def summary_message(s: Summary, tz: ZoneInfo) -> Message:
    since = f" since {s.previous_day}" if s.previous_day else ""
    new = (
        f"{s.new_customers:,} new{since}"
        if s.new_customers is not None
        else "first summary: nothing to compare yet"
    )
    headline = [
        _field(f"*Customers*\n{s.customers:,} {arrow(s.customers_change)}\n{new}"),
        _field(
            f"*Points outstanding*\n{s.points_outstanding:,} {arrow(s.net_change)}\n"
            + (f"net change of all balances{since}" if s.net_change is not None else "")
        ),
        _field(
            f"*Added via the bot, 24 h*\n{s.points_added_24h:,} "
            f"{arrow(s.points_added_24h - s.points_added_prior_24h)}"
        ),
        _field(
            f"*Deducted via the bot, 24 h*\n{s.points_deducted_24h:,} "
            f"{arrow(s.points_deducted_24h - s.points_deducted_prior_24h)}"
        ),
    ]
    trend_values = [v for _, v in s.trend]
    trend = (
        f"`{sparkline(trend_values)}` points added per day, "
        f"{s.trend[0][0]:%a %d} → {s.trend[-1][0]:%a %d}: "
        + ", ".join(f"{v:,}" for v in trend_values)
    )
    top = [f"{i}. {customer_line(c)}" for i, c in enumerate(s.top_customers, 1)] or [
        "No customers yet."
    ]
    staff = [
        f"<@{t.user_id}> · {t.changes} change{'s' if t.changes != 1 else ''} · "
        f"+{t.added:,} / −{t.deducted:,}"
        for t in s.staff
    ] or ["No points changes via the bot."]
    offers = (
        " · ".join(f"{escape(status)}: {n}" for status, n in s.offers_by_status.items())
        or "No offers."
    )
    events = [
        f"{'Published' if e.action == 'offer.publish' else 'Canceled'}: "
        f"*{escape(e.target_name)}* by <@{e.user_id}>"
        for e in s.offer_events
    ]
    pending = [
        f"<{a.permalink}|{escape(a.offer_name)}> (asked by <@{a.requested_by}>)"
        if a.permalink
        else f"*{escape(a.offer_name)}* (asked by <@{a.requested_by}>)"
        for a in s.pending
    ]
    rewards, redeemed = s.redeemed_today
    blocks: list[Block] = [
        HeaderBlock(text=f"Loyalty summary · {s.day:%a %d %b %Y}"),
        SectionBlock(fields=headline),
        _context(trend),
        _context(
            f"Redeemed today: {rewards:,} reward{'s' if rewards != 1 else ''}, {redeemed:,} points"
        ),
        DividerBlock(),
        *_chunked_sections(["*Top customers by points*", *top]),
        *_chunked_sections(["*Who changed points most (24 h)*", *staff]),
        *_chunked_sections([f"*Offers* · {offers}", *events]),
    ]
    if pending:
        blocks += _chunked_sections(
            [f"*Waiting for publication approval ({len(pending)})*", *pending[:20]]
        )
    blocks.append(
        _context(
            f"Generated {slack_date(s.generated_at, tz)} · `/loyalty summary` shows it any time."
        )
    )
    return _message(
        f"Loyalty summary for {s.day:%d %b}: {s.customers:,} customers, "
        f"{s.points_outstanding:,} points outstanding",
        blocks,
    )
