"""Unusual points end to end: the managers are told, with an Undo button per change, in
the audit channel (or by DM when there is none), once; Undo is for managers."""

from __future__ import annotations

from tests.demo import JUAN
from tests.harness import CLERK, GROUP_MANAGER, MANAGER, buttons, text_of


def _alerts(bot) -> list:
    return [
        c for c in bot.slack.calls_to("chat.postMessage") if "Unusual points" in text_of(c.args)
    ]


def test_a_clerks_unusual_day_is_told_once_in_the_audit_channel_with_undo(bot_with) -> None:
    bot = bot_with(
        loyalty_audit_channel="CAUDIT",
        loyalty_clerk_max_points=50,
        loyalty_alert_daily_floor=60,
        loyalty_alert_customer_hourly=0,
    )
    for points in (40, 30, 5):
        bot.command(f"points {JUAN} {points}", user=CLERK)
        bot.reply()
    (alert,) = _alerts(bot)
    assert alert.args["channel"] == "CAUDIT"
    assert "<@UCLERK> has given 70 points today, more than the 60 I tell managers about" in (
        text_of(alert.args)
    )
    undo_newest, undo_first = buttons(alert.args)
    assert undo_newest["text"]["text"] == "Undo" and undo_newest["confirm"]
    bot.click(undo_first, user=CLERK, channel="CAUDIT")  # clerks may not
    assert "Only loyalty *managers* can" in text_of(bot.reply())
    bot.click(undo_first, user=MANAGER, channel="CAUDIT")  # not the last change: refused
    assert "the balance changed since" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 80
    bot.command(f"points {JUAN} -5")  # the manager takes back the 5 first
    bot.reply()
    posted = next(m for m in bot.slack.messages if m.ts == alert.args["_ts"])
    shown = {"ts": posted.ts, "blocks": posted.blocks, "text": posted.text}
    bot.click(undo_newest, user=MANAGER, channel="CAUDIT", message=shown)
    assert "is back to 45 points (was 75)" in text_of(bot.reply())
    assert bot.customer_points(JUAN) == 45
    assert len(_alerts(bot)) == 1
    # The alert now says so, for every manager who reads it: no Undo on that change.
    (update,) = bot.wait("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("CAUDIT", alert.args["_ts"])
    assert [b["value"] for b in buttons(update.args)] == [undo_first["value"]]
    assert "· ↩️ Undone by <@UMANAGER>." in text_of(update.args)
    assert update.args["text"] == alert.args["text"]  # the notification is unchanged


def test_without_an_audit_channel_each_manager_gets_a_dm(bot_with) -> None:
    bot = bot_with(loyalty_alert_daily_floor=0, loyalty_alert_customer_hourly=100)
    bot.command(f"points {JUAN} 60")
    bot.reply()
    bot.command(f"points {JUAN} 60")
    bot.reply()
    dms = _alerts(bot)
    assert sorted(c.args["channel"] for c in dms) == sorted(
        ["D" + MANAGER[1:], "D" + GROUP_MANAGER[1:]]
    )
    assert "*Juan Pérez* (`1870`) has gained 120 points in the last hour" in text_of(dms[0].args)
    # One manager undoes the newest change from their DM; the other, from theirs, is told
    # it was undone already, and their copy of the alert says so too.
    mine, theirs = sorted(dms, key=lambda c: c.args["channel"] != "D" + MANAGER[1:])
    told = []
    for manager, dm in ((MANAGER, mine), (GROUP_MANAGER, theirs)):
        posted = next(m for m in bot.slack.messages if m.ts == dm.args["_ts"])
        shown = {"ts": posted.ts, "blocks": posted.blocks, "text": posted.text}
        newest = buttons(dm.args)[0]
        bot.click(newest, user=manager, channel=dm.args["channel"], message=shown)
        told.append(text_of(bot.reply()))
    assert told[0].startswith("↩️ Undone") and "Nothing to undo" in told[1]
    assert bot.customer_points(JUAN) == 65
    updates = bot.wait("chat.update", count=2)
    said = {u.args["channel"]: text_of(u.args) for u in updates}
    assert "↩️ Undone by <@UMANAGER>." in said[mine.args["channel"]]
    assert "↩️ Undone." in said[theirs.args["channel"]]
