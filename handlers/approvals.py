"""Offer publication: the request posted in the approvals channel, Approve, Reject."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.approvals import Decision, Posted, PublicationApprovals
from bot.core.errors import InvalidInput
from bot.core.records import Approval, ApprovalState
from bot.core.say import Channel, Code, Say
from bot.core.validation import Field, reason_problem
from bot.slack import blocks, views
from bot.slack.ids import ActionId, ApprovalRef, Form, FormContext, OfferRef, new_once
from handlers import modals
from handlers.context import Env, Services, announce, env_from_body
from handlers.observe import observing

log = logging.getLogger(__name__)


def request_publication(env: Env, offer_id: int) -> None:
    channel = env.settings.loyalty_approvals_channel
    if not channel:
        raise InvalidInput(
            "Publishing needs a manager's approval in a channel, and none is set up yet. Ask "
            "whoever runs the bot to choose an approvals channel and to invite the bot there."
        )
    approvals: PublicationApprovals = env.services.approvals

    def post(approval: Approval) -> Posted:
        try:
            posted = env.client.chat_postMessage(
                channel=channel, **blocks.approval_request(approval, env.settings.tz).kwargs()
            )
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
        channel_id, ts = posted["channel"], posted["ts"]
        return Posted(channel_id, ts, _permalink(env.client, channel_id, ts))

    approval, entry = approvals.request(env.actor, offer_id, post)
    link = f"<{approval.permalink}|the request>" if approval.permalink else "the request"
    env.reply(
        blocks.notice(
            f"📨 Asked the managers in <#{channel}> to approve publishing "
            f"*{blocks.escape(approval.offer_name)}*. You will hear back here: see {link}."
        )
    )
    env.announce(entry)


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", channel, ts, exc.response.get("error"))
        return None


def show_decision(client: WebClient, approval: Approval, services: Services) -> None:
    """Update the request message in place, and tell the requester in its thread."""
    if not approval.message_ts:
        return
    client.chat_update(
        channel=approval.channel_id,
        ts=approval.message_ts,
        **blocks.approval_request(approval, services.settings.tz).kwargs(),
    )
    if approval.state in (ApprovalState.PUBLISHED, ApprovalState.REJECTED, ApprovalState.STALE):
        client.chat_postMessage(
            channel=approval.channel_id,
            thread_ts=approval.message_ts,
            **blocks.approval_outcome_for_requester(approval).kwargs(),
        )


def list_approvals(env: Env) -> None:
    env.reply(blocks.approvals_list(env.services.approvals.open_requests(), env.settings.tz))


def register(app: observing, services: Services) -> None:
    approvals: PublicationApprovals = services.approvals

    @app.action(ActionId.OFFER_PUBLISH)
    def publish_button(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        ref = OfferRef.decode(body["actions"][0].get("value"))
        services.defer(
            lambda: request_publication(env, ref.offer_id),
            body,
            client,
            respond,
            once=f"click:{ref.once or env.trigger_id}",
        )

    @app.action(ActionId.APPROVE)
    def approve(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        ref = ApprovalRef.decode(body["actions"][0].get("value"))

        def decide() -> None:
            decision = approvals.approve(env.actor, ref.approval_id)
            show_decision(client, decision.approval, services)
            announce(client, services.settings, decision.entry)

        services.defer(
            decide,
            body,
            client,
            respond,
            once=f"click:{ref.once or env.trigger_id}",
            again=lambda: approvals.where_it_stands(ref.approval_id),
        )

    @app.action(ActionId.REJECT)
    def reject(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        env = env_from_body(services, body, client, respond)
        ref = ApprovalRef.decode(body["actions"][0].get("value"))
        approvals.check_may_decide(env.actor)
        approval = services.approvals.store.approval(ref.approval_id)
        name = approval.offer_name if approval else "this offer"
        context = FormContext(
            form=Form.REJECT,
            target_id=ref.approval_id,
            channel_id=env.channel_id,
            once=ref.once or new_once(),
        )
        client.views_open(trigger_id=env.trigger_id, view=views.reject_form(context, name))

    @app.view(Form.REJECT)
    def reject_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        view = body["view"]
        context = FormContext.decode(view.get("private_metadata"))
        reason = (views.form_values(view["state"]).get(Field.REJECT_REASON) or "").strip()
        problem = reason_problem(reason) if reason else "Say why, for the requester."
        if problem:
            ack(response_action="errors", errors={Field.REJECT_REASON: problem})
            return
        env = env_from_body(services, body, client, lambda **kwargs: None)
        approval_id = int(context.target_id or 0)

        def reject() -> Decision:
            with services.service.ledger.once(
                f"click:{context.once}",
                env.user_id,
                again=lambda: approvals.where_it_stands(approval_id),
            ):
                decision = approvals.reject(env.actor, approval_id, reason)
            show_decision(client, decision.approval, services)
            announce(client, services.settings, decision.entry)
            return decision

        modals.submit(
            ack,
            env,
            context,
            view,
            Field.REJECT_REASON,
            reject,
            lambda decision: blocks.notice(
                f"❌ Rejected. <@{decision.approval.requested_by}> is told why in the "
                "request's thread."
            ),
            tell=False,
        )
