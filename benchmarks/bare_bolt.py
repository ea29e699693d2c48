"""A bare Bolt app that only acks `/loyalty`, served like `loyalty-bot serve` (the same
threaded WSGI server and signature gate): bench_ack's floor, in a process of its own.

    python benchmarks/bare_bolt.py --port 3001 --slack-api-url http://127.0.0.1:PORT/api/

With `--prompt-acks`, its requests wait for the ack as the bot's do (handlers.prompt_acks)
instead of Bolt's 10 ms polling: the floor for what the bot's own work costs its acks.
Under gunicorn, as the Procfile serves the bot: `'benchmarks.bare_bolt:create()'`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from wsgiref.types import WSGIApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App
from slack_sdk import WebClient

from bot.runtime.app import LISTENER_THREADS
from bot.runtime.wsgi_server import make_threaded_server
from handlers.prompt_acks import ListenerPool, PromptAcks
from handlers.web import web_app


def bare_app(slack_api_url: str, secret: str, *, prompt_acks: bool = False) -> App:
    app = App(
        signing_secret=secret,
        client=WebClient(token="xoxb-bench", base_url=slack_api_url),
        token_verification_enabled=False,
        listener_executor=ListenerPool(LISTENER_THREADS) if prompt_acks else None,
    )
    if prompt_acks:
        app.middleware(PromptAcks())

    @app.command("/loyalty")
    def ack_only(ack) -> None:
        ack()

    return app


def create() -> WSGIApplication:
    """For gunicorn, served as the Procfile serves the bot (SLACK_API_URL and
    SLACK_SIGNING_SECRET from the environment, as the bot reads them)."""
    secret = os.environ.get("SLACK_SIGNING_SECRET", "bench-secret")
    return web_app(bare_app(os.environ["SLACK_API_URL"], secret), secret)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default="bench-secret")
    parser.add_argument("--slack-api-url", required=True, help="for Bolt's one auth.test")
    parser.add_argument("--prompt-acks", action="store_true")
    args = parser.parse_args()
    app = bare_app(args.slack_api_url, args.secret, prompt_acks=args.prompt_acks)
    server = make_threaded_server(web_app(app, args.secret), "127.0.0.1", args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
