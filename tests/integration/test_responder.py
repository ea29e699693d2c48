"""Replies to a response_url: posted as Bolt's `respond` posts them, over one kept-alive
pool; a reply that cannot be delivered is logged, never raised (what it reports is done
and recorded already)."""

from __future__ import annotations

import logging

from bot.offline.slack_standin import SlackStandIn
from bot.runtime.wsgi_server import serving
from handlers.context import Responder
from tests.harness import free_port


def test_a_reply_reaches_the_response_url_with_only_what_was_given() -> None:
    slack = SlackStandIn()
    with serving(slack) as url:
        slack.base_url = url
        reply_to = slack.response_url()
        Responder(reply_to)(text="hi", blocks=None, response_type="ephemeral")
        (call,) = slack.wait_for("response_url")
    assert call.args == {"text": "hi", "response_type": "ephemeral", "_url": reply_to}


def test_an_unreachable_response_url_is_logged_not_raised(caplog) -> None:
    caplog.set_level(logging.WARNING)
    answer = Responder(f"http://127.0.0.1:{free_port()}/response/1")(text="done")
    assert answer is None
    assert "could not reply to a response_url" in caplog.text
