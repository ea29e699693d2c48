"""What reaches the bot, end to end: only Slack's own requests, of a sane size, from this
workspace, in a shape the bot understands. Everything else is refused before anything
acts. (The gate alone: tests/unit/test_gate.py.)"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from tests.harness import CHANNEL, MANAGER, TEAM, text_of

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


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_body_that_is_not_utf8_is_refused_in_one_line_never_a_500(bot, caplog, signed) -> None:
    """Unsigned, it is 401 (its signature is computed over its bytes, whatever they are);
    signed with the secret, it is still not a payload: 400."""
    caplog.set_level(logging.INFO)
    body = b"command=%2Floyalty&text=\xff\xfe\xc3(&user_id=" + MANAGER.encode()
    ts = str(int(time.time()))
    signature = "v0=forged"
    if signed:
        import hashlib
        import hmac

        from tests.harness import SIGNING_SECRET

        mac = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
        signature = "v0=" + mac.hexdigest()
    response = bot.http.post(
        bot.url + "/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    assert response.status_code == (400 if signed else 401) and response.content == b""
    _nothing_went_out(bot)
    refusals = [r for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refusals) == 1 and "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


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


def test_a_signed_request_from_another_workspace_is_refused(bot, caplog) -> None:
    caplog.set_level(logging.WARNING)
    body = _command_form("points 1870 10", team_id="TOTHER")
    response = bot.requests.signed_post(body)
    assert response.status_code == 403
    assert bot.sandbox.calls == [] and bot.customer_points(1870) == 5
    assert not bot.slack.calls_to("response_url")
    assert "refused a request from another workspace: team TOTHER" in caplog.text


def test_a_person_of_another_organization_in_a_shared_channel_is_refused(bot, caplog) -> None:
    """Slack Connect: the click comes through the shop's workspace, but the person's own
    team is another company's. Not a clerk: refused, logged, nothing done."""
    caplog.set_level(logging.WARNING)
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "shop"},
        "user": {"id": "UOUTSIDER", "username": "mallory", "team_id": "TOTHERCO"},
        "trigger_id": "t.1",
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.1"},
        "response_url": ATTACKER,
        "actions": [{"action_id": "loyalty_customer_card", "value": "1870", "block_id": "b"}],
    }
    response = bot.requests.interaction(payload)
    assert response.status_code == 403
    assert bot.sandbox.calls == [] and bot.store.entries() == []
    assert [c.method for c in bot.slack.calls] in ([], ["auth.test"])  # nothing shown
    assert (
        "refused a request from a person of another organization (Slack Connect): user "
        "UOUTSIDER of team TOTHERCO" in caplog.text
    )


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
