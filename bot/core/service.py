"""What the bot does, without Slack: one service per workspace, put together from its
features (bot.core.points, sales, customers, offers, confirmations; bot.core.base holds what they
share). Every change goes through the ledger (bot.core.ledger): recorded first, made under
its record's lock, sent once, and told truthfully."""

from __future__ import annotations

from bot.core.alerts import Alerts
from bot.core.base import (
    CUSTOMERS_PER_PAGE,
    CustomerPage,
    ServiceBase,
    customer_key,
    offer_key,
)
from bot.core.confirmations import (
    CONFIRMABLE,
    CUSTOMER_DELETE,
    OFFER_CANCEL,
    OFFER_DELETE,
    Confirmations,
)
from bot.core.customers import Customers
from bot.core.exports import Exports
from bot.core.offers import Offers
from bot.core.points import PointsResult
from bot.core.sales import SaleResult, Sales
from bot.core.undo import Undo

__all__ = [
    "CONFIRMABLE",
    "CUSTOMERS_PER_PAGE",
    "CUSTOMER_DELETE",
    "OFFER_CANCEL",
    "OFFER_DELETE",
    "CustomerPage",
    "LoyaltyService",
    "PointsResult",
    "SaleResult",
    "ServiceBase",
    "customer_key",
    "offer_key",
]


class LoyaltyService(Sales, Undo, Customers, Offers, Confirmations, Exports, Alerts):
    """Every feature, for one workspace's program: what handlers and jobs call."""
