"""Every Block Kit message the bot sends, built with slack_sdk.models.blocks.

Customer-supplied text (names, emails, reasons) always goes through `escape()` so a
customer called `<!channel>` pings nobody: in the blocks and in the message's `text`.
Messages stay within Slack's limits whatever the text: at most 50 blocks, and every text
is cut to its limit after escaping (`fit`), never through an entity or a mention.
"""

from __future__ import annotations

import datetime as dt
import re
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

from bot.core.service import TOP_WORDS, CustomerPage, PointsResult
from bot.core.summary import Summary, sparkline
from bot.core.summary import arrow as _moved
from bot.core.verify import Difference
from bot.domain.audit import POINTS_ACTIONS, Action, AuditEntry, Changes, Outcome, Resolved
from bot.domain.phones import international
from bot.domain.policy import Act
from bot.domain.records import Approval
from bot.domain.say import Say
from bot.domain.text_keys import fold
from bot.i18n import N_, _, day, ngettext, number
from bot.slack.ids import (
    ActionId,
    ApprovalRef,
    BlockId,
    ButtonValue,
    Confirm,
    CustomerRef,
    CustomersPage,
    OfferRef,
    OffersPage,
    PickerPage,
    RerunCommand,
    RerunText,
    new_once,
)
from bot.slack.text import escape, fit, mrkdwn, shorten
from bot.smartpasses.models import Customer, Offer

# Our words written inside f-strings (where the catalog extractor cannot see them).
_IN_FSTRINGS = (
    N_("no change"),
    N_("Email"),
    N_("Phone"),
    N_("Points"),
    N_("Id"),
    N_("Points cost"),
    N_("Auto-claim"),
    N_("Status"),
    N_("the request"),
    N_("offer"),
    N_("edit"),
    N_("Customers"),
    N_("Points outstanding"),
    N_("Added via the bot, 24 h"),
    N_("Deducted via the bot, 24 h"),
    N_("Top customers by points"),
    N_("Who changed points most (24 h)"),
    N_("Offers"),
)


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
    return ngettext("{n} point", "{n} points", abs(n)).format(n=number(n))


# -- simple replies ------------------------------------------------------------


def saved(message: Message, text: str, remarks: Sequence[Say] = ()) -> Message:
    """A card shown after a form saved it: `text` (ours, escaped) as the notification,
    and whatever the person should also know below the card."""
    notes = [_context(mrkdwn(remark)).to_dict() for remark in remarks]
    return Message(text=fit(text, MAX_TEXT), blocks=[*message.blocks, *notes][:MAX_BLOCKS])


def notice(text: str) -> Message:
    """A one-paragraph reply; `text` is ours (already escaped where needed)."""
    return _message(text, [_section(text)])


_CUSTOMER_IS = N_(
    '`<customer>` is an id, email, phone, name (`"quoted full name"` for an exact match) '
    "or a Slack @mention."
)


def help_message(briefs: Sequence[tuple[str, str]]) -> Message:
    """The short help, one line per subcommand: (name, what it does in a few words)."""
    lines = [f"`/loyalty {name}` · {brief}" for name, brief in briefs]
    blocks: list[Block] = [
        HeaderBlock(text=_("Loyalty bot: what you can ask")),
        *_chunked_sections(lines),
        _context(
            _("`/loyalty {help} <subcommand>` gives its details and examples.").format(
                help=_("help")
            )
            + " "
            + _(_CUSTOMER_IS)
        ),
    ]
    return _message(_("Loyalty bot help"), blocks)


def help_detail(
    name: str, usages: Sequence[tuple[str, str, Sequence[str]]], *, names_customers: bool = True
) -> Message:
    """`help <subcommand>`: each form of use, what it does, and examples; what a
    `<customer>` may be, when one of them takes one."""
    lines = [
        f"*`/loyalty {usage}`*\n{summary}" + "".join(f"\n>`/loyalty {e}`" for e in examples)
        for usage, summary, examples in usages
    ]
    blocks: list[Block] = [HeaderBlock(text=f"/loyalty {name}"), *_chunked_sections(lines)]
    if names_customers:
        blocks.append(_context(_(_CUSTOMER_IS)))
    return _message(f"/loyalty {name}", blocks)


# -- customers -------------------------------------------------------------------


def customer_line(c: Customer) -> str:
    return f"*{escape(c.display_name)}* · {points(c.points)} · `{c.id}`"


