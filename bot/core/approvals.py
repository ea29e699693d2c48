"""Offer publication through a manager's approval, published exactly once.

The store holds each request's state and moves it atomically (pending -> publishing ->
published, or failed to retry; pending -> rejected or stale), so double clicks, two
managers at once and restarts cannot publish twice. The publish itself goes through the
ledger under the offer's lock, like every change. No Slack here: the handlers post and
update the request message from the Approval this returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.intents import Intent
from bot.core.ledger import Ledger
from bot.core.outcomes import was_applied
from bot.core.roles import Roles
from bot.core.service import offer_key
from bot.domain.audit import Action, Actor, AuditEntry, Outcome, Target, utcnow
from bot.domain.errors import (
    AlreadyDone,
    ChangeRefused,
    InvalidInput,
    LoyaltyAPIError,
    LoyaltyError,
    NotFound,
)
from bot.domain.policy import Act
from bot.domain.records import OPEN_STATES, Approval, ApprovalState
from bot.domain.say import N_, Command, Link, Name, Person, Say, status
from bot.smartpasses.client import LoyaltyClient
from bot.smartpasses.models import Offer
from bot.store.database import Store

# A "publishing" state older than this was left by a process that died mid-way.
STUCK_AFTER = dt.timedelta(seconds=90)
PUBLISHING_STATUS = {"status": ["Draft", "Published"]}


@dataclass(frozen=True)
class Posted:
    """Where a request's message was posted."""

    channel_id: str
    message_ts: str
    permalink: str | None = None


@dataclass(frozen=True)
class Decision:
    """A request after a manager's decision, and the change it made (if any)."""

    approval: Approval
    entry: AuditEntry | None = None


class AlreadyRequested(InvalidInput):
    """An identical request is already waiting; `approval` says where."""

    def __init__(self, approval: Approval) -> None:
        name = Name(approval.offer_name)
        super().__init__(
            Say(
                "Publishing “{name}” is already waiting for a manager's approval. {link}",
                name=name,
                link=Link(approval.permalink, "See the request."),
            )
            if approval.permalink
            else Say("Publishing “{name}” is already waiting for a manager's approval.", name=name)
        )
        self.approval = approval


