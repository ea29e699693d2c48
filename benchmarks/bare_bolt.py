"""A bare Bolt app that only acks `/loyalty`, served like `loyalty-bot serve` (the same
threaded WSGI server and signature gate): bench_ack's floor, in a process of its own.
With `--loyalty-api URL`, `/loyalty points ID N` is also carried out after the ack (read
the customer, add the points, post the receipt): bench_changes' floor for what Slack and
Bolt cost without the bot's own work.

    python benchmarks/bare_bolt.py --port 3001 --slack-api-url http://127.0.0.1:PORT/api/

With `--prompt-acks`, its requests wait for the ack as the bot's do (handlers.prompt_acks)
instead of Bolt's 10 ms polling: the floor for what the bot's own work costs its acks.
Under gunicorn, as the Procfile serves the bot: `'benchmarks.bare_bolt:create()'`.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from wsgiref.types import WSGIApplication

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import App
from slack_sdk import WebClient

from bot.offline.sandbox import DEMO_APP_KEY, DEMO_PROGRAM_ID
from bot.runtime.app import LISTENER_THREADS, WORK_THREADS
from bot.runtime.wsgi_server import make_threaded_server
from bot.smartpasses.client import LoyaltyClient, shared_http
from handlers.prompt_acks import ListenerPool, PromptAcks
from handlers.reply_pool import ReplyPool
from handlers.web import web_app


def bare_app(
    slack_api_url: str, secret: str, *, prompt_acks: bool = False, loyalty_api: str = ""
) -> App:
    app = App(
        signing_secret=secret,
        client=WebClient(token="xoxb-bench", base_url=slack_api_url),
        token_verification_enabled=False,
        listener_executor=ListenerPool(LISTENER_THREADS) if prompt_acks else None,
    )
    if prompt_acks:
        app.middleware(PromptAcks())

    if loyalty_api:
        return _making_changes(app, loyalty_api)

    @app.command("/loyalty")
    def ack_only(ack) -> None:
        ack()

    return app


def _making_changes(app: App, loyalty_api: str) -> App:
    """`/loyalty points ID N`: ack, then (on a work thread, as the bot does its work) read
    the customer, add the points and post the receipt to the response_url, with the bot's
    Loyalty API client and reply pool; nothing else (no ledger, lock, store, roles)."""
    client = LoyaltyClient(
        app_key=DEMO_APP_KEY, program_id=DEMO_PROGRAM_ID, base_url=loyalty_api, http=shared_http()
    )
    work = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="work")
    replies = ReplyPool()

    def change(customer_id: int, points: int, response_url: str) -> None:
        try:
            customer = client.get_customer(customer_id)
            after = client.add_points(customer_id, points)
            assert after is not None, "no customer in the answer"
            text = f"{customer.display_name}: {customer.points:,} → {after.points:,} points"
        except Exception as exc:  # said as the reply: the benchmark's receipt check fails
            text = f"failed: {exc!r}"
        replies.post_json(response_url, {"response_type": "ephemeral", "text": text})

    @app.command("/loyalty")
    def points(ack, body) -> None:
        ack()
        _, customer_id, points, *_ = body["text"].split()
        work.submit(change, int(customer_id), int(points), body["response_url"])

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
    parser.add_argument("--loyalty-api", default="", help="make points changes there")
    args = parser.parse_args()
    app = bare_app(
        args.slack_api_url, args.secret, prompt_acks=args.prompt_acks, loyalty_api=args.loyalty_api
    )
    server = make_threaded_server(web_app(app, args.secret), "127.0.0.1", args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
