"""The Slack stand-in in a process of its own, for the benchmarks: the client that measures
does not also serve the bot's Web API calls and replies (they would take its interpreter
while it times acks).

    python benchmarks/slack_process.py --port 3002 --token xoxb-bench --user UBENCH
        [--people 1000] [--slow users.info=4]

Besides Slack's Web API and response URLs it answers the benchmark:
GET /_bench/calls/<method> (every call so far: its arguments and when, by the stand-in's
clock), GET /_bench/wait/<method>?count=N&timeout=S (once N calls have come; with
&from=K, only the calls after the first K), and PUT /_bench/views/<view_id> (a modal as
Slack holds it once open: the JSON view).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.offline.slack_standin import SlackStandIn, SlackUser
from bot.runtime.wsgi_server import make_threaded_server


def person(n: int) -> str:
    return f"UPERSON{n:04d}"


def bench_app(slack: SlackStandIn) -> Any:
    def application(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_bench/"):
            return slack(environ, start_response)
        _, _, what, method = path.split("/", 3)
        if what == "views" and environ.get("REQUEST_METHOD") == "PUT":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            slack.views[method] = json.loads(environ["wsgi.input"].read(length))
            start_response("204 No Content", [])
            return []
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status = "200 OK"
        try:
            if what == "wait":
                slack.wait_for(
                    method, count=int(query["count"]), timeout=float(query.get("timeout", 60))
                )
            made = slack.calls_to(method)[int(query.get("from", 0)) :]
            calls = [{"args": c.args, "at": c.at} for c in made]
        except TimeoutError as exc:
            status, calls = "504 Gateway Timeout", [{"error": str(exc)[:300]}]
        body = json.dumps(calls, default=str).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--user", action="append", default=[], help="a user id (repeatable)")
    parser.add_argument(
        "--people",
        type=int,
        default=0,
        help="also this many people, UPERSON0000... (odd ones read Spanish: es-MX)",
    )
    parser.add_argument(
        "--slow",
        action="append",
        default=[],
        metavar="METHOD=SECONDS",
        help="answer METHOD only after SECONDS (a slow Slack)",
    )
    args = parser.parse_args()
    users = [SlackUser(u, u.lower(), u) for u in args.user] + [
        SlackUser(person(n), f"p{n}", f"Person {n}", locale="es-MX" if n % 2 else "en-US")
        for n in range(args.people)
    ]
    slack = SlackStandIn(token=args.token, users=users)
    for slow in args.slow:
        method, seconds = slow.split("=")
        slack.delays[method] = float(seconds)
    slack.base_url = f"http://127.0.0.1:{args.port}"
    make_threaded_server(bench_app(slack), "127.0.0.1", args.port, keep_alive=True).serve_forever()


if __name__ == "__main__":
    main()
