"""Workflow Builder steps: the bot's actions inside a shop's own workflows (Slack's custom
functions, declared under `functions` in manifest.yml, which a test holds to `STEPS`).

Slack sends `function_executed`; Bolt acks it at once and the step runs on the work pool,
through the same services as the slash command: the acting person's role and clerk
allowance decide, the ledger makes each change once and the audit log records it (with
the workflow's name, shown in the audit channel). A step is acted on once per
`function_execution_id` (Slack may deliver the event again); it ends with `complete`
(its outputs) or `fail` (why, in the acting person's language).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt import App, Complete, Fail

from bot.core.validation import read_customer_form
from bot.domain.amounts import Op, parse_amount
from bot.domain.audit import Actor
from bot.domain.errors import Duplicate, InvalidInput, LoyaltyError
from bot.domain.say import N_, Name, Say, noun
from bot.i18n import decimal_mark, speaking
from bot.slack.text import plain
from bot.smartpasses.models import Customer, Offer
from handlers import resolve
from handlers.context import Env
from handlers.errors import user_message
from handlers.requestlog import outcome_of
from handlers.sales import sale_inputs
from handlers.slackapi import name_of

log = logging.getLogger(__name__)

USER = "slack#/types/user_id"


@dataclass(frozen=True)
class Param:
    """One input or output of a step, as the manifest declares it."""

    name: str
    type: str
    title: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class Step:
    callback_id: str
    title: str
    description: str
    inputs: tuple[Param, ...]
    outputs: tuple[Param, ...]
    run: Callable[[Env, Actor, dict[str, Any]], dict[str, Any]]  # the outputs


ACTING = Param(
    "acting_user",
    USER,
    "Acting person",
    "Whose role and clerk allowance decide, e.g. the person who started the workflow",
)
CUSTOMER = Param("customer", "string", "Customer", "The customer's id, email or phone number")
WORKFLOW = Param(  # Slack does not tell a step which workflow runs it: the builder types it
    "workflow", "string", "Workflow name", "Shown in the audit channel beside the change"
)
OUT_ID = Param("customer_id", "string", "Customer id", "The customer's Smart Passes id")
OUT_NAME = Param("customer_name", "string", "Customer name", "The customer's full name")
OUT_BALANCE = Param("balance", "integer", "Balance", "The customer's points now")


# -- reading the inputs ------------------------------------------------------------------


# A Slack user's id (`U0G9QF9C6`, `W…` on Enterprise Grid): what a workflow's person
# variable holds; the customer is then found by their Slack email, as for an @mention.
# With a digit in it: a name typed in capitals (`WASHINGTON`) is no id.
SLACK_USER_ID = re.compile(r"[UW](?=[A-Z]*\d)[A-Z0-9]{8,}")


def _text(inputs: dict[str, Any], name: str) -> str:
    value = inputs.get(name)
    return "" if value is None else " ".join(str(value).split())


def _one_customer(env: Env, reference: str) -> Customer:
    """The one customer `reference` names (CustomerNotFound when none does); several
    matches are refused: a workflow cannot be asked to choose."""
    if not reference:
        raise InvalidInput(Say("Which customer? Give the step an id, email or phone number."))
    if SLACK_USER_ID.fullmatch(reference):  # a person variable given as their bare id
        reference = f"<@{reference}>"
    found = resolve.customer(env, reference)
    if found.one is not None:
        return found.one
    raise InvalidInput(
        Say(
            "More than one customer matches “{reference}” ({matches}). Give the step their "
            "id, email or phone number instead.",
            reference=Name(reference),
            matches=Name(", ".join(f"#{c.id} {c.full_name}" for c in found.matches[:5])),
        )
    )


def _one_offer(env: Env, reference: str) -> Offer:
    if not reference:
        raise InvalidInput(Say("Which reward? Give the step the offer's id or name."))
    found = resolve.offer(env, reference.strip())
    if found.one is not None:
        return found.one
    raise InvalidInput(
        Say(
            "More than one offer matches “{reference}” ({matches}). Give the step its id "
            "or its whole name instead.",
            reference=Name(reference),
            matches=Name(", ".join(f"#{o.id} {o.name}" for o in found.matches[:5])),
        )
    )


# -- the steps -----------------------------------------------------------------------------


def add_points(env: Env, actor: Actor, inputs: dict[str, Any]) -> dict[str, Any]:
    amount = _text(inputs, "points")
    # Not a number at all: the command's sentence would offer -5 and =25, which this step
    # refuses; any other reading's (a fraction, over the limit) is right here too.
    no_digits = not any(ch.isdigit() for ch in amount)
    change = (
        None if no_digits else parse_amount(amount, env.settings.loyalty_max_points, decimal_mark())
    )
    if change is None or change.op is not Op.ADD:
        raise InvalidInput(
            Say(
                "This step adds points: give it a number above zero, like 10, not “{amount}”.",
                amount=Name(amount),
            )
        )
    reason = _text(inputs, "reason")
    customer = _one_customer(env, _text(inputs, "customer"))
    result = env.service.change_points(actor, customer.id, change, reason)
    env.announce(result.entry)
    return {
        "customer_id": str(result.customer.id),
        "customer_name": result.customer.full_name,
        "balance": result.after,
    }


def redeem(env: Env, actor: Actor, inputs: dict[str, Any]) -> dict[str, Any]:
    customer = _one_customer(env, _text(inputs, "customer"))
    offer = _one_offer(env, _text(inputs, "offer"))
    result = env.service.redeem(actor, customer.id, offer.id)
    env.announce(result.entry)
    return {"customer_name": result.customer.full_name, "balance": result.after}


def find_customer(env: Env, actor: Actor, inputs: dict[str, Any]) -> dict[str, Any]:
    found = env.service.customer(_one_customer(env, _text(inputs, "customer")).id)
    return {
        "customer_id": str(found.id),
        "customer_name": found.full_name,
        "email": found.email,
        "phone": found.phone,
        "balance": found.points,
    }


def create_customer(env: Env, actor: Actor, inputs: dict[str, Any]) -> dict[str, Any]:
    fields, errors = read_customer_form(
        {name: _text(inputs, name) for name in ("first_name", "last_name", "email", "phone")},
        env.settings.loyalty_default_region,
    )
    if errors:
        field, problem = next(iter(errors.items()))
        raise InvalidInput(
            Say("{field}: {problem}", field=noun(_INPUT_TITLES[field]), problem=problem)
        )
    done = env.service.create_customer(actor, fields)
    env.announce(done.entry)
    return {"customer_id": str(done.value.id), "customer_name": done.value.full_name}


def record_sale(env: Env, actor: Actor, inputs: dict[str, Any]) -> dict[str, Any]:
    amount, note = sale_inputs(env, inputs)
    customer = _one_customer(env, _text(inputs, "customer"))
    sale = env.service.record_sale(actor, customer.id, amount, note)
    env.announce(sale.points.entry)
    return {
        "customer_name": sale.points.customer.full_name,
        "points": sale.earned.total,
        "balance": sale.points.after,
    }


_INPUT_TITLES = {  # the customer form's own labels (bot.slack.views.forms)
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "email": N_("Email"),
    "phone": N_("Phone"),
}

STEPS: tuple[Step, ...] = (
    Step(
        "add_loyalty_points",
        "Add loyalty points",
        "Adds points to a customer's loyalty card, as /loyalty points does",
        (
            CUSTOMER,
            Param("points", "integer", "Points", "How many points to add, e.g. 10"),
            Param("reason", "string", "Reason", "Why, for the history", required=False),
            ACTING,
            WORKFLOW,
        ),
        (OUT_ID, OUT_NAME, OUT_BALANCE),
        add_points,
    ),
    Step(
        "record_sale",
        "Record a sale",
        "Adds the points a sale earns by the shop's earning rule and promotions, as /loyalty "
        "sale does",
        (
            CUSTOMER,
            Param("amount", "string", "Amount", "The sale's total, e.g. 250.00"),
            Param("note", "string", "Note", "A ticket number or a note", required=False),
            ACTING,
            WORKFLOW,
        ),
        (
            OUT_NAME,
            Param("points", "integer", "Points earned", "The points the sale added"),
            OUT_BALANCE,
        ),
        record_sale,
    ),
    Step(
        "redeem_reward",
        "Redeem a reward",
        "Redeems one of the program's rewards for a customer's points",
        (
            CUSTOMER,
            Param("offer", "string", "Reward", "The offer's id or name"),
            ACTING,
            WORKFLOW,
        ),
        (OUT_NAME, OUT_BALANCE),
        redeem,
    ),
    Step(
        "find_customer",
        "Find a loyalty customer",
        "Finds a customer by id, email or phone; fails when nobody matches",
        (CUSTOMER, ACTING),
        (
            OUT_ID,
            OUT_NAME,
            Param("email", "string", "Email", "The customer's email", required=False),
            Param("phone", "string", "Phone", "The customer's phone number", required=False),
            OUT_BALANCE,
        ),
        find_customer,
    ),
    Step(
        "create_customer",
        "Create a loyalty customer",
        "Signs a customer up to the loyalty program, as the New customer form does",
        (
            Param("first_name", "string", "First name", "The customer's first name"),
            Param("last_name", "string", "Last name", "Their last name", required=False),
            Param("email", "string", "Email", "Their email address", required=False),
            Param("phone", "string", "Phone", "Their phone number", required=False),
            ACTING,
            WORKFLOW,
        ),
        (OUT_ID, OUT_NAME),
        create_customer,
    ),
)


# -- running one -------------------------------------------------------------------------


def _run(step: Step, env: Env, body: dict[str, Any], complete: Complete, fail: Fail) -> None:
    """Once per function_execution_id: the step's work, then `complete` or `fail`."""
    event = body.get("event") or {}
    execution = str(event.get("function_execution_id") or "")
    inputs = event.get("inputs") or {}
    title = str((event.get("function") or {}).get("title") or "")
    workflow = _text(inputs, "workflow") or title  # required: the title only if Slack left it out
    actor = Actor(env.user_id, env.team_id, via=workflow[:200])
    outcome = None
    try:
        if not env.user_id:
            raise InvalidInput(
                Say("This step needs an acting person: whose role decides what may be done.")
            )
        with env.service.ledger.once(f"step:{execution}", env.user_id):
            outputs = step.run(env, actor, inputs)
    except Duplicate:  # Slack sent it again: the first delivery ends the step
        log.info("step %s %s delivered again: not run twice", step.callback_id, execution)
        env.note("duplicate")
        return
    except Exception as error:  # every failure ends the step, with why in their words
        outcome, why = outcome_of(error), _why(error, env)
        _end(lambda: fail(error=why), step, execution)
    else:
        _end(lambda: complete(outputs=outputs), step, execution)
    if outcome:
        env.note(outcome)


