"""Lists and pickers of customers and offers, a page at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)

from bot.core.service import CUSTOMERS_PER_PAGE, CustomerPage
from bot.domain.phones import international
from bot.i18n import N_, _, ngettext, number
from bot.slack.blocks.cards import OFFERS_PER_PAGE, customer_line, offer_line
from bot.slack.blocks.common import (
    MAX_PICKER,
    Message,
    _context,
    _message,
    _section,
    notice,
)
from bot.slack.ids import (
    ActionId,
    BlockId,
    ButtonValue,
    CustomerRef,
    CustomersPage,
    OfferRef,
    OffersPage,
    PickerPage,
    RerunCommand,
    new_once,
)
from bot.slack.text import escape
from bot.smartpasses.models import Customer, Offer

# The commands a picker's choice only shows something for (a card, a history, a file):
# "nothing has been changed yet" would be a puzzle there.
_LOOKS_ONLY = frozenset({"customer", "offer", "history", "export history"})


def customer_picker(
    query: str,
    matches: Sequence[Customer],
    command: str,
    rest: str,
    *,
    page: int = 1,
    once: str = "",
    spelled: bool = False,
) -> Message:
    """Several customers match: one button each; picking one carries on `command`.
    `spelled`: nobody matches `query`; these match it as the list spells names (one
    page of them: `query` itself finds no other)."""
    choices = []
    for c in matches:
        detail = " · ".join(escape(x) for x in (c.email, international(c.phone)) if x)
        choices.append((c.id, customer_line(c) + (f"\n{detail}" if detail else "")))
    hint = _('An email, phone or `"full name"` narrows it down.')
    if spelled:
        return _picker(query, "spelled", choices[:MAX_PICKER], command, rest, hint, 1, once)
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
    if kind == "spelled":
        match = _("No customer matches “{query}”").format(query=escape(query))
    elif kind == "spelled offer":
        match = _("No offer matches “{query}”").format(query=escape(query))
    else:
        match = (
            ngettext(
                "{count} customer matches “{query}”", "{count} customers match “{query}”", count
            )
            if kind == "customer"
            else ngettext(
                "{count} offer matches “{query}”", "{count} offers match “{query}”", count
            )
        ).format(count=number(count), query=escape(query))
    showing = (
        _(", showing {first}–{last}").format(
            first=number(start + 1), last=number(start + len(shown))
        )
        if pages > 1
        else ""
    )
    if kind.startswith("spelled"):
        asked = _("Did you mean this one?") if count == 1 else _("Did you mean one of these?")
    else:
        asked = _("Is this the one you meant?") if count == 1 else _("Which one did you mean?")
    if command not in _LOOKS_ONLY:  # choosing carries on a change: none was made yet
        asked += " " + _("Nothing has been changed yet.")
    blocks: list[Block] = [_section(match + showing + ". " + asked)]
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
    if page.by_points:
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

    if page.page_size == CUSTOMERS_PER_PAGE:  # not `customers top 5`: it asked for those
        blocks += _pager(
            page.page,
            page.pages,
            ActionId.CUSTOMERS_PAGE,
            lambda number: CustomersPage(query=page.query, page=number, by_points=page.by_points),
        )
    return _message(_("{count} customers").format(count=number(page.total)), blocks)


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


def offer_picker(
    query: str,
    matches: Sequence[Offer],
    command: str,
    rest: str = "",
    *,
    page: int = 1,
    once: str = "",
    spelled: bool = False,
) -> Message:
    """`spelled`: no offer matches `query`; `matches` are the ones that may be meant."""
    choices = [(o.id, offer_line(o)) for o in matches]
    hint = _("The offer's id is exact.")
    if spelled:  # none matches `query`: these are offered instead (one page)
        return _picker(query, "spelled offer", choices[:MAX_PICKER], command, rest, hint, 1, once)
    return _picker(query, "offer", choices, command, rest, hint, page, once)
