"""What an operator sees of each request, end to end: one log line per request (text or
JSON), and the App Home tab each person gets."""

from __future__ import annotations

import json
import logging

from bot.runtime.logs import JsonFormatter
from tests.harness import CLERK, MANAGER, text_of


def test_request_log_lines_and_json_format(bot, caplog) -> None:
    caplog.set_level(logging.INFO, logger="loyalty.requests")
    bot.command("points 1870 10", user=CLERK)
    bot.reply()
    bot.command("points 1870 ten")
    bot.settle()
    records = [r for r in caplog.records if getattr(r, "event", "") == "request"]
    assert [(r.request, r.user, r.outcome) for r in records] == [
        ("/loyalty points", CLERK, "refused"),
        ("/loyalty points", MANAGER, "invalid"),
    ]
    line = json.loads(JsonFormatter().format(records[0]))
    assert {
        "time",
        "level",
        "logger",
        "message",
        "kind",
        "request",
        "user",
        "outcome",
        "duration_ms",
    } <= line.keys()


def test_app_home_shows_the_role(bot) -> None:
    for user, expected in ((MANAGER, "You are a loyalty *manager*"), (CLERK, "You can look")):
        assert (
            bot.event(
                {
                    "type": "app_home_opened",
                    "user": user,
                    "tab": "home",
                    "channel": "D1",
                    "event_ts": "1.1",
                }
            ).status_code
            == 200
        )
        call = bot.slack.wait_for("views.publish", lambda c, u=user: c.args["user_id"] == u)[0]
        assert expected in text_of(
            json.loads(call.args["view"])
            if isinstance(call.args["view"], str)
            else call.args["view"]
        )
