"""Who may do what: the one table every command, button and form submission asks
(through `Roles.require`), and the buttons shown follow (through `Roles.allows`).

The README's table "Who may do what" is this table; a test keeps them equal.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.say import N_


class Who(StrEnum):
    ANYONE = "anyone in the workspace"
    MANAGERS = "managers"
    # Managers, and clerks when the clerk allowance lets them add points (bot.domain.allowance).
    ALLOWANCE = "managers; clerks within the clerk allowance"


class Act(StrEnum):
    """What someone may do; the value completes "Only loyalty managers can …"."""

    LOOK_UP = N_("look customers, offers, history and the summary up")
    CREATE_CUSTOMER = N_("create customers")
    EDIT_CUSTOMER = N_("edit customers' names, emails and phones")
    DELETE_CUSTOMER = N_("delete customers")
    ADD_POINTS = N_("add points")
    CHANGE_POINTS = N_("deduct points or set a balance")
    REDEEM = N_("redeem rewards for customers")
    UNDO = N_("undo points changes (their own last one)")
    UNDO_ANY_CHANGE = N_("undo a deduction, a balance set or a redemption")
    DRAFT_OFFER = N_("draft offers")
    EDIT_DRAFT_OFFER = N_("edit draft offers")
    EDIT_LIVE_OFFER = N_("edit published or canceled offers")
    DELETE_OFFER = N_("delete draft offers")
    CANCEL_OFFER = N_("cancel published offers")
    REQUEST_PUBLICATION = N_("ask for an offer to be published")
    APPROVE_PUBLICATION = N_("approve or reject offer publication")
    EXPORT = N_("export the customer list or the history to a file")
    MANAGE_PROMOTIONS = N_("create, pause and end promotions")


POLICY: dict[Act, Who] = {
    Act.LOOK_UP: Who.ANYONE,
    Act.CREATE_CUSTOMER: Who.ANYONE,
    Act.EDIT_CUSTOMER: Who.ANYONE,
    Act.DELETE_CUSTOMER: Who.MANAGERS,
    Act.ADD_POINTS: Who.ALLOWANCE,
    Act.CHANGE_POINTS: Who.MANAGERS,
    Act.REDEEM: Who.ALLOWANCE,
    Act.UNDO: Who.ALLOWANCE,
    Act.UNDO_ANY_CHANGE: Who.MANAGERS,
    Act.DRAFT_OFFER: Who.ANYONE,
    Act.EDIT_DRAFT_OFFER: Who.ANYONE,
    Act.EDIT_LIVE_OFFER: Who.MANAGERS,
    Act.DELETE_OFFER: Who.MANAGERS,
    Act.CANCEL_OFFER: Who.MANAGERS,
    Act.REQUEST_PUBLICATION: Who.ANYONE,
    Act.APPROVE_PUBLICATION: Who.MANAGERS,
    Act.EXPORT: Who.MANAGERS,
    Act.MANAGE_PROMOTIONS: Who.MANAGERS,
}


def for_managers(act: Act) -> bool:
    return POLICY[act] is Who.MANAGERS


def within_allowance(act: Act) -> bool:
    """Clerks may do `act` when the clerk allowance is above zero."""
    return POLICY[act] is Who.ALLOWANCE
