"""Bolt's listener threads (handlers.prompt_acks): a request's ack leaves the moment the
listener gives it, without Bolt's 10 ms polling."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult

from handlers import prompt_acks
from handlers.prompt_acks import ListenerPool, PromptAcks
from tests.harness import stack_of, wait_until

WHO = contextvars.ContextVar("who", default="nobody")


@pytest.fixture
def polls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Each time Bolt's wait for an ack looked again (its 10 ms sleeps)."""
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        seen.append(seconds)
        time.sleep(seconds)  # Bolt's own poll, as it would sleep

    import slack_bolt.listener.thread_runner as runner

    monkeypatch.setattr(runner, "time", SimpleNamespace(time=time.time, sleep=sleep))
    return seen


def make_app() -> App:
    app = App(
        signing_secret="secret",
        request_verification_enabled=False,
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T1", bot_token="xoxb-1", bot_user_id="UB", bot_id="B1"
        ),
        listener_executor=ListenerPool(4),
    )
    app.middleware(PromptAcks())
    return app


def command(text: str = "") -> BoltRequest:
    form = {"command": "/loyalty", "text": text, "team_id": "T1", "user_id": "U1"}
    return BoltRequest(
        body=urlencode(form), headers={"content-type": ["application/x-www-form-urlencoded"]}
    )


def dispatched(
    app: App, request: BoltRequest, started: list[threading.Thread] | None = None
) -> BoltResponse:
    """The response, dispatched on a thread of its own (added to `started`); a hang fails
    the test rather than CI."""
    answer: list[BoltResponse] = []
    thread = threading.Thread(target=lambda: answer.append(app.dispatch(request)))
    if started is not None:
        started.append(thread)
    thread.start()
    thread.join(timeout=30)
    assert answer, "no response"
    return answer[0]


def until_waiting(thread: threading.Thread) -> None:
    """Until `thread` waits for its ack: in ListenerPool.submit, or Bolt's polling sleep."""

    def waiting() -> bool:
        callers = [where for where in stack_of(thread) if where[0] != "threading.py"]
        return bool(callers) and callers[0] in {
            ("prompt_acks.py", "submit"),
            ("test_prompt_acks.py", "sleep"),
        }

    wait_until(waiting, what="the request waiting for its ack")


def test_the_ack_leaves_when_given_while_the_listener_goes_on(polls: list[float]) -> None:
    app, release, finished = make_app(), threading.Event(), threading.Event()
    requests: list[threading.Thread] = []

    @app.command("/loyalty")
    def listener(ack: Any) -> None:
        until_waiting(requests[0])  # the ack comes after the request began waiting for it
        ack("on it")
        release.wait(30)
        finished.set()

    response = dispatched(app, command(), requests)
    assert (response.status, response.body) == (200, "on it")
    assert not finished.is_set()  # answered before the listener ended
    assert polls == []
    release.set()
    assert finished.wait(30)


def test_a_listener_that_fails_before_acking_is_answered_at_once(
    polls: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prompt_acks, "ACK_TIMEOUT_SECONDS", 600.0)  # waited out: the test hangs
    app = make_app()

    @app.command("/loyalty")
    def listener(ack: Any) -> None:
        raise RuntimeError("broken")

    @app.error
    def handle(error: Exception) -> BoltResponse:
        return BoltResponse(status=200, body="sorry")

    response = dispatched(app, command())
    assert (response.status, response.body) == (200, "sorry")
    assert polls == []


def test_an_event_is_acked_before_its_listener_runs(polls: list[float]) -> None:
    app, release, finished = make_app(), threading.Event(), threading.Event()

    @app.event("app_mention")
    def listener(event: dict[str, Any]) -> None:
        release.wait(30)
        finished.set()

    body = {
        "type": "event_callback",
        "team_id": "T1",
        "event": {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"},
    }
    response = dispatched(
        app, BoltRequest(body=json.dumps(body), headers={"content-type": ["application/json"]})
    )
    assert response.status == 200 and not finished.is_set()
    assert polls == []
    release.set()
    assert finished.wait(30)


def test_a_listener_runs_in_the_context_its_request_was_given(polls: list[float]) -> None:
    app, seen = make_app(), []

    @app.middleware
    def who(context: Any, next: Any) -> None:
        WHO.set(context.user_id)
        next()

    @app.command("/loyalty")
    def listener(ack: Any) -> None:
        seen.append(WHO.get())
        ack()

    assert dispatched(app, command()).status == 200
    assert seen == ["U1"]


def test_each_request_waits_for_its_own_ack(polls: list[float]) -> None:
    """Many at once: every response carries its own request's ack."""
    app = make_app()

    @app.command("/loyalty")
    def listener(ack: Any, body: dict[str, Any]) -> None:
        ack(f"you said {body['text']}")

    answers: dict[str, str] = {}

    def send(n: int) -> None:
        answers[str(n)] = app.dispatch(command(str(n))).body

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == {str(n): f"you said {n}" for n in range(40)}
    assert polls == []
