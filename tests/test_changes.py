"""Every change at Smart Passes, through the HTTP surface, when the answer goes wrong.

For each mutating endpoint: applied then HTTP 500; applied then an empty 200 with every
read after it failing; applied then the connection dropped; a definite 422; and a 500
that applied nothing. The person must be told the truth (done, not done and safe to
retry, or could not tell), Smart Passes must hold what it holds, and the audit entry
must say the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.offline.sandbox import DEMO_PROGRAM_ID, Fault
from tests.harness import CLERK, MANAGER, Harness, button, text_of

JUAN, PAN, CAFE = 1870, 5002, 5001
APPROVALS = "CAPPROVALS"


def _program(bot: Harness):
    return bot.sandbox.state.programs[DEMO_PROGRAM_ID]


def _submit(bot: Harness, command: str, values: dict[str, str]) -> str:
    """Open a form with `command`, submit `values`: what the person then sees in it."""
    bot.command(command)
    view_id, _ = bot.opened_view()
    answer = bot.answer(view_id, values)
    return " ".join(answer["errors"].values()) if "errors" in answer else text_of(answer["view"])


def _confirm(bot: Harness, command: str, label: str) -> str:
    bot.command(command)
    bot.click(button(bot.reply(), label))
    return text_of(bot.reply())


def _approve(bot: Harness) -> str:
    bot.command("offer publish pan dulce", user=CLERK)
    bot.reply()
    posted = next(m for m in reversed(bot.slack.messages) if m.channel == APPROVALS)
    message = {"ts": posted.ts, "blocks": posted.blocks, "channel": posted.channel}
    bot.click(button(message, "Approve"), user=MANAGER, channel=APPROVALS, message=message)
    return text_of(bot.wait("chat.update")[-1].args)


@dataclass(frozen=True)
class Flow:
    action: str  # the audit entry's action
    route: str  # the sandbox route of the change
    reads: str  # the route the bot reads the record back with
    act: Callable[[Harness], str]  # do it; what the person sees
    applied: Callable[[Harness], bool]  # does Smart Passes hold the change?
    done: str  # what the person sees when it was done
    empty_is_an_answer: bool = False  # a 2xx is all it needs (delete, cancel, publish)


FLOWS = {
    "points add": Flow(
        "points.add",
        "add_points",
        "get_customer",
        lambda bot: (bot.command("points 1870 10"), text_of(bot.reply()))[1],
        lambda bot: bot.customer_points(JUAN) == 15,
        "5 → *15* points",
    ),
    "points deduct": Flow(
        "points.deduct",
        "update_customer",
        "get_customer",
        lambda bot: (bot.command("points 1870 -2"), text_of(bot.reply()))[1],
        lambda bot: bot.customer_points(JUAN) == 3,
        "5 → *3* points",
    ),
    "customer create": Flow(
        "customer.create",
        "create_customer",
        "list_customers",
        lambda bot: _submit(
            bot, "customer new", {"first_name": "Rosa", "email": "rosa@example.com"}
        ),
        lambda bot: any(c["email"] == "rosa@example.com" for c in _program(bot).customers.values()),
        "Rosa",
    ),
    "customer edit": Flow(
        "customer.update",
        "update_customer",
        "get_customer",
        lambda bot: _submit(bot, "customer edit 1870", {"last_name": "Pérez López"}),
        lambda bot: _program(bot).customers[JUAN]["lastName"] == "Pérez López",
        "Juan Pérez López",
    ),
    "customer delete": Flow(
        "customer.delete",
        "delete_customer",
        "get_customer",
        lambda bot: _confirm(bot, "customer delete 1870", "Delete customer"),
        lambda bot: JUAN not in _program(bot).customers,
        "was deleted by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer create": Flow(
        "offer.create",
        "create_offer",
        "list_offers",
        lambda bot: _submit(bot, "offer new", {"offer_name": "Tamal gratis", "offer_cost": "30"}),
        lambda bot: any(o["name"] == "Tamal gratis" for o in _program(bot).offers.values()),
        "Tamal gratis",
    ),
    "offer edit": Flow(
        "offer.update",
        "update_offer",
        "list_offers",
        lambda bot: _submit(bot, "offer edit 5002", {"offer_cost": "20"}),
        lambda bot: _program(bot).offers[PAN]["pointsCost"] == 20,
        "*Points cost*\n20",
    ),
    "offer delete": Flow(
        "offer.delete",
        "delete_offer",
        "list_offers",
        lambda bot: _confirm(bot, "offer delete 5002", "Delete offer"),
        lambda bot: PAN not in _program(bot).offers,
        "was deleted by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer cancel": Flow(
        "offer.cancel",
        "cancel_offer",
        "list_offers",
        lambda bot: _confirm(bot, "offer cancel 5001", "Cancel offer"),
        lambda bot: _program(bot).offers[CAFE]["status"] == "Canceled",
        "was canceled by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
    "offer publish": Flow(
        "offer.publish",
        "publish_offer",
        "list_offers",
        _approve,
        lambda bot: _program(bot).offers[PAN]["status"] == "Published",
        "*Published* by <@UMANAGER>",
        empty_is_an_answer=True,
    ),
}


@pytest.fixture
def bot(bot_with) -> Harness:
    return bot_with(loyalty_approvals_channel=APPROVALS, loyalty_audit_channel="CAUDIT")


def _fault(bot: Harness, flow: Flow, fault: Fault, *, reads_fail: bool = False) -> None:
    """`fault` on the flow's change; with `reads_fail`, every read after it fails too."""
    bot.sandbox.inject(flow.route, fault)
    if reads_fail:
        previous = bot.sandbox.before

        def then_reads_fail(method: str, path: str) -> None:
            if method != "GET":
                bot.sandbox.inject(flow.reads, Fault.FAIL_503, times=50)
            if previous:
                previous(method, path)

        bot.sandbox.before = then_reads_fail


