"""Text cut to Slack's limits after escaping: never half an entity or a mention."""

from __future__ import annotations

import pytest

from bot.slack.text import fit


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abc&amp;def", 7, "abc…"),  # never half an entity
        ("ab &lt;&lt;", 9, "ab &lt;…"),
        ("hi <@U123> there", 8, "hi …"),  # never half a mention
        ("hi <@U123> there", 12, "hi <@U123> …"),
        ("short", 10, "short"),
    ],
)
def test_fit_cuts_between_entities_and_tokens(text, limit, expected) -> None:
    assert fit(text, limit) == expected
    assert len(fit(text, limit)) <= limit
