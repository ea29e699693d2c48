"""Offer publication: the request posted in the approvals channel, Approve, Reject."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.approvals import Decision, Posted, PublicationApprovals
from bot.core.validation import Errors, Field, reason_problem
from bot.domain.errors import InvalidInput
from bot.domain.records import Approval, ApprovalState
from bot.domain.say import Channel, Code, Say
from bot.i18n import speaking
from bot.slack import blocks, views
from bot.slack.ids import ActionId, ApprovalRef, Form, FormContext, new_once
from handlers import modals
from handlers.after_ack import after_ack
from handlers.context import Env, Services, send_dm
from handlers.slackapi import SLACK_FAILED, SlackUnreachable, why

log = logging.getLogger(__name__)


def request_publication(env: Env, offer_id: int) -> None:
    channel = env.settings.loyalty_approvals_channel
    if not channel:
        raise InvalidInput(
            Say(
                "Publishing needs a manager's approval in a channel, and none is set up yet. "
                "Ask whoever runs the bot to choose an approvals channel and to invite the bot "
                "there."
            )
        )
    approvals: PublicationApprovals = env.services.approvals

    def post(approval: Approval) -> Posted:
        with speaking(env.settings.loyalty_language):  # a channel post
            request = blocks.approval_request(
                approval, env.settings.tz, _deciders(approval, env.services)
            )
        try:
            posted = env.client.chat_postMessage(channel=channel, **request.kwargs())
        except SlackApiError as exc:
            if exc.response.get("error") in ("not_in_channel", "channel_not_found", "is_archived"):
                raise InvalidInput(
                    Say(
                        "I cannot post the request in {channel} because I am not a member of "
                        "that channel. Invite me there ({invite}) and ask again.",
                        channel=Channel(channel),
                        invite=Code("/invite @Loyalty"),
                    )
                ) from None
            raise
        except SLACK_FAILED as exc:  # no answer: the request is withdrawn (its buttons say so)
            log.warning("could not post a publication request in %s: %s", channel, why(exc))
            raise SlackUnreachable(
                Say(
                    "Slack did not answer when I posted the request in {channel}, so nothing "
                    "was requested. Try again in a moment.",
                    channel=Channel(channel),
                )
            ) from None
        channel_id, ts = posted["channel"], posted["ts"]
        return Posted(channel_id, ts, _permalink(env.client, channel_id, ts))

    approval, entry = approvals.request(env.actor, offer_id, post)
    env.reply(blocks.publication_requested(approval, channel))
    env.announce(entry)


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
    except SLACK_FAILED as exc:
        log.info("no permalink for %s/%s: %s", channel, ts, why(exc))
        return None


def _deciders(approval: Approval, services: Services) -> Say:
    """Who the request asks: the managers, but not the one who asked when they may not
    approve their own request."""
    asked_by = "" if services.approvals.allow_self_approval else approval.requested_by
    return services.roles.managers_said(but=asked_by)


def show_decision(client: WebClient, approval: Approval, services: Services) -> None:
    """Update the request message in place, tell the requester in its thread, and send
    them the outcome (and what to do next) in a DM, where they will see it."""
    if not approval.message_ts:
        return
    with speaking(services.settings.loyalty_language):  # the channel's messages
        request = blocks.approval_request(
            approval, services.settings.tz, _deciders(approval, services)
        )
        outcome = blocks.approval_outcome_for_requester(approval)
    client.chat_update(channel=approval.channel_id, ts=approval.message_ts, **request.kwargs())
    if approval.state in (ApprovalState.PUBLISHED, ApprovalState.REJECTED, ApprovalState.STALE):
        client.chat_postMessage(
            channel=approval.channel_id, thread_ts=approval.message_ts, **outcome.kwargs()
        )
    if approval.state in ENDED and approval.decided_by != approval.requested_by:
        with speaking(services.languages.of(client, approval.requested_by)):  # theirs
            told = blocks.approval_outcome_dm(approval)
        try:
            send_dm(client, approval.requested_by, told)
        except SLACK_FAILED as exc:  # the thread and the request message still say it
            log.info("outcome DM to the requester failed: %s", why(exc))


ENDED = (
    ApprovalState.PUBLISHED,
    ApprovalState.REJECTED,
    ApprovalState.STALE,
    ApprovalState.FAILED,
)


def list_approvals(env: Env) -> None:
    env.reply(blocks.approvals_list(env.services.approvals.open_requests(), env.settings.tz))


def _reject(env: Env, context: FormContext, reason: str) -> Decision:
    approvals = env.services.approvals
    approval_id = int(context.target_id or 0)
    with env.service.ledger.once(
        f"click:{context.once}",
        env.user_id,
        again=lambda: approvals.where_it_stands(approval_id),
    ):
        decision = approvals.reject(env.actor, approval_id, reason)
    show_decision(env.client, decision.approval, env.services)
    env.announce(decision.entry)
    return decision


def _check_rejection(env: Env, values: dict[str, str | None]) -> tuple[str | None, Errors]:
    reason = (values.get(Field.REJECT_REASON) or "").strip()
    problem = reason_problem(reason) if reason else Say("Say why, for the requester.")
    return (None, {Field.REJECT_REASON: problem}) if problem else (reason, {})


REJECTION: modals.Submission[str, Decision] = modals.Submission(
    Field.REJECT_REASON,
    _check_rejection,
    _reject,
    lambda env, context, decision: blocks.rejection_sent(decision.approval),
    tell=False,
)


def register(app: App) -> None:
    @app.action(ActionId.APPROVE)
    @after_ack
    def approve(env: Env, value: str) -> None:
        approvals = env.services.approvals
        ref = ApprovalRef.decode(value)
        with env.service.ledger.once(
            f"click:{ref.once or env.trigger_id}",
            env.user_id,
            again=lambda: approvals.where_it_stands(ref.approval_id),
        ):
            decision = approvals.approve(env.actor, ref.approval_id)
        show_decision(env.client, decision.approval, env.services)
        env.announce(decision.entry)

    @app.action(ActionId.REJECT)
    def reject(ack: Ack, env: Env, body: dict[str, Any]) -> None:
        ack()
        ref = ApprovalRef.decode(body["actions"][0].get("value"))
        approvals = env.services.approvals
        approvals.refuse_unless_may_decide(env.actor)
        approval = approvals.store.approval(ref.approval_id)
        name = approval.offer_name if approval else "this offer"
        context = FormContext(
            form=Form.REJECT,
            target_id=ref.approval_id,
            channel_id=env.channel_id,
            once=ref.once or new_once(),
        )
        env.speak_their_language()
        env.client.views_open(trigger_id=env.trigger_id, view=views.reject_form(context, name))

    modals.on_submit(app, Form.REJECT, REJECTION)
