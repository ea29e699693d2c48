"""A bare Bolt app that only acks `/loyalty`, served like `loyalty-bot serve` (the same
threaded WSGI server and signature gate): bench_ack's floor, in a process of its own.

    python benchmarks/bare_bolt.py --port 3001 --slack-api-url http://127.0.0.1:PORT/api/

With `--prompt-acks`, its requests wait for the ack as the bot's do (handlers.prompt_acks)
instead of Bolt's 10 ms polling: the floor for what the bot's own work costs its acks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App
from slack_sdk import WebClient

from bot.runtime.app import LISTENER_THREADS
from bot.runtime.wsgi_server import make_threaded_server
from handlers.prompt_acks import ListenerPool, PromptAcks
from handlers.web import web_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", default="bench-secret")
    parser.add_argument("--slack-api-url", required=True, help="for Bolt's one auth.test")
    parser.add_argument("--prompt-acks", action="store_true")
    args = parser.parse_args()
    app = App(
        signing_secret=args.secret,
        client=WebClient(token="xoxb-bench", base_url=args.slack_api_url),
        token_verification_enabled=False,
        listener_executor=ListenerPool(LISTENER_THREADS) if args.prompt_acks else None,
    )
    if args.prompt_acks:
        app.middleware(PromptAcks())

    @app.command("/loyalty")
    def ack_only(ack) -> None:
        ack()

    server = make_threaded_server(web_app(app, args.secret), "127.0.0.1", args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
