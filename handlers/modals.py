"""The modals: opening them (loading first, since a trigger_id lasts about 3 s), choosing
inside them, and their submissions (one listener: checked before anything is sent, then
done once, after the ack)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App

from bot.core import validation as forms
from bot.core.intents import Done
from bot.core.service import PointsResult
from bot.core.validation import Errors, Field
from bot.domain.amounts import Op, PointsChange
from bot.domain.errors import AlreadyTaken, ChangeRefused, MalformedRequest, ValidationFailed
from bot.domain.policy import Act
from bot.domain.say import N_, Say
from bot.i18n import _, decimal_mark, number
from bot.slack import blocks, views
from bot.slack.blocks import Message
from bot.slack.ids import ActionId, Form, FormContext, PickInForm
from bot.slack.text import escape, mrkdwn, plain
from bot.smartpasses.models import Customer, Offer
from handlers import resolve
from handlers.after_ack import after_ack
from handlers.context import Env
from handlers.errors import user_message
from handlers.parsing import customer_draft
from handlers.slackapi import SLACK_FAILED, name_of, why
from handlers.workpool import Overloaded

log = logging.getLogger(__name__)
F = TypeVar("F")  # what a form's fields become once checked
T = TypeVar("T")  # what doing it returns

TITLES = {  # msgids: shown with _()
    Form.CUSTOMER: N_("Customer"),
    Form.OFFER: N_("Offer"),
    Form.POINTS: N_("Change points"),
    Form.REDEEM: N_("Redeem a reward"),
    Form.REJECT: N_("Reject publication"),
    Form.PROMOTION: N_("New promotion"),
}
SAVING = N_("⏳ Saving… I will show the result here, and send it to you as a message.")
ALREADY_SENT = N_(
    "This form was already sent, so it was not sent again. Its result is shown where you "
    "started it (or in a message from me)."
)


# -- opening -------------------------------------------------------------------------


def open_then_fill(
    env: Env,
    title: str,
    waiting: str,
    build: Callable[[], dict[str, Any]],
    *,
    acked: bool = False,
) -> None:
    """Open a loading modal now, then fill it with `build()` after the API answers (on
    the work pool; `acked`: here, as this already runs after the ack)."""
    opened = env.client.views_open(trigger_id=env.trigger_id, view=views.loading(title, waiting))
    if acked:
        _fill(env, opened["view"]["id"], title, build)
    else:
        fill_after_ack(env, opened["view"]["id"], title, build)


def fill_after_ack(env: Env, view_id: str, title: str, build: Callable[[], dict[str, Any]]) -> None:
    env.defer(lambda: _fill(env, view_id, title, build))


def _fill(env: Env, view_id: str, title: str, build: Callable[[], dict[str, Any]]) -> None:
    try:
        view = build()
    except Exception as error:  # shown in the modal itself, never a spinner forever
        view = views.notice(title, "⚠️ " + user_message(error))
    env.update_view(view_id, view)


def _context(
    env: Env,
    form: Form,
    target_id: int | None = None,
    fingerprint: str = "",
    balance: int | None = None,
    op: Op | None = None,
) -> FormContext:
    return FormContext(
        form=form,
        target_id=target_id,
        channel_id=env.channel_id,
        fingerprint=fingerprint,
        balance=balance,
        op=op or "",
    )


def title(env: Env, form: Form) -> str:
    """A customer form's title in the reader's words: a clerk's points form only adds."""
    if form is Form.POINTS and not env.allows(Act.CHANGE_POINTS):
        return _("Add points")
    return _(TITLES[form])


# What a person must be allowed to open each customer form for (asked by the service).
FORM_ACTS = {Form.POINTS: Act.ADD_POINTS, Form.REDEEM: Act.REDEEM}


