"""The web application a server runs: Slack's requests to Bolt through the gate (size and
signature first), /healthz, and the OAuth pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.smartpasses.client import LoyaltyClient
from bot.store.database import Store
from handlers.gate import SlackGate
from handlers.workpool import Answering


def health(store: Store, loyalty: LoyaltyClient | None) -> tuple[bool, dict[str, Any]]:
    """For /healthz: the database checked now; the Loyalty API as it last answered (a probe
    every few seconds must not become traffic to Smart Passes). In OAuth mode each
    workspace has its own program: only the database is reported."""
    database = store.reachable()
    report: dict[str, Any] = {
        "ok": database,
        "service": "loyalty-bot",
        "database": "ok" if database else "unreachable",
    }
    if loyalty is not None:
        report["loyalty_api"] = loyalty.health.report()
    return database, report


def web_app(
    app: App,
    signing_secret: SecretStr | str,
    check: Callable[[], tuple[bool, dict[str, Any]]] | None = None,
    answering: Answering | None = None,
) -> WSGIApplication:
    """WSGI: POST /slack/events to Bolt (through the gate: size and signature first),
    GET /healthz a small JSON status (from `check`: 503 when it is not healthy), and in
    OAuth mode GET /slack/install (Add to Slack) and /slack/oauth_redirect to Bolt.
    `answering` (the work pool's) counts the Slack requests being answered: their acks
    go before the work after them."""
    secret = (
        signing_secret.get_secret_value()
        if isinstance(signing_secret, SecretStr)
        else signing_secret
    )
    bolt = SlackRequestHandler(app)
    slack = SlackGate(bolt, secret)
    flow = app.oauth_flow
    oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        if environ.get("PATH_INFO") in oauth_paths and environ.get("REQUEST_METHOD") == "GET":
            return bolt(environ, start_response)
        if environ.get("PATH_INFO") == "/healthz":
            healthy, report = check() if check else (True, {"ok": True, "service": "loyalty-bot"})
            body = json.dumps(report).encode()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if answering is None:
            return slack(environ, start_response)
        with answering.request():
            return slack(environ, start_response)

    return application
