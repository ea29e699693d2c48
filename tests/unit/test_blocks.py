"""What Slack is asked to show: the Block Kit builders, fed by the core's real answers
(the in-process sandbox and store), with the policy deciding each person's buttons."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.amounts import Op, PointsChange
from bot.domain.audit import Actor
from bot.offline.sandbox import DEMO_PROGRAM_ID
from bot.slack import blocks
from handlers.command_help import help_message
from tests.core import AS_MANAGER, Core, told
from tests.demo import CAFE, JUAN, PAN
from tests.harness import CLERK, MANAGER, buttons, text_of
from tests.unit.test_records import confirm, customer_fields, offer_fields

TZ = dt.UTC


def labels(message: blocks.Message) -> list[str]:
    return [b["text"]["text"] for b in buttons(message.kwargs())]


def allows(core: Core, user: str):
    return lambda act: core.roles.allows(user, act)


def within_limits(message: blocks.Message) -> None:
    """What Slack checks on a message: at most 50 blocks, each text within its limit."""
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block.get("text"):
            assert len(block["text"]["text"]) <= (150 if block["type"] == "header" else 3000)
        for field in block.get("fields") or []:
            assert len(field["text"]) <= 2000


# -- help --------------------------------------------------------------------------------


def test_the_short_help_has_one_line_per_subcommand() -> None:
    message = help_message()
    shown = told(lambda: message)
    for name in ("points", "redeem", "customer", "customers", "offer", "offers", "undo"):
        assert f"`/loyalty {name}` · " in shown
    assert "juan.perez@example.com" not in shown  # examples are in `help <subcommand>`
    assert len(shown.splitlines()) <= 20 and len(message.blocks) <= 4


# -- cards and lists ----------------------------------------------------------------------


def test_a_customer_card_has_the_fields(core) -> None:
    shown = told(lambda: blocks.customer_card(core.service.customer(JUAN), allows(core, CLERK)))
    for piece in (
        "Juan Pérez",
        "juan.perez@example.com",
        "+52 999 411 6533",
        "*Points*\n5",
        "1870",
    ):
        assert piece in shown


@pytest.mark.parametrize(
    ("user", "target", "expected"),
    [
        (CLERK, JUAN, ["Edit", "History"]),
        (MANAGER, JUAN, ["Change points", "Redeem", "Edit", "History", "Delete"]),
        (CLERK, CAFE, []),  # published: nothing a clerk may do to it
        (MANAGER, CAFE, ["Edit", "Cancel offer"]),
        (CLERK, PAN, ["Request publication", "Edit"]),
        (MANAGER, PAN, ["Request publication", "Edit", "Delete"]),
    ],
)
def test_buttons_follow_the_policy(core, user: str, target: int, expected: list[str]) -> None:
    if target == JUAN:
        card = blocks.customer_card(core.service.customer(target), allows(core, user))
    else:
        card = blocks.offer_card(core.service.offer(target), allows(core, user))
    assert labels(card) == expected


def test_a_canceled_offer_has_no_edit(core) -> None:
    core.program.offers[CAFE]["status"] = "Canceled"
    assert labels(blocks.offer_card(core.service.offer(CAFE), allows(core, MANAGER))) == []


def test_the_customer_list_is_paged_with_its_total(core) -> None:
    for i in range(25):
        core.sandbox.state.add_customer(
            DEMO_PROGRAM_ID, {"firstName": "Cliente", "lastName": f"N{i:02d}"}
        )
    core.service.index.invalidate()
    first = blocks.customer_list(core.service.customers_page(""))
    assert "31 in all, showing 1–20" in told(lambda: first)
    assert labels(first) == ["Open"] * 20 + ["More"]  # each line opens its card
    second = blocks.customer_list(core.service.customers_page("", 2))
    assert "showing 21–31" in told(lambda: second) and labels(second)[-1:] == ["Previous"]
    found = told(lambda: blocks.customer_list(core.service.customers_page("perez")))
    assert "2 in all" in found and "Juan Pérez" in found and "Juana Pérez" in found


def test_the_offer_list_and_its_filters(core) -> None:
    every = told(lambda: blocks.offer_list(core.service.offers(), None))
    assert "Café Gratis" in every and "auto-claim" in every and "Published" in every
    assert "Pan dulce 2x1" in every and "Draft" in every
    drafts = told(lambda: blocks.offer_list(core.service.offers("draft"), "draft"))
    assert "Pan dulce" in drafts and "Café Gratis" not in drafts
    assert "No canceled offers" in told(
        lambda: blocks.offer_list(core.service.offers("canceled"), "canceled")
    )
    assert "not an offer status" in told(lambda: core.service.offers("archived"))
    assert core.service.offers("Drafts") == core.service.offers("draft")  # as typed, plural
    assert core.service.offers("cancelled") == core.service.offers("canceled")


# -- the audit channel and history: what changed, field by field -------------------------


def announced(core: Core, action: str) -> str:
    return text_of(blocks.change_announcement(core.store.entries(actions=[action])[0]).kwargs())


def test_an_offer_edit_is_announced_with_each_changed_field(core) -> None:
    pan = core.service.offer(PAN)
    core.service.update_offer(
        AS_MANAGER,
        PAN,
        offer_fields(pan, offer_cost="0", offer_auto_claim="yes"),
        pan.content_hash(),
    )
    assert announced(core, "offer.update") == (
        "<@UMANAGER> edited offer *Pan dulce 2x1* (`5002`): points cost 15 → 0, auto-claim no → yes"
    )
    from bot.i18n import speaking

    with speaking("es"):  # a field's bare name, not the article a form's sentence gives it
        assert "costo en puntos 15 → 0, canje automático no → sí" in announced(core, "offer.update")


def test_customer_create_edit_and_delete_are_announced_and_in_history(core) -> None:
    rosa = core.service.create_customer(
        AS_MANAGER, customer_fields(first_name="Rosa", last_name="Díaz", email="r@x.mx")
    ).value
    assert announced(core, "customer.create") == (
        f"<@UMANAGER> created customer *Rosa Díaz* (`{rosa.id}`): "
        "first name Rosa, last name Díaz, email r@x.mx"
    )
    juan = core.service.customer(JUAN)
    core.service.update_customer(
        AS_MANAGER, JUAN, customer_fields(juan, last_name="Pérez López", phone=""), ""
    )
    assert announced(core, "customer.update") == (
        "<@UMANAGER> edited customer *Juan Pérez López* (`1870`): "
        "last name Pérez → Pérez López, phone +52 999 411 6533 → —"
    )
    history = told(
        lambda: blocks.history(core.service.customer(JUAN), core.service.history(JUAN), TZ)
    )
    assert "edited customer: last name Pérez → Pérez López" in history
    confirm(core, "customer.delete", JUAN)
    assert announced(core, "customer.delete") == (
        "<@UMANAGER> deleted customer *Juan Pérez López* (`1870`): points 5"
    )


def test_publication_steps_are_announced_with_the_reason_inert(core) -> None:
    approval = core.request_publication(PAN)
    assert announced(core, "offer.publish_request") == (  # a request: nothing changed yet
        "<@UCLERK> asked to publish offer *Pan dulce 2x1* (`5002`)"
    )
    core.approvals.reject(AS_MANAGER, approval.id, "Needs a <!channel> photo")
    assert announced(core, "offer.publish_reject") == (
        "<@UMANAGER> rejected publishing offer *Pan dulce 2x1* (`5002`) · "
        "Needs a &lt;!channel&gt; photo"
    )
    again = core.request_publication(PAN)
    core.approvals.approve(AS_MANAGER, again.id)
    assert announced(core, "offer.publish") == (
        "<@UMANAGER> published offer *Pan dulce 2x1* (`5002`): status Draft → Published"
    )


def test_history_tells_pending_unknown_and_checked_changes_apart(core) -> None:
    actor = Actor(MANAGER)
    for outcome, resolved, after in [
        ("pending", "", None),
        ("unknown", "", None),
        ("ok", "checked", 25),
    ]:
        entry_id = core.store.record_by(
            actor,
            action="points.add",
            outcome="pending",
            target_type="customer",
            target_id=JUAN,
            target_name="Juan Pérez",
            before=5 if outcome != "ok" else 15,
            requested="+10",
        )
        if outcome != "pending":
            core.store.complete(
                entry_id, outcome, resolved=resolved, after=after, detail="HTTP 500"
            )
    shown = told(
        lambda: blocks.history(core.service.customer(JUAN), core.service.history(JUAN), TZ)
    )
    assert "added points from 5 (+10 asked) · ⏳ _not confirmed yet: it is being checked_" in shown
    assert "*⚠️ could not tell whether it was applied* · HTTP 500" in shown
    assert "added points 15 → 25 (+10) · _confirmed by checking_" in shown


# -- outside text is inert, and fits --------------------------------------------------------


def test_customer_text_is_escaped_and_nothing_invisible_added(core) -> None:
    core.sandbox.state.add_customer(
        DEMO_PROGRAM_ID, {"firstName": "<!channel>", "lastName": "*bold* <@U1>"}
    )
    core.service.index.invalidate()
    (hostile,) = core.service.customers_page("channel").customers
    listed = blocks.customer_list(core.service.customers_page("channel"))
    card = blocks.customer_card(hostile, allows(core, MANAGER))
    # (The card's header is plain_text, which never pings; its `text` is mrkdwn.)
    for shown in (text_of(listed.kwargs()), card.text):
        assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
        assert "<@U1>" not in shown and "&lt;@U1&gt;" in shown
        assert "\u200b" not in shown  # what is copied is what is stored


def test_a_copied_email_is_the_stored_email(core) -> None:
    core.program.customers[JUAN]["email"] = "juan_perez*x@example.com"
    card = told(lambda: blocks.customer_card(core.service.customer(JUAN), allows(core, CLERK)))
    assert "*Email*\njuan_perez*x@example.com" in card
    core.service.index.invalidate()
    assert core.service.find_customers("juan_perez*x@example.com").found.id == JUAN


def test_a_reason_of_escapable_text_fits_the_reply_and_the_announcement(core) -> None:
    result = core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.ADD, 10), "<" * 299)
    reply = blocks.points_changed(result, undo_minutes=15)
    within_limits(reply)
    assert "5 → *15*" in told(lambda: reply) and "&lt;" * 299 in told(lambda: reply)
    post = blocks.change_announcement(result.entry)
    within_limits(post)
    assert "<<" not in post.text


@pytest.mark.parametrize("description", ["*" * 1100, "<" * 2000, "&" * 2000])
def test_an_offer_card_fits_whatever_its_description(core, description: str) -> None:
    core.sandbox.state.update_offer(DEMO_PROGRAM_ID, PAN, {"description": description})
    card = blocks.offer_card(core.service.offer(PAN), allows(core, MANAGER))
    within_limits(card)
    assert "Pan dulce 2x1" in told(lambda: card)
    section = next(b for b in card.blocks if b["type"] == "section" and b.get("text"))
    assert not section["text"]["text"].rstrip("…").endswith(("&", "&l", "&lt", "&am", "&amp"))


def test_a_confirmation_over_a_long_escapable_name_fits(core) -> None:
    core.sandbox.state.update_customer(DEMO_PROGRAM_ID, JUAN, {"firstName": "<" * 100})
    token, _ = core.service.ask_to_confirm(AS_MANAGER, "customer.delete", JUAN)
    ask = blocks.confirmation(
        "customer.delete",
        token,
        blocks.consequences("customer.delete", core.service.customer(JUAN)),
    )
    within_limits(ask)
    assert labels(ask) == ["Delete customer", "Never mind"]
    assert "was deleted" in told(
        lambda: blocks.confirmed(
            "customer.delete", "x", MANAGER, core.service.confirm(AS_MANAGER, token).remarks
        )
    )


def test_a_name_with_a_bidi_override_cannot_reorder_the_audit_line(core) -> None:
    """U+202E in a customer's name would reverse the rest of the audit channel's line,
    numbers included: it is never shown, in the blocks or the notification text."""
    core.sandbox.state.update_customer(
        DEMO_PROGRAM_ID, JUAN, {"firstName": "Juan\u202e", "lastName": "\u2066Pérez\u2069"}
    )
    core.service.index.invalidate()
    result = core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.ADD, 10), "\u202egift")
    post = blocks.change_announcement(result.entry)
    shown = text_of(post.kwargs()) + post.text
    assert "Juan Pérez" in shown and "5 → 15" in shown.replace("*", "")
    assert not any(c in shown for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_a_right_to_left_name_is_isolated_and_a_latin_one_untouched(core) -> None:
    core.sandbox.state.update_customer(
        DEMO_PROGRAM_ID, JUAN, {"firstName": "محمد", "lastName": "علي"}
    )
    core.service.index.invalidate()
    result = core.service.change_points(AS_MANAGER, JUAN, PointsChange(Op.ADD, 10))
    shown = text_of(blocks.change_announcement(result.entry).kwargs())
    assert "\u2068محمد علي\u2069" in shown  # its order is its own; 5 → 15 stays in place
    latin = core.service.change_points(AS_MANAGER, 1871, PointsChange(Op.ADD, 1))
    assert "\u2068" not in text_of(blocks.change_announcement(latin.entry).kwargs())


def test_the_console_shows_invisible_controls_escaped() -> None:
    from bot.slack.render import mrkdwn_to_text

    assert mrkdwn_to_text("*Juan*\u200f 5 → 15 \u2068محمد\u2069") == "Juan\\u200f 5 → 15 محمد"


def test_a_redemption_offers_undo_to_whoever_may_undo_it(core) -> None:
    cafe = next(o for o in core.service.offers() if o.name == "Café Gratis")
    result = core.service.redeem(AS_MANAGER, 6629146321223680, cafe.id)
    assert "`/loyalty undo` within 15 minutes" in told(
        lambda: blocks.redeemed(result, undo_minutes=15)
    )
    assert "undo" not in told(lambda: blocks.redeemed(result))  # a clerk may not


def test_help_explains_customer_only_where_a_subcommand_takes_one() -> None:
    from handlers.command_help import help_detail
    from handlers.subcommand import BY_NAME

    assert "`<customer>` is an id" in text_of(help_detail(BY_NAME["points"]).kwargs())
    assert "`<customer>`" not in text_of(help_detail(BY_NAME["offer"]).kwargs())


def test_a_misspelled_names_offer_escapes_what_was_typed(core) -> None:
    """The "did you mean" picker repeats what was typed: escaped in its blocks and its
    text, with nothing invisible added."""
    juan = core.service.customer(JUAN)
    message = blocks.customer_picker("<!channel> *jaun*", [juan], "points", "5", spelled=True)
    assert message.text == "No customer matches “&lt;!channel&gt; *jaun*”"
    shown = text_of(message.kwargs())
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "\u2060" not in shown and "\u200b" not in shown
    assert "Did you mean this one? Nothing has been changed yet." in shown


def test_a_picker_for_a_look_says_nothing_about_changes(core) -> None:
    """Choosing whose card or history to show changes nothing: "nothing has been changed
    yet" is said only where the choice carries a change on."""
    juan, juana = core.service.customer(JUAN), core.service.customer(1871)
    for command, said in [("customer", False), ("history", False), ("points", True)]:
        shown = text_of(blocks.customer_picker("juan", [juan, juana], command, "").kwargs())
        assert "Which one did you mean?" in shown
        assert ("Nothing has been changed yet." in shown) is said, command
