"""`loyalty-bot` (also `python -m bot`): the command line."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    from bot.runtime.checkup import Check

log = logging.getLogger("loyalty.cli")


def _sandbox(args: argparse.Namespace) -> int:
    from bot.offline.sandbox import DEMO_PROGRAM_ID, SandboxApp, build_state
    from bot.runtime.wsgi_server import make_threaded_server

    state = build_state(args.data, app_key=args.app_key)
    if args.shops:
        from bot.offline.sandbox.data import add_shops

        add_shops(state, args.shops, args.shop_customers)
    app = SandboxApp(
        state,
        latency=args.latency,
        fail_rate=args.fail_rate,
        fail_after_apply=args.fail_after_apply,
    )
    server = make_threaded_server(app, args.host, args.port)
    customers = len(state.program(DEMO_PROGRAM_ID).customers)
    print(
        f"Smart Passes sandbox on http://{args.host}:{server.server_port}/api/v1/loyalty/\n"
        f"  program {DEMO_PROGRAM_ID} with {customers} customers; App Key {args.app_key!r}\n"
        f"  point the bot at it with SMARTPASSES_BASE_URL=http://{args.host}:"
        f"{server.server_port}/api/v1/loyalty/ SMARTPASSES_PROGRAM_ID={DEMO_PROGRAM_ID} "
        f"SMARTPASSES_APP_KEY={args.app_key}\n  Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


ONE_SHOP_ONLY = {
    "check": "each workspace's App Key and program are checked when it connects, and "
    "/healthz checks the database",
    "summary": "the clock posts each workspace's summary, and `/loyalty summary` shows it",
    "reconcile": "`serve` settles every workspace's pending changes at start and every minute",
    "verify": "each workspace's daily summary says what changed outside the bot",
}


def _one_shop(settings: Any, command: str) -> None:
    """Commands that work on the one shop's program: refused, saying why, in OAuth mode."""
    if settings.distributed:
        raise ConfigError(
            f"`loyalty-bot {command}` works on one shop's program (SMARTPASSES_APP_KEY); "
            f"installed in any workspace, {ONE_SHOP_ONLY[command]}."
        )


def _check(args: argparse.Namespace) -> int:
    """A checklist of what the bot relies on, in LOYALTY_LANGUAGE; exits 1 if anything on
    it failed."""
    from bot.i18n import _, ngettext, speaking
    from bot.runtime import checkup
    from bot.smartpasses.client import LoyaltyClient

    settings = _settings(args)
    _one_shop(settings, "check")
    checks = []
    with speaking(settings.loyalty_language):
        print(_("Loyalty API: {url}").format(url=settings.smartpasses_base_url))
        with LoyaltyClient.from_settings(settings, max_retries=0) as api:
            checks += _print(checkup.loyalty_api(api))
        print("Slack:")
        if settings.slack_bot_token is None:
            print(_("  - not set up (SLACK_BOT_TOKEN): only the offline console can run"))
        else:
            from bot.runtime.app import slack_client

            checks += _print(checkup.slack(settings, slack_client(settings)))
        print(_("Database:"))
        checks += _print(checkup.database(settings.database_url))
        failed = [c for c in checks if not c.ok]
        problems = ngettext("{count} problem to fix.", "{count} problems to fix.", len(failed))
        print(problems.format(count=len(failed)) if failed else _("All good."))
    return 1 if failed else 0


def _print(checks: Iterable[Check]) -> list[Check]:
    done = []
    for check in checks:
        print(check, file=sys.stdout if check.ok else sys.stderr, flush=True)
        done.append(check)
    return done


def _settings(args: argparse.Namespace):
    """Load the settings (one line and exit 2 if wrong), then log as they say."""
    from bot.domain.logs import configure_logging, secrets_of
    from bot.domain.settings import load_settings

    settings = load_settings()
    configure_logging(
        json_format=settings.loyalty_log_format == "json",
        verbose=args.verbose,
        secrets=secrets_of(settings),
    )
    return settings


