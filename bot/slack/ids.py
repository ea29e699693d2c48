"""Action and block ids shared by the block builders and the handlers (one set of names)."""

from __future__ import annotations

import json
import secrets
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as Bounds

from bot.domain.errors import MalformedRequest
from bot.domain.say import N_


class ActionId(StrEnum):
    PICK = "loyalty_pick_choice"  # a Choose button in a message: carries on a command
    AMOUNT = "loyalty_amount_choice"  # which command was meant (1 or 1,000; a subcommand)
    PICK_IN_FORM = "loyalty_pick_in_form"
    CUSTOMERS_PAGE = "loyalty_customers_page"
    PICKER_PAGE = "loyalty_picker_page"
    OFFERS_PAGE = "loyalty_offers_page"
    CUSTOMER_OPEN = "loyalty_customer_open"  # a customer list's line: the card
    OFFER_OPEN = "loyalty_offer_open"
    CUSTOMER_HISTORY = "loyalty_customer_history"
    CUSTOMER_POINTS = "loyalty_customer_points"
    CUSTOMER_REDEEM = "loyalty_customer_redeem"
    CUSTOMER_EDIT = "loyalty_customer_edit"
    CUSTOMER_DELETE = "loyalty_customer_delete"
    OFFER_EDIT = "loyalty_offer_edit"
    OFFER_DELETE = "loyalty_offer_delete"
    OFFER_CANCEL = "loyalty_offer_cancel"
    OFFER_PUBLISH = "loyalty_offer_publish"
    APPROVE = "loyalty_approve"
    REJECT = "loyalty_reject"
    CONFIRM = "loyalty_confirm"
    DISMISS = "loyalty_dismiss"
    CUSTOMER_SEARCH = "loyalty_customer_search"  # a type-ahead select of customers
    HOME_FIND = "loyalty_home_find"
    HOME_ADD_POINTS = "loyalty_home_add_points"
    HOME_REDEEM = "loyalty_home_redeem"
    HOME_NEW_CUSTOMER = "loyalty_home_new_customer"
    HOME_NEW_OFFER = "loyalty_home_new_offer"
    HOME_CONNECT = "loyalty_home_connect"  # OAuth mode: connect this workspace's program
    HOME_SETTINGS = "loyalty_home_settings"
    UNDO_ENTRY = "loyalty_undo_entry"  # an alert's Undo: one change, by its entry id
    PROMO_NEW = "loyalty_promo_new"  # the promotions list: the form for a new one
    PROMO_PAUSE = "loyalty_promo_pause"
    PROMO_RESUME = "loyalty_promo_resume"
    PROMO_END = "loyalty_promo_end"
    INPUT = "value"  # the one element inside each form input block


class ShortcutId(StrEnum):
    """Shortcut callback ids (manifest.yml's `shortcuts`)."""

    ADD_POINTS = "loyalty_add_points"  # global: the points form, from anywhere
    FIND_IN_MESSAGE = "loyalty_find_in_message"  # on a message: its customers' cards


class BlockId(StrEnum):
    HELP = "loyalty_help"
    CUSTOMER_ACTIONS = "loyalty_customer_actions"
    OFFER_ACTIONS = "loyalty_offer_actions"
    CONFIRM_ACTIONS = "loyalty_confirm_actions"
    APPROVAL_ACTIONS = "loyalty_approval_actions"
    PAGER = "loyalty_pager"


class Form(StrEnum):
    """Modal callback ids."""

    CUSTOMER = "loyalty_customer_form"
    OFFER = "loyalty_offer_form"
    POINTS = "loyalty_points_form"
    REDEEM = "loyalty_redeem_form"
    CHOOSE_CUSTOMER = "loyalty_choose_customer"  # type-ahead, then the form in `then`
    REJECT = "loyalty_reject_form"
    NOTICE = "loyalty_notice"
    CONNECT = "loyalty_connect_form"
    SETTINGS = "loyalty_settings_form"
    PROMOTION = "loyalty_promotion_form"


MAX_VALUE = 2000  # characters in a button's value (Slack's limit)


