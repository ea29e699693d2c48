"""Running the bot: `serve`, `socket`, `clock` and `console` (against the sandbox\nwhen no Smart Passes program is set)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.domain.errors import ConfigError

if TYPE_CHECKING:
    pass


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
    server = make_threaded_server(app, args.host, args.port, keep_alive=True)
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
    "checkup": "each workspace's App Key and program are checked when it connects, and "
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
    from bot.runtime.app import build
    from bot.runtime.wsgi_server import make_threaded_server
    from handlers.web import web_app

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


def _console(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.offline.console import run_console

    logging.getLogger().setLevel(logging.WARNING)  # the transcript is the output
    script = Path(args.script) if args.script else None
    if script is not None and not script.is_file():
        raise ConfigError(f"--script {args.script}: no such file")
    lines = iter(script.read_text(encoding="utf-8").splitlines()) if script else None
    return run_console(user=args.as_user, script=lines, lang=args.lang, workspaces=args.workspaces)
