"""Every modal the bot opens, built with slack_sdk.models.views (limits checked on build).

One module per surface; this package re-exports them all (`views.points_form`)."""

from bot.slack.views.common import MAX_OPTIONS, MAX_PICKS, fit_plain, loading, notice, result
from bot.slack.views.forms import (
    customer_form,
    form_values,
    offer_form,
    points_form,
    redeem_form,
    refused_form,
    reject_form,
)
from bot.slack.views.home_tab import HomeFigures, home
from bot.slack.views.pickers import choose_customer, pick_customer, pick_offer
from bot.slack.views.promotion_form import promotion_form

__all__ = [
    "MAX_OPTIONS",
    "MAX_PICKS",
    "HomeFigures",
    "choose_customer",
    "customer_form",
    "fit_plain",
    "form_values",
    "home",
    "loading",
    "notice",
    "offer_form",
    "pick_customer",
    "pick_offer",
    "points_form",
    "promotion_form",
    "redeem_form",
    "refused_form",
    "reject_form",
    "result",
]
