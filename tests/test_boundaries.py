"""What reaches the bot: only Slack's own requests, of a sane size, from this workspace,
in a shape the bot understands. Everything else is refused before anything acts."""

from __future__ import annotations

import io
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.runtime.gate import MAX_BODY, SlackGate
from bot.runtime.logs import TextFormatter
from tests.harness import CHANNEL, MANAGER, SIGNING_SECRET, TEAM, text_of

ATTACKER = "http://attacker.example/collect"


def _command_form(text: str, **extra: str) -> str:
    return urlencode(
        {
            "command": "/loyalty",
            "text": text,
            "user_id": MANAGER,
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "trigger_id": f"t.{time.monotonic_ns()}",
            "response_url": ATTACKER,
            **extra,
        }
    )


def _nothing_went_out(bot) -> None:
    assert bot.slack.calls == [] and bot.sandbox.calls == [] and bot.store.entries() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Signature": "v0=abc"},  # no timestamp
        {"X-Slack-Request-Timestamp": str(int(time.time()) - 600), "X-Slack-Signature": "v0=a"},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=forged"},
        {"X-Slack-Request-Timestamp": str(int(time.time()))},  # no signature
    ],
    ids=["non-numeric timestamp", "no timestamp", "stale", "bad signature", "no signature"],
)
def test_an_unsigned_request_gets_401_and_nothing_else(bot, caplog, headers) -> None:
    caplog.set_level(logging.INFO)
    body = _command_form("points 1870 10\n2026-11-26 INFO loyalty.requests forged line")
    response = bot.http.post(
        bot.url + "/slack/events",
        content=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    assert response.status_code == 401 and response.content == b""
    _nothing_went_out(bot)  # no reply to the attacker's URL, no Web API call, no change
    assert "forged line" not in caplog.text and "points 1870" not in caplog.text
    assert any("refused a request to /slack/events" in r.getMessage() for r in caplog.records)


def test_a_huge_body_gets_413_unread_and_unlogged(bot, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    huge = b"payload=" + b"x" * (5 * 1024 * 1024)
    response = bot.http.post(
        bot.url + "/slack/events",
        content=huge,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    _nothing_went_out(bot)
    assert len(caplog.text) < 2000 and "xxxx" not in caplog.text


class _Input(io.BytesIO):
    """A request body that counts what the app reads of it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def _gate_call(body: bytes, declared: int | None = None) -> tuple[str, _Input]:
    """Through the gate alone: the status it gave, and what it read of the body. The
    signature covers the declared part (the signed command `command=/loyalty&…`)."""
    declared = len(body) if declared is None else declared
    signed = b"command=%2Floyalty&user_id=U1&team_id=T1&text=" + body
    reached: list[bool] = []
    gate = SlackGate(lambda environ, start: reached.append(True) or [b""], SIGNING_SECRET)
    stream = _Input(signed)
    statuses: list[str] = []
    ts = str(int(time.time()))
    length = declared + len(signed) - len(body)
    environ = {
        "CONTENT_LENGTH": str(length),
        "wsgi.input": stream,
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=ts, body=signed[:length]
        ),
    }
    gate(environ, lambda status, headers: statuses.append(status))
    return (statuses[0] if statuses else "200 (reached the app)" if reached else "?"), stream


def test_the_gate_never_reads_more_than_its_limit() -> None:
    status, stream = _gate_call(b"x" * (5 * 1024 * 1024))
    assert status.startswith("413") and stream.read_bytes == 0  # refused on its length
    status, stream = _gate_call(b"x" * (MAX_BODY + 10), declared=10)  # it says less
    assert status == "200 (reached the app)" and stream.read_bytes < 100
    status, stream = _gate_call(b"x" * (MAX_BODY * 2), declared=MAX_BODY - 100)
    assert status == "200 (reached the app)" and stream.read_bytes <= MAX_BODY


def test_control_characters_cannot_forge_a_log_line() -> None:
    record = logging.LogRecord(
        "loyalty.requests",
        logging.INFO,
        "x",
        1,
        "request user=%s outcome=%s",
        ("U1\n2026-11-26 12:00:00 INFO loyalty.requests request user=UADMIN", "ok\r\x1b[2K"),
        None,
    )
    line = TextFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "U1\\x0a2026-11-26" in line


def test_a_signed_request_from_another_workspace_is_refused(bot, caplog) -> None:
    caplog.set_level(logging.WARNING)
    body = _command_form("points 1870 10", team_id="TOTHER")
    response = bot.requests.signed_post(body)
    assert response.status_code == 403
    assert bot.sandbox.calls == [] and bot.customer_points(1870) == 5
    assert not bot.slack.calls_to("response_url")
    assert "refused a request from another workspace: team TOTHER" in caplog.text


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": MANAGER}, "actions": []},
        {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": MANAGER}},
        {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": MANAGER}, "actions": [{}]},
        {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": MANAGER}, "view": {}},
        {"type": "view_submission", "team": {"id": TEAM}, "user": {"id": MANAGER}},
    ],
    ids=["no actions", "actions missing", "action without id", "view empty", "view missing"],
)
def test_a_malformed_signed_payload_gets_400(bot, caplog, payload) -> None:
    caplog.set_level(logging.INFO)
    response = bot.requests.interaction(payload)
    assert response.status_code == 400
    _nothing_went_out(bot)
    assert "Traceback" not in caplog.text and "malformed payload" in caplog.text


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("loyalty_pick_choice_1", json.dumps({"command": "rm -rf", "target_id": 1870})),
        ("loyalty_pick_choice_1", json.dumps({"command": "points", "target_id": "9" * 5000})),
        ("loyalty_confirm", "{not json"),
        ("loyalty_customer_points", json.dumps({"customer_id": "not a number"})),
        ("loyalty_approve", json.dumps({"approval_id": 10**30})),
    ],
    ids=["unknown command", "5,000-digit id", "not JSON", "wrong type", "huge approval id"],
)
def test_a_button_value_the_bot_never_wrote_is_answered_politely(
    bot, caplog, action_id, value
) -> None:
    caplog.set_level(logging.INFO)
    button = {"action_id": action_id, "value": value, "text": {"type": "plain_text", "text": "x"}}
    assert bot.click(button).status_code == 200
    shown = text_of(bot.reply())
    assert "nothing was done" in shown or "no longer exists" in shown, shown
    assert "Traceback" not in caplog.text
    assert [c for c in bot.sandbox.calls if c.method != "GET"] == []


def test_a_5000_digit_amount_is_explained_in_the_ack(bot, caplog) -> None:
    caplog.set_level(logging.INFO)
    response = bot.command("points 1870 " + "9" * 5000)
    assert response.status_code == 200
    assert "more points than the largest single change allowed" in response.json()["text"]
    assert bot.sandbox.calls == [] and "Traceback" not in caplog.text
