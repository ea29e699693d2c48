"""Points from sales: a sale's points from the earning rule and the promotions in force,
added through the ledger like any points change (once, fenced, audited with the sale,
within the clerk allowance); and the promotions themselves, which managers keep."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from bot.core.base import customer_key
from bot.core.intents import Intent
from bot.core.points import Points, PointsResult
from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import Action, Actor, AuditEntry, Outcome, Target
from bot.domain.earning import (
    MOST_PROMOTIONS,
    EarningRule,
    Promotion,
    SalePoints,
    points_for_sale,
    rule_text,
)
from bot.domain.errors import AlreadyDone, ChangeRefused
from bot.domain.policy import Act
from bot.domain.say import N_, Command, Money, Say

NO_RULE = Say(
    "Sales do not earn points yet: a manager has to set how many points a sale earns first."
)


@dataclass(frozen=True)
class SaleResult:
    points: PointsResult  # the points change the sale made
    amount: Decimal
    currency: str
    earned: SalePoints  # the rule's points and what each promotion added


class Sales(Points):
    def record_sale(
        self,
        actor: Actor,
        customer_id: int,
        amount: Decimal,
        note: str = "",
        *,
        at: dt.datetime | None = None,
    ) -> SaleResult:
        """Add the points a sale of `amount` earns the customer now: the rule's, plus the
        promotions in force for their balance (read under their lock)."""
        rule = self.earning
        if rule is None:
            raise ChangeRefused(NO_RULE)
        self.roles.require(actor.user_id, Act.ADD_POINTS, team_id=actor.team_id)
        money = Money(amount, rule.currency)
        if amount < rule.minimum_sale:
            raise ChangeRefused(
                Say(
                    "Sales under {minimum} earn no points, so nothing was added for {amount}.",
                    minimum=Money(rule.minimum_sale, rule.currency),
                    amount=money,
                )
            )
        moment = at or self._clock()
        promotions = self.store.promotions()
        with self.ledger.locked(customer_key(customer_id), N_("this customer's points"), actor):
            customer = self.customer(customer_id)  # the balance read under the lock
            earned = points_for_sale(rule, promotions, amount, moment, self.tz, customer.points)
            intent = Intent(
                Action.POINTS_SALE,
                Target.CUSTOMER,
                customer.id,
                customer.display_name,
                before=customer.points,
                requested=str(PointsChange(Op.ADD, earned.total)),
                reason=note,
                changes={"sale": [None, sale_record(amount, rule, earned)]},
            )
            refusal = None
            if earned.total == 0:
                refusal = Say(
                    "A sale of {amount} earns no points ({rule}); nothing was changed.",
                    amount=money,
                    rule=rule_words(rule),
                )
            elif earned.total > self.max_points:
                refusal = Say(
                    "This sale earns {points:,} points, more than the largest single change "
                    "allowed ({most:,}). Nothing was changed; a manager can add them in parts "
                    "with {command}.",
                    points=earned.total,
                    most=self.max_points,
                    command=Command("points", str(customer.id)),
                )
            if refusal is not None:
                self.ledger.refuse(actor, intent, refusal, with_changes=True)  # the sale's amount
                raise ChangeRefused(refusal)
            earns = Say("This sale earns {points:,} points.", points=earned.total)
            with self.within_allowance(actor, customer.id, earned.total, earns):
                done = self._points_call(actor, intent, PointsChange(Op.ADD, earned.total))
        self.index.upsert(done.value)
        result = PointsResult(
            done.value, customer.points, done.value.points, note, done.entry, actor, done.remarks
        )
        return SaleResult(result, amount, rule.currency, earned)

    # -- promotions ---------------------------------------------------------------------

    def promotions(self) -> list[Promotion]:
        """Those that have not ended (paused ones too), oldest first."""
        return self.store.promotions()

    def add_promotion(self, actor: Actor, promotion: Promotion) -> AuditEntry:
        """Keep a new promotion (managers; at most MOST_PROMOTIONS running): its audit entry."""
        self.roles.require(actor.user_id, Act.MANAGE_PROMOTIONS, team_id=actor.team_id)
        promotion_id = self.store.add_promotion(promotion, actor.user_id, MOST_PROMOTIONS)
        if promotion_id is None:
            raise ChangeRefused(
                Say(
                    "There are already {most:,} promotions; end one before adding another. "
                    "Nothing was added.",
                    most=MOST_PROMOTIONS,
                )
            )
        return self._promotion_entry(actor, Action.PROMOTION_CREATE, promotion, promotion_id)

    def change_promotion(self, actor: Actor, promotion_id: int, action: Action) -> AuditEntry:
        """Pause, resume or end a promotion (managers): its audit entry."""
        self.roles.require(actor.user_id, Act.MANAGE_PROMOTIONS, team_id=actor.team_id)
        promotion = self.store.promotion(promotion_id)
        if promotion is None:
            raise AlreadyDone(
                Say("That promotion has ended already (or never existed); nothing was changed.")
            )
        paused = {Action.PROMOTION_PAUSE: True, Action.PROMOTION_RESUME: False}.get(action)
        if not self.store.change_promotion(promotion_id, paused=paused):
            raise AlreadyDone(Say("That promotion has ended already; nothing was changed."))
        return self._promotion_entry(actor, action, promotion, promotion_id)

    def _promotion_entry(
        self, actor: Actor, action: Action, promotion: Promotion, promotion_id: int
    ) -> AuditEntry:
        entry_id = self.store.record_by(
            actor,
            action=action,
            outcome=Outcome.OK,
            target_type=Target.PROMOTION,
            target_id=promotion_id,
            target_name=promotion.name,
            changes={"promotion": [None, promotion.as_record()]},
        )
        entry = self.store.entry(entry_id)
        assert entry is not None
        return entry


def sale_record(amount: Decimal, rule: EarningRule, earned: SalePoints) -> dict[str, object]:
    """What a sale's audit entry keeps: the amount, the rule and what each promotion added
    (the summary counts sales, money and promotion points from it)."""
    return {
        "amount": str(amount),
        "currency": rule.currency,
        "rule": rule_text(rule),
        "base": earned.base,
        "promotions": [
            {"id": promo.id, "name": promo.name, "points": points}
            for promo, points in earned.extras
        ],
    }


def rule_words(rule: EarningRule) -> Say:
    """`1 point per 10 MXN` (`per 12.50 MXN`)."""
    per = Money(rule.per_amount, rule.currency, trimmed=True)
    if rule.points == 1:
        return Say("1 point per {amount}", amount=per)
    return Say("{points:,} points per {amount}", points=rule.points, amount=per)
