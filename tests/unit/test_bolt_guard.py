"""The prompt acks (handlers/prompt_acks.py) stand on how Bolt's listener runner works:
it submits the listener to the app's `listener_executor` and then polls `ack.response`
every 10 ms until it is set. slack-bolt is pinned to the minor version this was written
against (pyproject.toml); if Bolt is moved and this fails, re-check PromptAcks and
ListenerPool against the new `slack_bolt/listener/thread_runner.py` before changing the
pin, and run `python3 dev.py bench ack` (the acks' benchmark)."""

from __future__ import annotations

import inspect

import slack_bolt
from slack_bolt.listener import thread_runner

WRITTEN_AGAINST = "1.30."
RECHECK = (
    "Bolt's listener runner changed: re-check handlers/prompt_acks.py (PromptAcks, "
    "ListenerPool) against slack_bolt/listener/thread_runner.py, then the acks benchmark"
)


def test_bolt_is_the_minor_version_the_prompt_acks_were_written_against() -> None:
    assert slack_bolt.version.__version__.startswith(WRITTEN_AGAINST), RECHECK


def test_bolts_listener_runner_still_submits_then_polls_the_ack() -> None:
    source = inspect.getsource(thread_runner.ThreadListenerRunner.run)
    assert "self.listener_executor.submit(" in source, RECHECK
    assert "while ack.response is None" in source and "time.sleep(0.01)" in source, RECHECK
