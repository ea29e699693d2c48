"""/loyalty end to end: signed requests into Bolt, fake Slack and the sandbox on loopback."""

from __future__ import annotations

from tests.harness import MANAGER, text_of

JUAN, ANA = 1870, 6629146321223680


def test_points_add_by_email(bot) -> None:
    response = bot.command("points juan.perez@example.com 10 birthday")
    assert response.status_code == 200
    reply = bot.reply()
    assert reply["response_type"] == "ephemeral"
    assert "Juan Pérez" in text_of(reply) and "5 → *15*" in text_of(reply)
    assert bot.sandbox.calls_to("POST", f"/customers/{JUAN}/points/add")[-1].body == {"points": 10}
    assert bot.customer_points(JUAN) == 15
    (entry,) = bot.store.entries(target_id=JUAN)
    assert (
        entry.user_id,
        entry.action,
        entry.before,
        entry.after,
        entry.reason,
        entry.outcome,
    ) == (MANAGER, "points.add", 5, 15, "birthday", "ok")