def customer_card(c: Customer, allows: Callable[[Act], bool]) -> Message:
    """The card, with the buttons the viewer may use (`allows`, from the policy)."""
    fields = [
        _field(f"*{_('Email')}*\n{escape(c.email) or '—'}"),
        _field(f"*{_('Phone')}*\n{escape(international(c.phone)) or '—'}"),
        _field(f"*{_('Points')}*\n{number(c.points)}"),
        _field(f"*{_('Id')}*\n`{c.id}`"),
    ]
    ref = CustomerRef(customer_id=c.id).encode()
    buttons = []
    if allows(Act.ADD_POINTS):
        buttons.append(
            ButtonElement(
                text=_("Change points") if allows(Act.CHANGE_POINTS) else _("Add points"),
                action_id=ActionId.CUSTOMER_POINTS,
                value=ref,
                style="primary",
            )
        )
    if allows(Act.REDEEM):
        buttons.append(
            ButtonElement(text=_("Redeem"), action_id=ActionId.CUSTOMER_REDEEM, value=ref)
        )
    if allows(Act.EDIT_CUSTOMER):
        buttons.append(ButtonElement(text=_("Edit"), action_id=ActionId.CUSTOMER_EDIT, value=ref))
    buttons.append(ButtonElement(text=_("History"), action_id=ActionId.CUSTOMER_HISTORY, value=ref))
    if allows(Act.DELETE_CUSTOMER):
        buttons.append(
            ButtonElement(
                text=_("Delete"), action_id=ActionId.CUSTOMER_DELETE, value=ref, style="danger"
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
    hint = _('An email, phone or `"full name"` narrows it down.')
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
    count = len(choices)
    match = (
        ngettext("{count} customer matches “{query}”", "{count} customers match “{query}”", count)
        if kind == "customer"
        else ngettext("{count} offer matches “{query}”", "{count} offers match “{query}”", count)
    ).format(count=number(count), query=escape(query))
    showing = (
        _(", showing {first}–{last}").format(
            first=number(start + 1), last=number(start + len(shown))
        )
        if pages > 1
        else ""
    )
    blocks: list[Block] = [
        _section(
            match
            + showing
            + ". "
            + (
                _("Is this the one you meant? Nothing has been changed yet.")
                if count == 1
                else _("Which one did you mean? Nothing has been changed yet.")
            )
        )
    ]
    for target_id, line in shown:
        blocks.append(
            _section(
                line,
                accessory=ButtonElement(
                    text=_("Choose"),
                    action_id=f"{ActionId.PICK}_{target_id}",
                    value=RerunCommand.carrying(command, target_id, rest, once).encode(),
                ),
            )
        )
    blocks += _pager(
        page,
        pages,
        ActionId.PICKER_PAGE,
        lambda number: PickerPage.carrying(
            kind=kind, query=query, command=command, rest=rest, page=number, once=once
        ),
        hint,
    )
    return _message(match, blocks)


def _pager(
    page: int,
    pages: int,
    action_id: str,
    value_for: Callable[[int], ButtonValue],
    hint: str = "",
) -> list[Block]:
    """First / Previous / More / Last, as far as there is somewhere to go, and "Page n of
    m" (nothing when it all fits on one page). `value_for(n)`: the button value of page n."""
    if pages <= 1:
        return []
    wanted = [(1, N_("First"), page > 2), (page - 1, N_("Previous"), page > 1)]
    wanted += [(page + 1, N_("More"), page < pages), (pages, N_("Last"), page < pages - 1)]
    buttons = [
        ButtonElement(
            text=_(label), action_id=f"{action_id}_{label}", value=value_for(number).encode()
        )
        for number, label, shown in wanted
        if shown
    ]
    where = _("Page {page} of {pages}.").format(page=number(page), pages=number(pages))
    return [
        ActionsBlock(block_id=BlockId.PAGER, elements=buttons),
        _context(f"{where} {hint}".strip()),
    ]


def customer_list(page: CustomerPage) -> Message:
    """A page of customers, each with an Open button for the card; a way forward and back."""
    if page.query and fold(page.query) in TOP_WORDS:
        title = _("Customers by points")
    elif page.query:
        title = _("Customers matching “{query}”").format(query=escape(page.query))
    else:
        title = _("Customers")
    if page.total == 0:
        return notice(
            _(
                "{title}: none. Try a part of the name, of the email, or 4 digits of the phone."
            ).format(title=title)
        )
    first, last = page.first_number, page.first_number + len(page.customers) - 1
    blocks: list[Block] = [
        _section(
            _("*{title}*: {total} in all, showing {first}–{last}").format(
                title=title, total=number(page.total), first=number(first), last=number(last)
            )
        )
    ]
    for c in page.customers:
        blocks.append(
            _section(
                customer_line(c),
                accessory=ButtonElement(
                    text=_("Open"),
                    action_id=f"{ActionId.CUSTOMER_OPEN}_{c.id}",
                    value=CustomerRef(customer_id=c.id).encode(),
                ),
            )
        )

    blocks += _pager(
        page.page,
        page.pages,
        ActionId.CUSTOMERS_PAGE,
        lambda number: CustomersPage(query=page.query, page=number),
    )
    return _message(_("{count} customers").format(count=number(page.total)), blocks)


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


def amount_choice(question: Say, texts: Sequence[tuple[str, str]]) -> Message:
    """Which amount was meant: one button per reading, each carrying the command on with
    it (`texts`: (the amount as shown, the command with it)); one of them acts, once."""
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


# -- what the audit log says: history lines and the audit channel ----------------------

_VERBS: dict[str, str] = {
    Action.POINTS_ADD: N_("added points"),
    Action.POINTS_DEDUCT: N_("deducted points"),
    Action.POINTS_SET: N_("set points"),
    Action.POINTS_UNDO: N_("undid a change"),
    Action.POINTS_REDEEM: N_("redeemed a reward"),
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


def field_changes_text(changes: Changes, action: str = "") -> str:
    """`points cost 10 → 0, auto-claim no → yes` (a create lists the values it set)."""
    parts = []
    for name, (before, after) in sorted(changes.items()):
        label = _(_FIELD_LABELS.get(name, name.replace("_", " ")))
        if name == "status":  # an offer's status, in the reader's words (escaped by _shown)
            before, after = _status_word(before), _status_word(after)
        if action.endswith(".create"):
            parts.append(f"{label} {_shown(after)}")
        elif after is None and action.endswith(".delete"):
            parts.append(f"{label} {_shown(before)}")
        else:
            parts.append(f"{label} {_shown(before)} → {_shown(after)}")
    return ", ".join(parts)


_UNDO_REASON = re.compile(r"undo of change #(\d+)")


def describe(e: AuditEntry, *, name_target: bool = True) -> str:
    """One change as the audit log has it: what was done, to what, and each field."""
    verb = _(_VERBS.get(e.action, e.action))  # StrEnum keys: a stored string finds its member
    reason = e.reason
    if e.action == Action.POINTS_REDEEM and reason:  # the reason is the offer's name
        verb, reason = _("redeemed “{offer}”").format(offer=escape(shorten(reason, 80))), ""
    if e.action in POINTS_ACTIONS:
        if e.before is not None and e.after is not None:
            change = f"{number(e.before)} → {number(e.after)} ({number(e.after - e.before, signed=True)})"
        elif e.before is not None:
            change = (
                _("from {before} ({requested} asked)").format(
                    before=number(e.before), requested=e.requested
                )
                if e.requested
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
        if name_target and e.target_name:
            text += f" *{escape(e.target_name)}*"
        if name_target and e.target_id is not None:
            text += f" (`{e.target_id}`)"
        if e.changes:
            text += ": " + field_changes_text(e.changes, e.action)
    if e.outcome in _OUTCOME_NOTES:
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
        text += f" · {escape(e.detail)}"
    return text.strip()


def change_announcement(e: AuditEntry) -> Message:
    """The audit channel's post for one completed change."""
    text = f"<@{e.user_id}> {describe(e)}"
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


# -- offers ------------------------------------------------------------------------


def offer_line(o: Offer) -> str:
    claim = _("auto-claim") if o.auto_claim else _("claimed by staff")
    name = escape(o.name) or _("(no name)")
    return f"*{name}* · {points(o.points_cost)} · {claim} · _{status_of(o.status)}_ · `{o.id}`"


_STATUSES = {"draft": N_("Draft"), "published": N_("Published"), "canceled": N_("Canceled")}


def status_of(status: str) -> str:
    """An offer's status as the reader says it (escaped; an unknown one as it came)."""
    return escape(_status_word(status))


def _status_word(status: Any) -> Any:
    """A known status in the reader's words; anything else unchanged (not escaped)."""
    if not isinstance(status, str):
        return status
    known = _STATUSES.get(status.strip().lower().replace("cancelled", "canceled"))
    return _(known) if known else status


OFFERS_PER_PAGE = 20


def offer_list(offers: Sequence[Offer], status: str | None, page: int = 1) -> Message:
    """A page of offers, each with an Open button; never silently cut."""
    kind = (status or "").lower().replace("cancelled", "canceled")
    if not offers:
        label = {
            "draft": _("offers in draft"),
            "published": _("published offers"),
            "canceled": _("canceled offers"),
        }.get(kind, _("offers"))
        return notice(_("No {offers} in the program.").format(offers=label))
    count = len(offers)
    counted = {
        "draft": ngettext("{count} offer in draft", "{count} offers in draft", count),
        "published": ngettext("{count} published offer", "{count} published offers", count),
        "canceled": ngettext("{count} canceled offer", "{count} canceled offers", count),
    }.get(kind) or ngettext("{count} offer", "{count} offers", count)
    pages = max(1, -(-len(offers) // OFFERS_PER_PAGE))
    page = min(max(1, page), pages)
    start = (page - 1) * OFFERS_PER_PAGE
    shown = offers[start : start + OFFERS_PER_PAGE]
    showing = (
        _(", showing {first}–{last}").format(
            first=number(start + 1), last=number(start + len(shown))
        )
        if pages > 1
        else ""
    )
    blocks: list[Block] = [_section(f"*{counted.format(count=number(count))}*{showing}")]
    for o in shown:
        blocks.append(
            _section(
                offer_line(o),
                accessory=ButtonElement(
                    text=_("Open"),
                    action_id=f"{ActionId.OFFER_OPEN}_{o.id}",
                    value=OfferRef(offer_id=o.id).encode(),
                ),
            )
        )

    blocks += _pager(
        page,
        pages,
        ActionId.OFFERS_PAGE,
        lambda number: OffersPage(status=status or "", page=number),
    )
    return _message(counted.format(count=number(count)), blocks)


def offer_card(o: Offer, allows: Callable[[Act], bool]) -> Message:
    """The card, with the buttons the viewer may use on an offer in this status."""
    fields = [
        _field(f"*{_('Points cost')}*\n{number(o.points_cost)}"),
        _field(f"*{_('Auto-claim')}*\n{_claim(o.auto_claim)}"),
        _field(f"*{_('Status')}*\n{status_of(o.status)}"),
        _field(f"*{_('Id')}*\n`{o.id}`"),
    ]
    ref = OfferRef(offer_id=o.id).encode()
    actions = []
    if o.is_draft and allows(Act.REQUEST_PUBLICATION):
        actions.append(
            ButtonElement(
                text=_("Request publication"),
                style="primary",
                action_id=ActionId.OFFER_PUBLISH,
                value=OfferRef(offer_id=o.id, once=new_once()).encode(),
            )
        )
    editable = Act.EDIT_DRAFT_OFFER if o.is_draft else Act.EDIT_LIVE_OFFER
    if not o.is_canceled and allows(editable):
        actions.append(ButtonElement(text=_("Edit"), action_id=ActionId.OFFER_EDIT, value=ref))
    if o.is_draft and allows(Act.DELETE_OFFER):
        actions.append(
            ButtonElement(
                text=_("Delete"), action_id=ActionId.OFFER_DELETE, value=ref, style="danger"
            )
        )
    if o.is_published and allows(Act.CANCEL_OFFER):
        actions.append(
            ButtonElement(
                text=_("Cancel offer"),
                action_id=ActionId.OFFER_CANCEL,
                value=ref,
                style="danger",
            )
        )
    blocks: list[Block] = [
        HeaderBlock(text=plain(o.name or _("(no name)"))),
        _section(escape(o.description) or _("_No description._")),
        SectionBlock(fields=fields),
    ]
    if actions:
        blocks.append(ActionsBlock(block_id=BlockId.OFFER_ACTIONS, elements=actions))
    return _message(
        _("Offer {name}: {points}, {status}").format(
            name=escape(o.name), points=points(o.points_cost), status=status_of(o.status)
        ),
        blocks,
    )


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
    hint = _("The offer's id is exact.")
    return _picker(query, "offer", choices, command, rest, hint, page, once)


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
    note = escape(a.note)
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
            "Asked the managers in {channel} to approve publishing *{offer}*. You will hear "
            "back here: see {link}."
        ).format(channel=f"<#{channel}>", offer=escape(a.offer_name), link=_request_link(a))
    )


def rejection_sent(a: Approval) -> Message:
    """To the manager who rejected: the requester is told why."""
    return notice(
        "❌ "
        + _("Rejected. {who} is told why in the request's thread.").format(
            who=f"<@{a.requested_by}>"
        )
    )


def approval_outcome_for_requester(a: Approval) -> Message:
    """In the request's thread, mentioning the requester."""
    values = {
        "who": f"<@{a.requested_by}>",
        "offer": escape(a.offer_name),
        "by": f"<@{a.decided_by}>",
        "note": escape(a.note),
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
        "note": escape(a.note),
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


# -- the daily summary ----------------------------------------------------------------


def arrow(delta: int | None) -> str:
    """▲ +3 / ▼ −2 / = no change, in the reader's words."""
    moved = _moved(delta)
    return f"= {_('no change')}" if moved == "=" else moved


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
            f"*{_('Points outstanding')}*\n{number(s.points_outstanding)} {arrow(s.net_change)}\n"
            + (_("net change of all balances") + since if s.net_change is not None else "")
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