class PublicationApprovals:
    def __init__(
        self,
        api: LoyaltyClient,
        store: Store,
        roles: Roles,
        ledger: Ledger,
        *,
        allow_self_approval: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.api = api
        self.store = store
        self.roles = roles
        self.ledger = ledger
        self.allow_self_approval = allow_self_approval
        self._clock = clock

    # -- asking ------------------------------------------------------------------------

    def request(
        self, actor: Actor, offer_id: int, post: Callable[[Approval], Posted]
    ) -> tuple[Approval, AuditEntry]:
        """Record a request for a Draft offer and `post` its message (the handler's part),
        under the offer's lock. If posting fails, no request is left waiting."""
        with self.ledger.locked(offer_key(offer_id), N_("this offer"), actor):
            offer = self.api.get_offer(offer_id)
            if not offer.is_draft:
                raise ChangeRefused(
                    Say(
                        "“{name}” is {status}: only Draft offers can be published.",
                        name=Name(offer.name),
                        status=status(offer.status),
                    )
                )
            for waiting in self.store.open_approvals(offer.id):
                if waiting.fingerprint == offer.content_hash() and waiting.message_ts:
                    raise AlreadyRequested(waiting)
            pending = self.ledger.begin(actor, self._intent(Action.PUBLISH_REQUEST, offer))
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
            try:
                where = post(approval)
            except Exception as exc:  # whatever it was, no request is left waiting unseen
                self.store.delete_approval(approval.id)
                self.ledger.finish(pending, Outcome.FAILED, detail=_not_posted(exc))
                raise
            self.store.set_approval_message(
                approval.id,
                channel_id=where.channel_id,
                message_ts=where.message_ts,
                permalink=where.permalink,
            )
            entry, _ = self.ledger.finish(pending, Outcome.OK)
        return self._get(approval.id), entry

    def open_requests(self) -> list[Approval]:
        return [a for a in self.store.open_approvals() if a.message_ts]

    # -- deciding ----------------------------------------------------------------------

    def approve(self, actor: Actor, approval_id: int) -> Decision:
        approval = self._get(approval_id)
        self._require_decider(actor, approval)
        if approval.state in (ApprovalState.PUBLISHED, ApprovalState.REJECTED, ApprovalState.STALE):
            raise AlreadyDone(_decided(approval))
        if approval.requested_by == actor.user_id and not self.allow_self_approval:
            self.ledger.refuse(
                actor,
                self._intent(Action.PUBLISH_APPROVE, approval),
                Say("their own request: another manager must approve it"),
            )
            raise ChangeRefused(
                Say("You asked for this publication yourself, so another manager must approve it.")
            )
        retrying = self._claim(actor, approval)
        try:
            with self.ledger.locked(offer_key(approval.offer_id), N_("this offer"), actor):
                return self._publish(actor, approval, retrying)
        except LoyaltyError as exc:  # nothing published, or nobody can tell: retryable
            return Decision(self._finish(actor, approval, ApprovalState.FAILED, exc.say))

    def _publish(self, actor: Actor, approval: Approval, retrying: bool) -> Decision:
        """Publish the offer if it is still exactly what the request showed."""
        try:
            offer = self.api.get_offer(approval.offer_id)
        except NotFound:
            return self._stale(actor, approval, Say("The offer was deleted; nothing to publish."))
        except LoyaltyAPIError as exc:
            return Decision(self._finish(actor, approval, ApprovalState.FAILED, exc.say))
        if not offer.is_draft:
            if offer.is_published and retrying:
                # An earlier attempt whose answer was lost did publish it.
                return Decision(self._finish(actor, approval, ApprovalState.PUBLISHED, ""))
            return self._stale(
                actor,
                approval,
                Say(
                    "The offer is now {status}, so there is nothing to approve.",
                    status=status(offer.status),
                ),
            )
        if offer.content_hash() != approval.fingerprint:
            return self._stale(
                actor,
                approval,
                Say(
                    "The offer was edited after this request, so it is not what was shown here. "
                    "Ask for publication again to approve the new version."
                ),
            )
        intent = self._intent(Action.OFFER_PUBLISH, approval)
        pending = self.ledger.begin(actor, intent)
        done = self.ledger.carry_out(
            pending,
            lambda: self.api.publish_offer(offer.id) or offer.with_status("Published"),
            lambda: was_applied(self.api, intent),
            what=Say("Publishing “{name}”", name=Name(offer.name)),
            look_hint=Say("the offer ({card})", card=Command("offer", str(offer.id))),
        )
        return Decision(self._finish(actor, approval, ApprovalState.PUBLISHED, ""), done.entry)

    def _stale(self, actor: Actor, approval: Approval, why: Say) -> Decision:
        self.ledger.refuse(actor, self._intent(Action.OFFER_PUBLISH, approval), why)
        return Decision(self._finish(actor, approval, ApprovalState.STALE, why))

    def reject(self, actor: Actor, approval_id: int, reason: str) -> Decision:
        approval = self._get(approval_id)
        self._require_decider(actor, approval)
        intent = dataclasses.replace(
            self._intent(Action.PUBLISH_REJECT, approval), changes={}, reason=reason
        )
        with self.ledger.locked(offer_key(approval.offer_id), N_("this offer"), actor):
            pending = self.ledger.begin(actor, intent)
            if not self.store.move_approval(
                approval.id,
                to=ApprovalState.REJECTED,
                only_from=OPEN_STATES,
                user_id=actor.user_id,
                note=reason,
            ):
                self.ledger.finish(pending, Outcome.REFUSED, detail=Say("already decided"))
                raise AlreadyDone(_decided(self._get(approval.id)))
            entry, _ = self.ledger.finish(pending, Outcome.OK)
        return Decision(self._get(approval.id), entry)

    def where_it_stands(self, approval_id: int) -> Say:
        """For a click that arrives after its button was already used."""
        approval = self._get(approval_id)
        if approval.state in (ApprovalState.PENDING, ApprovalState.PUBLISHING):
            # Its Approve was claimed: that approval is under way.
            return Say("Another manager is publishing this offer right now.")
        if approval.state == ApprovalState.FAILED:
            return Say("That button was already used; use the buttons on the request as it is now.")
        return _decided(approval)

    def refuse_unless_may_decide(self, actor: Actor) -> None:
        self.roles.require(actor.user_id, Act.APPROVE_PUBLICATION, team_id=actor.team_id)

    def _require_decider(self, actor: Actor, approval: Approval) -> None:
        """PermissionDenied, recorded against the offer, unless `actor` may decide."""
        self.roles.require(
            actor.user_id,
            Act.APPROVE_PUBLICATION,
            team_id=actor.team_id,
            target_type=Target.OFFER,
            target_id=approval.offer_id,
            target_name=approval.offer_name,
        )

    # -- plumbing ----------------------------------------------------------------------

    @staticmethod
    def _intent(action: Action, offer: Offer | Approval) -> Intent:
        offer_id = offer.id if isinstance(offer, Offer) else offer.offer_id
        name = offer.name if isinstance(offer, Offer) else offer.offer_name
        # Only publishing changes the offer; asking or deciding changes nothing yet.
        changes = dict(PUBLISHING_STATUS) if action == Action.OFFER_PUBLISH else {}
        return Intent(action, Target.OFFER, offer_id, name, changes=changes)

    def _claim(self, actor: Actor, approval: Approval) -> bool:
        """Win the right to publish; True if an earlier attempt may have reached the API."""
        if approval.state == ApprovalState.PUBLISHING:
            if not self.store.move_approval(
                approval.id,
                to=ApprovalState.PUBLISHING,
                only_from=(ApprovalState.PUBLISHING,),
                user_id=actor.user_id,
                decided_before=self._clock() - STUCK_AFTER,
            ):
                raise AlreadyDone(Say("Another manager is publishing this offer right now."))
            return True
        if not self.store.move_approval(
            approval.id, to=ApprovalState.PUBLISHING, only_from=OPEN_STATES, user_id=actor.user_id
        ):
            latest = self._get(approval.id)
            raise AlreadyDone(
                _decided(latest)
                if latest.state != ApprovalState.PUBLISHING
                else Say("Another manager is publishing this offer right now.")
            )
        return approval.state == ApprovalState.FAILED

    def _finish(
        self, actor: Actor, approval: Approval, state: ApprovalState, note: str | Say
    ) -> Approval:
        self.store.move_approval(
            approval.id,
            to=state,
            only_from=(ApprovalState.PUBLISHING,),
            user_id=actor.user_id,
            note=note,
        )
        return self._get(approval.id)

    def _get(self, approval_id: int) -> Approval:
        approval = self.store.approval(approval_id)
        if approval is None:
            raise AlreadyDone(Say("That publication request no longer exists."))
        return approval


def _decided(approval: Approval) -> Say:
    name, who = Name(approval.offer_name), Person(approval.decided_by or "")
    if approval.state == ApprovalState.PUBLISHED:
        return Say("“{name}” was already published by {who}.", name=name, who=who)
    if approval.state == ApprovalState.REJECTED:
        return Say("Publishing “{name}” was already rejected by {who}.", name=name, who=who)
    if approval.state == ApprovalState.STALE:
        return Say("This request is closed: {note}", note=approval.note_said or approval.note)
    return Say("This request is {state}.", state=status(approval.state))


def _not_posted(error: Exception) -> Say:
    """Why a publication request is not waiting, for its record and the history: what the
    person was told when it is one of ours, never a Slack error's raw English (that error
    goes on up, to be logged where it is answered)."""
    if isinstance(error, LoyaltyError):
        return Say("not posted in the approvals channel: {why}", why=error.say)
    return Say("not posted in the approvals channel")
