"""What an operator sees of each request, end to end: one log line per request (text or
JSON), and the App Home tab each person gets."""

from __future__ import annotations

import json
import logging

from bot.domain.logs import JsonFormatter
from tests.harness import CLERK, MANAGER, wait_until


def test_request_log_lines_and_json_format(bot, caplog) -> None:
    caplog.set_level(logging.INFO, logger="loyalty.requests")
    bot.command("points 1870 10", user=CLERK)
    bot.reply()
    bot.command("points 1870 ten")
    bot.settle()  # the bot's counter has the line; pytest's handler may get it a moment later

    def requests() -> list[logging.LogRecord]:
        return [r for r in caplog.records if getattr(r, "event", "") == "request"]

    records = wait_until(lambda: len(requests()) >= 2 and requests(), what="both log lines")
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