def _why(error: Exception, env: Env | None = None) -> str:
    """Why the step failed, in plain text (Workflow Builder shows it as it is). In the
    step's work (`env`), a person it names (the managers to ask) is written by their name,
    asked of Slack; on the listener thread, never a call to Slack: their id."""
    if isinstance(error, LoyaltyError):
        log.info("step refused or failed: %s: %s", type(error).__name__, error.message)
        if env is None:
            return plain(error.say)
        return plain(error.say, name_of=lambda user_id: name_of(env.client, user_id))
    return user_message(error)


def _end(call: Callable[[], Any], step: Step, execution: str) -> None:
    try:
        call()
    except Exception as exc:  # what was done is recorded; only Slack was not told
        log.warning("could not end step %s %s: %s", step.callback_id, execution, exc)


def _listener(step: Step) -> Callable[..., None]:
    def listener(env: Env, body: dict[str, Any], complete: Complete, fail: Fail) -> None:
        event = body.get("event") or {}
        acting = _text(event.get("inputs") or {}, "acting_user")
        known = env.services.languages.known(acting) if acting else None
        mine = replace(
            env,
            user_id=acting,
            lang=known or env.services.languages.fallback,
            lang_known=known is not None or not acting,
        )
        try:
            mine.defer(lambda: _run(step, mine, body, complete, fail))
        except LoyaltyError as busy:  # the work pool is full: nothing started, say so
            with speaking(mine.lang):
                why = _why(busy)  # on the listener thread: no call to Slack
            _end(lambda: fail(error=why), step, str(event.get("function_execution_id") or ""))

    listener.__name__ = listener.__qualname__ = step.callback_id
    return listener


def register(app: App) -> None:
    for step in STEPS:
        app.function(step.callback_id)(_listener(step))


def manifest_functions(steps: Sequence[Step] = STEPS) -> dict[str, Any]:
    """The manifest's `functions`, as these steps declare them."""

    def params(declared: tuple[Param, ...]) -> dict[str, Any]:
        return {
            "properties": {
                p.name: {"type": p.type, "title": p.title, "description": p.description}
                for p in declared
            },
            "required": [p.name for p in declared if p.required],
        }

    return {
        s.callback_id: {
            "title": s.title,
            "description": s.description,
            "input_parameters": params(s.inputs),
            "output_parameters": params(s.outputs),
        }
        for s in steps
    }