def _entry(bot: Harness, flow: Flow):
    entries = bot.store.entries(actions=[flow.action])
    assert len(entries) == 1, entries
    return entries[0]


def _audit_posts(bot: Harness) -> list[str]:
    return [
        text_of(c.args)
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == "CAUDIT"
    ]


@pytest.mark.parametrize("name", FLOWS)
@pytest.mark.parametrize("fault", [Fault.APPLY_THEN_500, Fault.APPLY_THEN_DROP])
def test_applied_then_no_clear_answer_is_checked_and_reported_done(bot, name, fault) -> None:
    flow = FLOWS[name]
    _fault(bot, flow, fault)
    seen = flow.act(bot)
    assert flow.applied(bot)
    assert flow.done in seen, seen
    entry = _entry(bot, flow)
    assert (entry.outcome, entry.resolved) == ("ok", "checked")
    if flow.action != "offer.publish":  # the request message shows the outcome itself
        assert "checking showed the change was applied" in seen
    assert len(_audit_posts(bot)) >= 1  # a change made is announced, however it was learned


@pytest.mark.parametrize("name", FLOWS)
def test_applied_then_empty_answer_and_every_read_failing(bot, name) -> None:
    flow = FLOWS[name]
    _fault(bot, flow, Fault.APPLY_THEN_EMPTY, reads_fail=True)
    seen = flow.act(bot)
    assert flow.applied(bot)
    entry = _entry(bot, flow)
    if flow.empty_is_an_answer:  # a 2xx is a yes: nothing to check
        assert flow.done in seen and entry.outcome == "ok"
        return
    assert "could not tell whether it was applied" in seen and "Check" in seen, seen
    assert "safe to try again" not in seen
    assert entry.outcome == "unknown"


@pytest.mark.parametrize("name", FLOWS)
def test_a_definite_refusal_is_not_applied(bot, name) -> None:
    flow = FLOWS[name]
    _fault(bot, flow, Fault.REFUSE_422)
    seen = flow.act(bot)
    assert not flow.applied(bot)
    assert "Refused (sandbox fault)" in seen, seen
    assert _entry(bot, flow).outcome == "refused"
    assert _audit_posts(bot) == [] or flow.action == "offer.publish"


@pytest.mark.parametrize("name", FLOWS)
def test_a_500_that_applied_nothing_is_checked_and_safe_to_retry(bot, name) -> None:
    flow = FLOWS[name]
    _fault(bot, flow, Fault.FAIL_500)
    seen = flow.act(bot)
    assert not flow.applied(bot)
    assert "did not go through" in seen and "safe to try again" in seen, seen
    entry = _entry(bot, flow)
    assert (entry.outcome, entry.resolved) == ("failed", "checked")


@pytest.mark.parametrize("name", ["points add", "customer create", "offer publish"])
def test_no_answer_and_nothing_showing_yet_is_not_called_safe(bot, name) -> None:
    """A dropped connection: Smart Passes may still be working on it, so "not applied"
    cannot be told, and the person is never told to try again."""
    flow = FLOWS[name]
    _fault(bot, flow, Fault.DROP)
    seen = flow.act(bot)
    assert not flow.applied(bot)
    assert "may or may not have been applied" in seen and "safe to try again" not in seen, seen
    assert _entry(bot, flow).outcome == "unknown"