def customer_form_for(
    env: Env, form: Form, customer_id: int, *, permitted: bool = False, op: str = ""
) -> dict[str, Any]:
    """The filled form for one customer (fresh read). `permitted`: this request's role
    check was made already (before the form opened). `op`: the points form starts on it
    (`/loyalty quitar juan`: deducting)."""
    if not permitted and form in FORM_ACTS:
        env.service.permit(env.actor, _act(form, op))
    customer = env.service.customer(customer_id)
    if form is Form.POINTS:
        context = _context(env, form, customer.id, balance=customer.points)
        if env.allows(Act.CHANGE_POINTS):
            start = Op(op) if op else Op.ADD
            return views.points_form(
                context, customer, env.settings.loyalty_max_points, start=start
            )
        most = min(env.settings.loyalty_clerk_max_points, env.settings.loyalty_max_points)
        return views.points_form(context, customer, most, (Op.ADD,))
    if form is Form.REDEEM:
        context = _context(env, form, customer.id, balance=customer.points)
        return views.redeem_form(context, customer, env.service.redeemable(customer))
    context = _context(env, form, customer.id, customer.content_hash())
    return views.customer_form(context, customer)


def offer_form_for(env: Env, offer_id: int) -> dict[str, Any]:
    offer = env.service.offer(offer_id)
    env.service.refuse_unless_editable(env.actor, offer)  # asked again when it is saved
    return views.offer_form(_context(env, Form.OFFER, offer.id, offer.content_hash()), offer)


def _act(form: Form, op: str) -> Act:
    """What opening `form` asks of the person: deducting or setting is a manager's."""
    return Act.CHANGE_POINTS if op in (Op.DEDUCT, Op.SET) else FORM_ACTS[form]


def open_customer_form(
    env: Env,
    form: Form,
    reference: str,
    *,
    check: Callable[[], None] | None = None,
    op: Op | None = None,
    acked: bool = False,
) -> None:
    """Edit or change points of `reference` (id, email, ..., or a known id after '#').
    `check`: run once the form is open, before the lookup (what it raises is shown in
    the form). `op`: what the points form starts on. `acked`: called after the ack."""
    shown = title(env, form) if form in (Form.POINTS, Form.REDEEM) else _("Edit customer")
    started = op or ""
    if form in FORM_ACTS:  # refused before a form opens
        env.service.permit(env.actor, _act(form, started))

    def build() -> dict[str, Any]:
        if check is not None:
            check()
        found = resolve.customer(env, reference)
        if found.one is not None:
            return customer_form_for(env, form, found.one.id, permitted=True, op=started)
        if len(found.matches) > views.MAX_PICKS:  # too many to list: type more, choose one
            chooser = FormContext(
                form=Form.CHOOSE_CUSTOMER, then=form, channel_id=env.channel_id, op=started
            )
            intro = _(
                "{count} customers match “{query}”. Type more of a name, an email or a phone, "
                "and choose one."
            ).format(count=number(len(found.matches)), query=escape(found.query))
            return views.choose_customer(chooser, shown, intro)
        return views.pick_customer(_context(env, form, op=op), found.query, found.matches, shown)

    open_then_fill(env, shown, _("Looking the customer up…"), build, acked=acked)


def open_offer_form(env: Env, reference: str) -> None:
    def build() -> dict[str, Any]:
        found = resolve.offer(env, reference)
        if found.one is not None:
            return offer_form_for(env, found.one.id)
        title = _("Edit offer")
        return views.pick_offer(_context(env, Form.OFFER), found.query, found.matches, title)

    open_then_fill(env, _("Edit offer"), _("Looking the offer up…"), build)


def open_new_customer(env: Env, typed: str = "") -> None:
    """The new-customer form, filled in with what `customer new` was typed with."""
    draft = customer_draft(typed, env.settings.loyalty_default_region)
    view = views.customer_form(_context(env, Form.CUSTOMER), draft=draft)
    env.client.views_open(trigger_id=env.trigger_id, view=view)


def open_new_offer(env: Env) -> None:
    env.client.views_open(
        trigger_id=env.trigger_id, view=views.offer_form(_context(env, Form.OFFER))
    )


# -- submissions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Submission(Generic[F, T]):
    """What one form does when it is sent."""

    main_field: Field  # where a refusal that names no field is shown
    check: Callable[[Env, dict[str, str | None]], tuple[F | None, Errors]]  # no I/O
    act: Callable[[Env, FormContext, F], T]  # the API work, once per submission
    told: Callable[[Env, FormContext, T], Message]  # the result, in the window and as a message
    tell: bool = True  # also send the result where the person started


