"""The App Home tab, for the counter: published when someone opens it (off the listener
thread: a manager's figures may need the customer list), and its buttons. Find customer,
Add points and Redeem open a type-ahead chooser, answered from the lookup index."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.models.blocks import ButtonElement

from bot.core import validation as forms
from bot.domain.errors import LoyaltyError
from bot.domain.policy import Act
from bot.i18n import _
from bot.slack import blocks, views
from bot.slack.blocks import points
from bot.slack.ids import ActionId, Form, FormContext
from bot.slack.text import plain
from bot.slack.views import HomeFigures, fit_plain
from bot.smartpasses.models import Customer
from handlers import modals
from handlers.context import Env

log = logging.getLogger(__name__)
MAX_SUGGESTIONS = 20

# The type-ahead's only option while the customer list loads: not a customer (no id).
LOADING_OPTION = "-"


def publish_home(env: Env, user: str, *, extra: Sequence[ButtonElement] = ()) -> None:
    """`extra`: buttons after the others (OAuth mode: Settings, Reconnect)."""
    roles = env.services.roles
    is_manager = roles.is_manager(user)
    figures, pending = None, []
    if is_manager:
        pending = env.services.approvals.open_requests()
        try:
            s = env.services.summary.get()
            figures = HomeFigures(
                s.customers,
                s.points_outstanding,
                s.points_added_24h,
                s.points_deducted_24h,
                *s.redeemed_today,
            )
        except LoyaltyError as exc:  # the rest of the tab is still worth showing
            log.info("home figures not available: %s", exc.message)
    view = views.home(
        lambda act: roles.allows(user, act),
        is_manager,
        figures,
        pending,
        extra=extra,
    )
    env.client.views_publish(user_id=user, view=view)


def choose_customer(env: Env, title: str, then: str = "") -> None:
    """A window with the customer type-ahead; `then` (a form) opens for the one chosen."""
    context = FormContext(form=Form.CHOOSE_CUSTOMER, then=then)
    env.speak_their_language()
    env.client.views_open(trigger_id=env.trigger_id, view=views.choose_customer(context, title))


def suggestion(customer: Customer) -> dict[str, Any]:
    """One choice of the type-ahead: name, points, and an email or phone to tell them apart."""
    detail = customer.email or customer.phone
    label = f"{customer.display_name} · {points(customer.points)}" + (
        f" · {detail}" if detail else ""
    )
    return {"text": {"type": "plain_text", "text": fit_plain(label, 75)}, "value": str(customer.id)}


def register(app: App) -> None:
    @app.event("app_home_opened")
    def home_opened(env: Env, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event["user"]
        env.defer(lambda: publish_home(env, user))

    @app.action(ActionId.HOME_FIND)
    def find(ack: Ack, env: Env) -> None:
        ack()
        choose_customer(env, _("Find customer"))

    @app.action(ActionId.HOME_ADD_POINTS)
    def add_points(ack: Ack, env: Env) -> None:
        ack()
        env.service.permit(env.actor, Act.ADD_POINTS)
        choose_customer(env, modals.title(env, Form.POINTS), Form.POINTS)

    @app.action(ActionId.HOME_REDEEM)
    def redeem(ack: Ack, env: Env) -> None:
        ack()
        env.service.permit(env.actor, Act.REDEEM)
        choose_customer(env, _(modals.TITLES[Form.REDEEM]), Form.REDEEM)

    @app.action(ActionId.HOME_NEW_CUSTOMER)
    def new_customer(ack: Ack, env: Env) -> None:
        ack()
        modals.open_new_customer(env)

    @app.action(ActionId.HOME_NEW_OFFER)
    def new_offer(ack: Ack, env: Env) -> None:
        ack()
        modals.open_new_offer(env)

    @app.options(ActionId.CUSTOMER_SEARCH)
    def customer_options(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        """The type-ahead: answered from the lookup index (no call to Smart Passes once
        it is loaded)."""
        index = env.service.index
        if not index.ready():  # never wait for the list here: Slack gives up after 3 s
            index.warm()
            loading = _("Loading the customer list… type one more letter in a moment")
            ack(
                options=[
                    {
                        "text": {"type": "plain_text", "text": fit_plain(loading, 75)},
                        "value": LOADING_OPTION,
                    }
                ]
            )
            return
        matches = env.service.suggest_customers(str(body.get("value") or ""), MAX_SUGGESTIONS)
        ack(options=[suggestion(c) for c in matches])

    @app.view(Form.CHOOSE_CUSTOMER)
    def customer_chosen(ack: Ack, env: Env, view: dict[str, Any]) -> None:
        context = FormContext.decode(view.get("private_metadata"))
        env = env.in_channel(context.channel_id)  # where a command opened it, if one did
        customer_id, errors = forms.read_chosen_customer(views.form_values(view.get("state") or {}))
        if customer_id is None:
            env.note("invalid")
            ack(response_action="errors", errors={k: plain(v) for k, v in errors.items()})
            return
        then = Form(context.then) if context.then else None
        title = modals.title(env, then) if then else _("Customer")
        ack(response_action="update", view=views.loading(title, _("Looking the customer up…")))

        def build() -> dict[str, Any]:
            if then is not None:
                return modals.customer_form_for(env, then, customer_id, op=context.op)
            card = blocks.customer_card(env.service.customer(customer_id), env.allows)
            env.send_dm(card)  # its buttons work in a message
            return views.result(title, card)

        modals.fill_after_ack(env, view["id"], title, build)
