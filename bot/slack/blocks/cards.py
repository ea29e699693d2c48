"""A customer's and an offer's card, with the buttons to act on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    SectionBlock,
)

from bot.domain.phones import international
from bot.domain.policy import Act
from bot.i18n import N_, _, number
from bot.slack.blocks.approvals import _claim
from bot.slack.blocks.common import Message, _field, _message, _section, plain, points
from bot.slack.ids import (
    ActionId,
    BlockId,
    CustomerRef,
    OfferRef,
    new_once,
)
from bot.slack.text import escape
from bot.smartpasses.models import Customer, Offer

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