def show_result(env: Env, channel_id: str, message: Message) -> None:
    """Ephemeral in the channel the person came from; a DM if that is not possible."""
    if channel_id:
        try:
            env.client.chat_postEphemeral(channel=channel_id, user=env.user_id, **message.kwargs())
            return
        except SLACK_FAILED as exc:
            log.info("ephemeral result not possible in %s (%s); sending a DM", channel_id, why(exc))
    env.send_dm(message)


def submission_key(view: dict[str, Any]) -> str:
    """One submission of one form: a double click or a retry sends the same view and
    values (a resubmission after fixing a field does not)."""
    values = json.dumps(view.get("state") or {}, sort_keys=True).encode()
    return f"submit:{view.get('id', '')}:{hashlib.sha256(values).hexdigest()[:20]}"


def submitted(ack: Ack, env: Env, view: dict[str, Any], submission: Submission[F, T]) -> None:
    """Check the fields (errors go back beside them, in the ack); then answer "Saving…"
    at once and do the work once per submission on the work pool, and show how it went
    in the same window: the result (also sent as a message where the person started), or
    the form again with what Smart Passes refused beside its field, or why nothing could be
    done. No listener thread ever waits for Smart Passes."""
    context = FormContext.decode(view.get("private_metadata"))
    fields, errors = submission.check(env, views.form_values(view.get("state") or {}))
    if errors or fields is None:
        env.note("invalid")
        ack(response_action="errors", errors={k: plain(v) for k, v in errors.items()})
        return
    # As the form was titled (a clerk's points form says "Add points"): read from the view,
    # not the role, which may ask Slack and nothing before the ack waits on a network.
    heading = str((view.get("title") or {}).get("text") or _(TITLES[Form(context.form)]))

    def beside(say: Say) -> str:
        """A problem as a field's hint (plain text: a person named by their name, asked
        of Slack: this runs after the ack)."""
        return plain(say, name_of=lambda user_id: name_of(env.client, user_id))

    def outcome() -> tuple[dict[str, Any], Message | None]:
        """What the window shows now, and the message to send (when it was done)."""
        try:
            with env.service.ledger.once(
                submission_key(view), env.user_id, again=Say(ALREADY_SENT)
            ):
                result = submission.act(env, context, fields)
            message = submission.told(env, context, result)
            return views.result(heading, message), message
        except ValidationFailed as exc:  # refused as it stood: fix it and send it again
            refused = forms.map_api_errors(exc.field_errors, submission.main_field, exc.say)
            problems = {field: beside(problem) for field, problem in refused.items()}
            why = _("Smart Passes refused this:") + " " + mrkdwn(exc.say)
            return views.refused_form(view, problems, why), None
        except AlreadyTaken as exc:  # another record has it: shown beside its field
            confirm = context.model_copy(update={"same_name": exc.confirmable})
            problems = {exc.field: beside(exc.say)}
            return views.refused_form(view, problems, None, confirm), None
        except ChangeRefused as exc:  # the rules, on the record as it is now: fix and resend
            problems = {submission.main_field: beside(exc.say)}
            return views.refused_form(view, problems, None), None
        except Exception as exc:  # anything else: why, in the window (a bug: a reference)
            return views.notice(heading, "⚠️ " + user_message(exc)), None

    def run() -> None:
        shown, message = outcome()
        # The window may be gone (closed): what was done is still told, as a message.
        env.update_view(view["id"], shown)
        if message is not None and submission.tell:
            show_result(env, context.channel_id, message)

    if not env.services.work.has_room():
        env.note("busy")
        ack(response_action="update", view=views.notice(heading, "⚠️ " + mrkdwn(Overloaded().say)))
        return
    ack(response_action="update", view=views.notice(heading, _(SAVING)))
    env.in_channel(context.channel_id).defer(run)


def _save_customer(env: Env, context: FormContext, fields: forms.CustomerFields) -> Done[Customer]:
    confirmed = context.same_name  # the name this form warned about, sent again
    if context.target_id is None:
        done = env.service.create_customer(env.actor, fields, same_name=confirmed)
    else:
        done = env.service.update_customer(
            env.actor, context.target_id, fields, context.fingerprint, same_name=confirmed
        )
    env.announce(done.entry)
    return done