def _serve(args: argparse.Namespace) -> int:
    """Bolt over HTTP on a small threaded server: for development and small shops. The
    Procfile's `web` runs the same app under gunicorn."""
    from bot.runtime.app import build, web_app
    from bot.runtime.wsgi_server import make_threaded_server

    settings = _settings(args)
    running = build(settings)
    secret = settings.slack_signing_secret or ""
    server = make_threaded_server(
        web_app(running.app, secret, running.health),
        args.host,
        args.port,
    )
    server.answering = running.work.answering  # acks first (handlers.workpool)
    _on_sigterm(server.shutdown)
    log.info(
        "listening on http://%s:%d/slack/events (health check: /healthz)",
        args.host,
        server.server_port,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        running.shutdown()  # requests already acked finish their work
        log.info("stopped")
    return 0


def _socket(args: argparse.Namespace) -> int:
    """Socket Mode: no public URL needed (behind a firewall, or while developing)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime.app import build

    settings = _settings(args)
    if settings.slack_app_token is None:
        raise ConfigError(
            "SLACK_APP_TOKEN is not set: put an app-level token with the connections:write "
            "scope there (Basic Information → App-Level Tokens; it starts with xapp-)."
        )
    running = build(settings, socket_mode=True)
    handler = SocketModeHandler(running.app, settings.slack_app_token.get_secret_value())
    _on_sigterm(handler.close)
    log.info("connecting to Slack in Socket Mode")
    try:
        handler.start()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()
        running.shutdown()
        log.info("stopped")
    return 0


def _on_sigterm(stop: Callable[[], object]) -> None:
    """SIGTERM (a platform stopping the process): stop taking requests, finish the rest."""
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop, daemon=True).start())


def _summary(args: argparse.Namespace) -> int:
    from bot.slack.render import render_blocks
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store

    settings = _settings(args)
    _one_shop(settings, "summary")
    store = Store.from_url(settings.database_url)
    with LoyaltyClient.from_settings(settings) as api:
        if not args.post:
            from bot.core.summary import build_summary
            from bot.i18n import speaking
            from bot.slack.blocks import summary_message

            with speaking(settings.loyalty_language):
                message = summary_message(build_summary(api, store, settings.tz), settings.tz)
            print(render_blocks(message.blocks, fallback=message.text))
            return 0
        from bot.jobs.summary import post_summary
        from bot.runtime.app import SLACK_SCHEDULED_WAIT_SECONDS, slack_client

        try:
            result = post_summary(
                slack_client(settings, timeout=SLACK_SCHEDULED_WAIT_SECONDS),
                api,
                store,
                settings,
                args.channel,
                force=args.force,
            )
        except ConfigError:
            raise
        except Exception as exc:  # one clear line for cron, not a traceback
            print(f"loyalty-bot: the summary was not posted: {_why(exc)}", file=sys.stderr)
            return 1
    if result.already:
        print(
            f"Today's summary ({result.day}) was already posted to {result.channel}; "
            "nothing posted (use --force to post it again)."
        )
    else:
        print(f"Posted the summary for {result.day} to {result.channel}.")
    return 0


def _clock(args: argparse.Namespace) -> int:
    from bot.jobs.summary import run_clock, run_every_workspace_clock
    from bot.runtime.app import SLACK_SCHEDULED_WAIT_SECONDS, installed_workspaces, slack_client
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store

    settings = _settings(args)
    if settings.distributed:
        run_every_workspace_clock(
            installed_workspaces(settings, Store.from_url(settings.database_url))
        )
        return 0
    run_clock(
        slack_client(settings, timeout=SLACK_SCHEDULED_WAIT_SECONDS),
        LoyaltyClient.from_settings(settings),
        Store.from_url(settings.database_url),
        settings,
    )
    return 0


def _new_key(args: argparse.Namespace) -> int:
    from bot.store.sealed import new_key

    print(new_key())
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    """Re-encrypt every stored App Key and Slack token with the first key of
    LOYALTY_ENCRYPTION_KEY."""
    from bot.store.database import Store
    from bot.store.installations import seal_rows
    from bot.store.sealed import InvalidToken, KeyBox
    from bot.store.workspaces import WorkspaceRecords

    settings = _settings(args)
    if settings.loyalty_encryption_key is None:
        raise ConfigError(
            "LOYALTY_ENCRYPTION_KEY is not set: put the new key first and the old ones after "
            "it, comma-separated."
        )
    store = Store.from_url(settings.database_url)
    box = KeyBox(settings.loyalty_encryption_key.get_secret_value())
    records = WorkspaceRecords(store.engine, box)
    try:
        count = records.reseal_all()
        with store.engine.begin() as conn:
            tokens = seal_rows(conn, box, reseal=True)
    except InvalidToken:
        print(
            "loyalty-bot: an App Key or a Slack token was sealed with a key that is not in "
            "LOYALTY_ENCRYPTION_KEY; keep the old keys after the new one.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Re-encrypted {count} App Key(s) and {tokens} Slack token(s) with the first key. "
        "The other keys in LOYALTY_ENCRYPTION_KEY can now be removed."
    )
    return 0


def _why(exc: Exception) -> str:
    from slack_sdk.errors import SlackApiError

    from bot.domain.errors import LoyaltyError

    if isinstance(exc, SlackApiError):
        return f"Slack answered {exc.response.get('error')!r}" + (
            " (invite the bot to that channel)"
            if exc.response.get("error") == "not_in_channel"
            else ""
        )
    if isinstance(exc, LoyaltyError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _console(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.offline.console import run_console

    logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output
    script = Path(args.script) if args.script else None
    if script is not None and not script.is_file():
        raise ConfigError(f"--script {args.script}: no such file")
    lines = iter(script.read_text(encoding="utf-8").splitlines()) if script else None
    return run_console(user=args.as_user, script=lines, lang=args.lang, workspaces=args.workspaces)


def _reconcile(args: argparse.Namespace) -> int:
    """Settle the changes left pending by a process that stopped mid-change."""
    from bot.core.ledger import Ledger
    from bot.core.reconcile import SETTLE_AFTER, reconcile, still_pending
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store
    from bot.store.locks import locks_for

    settings = _settings(args)
    _one_shop(settings, "reconcile")
    store = Store.from_url(settings.database_url)
    locks = locks_for(store.engine)
    try:
        with LoyaltyClient.from_settings(settings) as api:
            settled = reconcile(api, store, Ledger(store, locks, program=api.program))
        waiting = still_pending(store)
    finally:
        locks.close()
        store.engine.dispose()
    for result in settled:
        print(result)
    if settled:
        print(f"{len(settled)} pending change(s) settled.")
    if waiting:
        minutes = int(SETTLE_AFTER.total_seconds() // 60)
        print(
            f"{waiting} change(s) still pending: being made now, or too recent to call not "
            f"applied (their answers may still arrive). Run this again in {minutes} minutes."
        )
    if not settled and not waiting:
        print("Nothing was pending.")
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Each customer's balance as the bot's records have it against Smart Passes' own."""
    from bot.core.index.customer_list import CustomerList
    from bot.core.verify import verify
    from bot.smartpasses.client import LoyaltyClient
    from bot.store.database import Store

    settings = _settings(args)
    _one_shop(settings, "verify")
    store = Store.from_url(settings.database_url)
    try:
        with LoyaltyClient.from_settings(settings) as api:
            verified = verify(store, api.list_customers(CustomerList.from_json))
    finally:
        store.engine.dispose()
    for d in verified.differences:
        mark = "FLAGGED" if d.flagged else "outside"
        print(
            f"{mark}  customer {d.customer_id} {d.name}: records {d.recorded:,}, "
            f"Smart Passes {d.live:,} ({d.delta:+,})"
        )
    print(
        f"{verified.compared:,} customer(s) the bot changed compared: "
        f"{len(verified.differences):,} changed outside the bot "
        f"(+{verified.added:,} / -{verified.removed:,} points), "
        f"{len(verified.flagged):,} flagged."
    )
    if verified.flagged:
        print(
            "Flagged: the last change through the bot to these customers was not confirmed "
            "when it was made; check their history (/loyalty history #ID) and balance."
        )
    return 0


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


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

    check = commands.add_parser(
        "check",
        help="check the settings: the Loyalty API, the Slack token, channels, managers and "
        "the database (exits 1 if something needs fixing)",
    )
    check.set_defaults(run=_check)

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
    except ValueError as exc:
        print(f"loyalty-bot: {exc}", file=sys.stderr)
        return 2
