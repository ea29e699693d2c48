"""Offer publication through a manager's approval, published exactly once.

The store holds each request's state and moves it atomically (pending -> publishing ->
published, or failed to retry; pending -> rejected or stale), so double clicks, two
managers at once and restarts cannot publish twice. No Slack here: the handlers post and
update the request message from the Approval this returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.errors import AlreadyDone, ChangeRefused, InvalidInput, LoyaltyAPIError, NotFound
from bot.loyalty_api import LoyaltyClient
from bot.models import Offer
from bot.roles import Roles
from bot.store import (
    FAILED,
    FAILED_STATE,
    OK,
    OPEN_STATES,
    PUBLISHED,
    PUBLISHING,
    REFUSED,
    REJECTED,
    STALE,
    Actor,
    Approval,
    Store,
    utcnow,
)

# A "publishing" state older than this was left by a process that died mid-way.
STUCK_AFTER = dt.timedelta(seconds=90)


class AlreadyRequested(InvalidInput):
    """An identical request is already waiting; `approval` says where."""

    def __init__(self, approval: Approval) -> None:
        where = f" <{approval.permalink}|See the request.>" if approval.permalink else ""
        super().__init__(
            f"Publishing “{approval.offer_name}” is already waiting for a manager's approval."
            + where
        )
        self.approval = approval


class PublicationApprovals:
    def __init__(
        self,
        api: LoyaltyClient,
        store: Store,
        roles: Roles,
        *,
        allow_self_approval: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.api = api
        self.store = store
        self.roles = roles
        self.allow_self_approval = allow_self_approval
        self._clock = clock

    # -- asking ------------------------------------------------------------------------

    def open_request(self, actor: Actor, offer_id: int) -> tuple[Approval, Offer]:
        """Record a request for a Draft offer (the handler then posts it)."""
        offer = self.api.get_offer(offer_id)
        if not offer.is_draft:
            raise ChangeRefused(
                f"“{offer.name}” is {offer.status}: only Draft offers can be published."
            )
        for waiting in self.store.open_approvals(offer.id):
            if waiting.fingerprint == offer.content_hash() and waiting.message_ts:
                raise AlreadyRequested(waiting)
        approval = self.store.add_approval(
            offer_id=offer.id,
            offer_name=offer.name,
            description=offer.description,
            points_cost=offer.points_cost,
            auto_claim=offer.auto_claim,
            fingerprint=offer.content_hash(),
            team_id=actor.team_id,
            requested_by=actor.user_id,
        )
        self._audit(actor, "offer.publish_request", approval, OK)
        return approval, offer

    def posted(
        self, approval: Approval, channel_id: str, message_ts: str, permalink: str | None
    ) -> Approval:
        self.store.set_approval_message(
            approval.id, channel_id=channel_id, message_ts=message_ts, permalink=permalink
        )
        return self._get(approval.id)

    def not_posted(self, approval: Approval, why: str) -> None:
        self.store.delete_approval(approval.id)
        self.store.record(
            user_id=approval.requested_by,
            action="offer.publish_request",
            outcome=FAILED,
            target_type="offer",
            target_id=approval.offer_id,
            target_name=approval.offer_name,
            detail=why,
        )

    def open_requests(self) -> list[Approval]:
        return [a for a in self.store.open_approvals() if a.message_ts]

    # -- deciding ----------------------------------------------------------------------

    def approve(self, actor: Actor, approval_id: int) -> Approval:
        approval = self._get(approval_id)
        self.roles.require_manager(
            actor.user_id,
            "approve offer publication",
            team_id=actor.team_id,
            target_type="offer",
            target_id=approval.offer_id,
            target_name=approval.offer_name,
        )
        if approval.state in (PUBLISHED, REJECTED, STALE):
            raise AlreadyDone(_decided(approval))
        if approval.requested_by == actor.user_id and not self.allow_self_approval:
            self._audit(
                actor, "offer.publish_approve", approval, REFUSED, "self-approval is not allowed"
            )
            raise ChangeRefused(
                "You asked for this publication yourself, so another manager must approve it. "
                "(To allow approving your own requests, set LOYALTY_ALLOW_SELF_APPROVAL=true.)"
            )
        retrying = self._claim(actor, approval)
        try:
            offer = self.api.get_offer(approval.offer_id)
        except NotFound:
            return self._finish(
                actor, approval, STALE, "The offer was deleted; nothing to publish."
            )
        except LoyaltyAPIError as exc:
            return self._finish(actor, approval, FAILED_STATE, exc.message)
        if not offer.is_draft:
            if offer.is_published and retrying:
                # An earlier attempt whose answer was lost did publish it.
                return self._finish(actor, approval, PUBLISHED, "")
            return self._finish(
                actor,
                approval,
                STALE,
                f"The offer is now {offer.status}, so there is nothing to approve.",
            )
        if offer.content_hash() != approval.fingerprint:
            return self._finish(
                actor,
                approval,
                STALE,
                "The offer was edited after this request, so it is not what was shown here. "
                "Ask for publication again to approve the new version.",
            )
        try:
            self.api.publish_offer(approval.offer_id)
        except LoyaltyAPIError as exc:
            return self._finish(actor, approval, FAILED_STATE, exc.message)
        return self._finish(actor, approval, PUBLISHED, "")

    def reject(self, actor: Actor, approval_id: int, reason: str) -> Approval:
        approval = self._get(approval_id)
        self.roles.require_manager(
            actor.user_id,
            "reject offer publication",
            team_id=actor.team_id,
            target_type="offer",
            target_id=approval.offer_id,
            target_name=approval.offer_name,
        )
        if not self.store.move_approval(
            approval.id, to=REJECTED, only_from=OPEN_STATES, user_id=actor.user_id, note=reason
        ):
            raise AlreadyDone(_decided(self._get(approval.id)))
        self._audit(actor, "offer.publish_reject", approval, OK, reason)
        return self._get(approval.id)

    def check_manager(self, actor: Actor, what: str) -> None:
        self.roles.require_manager(actor.user_id, what, team_id=actor.team_id)

    # -- plumbing ----------------------------------------------------------------------

    def _claim(self, actor: Actor, approval: Approval) -> bool:
        """Win the right to publish; True if an earlier attempt may have reached the API."""
        if approval.state == PUBLISHING:
            if not self.store.move_approval(
                approval.id,
                to=PUBLISHING,
                only_from=(PUBLISHING,),
                user_id=actor.user_id,
                decided_before=self._clock() - STUCK_AFTER,
            ):
                raise AlreadyDone("Another manager is publishing this offer right now.")
            return True
        if not self.store.move_approval(
            approval.id, to=PUBLISHING, only_from=OPEN_STATES, user_id=actor.user_id
        ):
            latest = self._get(approval.id)
            raise AlreadyDone(
                _decided(latest)
                if latest.state != PUBLISHING
                else "Another manager is publishing this offer right now."
            )
        return approval.state == FAILED_STATE

    def _finish(self, actor: Actor, approval: Approval, state: str, note: str) -> Approval:
        self.store.move_approval(
            approval.id, to=state, only_from=(PUBLISHING,), user_id=actor.user_id, note=note
        )
        outcome = OK if state == PUBLISHED else FAILED if state == FAILED_STATE else REFUSED
        self._audit(actor, "offer.publish", approval, outcome, note or "published")
        return self._get(approval.id)

    def _get(self, approval_id: int) -> Approval:
        approval = self.store.approval(approval_id)
        if approval is None:
            raise AlreadyDone("That publication request no longer exists.")
        return approval

    def _audit(
        self, actor: Actor, action: str, approval: Approval, outcome: str, detail: str = ""
    ) -> None:
        self.store.record_by(
            actor,
            action=action,
            outcome=outcome,
            target_type="offer",
            target_id=approval.offer_id,
            target_name=approval.offer_name,
            detail=detail,
        )


def _decided(approval: Approval) -> str:
    who = f" by <@{approval.decided_by}>" if approval.decided_by else ""
    return {
        PUBLISHED: f"“{approval.offer_name}” was already published{who}.",
        REJECTED: f"Publishing “{approval.offer_name}” was already rejected{who}.",
        STALE: f"This request is closed: {approval.note}",
    }.get(approval.state, f"This request is {approval.state}.")