def _save_offer(env: Env, context: FormContext, fields: forms.OfferFields) -> Done[Offer]:
    if context.target_id is None:
        done = env.service.create_offer(env.actor, fields)
    else:
        done = env.service.update_offer(env.actor, context.target_id, fields, context.fingerprint)
    env.announce(done.entry)
    return done


def _change_points(
    env: Env, context: FormContext, change: tuple[PointsChange, str]
) -> PointsResult:
    if context.target_id is None:  # the points form always names its customer
        raise MalformedRequest(N_("form"))
    amount, reason = change
    result = env.service.change_points(
        env.actor, context.target_id, amount, reason, shown_balance=context.balance
    )
    env.announce(result.entry)
    return result


def _check_points(
    env: Env, values: dict[str, str | None]
) -> tuple[tuple[PointsChange, str] | None, Errors]:
    change, reason, errors = forms.read_points_form(
        values, env.settings.loyalty_max_points, decimal_mark()
    )
    return (None if change is None else (change, reason)), errors


def _redeem(env: Env, context: FormContext, offer_id: int) -> PointsResult:
    if context.target_id is None:  # the redeem form always names its customer
        raise MalformedRequest(N_("form"))
    result = env.service.redeem(env.actor, context.target_id, offer_id)
    env.announce(result.entry)
    return result


def _saved_customer(env: Env, context: FormContext, done: Done[Customer]) -> Message:
    said = (
        _("Customer {name} created.") if context.target_id is None else _("Customer {name} saved.")
    )
    return blocks.saved(
        blocks.customer_card(done.value, env.allows),
        said.format(name=escape(done.value.display_name)),
        done.remarks,
    )


def _saved_offer(env: Env, context: FormContext, done: Done[Offer]) -> Message:
    said = (
        _("Draft offer “{name}” created.")
        if context.target_id is None
        else _("Offer “{name}” saved.")
    )
    return blocks.saved(
        blocks.offer_card(done.value, env.allows),
        said.format(name=escape(done.value.name)),
        done.remarks,
    )


SUBMISSIONS: dict[Form, Submission[Any, Any]] = {
    Form.CUSTOMER: Submission(
        Field.FIRST_NAME,
        lambda env, values: forms.read_customer_form(values, env.settings.loyalty_default_region),
        _save_customer,
        _saved_customer,
    ),
    Form.OFFER: Submission(
        Field.OFFER_NAME,
        lambda env, values: forms.read_offer_form(values, decimal_mark=decimal_mark()),
        _save_offer,
        _saved_offer,
    ),
    Form.POINTS: Submission(
        Field.POINTS_AMOUNT,
        _check_points,
        _change_points,
        lambda env, context, result: blocks.points_changed(
            result, undo_minutes=env.settings.loyalty_undo_minutes
        ),
    ),
    Form.REDEEM: Submission(
        Field.REDEEM_OFFER,
        lambda env, values: forms.read_redeem_form(values),
        _redeem,
        lambda env, context, result: blocks.redeemed(
            result, undo_minutes=env.undo_minutes(Act.UNDO_ANY_CHANGE)
        ),
    ),
}


# -- registration ------------------------------------------------------------------------


def on_submit(app: App, form: Form, submission: Submission[Any, Any]) -> None:
    """`submission` runs when `form` is sent (the one submission listener)."""

    def form_submitted(ack: Ack, env: Env, view: dict[str, Any]) -> None:
        submitted(ack, env, view, submission)

    form_submitted.__name__ = f"{form.name.lower()}_submitted"
    app.view(form)(form_submitted)


def register(app: App) -> None:
    import re

    @app.action(re.compile(f"^{ActionId.PICK_IN_FORM}"))
    @after_ack
    def pick_in_form(env: Env, value: str, view: dict[str, Any]) -> None:
        choice = PickInForm.decode(value)
        picker = FormContext.decode(view.get("private_metadata"))
        env = env.in_channel(picker.channel_id)
        form = Form(choice.form)
        try:
            filled = (
                offer_form_for(env, choice.target_id)
                if form is Form.OFFER
                else customer_form_for(env, form, choice.target_id, op=picker.op)
            )
        except Exception as error:  # shown in the modal
            filled = views.notice(title(env, form), "⚠️ " + user_message(error))
        env.update_view(view["id"], filled)

    for form, submission in SUBMISSIONS.items():
        on_submit(app, form, submission)
