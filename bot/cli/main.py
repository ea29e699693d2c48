"""`loyalty-bot` (also `python -m bot`): the command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cli.checkup import _checkup
from bot.cli.records import (
    _fraction,
    _migrate,
    _new_key,
    _reconcile,
    _rotate_key,
    _summary,
    _verify,
)
from bot.cli.serving import _clock, _console, _sandbox, _serve, _socket
from bot.domain.errors import ConfigError, LoyaltyError

if TYPE_CHECKING:
    pass


def build_parser() -> argparse.ArgumentParser:
    from bot.offline.sandbox import DEMO_APP_KEY

    parser = argparse.ArgumentParser(
        prog="loyalty-bot", description="Run a Smart Passes loyalty program from Slack."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot over HTTP (POST /slack/events)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    serve.set_defaults(run=_serve)

    socket = commands.add_parser(
        "socket", help="run the bot in Socket Mode (needs SLACK_APP_TOKEN)"
    )
    socket.set_defaults(run=_socket)

    summary = commands.add_parser("summary", help="print the summary, or post it with --post")
    summary.add_argument(
        "--post",
        action="store_true",
        help="post to LOYALTY_SUMMARY_CHANNEL (once a day per channel)",
    )
    summary.add_argument("--channel", help="post to this channel id instead")
    summary.add_argument(
        "--force", action="store_true", help="post even if today's summary was already posted there"
    )
    summary.set_defaults(run=_summary)

    clock = commands.add_parser(
        "clock",
        help="post the summary every day at LOYALTY_SUMMARY_TIME (OAuth mode: each "
        "workspace's, at its own time)",
    )
    clock.set_defaults(run=_clock)

    console = commands.add_parser(
        "console", help="try the bot in this terminal, offline (sandbox + local Slack)"
    )
    console.add_argument(
        "--as",
        dest="as_user",
        default="",
        help="start as this demo user: marta, gabo, rocio (managers), carl or lupita (clerks); "
        "rocio and lupita read Spanish (default: marta, or rocio with --lang es)",
    )
    console.add_argument(
        "--lang",
        choices=["en", "es"],
        default="en",
        help="the console's own words and the channels' language (es: Spanish)",
    )
    console.add_argument(
        "--script", help="run these lines instead of prompting; exit 1 if a step fails"
    )
    console.add_argument(
        "--workspaces",
        action="store_true",
        help="installed in any workspace (OAuth mode): install it in the demo shop and a "
        "second shop, and connect each to its own program (sam owns the second shop)",
    )
    console.set_defaults(run=_console)

    reconcile = commands.add_parser(
        "reconcile",
        help="check changes left pending by a stopped process against Smart Passes, and "
        "complete their records (serve also does it at start and every minute)",
    )
    reconcile.set_defaults(run=_reconcile)

    verify = commands.add_parser(
        "verify",
        help="compare each customer's balance in the bot's records with Smart Passes' own "
        "(changes made outside the bot; flags any on a change that was not confirmed)",
    )
    verify.set_defaults(run=_verify)

    migrate = commands.add_parser(
        "migrate",
        help="upgrade the bot's database to the latest schema (the Procfile's release step; "
        "a start does it too if it was not run)",
    )
    migrate.set_defaults(run=_migrate)

    checkup = commands.add_parser(
        "checkup",
        aliases=["check"],  # its name before 2026-12: deployment scripts may still say it
        help="go through the settings: the Loyalty API, the Slack token, channels, managers "
        "and the database (exits 1 if something needs fixing)",
    )
    checkup.set_defaults(run=_checkup)

    new_key = commands.add_parser(
        "new-key", help="print a new encryption key for LOYALTY_ENCRYPTION_KEY (OAuth mode)"
    )
    new_key.set_defaults(run=_new_key)

    rotate_key = commands.add_parser(
        "rotate-key",
        help="re-encrypt every workspace's App Key with the first key of "
        "LOYALTY_ENCRYPTION_KEY (put the new key first, the old ones after it)",
    )
    rotate_key.set_defaults(run=_rotate_key)

    sandbox = commands.add_parser("sandbox", help="serve a local Smart Passes Loyalty API")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--data", default="demo", help="demo, empty or a number of customers")
    sandbox.add_argument("--app-key", default=DEMO_APP_KEY)
    sandbox.add_argument(
        "--shops",
        type=int,
        default=0,
        help="also serve this many other shops' programs (program 9000000+i, App Key "
        "shop-key-i), for installing in many workspaces",
    )
    sandbox.add_argument("--shop-customers", type=int, default=1000, help="customers per shop")
    sandbox.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    sandbox.add_argument(
        "--fail-rate",
        type=_fraction,
        default=0.0,
        help="share of requests answered with HTTP 503, doing nothing (0 to 1)",
    )
    sandbox.add_argument(
        "--fail-after-apply",
        type=_fraction,
        default=0.0,
        metavar="RATE",
        help="share of changes that are made and then answered with HTTP 500 (0 to 1)",
    )
    sandbox.set_defaults(run=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bot.domain.logs import configure_logging

    configure_logging(verbose=args.verbose)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"loyalty-bot: {exc.message}", file=sys.stderr)
        return 2
    except LoyaltyError as exc:  # Smart Passes or the database could not: one line, for cron
        print(f"loyalty-bot: {exc.message}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"loyalty-bot: {exc}", file=sys.stderr)
        return 2
