"""The production WSGI entry point: `gunicorn 'bot.runtime.wsgi:create()'` (see the Procfile).

A factory, so nothing is built at import time; a configuration problem stops the worker
with one line naming the variable.
"""

from __future__ import annotations

import atexit
import sys
from wsgiref.types import WSGIApplication

from bot.domain.errors import ConfigError
from bot.domain.logs import configure_logging, secrets_of
from bot.domain.settings import load_settings
from bot.runtime.app import build
from handlers.web import web_app


def create() -> WSGIApplication:
    try:
        settings = load_settings()
        configure_logging(
            json_format=settings.loyalty_log_format == "json", secrets=secrets_of(settings)
        )
        running = build(settings)
    except ConfigError as exc:
        sys.stderr.write(f"loyalty-bot: {exc.message}\n")
        raise SystemExit(4) from None  # gunicorn: stop, do not restart the worker in a loop
    # gunicorn finishes in-flight HTTP requests on SIGTERM; this finishes the work they acked.
    atexit.register(running.shutdown)
    return web_app(
        running.app,
        settings.slack_signing_secret or "",
        running.health,
        running.work.answering,
    )
