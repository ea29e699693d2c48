"""Action and block ids shared by the block builders and the handlers (one set of names)."""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ActionId(StrEnum):
    PICK_CUSTOMER = "loyalty_pick_customer"
    CUSTOMERS_PAGE = "loyalty_customers_page"
    CUSTOMER_HISTORY = "loyalty_customer_history"


class BlockId(StrEnum):
    HELP = "loyalty_help"
    CUSTOMER_ACTIONS = "loyalty_customer_actions"
    PAGER = "loyalty_pager"


class ButtonValue(BaseModel):
    """Small JSON carried in a button's value (Slack allows 2,000 characters)."""

    model_config = ConfigDict(extra="ignore")

    def encode(self) -> str:
        text = self.model_dump_json(exclude_defaults=True)
        if len(text) > 2000:
            raise ValueError("button value too long")
        return text

    @classmethod
    def decode(cls, value: str | None) -> ButtonValue:
        return cls.model_validate(json.loads(value or "{}"))


class RerunCommand(ButtonValue):
    """Run `/loyalty <command> #<customer_id> <rest>`: carries an operation past a choice."""

    command: str
    customer_id: int
    rest: str = ""


class CustomersPage(ButtonValue):
    query: str = ""
    page: int = 1


class CustomerRef(ButtonValue):
    customer_id: int
