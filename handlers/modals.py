"""The modals: opening them (loading first, since a trigger_id lasts about 3 s), choosing
inside them, and their submissions (validated before anything is sent)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import validation as forms
from bot.core.errors import (
    ChangeRefused,
    CustomerNotFound,
    InvalidInput,
    ValidationFailed,
)
from bot.core.ledger import Done
from bot.core.policy import Act
from bot.core.service import PointsResult
from bot.core.validation import Field
from bot.runtime.workpool import Overloaded
from bot.slack import blocks, views
from bot.slack.blocks import Message
from bot.slack.ids import ActionId, Form, FormContext, PickInForm
from bot.slack.text import mrkdwn, plain
from bot.smartpasses.models import Customer, Offer
from handlers import observe
from handlers.context import Env, Services, env_from_body
from handlers.errors import user_message
from handlers.observe import observing
from handlers.parsing import MENTION_TOKEN
from handlers.resolve import mention_email, no_offer_matches

log = logging.getLogger(__name__)
T = TypeVar("T")

TITLES = {
    Form.CUSTOMER: "Customer",
    Form.OFFER: "Offer",
    Form.POINTS: "Change points",
    Form.REJECT: "Reject publication",
}
SAVING = "⏳ Saving… I will show the result here, and send it to you as a message."
ALREADY_SENT = (
    "This form was already sent, so it was not sent again. Its result is shown where you "
    "started it (or in a message from me)."
)


# -- opening -------------------------------------------------------------------------


def open_then_fill(
    env: Env, title: str, waiting: str, build: Callable[[str], dict[str, Any]]
) -> None:
    """Open a loading modal now, then fill it with `build(view_id)` after the API answers."""
    opened = env.client.views_open(trigger_id=env.trigger_id, view=views.loading(title, waiting))
    view_id = opened["view"]["id"]

    def fill() -> None:
        try:
            view = build(view_id)
        except Exception as error:  # shown in the modal itself, never a spinner forever
            view = views.notice(title, "⚠️ " + user_message(error))
        env.client.views_update(view_id=view_id, view=view)

    env.services.defer(fill, {}, env.client, None)


def _context(
    env: Env,
    form: Form,
    target_id: int | None = None,
    fingerprint: str = "",
    balance: int | None = None,
) -> FormContext:
    return FormContext(
        form=form,
        target_id=target_id,
        channel_id=env.channel_id,
        fingerprint=fingerprint,
        balance=balance,
    )


def customer_form_for(env: Env, form: Form, customer_id: int) -> dict[str, Any]:
    """The filled form for one customer (fresh read)."""
    customer = env.service.customer(customer_id)
    if form is Form.POINTS:
        env.services.roles.require(env.user_id, Act.CHANGE_POINTS, team_id=env.team_id)
        context = _context(env, form, customer.id, balance=customer.points)
        return views.points_form(context, customer, env.settings.loyalty_max_points)
    context = _context(env, form, customer.id, customer.content_hash())
    return views.customer_form(context, customer)


def offer_form_for(env: Env, offer_id: int) -> dict[str, Any]:
    offer = env.service.offer(offer_id)
    env.service.check_offer_editable(env.actor, offer)  # asked again when it is saved
    return views.offer_form(_context(env, Form.OFFER, offer.id, offer.content_hash()), offer)


def open_customer_form(env: Env, form: Form, reference: str) -> None:
    """Edit or change points of `reference` (id, email, ..., or a known id after '#')."""
    title = TITLES[form] if form is Form.POINTS else "Edit customer"

    def build(view_id: str) -> dict[str, Any]:
        mention = MENTION_TOKEN.match(reference.strip())
        query = mention_email(env, mention.group(1)) if mention else reference
        result = env.service.find_customers(query)
        if result.found:
            return customer_form_for(env, form, result.found.id)
        if not result.matches:
            raise CustomerNotFound(query.strip('"'))
        return views.pick_customer(_context(env, form), query, result.matches, title)

    open_then_fill(env, title, "Looking the customer up…", build)


def open_offer_form(env: Env, reference: str) -> None:
    def build(view_id: str) -> dict[str, Any]:
        matches = env.service.find_offers(reference)
        if len(matches) == 1:
            return offer_form_for(env, matches[0].id)
        if not matches:
            raise InvalidInput(no_offer_matches(reference))
        return views.pick_offer(_context(env, Form.OFFER), reference, matches, "Edit offer")

    open_then_fill(env, "Edit offer", "Looking the offer up…", build)


def open_new_customer(env: Env) -> None:
    env.client.views_open(
        trigger_id=env.trigger_id, view=views.customer_form(_context(env, Form.CUSTOMER))
    )


def open_new_offer(env: Env) -> None:
    env.client.views_open(
        trigger_id=env.trigger_id, view=views.offer_form(_context(env, Form.OFFER))
    )


# -- results -------------------------------------------------------------------------


def show_result(env: Env, channel_id: str, message: Message) -> None:
    """Ephemeral in the channel the person came from; a DM if that is not possible."""
    if channel_id:
        try:
            env.client.chat_postEphemeral(channel=channel_id, user=env.user_id, **message.kwargs())
            return
        except SlackApiError as exc:
            log.info(
                "ephemeral result not possible in %s (%s); sending a DM",
                channel_id,
                exc.response.get("error"),
            )
    env.send_dm(message)


def submission_key(view: dict[str, Any]) -> str:
    """One submission of one form: a double click or a retry sends the same view and
    values (a resubmission after fixing a field does not)."""
    values = json.dumps(view.get("state") or {}, sort_keys=True).encode()
    return f"submit:{view.get('id', '')}:{hashlib.sha256(values).hexdigest()[:20]}"


def submit(
    ack: Ack,
    env: Env,
    context: FormContext,
    view: dict[str, Any],
    main_field: Field,
    work: Callable[[], T],
    success: Callable[[T], Message],
    *,
    tell: bool = True,
) -> None:
    """Answer the submission at once with "Saving…", then do `work` (the API calls) once
    per submission on the work pool, and show how it went in the same window: the result
    (also sent as a message where the person started, with `tell`), or the form again with
    what Smart Passes refused beside its field, or why nothing could be done. No listener
    thread ever waits for Smart Passes."""
    title = TITLES[Form(context.form)]
    view_id = view["id"]

    def outcome() -> tuple[dict[str, Any], Message | None]:
        """What the window shows now, and the message to send (when it was done)."""
        try:
            with env.service.ledger.once(submission_key(view), env.user_id, again=ALREADY_SENT):
                result = work()
            message = success(result)
            return views.result(title, message), message
        except ValidationFailed as exc:  # refused as it stood: fix it and send it again
            problems = forms.map_api_errors(exc.field_errors, main_field, exc.message)
            why = "Smart Passes refused this: " + mrkdwn(exc.say)
            return views.refused_form(view, problems, why), None
        except ChangeRefused as exc:  # the rules, on the record as it is now: fix and resend
            problems = {main_field: plain(exc.say)}
            return views.refused_form(view, problems, mrkdwn(exc.say)), None
        except Exception as exc:  # anything else: why, in the window (a bug: a reference)
            return views.notice(title, "⚠️ " + user_message(exc)), None

    def run() -> None:
        shown, message = outcome()
        env.client.views_update(view_id=view_id, view=shown)
        if message is not None and tell:
            show_result(env, context.channel_id, message)

    if not env.services.work.has_room():
        observe.note("busy")
        ack(response_action="update", view=views.notice(title, "⚠️ " + mrkdwn(Overloaded().say)))
        return
    ack(response_action="update", view=views.notice(title, SAVING))
    env.services.defer(run, {}, env.client, None)


# -- registration ------------------------------------------------------------------------


def _env(services: Services, body: dict[str, Any], client: WebClient) -> Env:
    return env_from_body(services, body, client, lambda **kwargs: None)


def register(app: observing, services: Services) -> None:
    import re

    @app.action(re.compile(f"^{ActionId.PICK_IN_FORM}"))
    def pick_in_form(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        choice = PickInForm.decode(body["actions"][0].get("value"))
        picker = FormContext.decode(body["view"].get("private_metadata"))
        env = _env(services, body, client)
        env = replace(env, channel_id=picker.channel_id)
        view_id = body["view"]["id"]
        form = Form(choice.form)

        def fill() -> None:
            try:
                view = (
                    offer_form_for(env, choice.target_id)
                    if form is Form.OFFER
                    else customer_form_for(env, form, choice.target_id)
                )
            except Exception as error:  # shown in the modal
                view = views.notice(TITLES[form], "⚠️ " + user_message(error))
            client.views_update(view_id=view_id, view=view)

        services.defer(fill, body, client, None)

    @app.view(Form.CUSTOMER)
    def customer_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        context = FormContext.decode(view.get("private_metadata"))
        fields, errors = forms.check_customer(views.form_values(view["state"]))
        if errors:
            observe.note("invalid")
            ack(response_action="errors", errors=errors)
            return
        env = _env(services, body, client)
        target, verb = context.target_id, "created" if context.target_id is None else "saved"

        def save() -> Done[Customer]:
            if target is None:
                done = env.service.create_customer(env.actor, fields)
            else:
                done = env.service.update_customer(env.actor, target, fields, context.fingerprint)
            env.announce(done.entry)
            return done

        submit(
            ack,
            env,
            context,
            view,
            Field.FIRST_NAME,
            save,
            lambda done: blocks.saved(
                blocks.customer_card(done.value, env.allows),
                f"Customer {blocks.escape(done.value.display_name)} {verb}.",
                done.remarks,
            ),
        )

    @app.view(Form.OFFER)
    def offer_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        context = FormContext.decode(view.get("private_metadata"))
        fields, errors = forms.check_offer(views.form_values(view["state"]))
        if errors or fields is None:
            observe.note("invalid")
            ack(response_action="errors", errors=errors)
            return
        env = _env(services, body, client)
        target = context.target_id
        said = "Draft offer “{}” created." if target is None else "Offer “{}” saved."

        def save() -> Done[Offer]:
            if target is None:
                done = env.service.create_offer(env.actor, fields)
            else:
                done = env.service.update_offer(env.actor, target, fields, context.fingerprint)
            env.announce(done.entry)
            return done

        submit(
            ack,
            env,
            context,
            view,
            Field.OFFER_NAME,
            save,
            lambda done: blocks.saved(
                blocks.offer_card(done.value, env.allows),
                said.format(blocks.escape(done.value.name)),
                done.remarks,
            ),
        )

    @app.view(Form.POINTS)
    def points_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        context = FormContext.decode(view.get("private_metadata"))
        change, reason, errors = forms.check_points(
            views.form_values(view["state"]), services.settings.loyalty_max_points
        )
        if errors or change is None or context.target_id is None:
            observe.note("invalid")
            ack(response_action="errors", errors=errors)
            return
        env = _env(services, body, client)
        target = context.target_id

        def apply() -> PointsResult:
            result = env.service.change_points(
                env.actor, target, change, reason, shown_balance=context.balance
            )
            env.announce(result.entry)
            return result

        submit(
            ack,
            env,
            context,
            view,
            Field.POINTS_AMOUNT,
            apply,
            lambda r: blocks.points_changed(r, undo_minutes=services.settings.loyalty_undo_minutes),
        )