class ButtonValue(BaseModel):
    """Small JSON carried in a button's value (Slack allows 2,000 characters)."""

    model_config = ConfigDict(extra="ignore")

    def encode(self) -> str:
        text = self.model_dump_json(exclude_defaults=True)
        if len(text) > MAX_VALUE:
            raise ValueError("button value too long")
        return text

    @classmethod
    def decode(cls, value: str | None) -> Self:
        """The value as the bot wrote it; MalformedRequest if it is anything else."""
        try:
            return cls.model_validate(json.loads(value or "{}"))
        except (ValueError, TypeError):  # bad JSON, wrong fields, a 5,000-digit number
            raise MalformedRequest(N_("button or form")) from None


# Smart Passes ids are 64-bit: a larger number in a button is not ours.
RecordId = Annotated[int, Bounds(ge=0, lt=2**63)]


def new_once() -> str:
    """A one-time key for a button that changes something: its click is claimed once."""
    return secrets.token_urlsafe(12)


class RerunCommand(ButtonValue):
    """Run `/loyalty <command> #<target_id> <rest>`: carries an operation past a choice.

    `command` may be several words ("offer cancel")."""

    command: str
    target_id: RecordId
    rest: str = ""
    once: str = ""  # shared by every Choose of one picker: one choice acts

    @classmethod
    def carrying(cls, command: str, target_id: int, rest: str, once: str) -> RerunCommand:
        """The choice, with as much of `rest` (the amount and reason) as a button holds
        once written as JSON (control characters take six characters each)."""
        rest = rest[:MAX_VALUE]
        while (
            len(
                (
                    value := cls(command=command, target_id=target_id, rest=rest, once=once)
                ).model_dump_json(exclude_defaults=True)
            )
            > MAX_VALUE
        ):
            rest = rest[: len(rest) * 3 // 4]
        return value


class RerunText(ButtonValue):
    """Run `/loyalty <text>` (as typed, with one part settled by the choice: an amount).
    Every choice of one question shares `once`: one acts."""

    text: Annotated[str, StringConstraints(max_length=1800)]
    once: str = ""


class CustomersPage(ButtonValue):
    query: str = ""
    page: Annotated[int, Bounds(ge=1, le=1_000_000)] = 1
    by_points: bool = False


class PickerPage(ButtonValue):
    """Another page of a picker: the lookup is made again, the choice carries on."""

    kind: str  # "customer" or "offer"
    query: str
    command: str
    rest: str = ""
    page: Annotated[int, Bounds(ge=1, le=1_000_000)] = 1
    once: str = ""  # the picker's one-time key, the same on every page

    @classmethod
    def carrying(cls, **fields: Any) -> PickerPage:
        """As much of `rest` (then of `query`) as a button holds once written as JSON."""
        rest = str(fields.pop("rest", ""))[:MAX_VALUE]
        query = str(fields.pop("query", ""))[:MAX_VALUE]
        while len((value := cls(rest=rest, query=query, **fields)).model_dump_json()) > MAX_VALUE:
            if rest:
                rest = rest[: len(rest) * 3 // 4]
            else:
                query = query[: len(query) * 3 // 4]
        return value


class OffersPage(ButtonValue):
    status: str = ""
    page: Annotated[int, Bounds(ge=1, le=1_000_000)] = 1


class CustomerRef(ButtonValue):
    customer_id: RecordId


class OfferRef(ButtonValue):
    offer_id: RecordId
    once: str = ""  # on Request publication


class PromotionRef(ButtonValue):
    promotion_id: RecordId


class ApprovalRef(ButtonValue):
    approval_id: RecordId
    once: str = ""


class Confirm(ButtonValue):
    token: str


class PickInForm(ButtonValue):
    """A choice made inside a modal that listed several matches."""

    form: str  # a Form value
    target_id: RecordId


class FormContext(ButtonValue):
    """A modal's private_metadata: what it is for, and what it showed when it opened."""

    form: str  # a Form value
    target_id: RecordId | None = None
    channel_id: str = ""
    fingerprint: str = ""
    balance: Annotated[int, Bounds(ge=0, lt=2**63)] | None = (
        None  # the points form: the balance it showed
    )
    once: str = ""  # a one-time key the submission claims (the Reject form)
    same_name: str = ""  # a name already in use, which sending the form again confirms
    then: str = ""  # the chooser: the Form to open for the chosen customer ("" = the card)
    # The points form, once its customer is chosen: the Op it starts on ("" for add).
    op: Literal["", "add", "deduct", "set"] = ""
