"""Text cut to Slack's limits after escaping: never half an entity or a mention."""

from __future__ import annotations

import pytest

from bot.slack.text import fit, mrkdwn, plain


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


def test_a_say_kept_with_a_record_reads_back_the_same_in_any_language() -> None:
    import datetime as dt
    from decimal import Decimal

    from bot.domain.say import (
        Channel,
        Code,
        Command,
        Duration,
        Group,
        Link,
        Money,
        Name,
        Person,
        Say,
        Strong,
        dump_said,
        load_said,
    )
    from bot.i18n import speaking

    said = Say(
        "{a} {b} {c} {d} {e} {f} {g} {h} {i} {j} {k:,} {l} {m}",
        a=Name("<Ñandú> *x*"),
        b=Person("U1"),
        c=Group("S1"),
        d=Channel("C1"),
        e=Strong("managers"),
        f=Code("#5"),
        g=Command("customer", "1870"),
        h=Link("https://example.com", "docs"),
        i=Money(Decimal("250.50"), "MXN"),
        j=Duration(dt.timedelta(minutes=20)),
        k=12345,
        l="plain",
        m=Say("{what} no longer exists", what=Say("the customer")),
    )
    kept = load_said(dump_said(said))
    assert kept == said
    for lang in ("en", "es"):
        with speaking(lang):
            assert mrkdwn(kept) == mrkdwn(said) and plain(kept) == plain(said)
    with speaking("es"):
        assert "hace" not in mrkdwn(kept) and "20 minutos" in mrkdwn(kept)
        assert "el cliente ya no existe" in mrkdwn(kept)
    for unreadable in ("", None, "not json", "[1]", '{"kind": "Nope", "text": "x"}'):
        assert load_said(unreadable) is None
