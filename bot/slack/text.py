"""Outside text made safe for Slack's mrkdwn, and cut to a length without breaking it.

Names, emails, descriptions and reasons come from the public. `escape` makes them inert
(no mentions, links or `<!channel>`) and adds nothing else: no invisible characters, so
what a person copies is what was stored. `fit` shortens text that is already escaped
without cutting an entity (`&amp;`) or a Slack token (`<@U123>`, `<!date^…>`) in half.
"""

from __future__ import annotations

from bot.core.say import Link, Say, Writer, said
from bot.i18n import gettext

ELLIPSIS = "…"


def escape(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start and "…"."""
    if len(text) <= limit:
        return text
    cut = limit - len(ELLIPSIS)
    amp = text.rfind("&", max(0, cut - 8), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        cut = amp  # inside &amp; &lt; &gt;
    opening = text.rfind("<", 0, cut)
    if opening != -1 and ">" not in text[opening:cut]:
        cut = opening  # inside a mention, date or link
    return text[:cut] + ELLIPSIS


def shorten(text: str, limit: int) -> str:
    """Plain outside text on one line, at most `limit` characters (for summaries)."""
    return fit(" ".join((text or "").split()), limit)


class _Plain(Writer):
    """A sentence for a plain_text field, in the reader's language."""

    def translate(self, template: str) -> str:
        return gettext(template)

    def group(self, group_id: str) -> str:
        return gettext("the managers group")


class _Mrkdwn(_Plain):
    """A sentence from the core in Slack's mrkdwn: outside text escaped."""

    def text(self, value: str) -> str:
        return escape(value)

    def strong(self, written: str) -> str:
        return f"*{written}*"

    def code(self, value: str) -> str:
        return f"`{escape(value)}`"

    def person(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def group(self, group_id: str) -> str:
        return f"<!subteam^{group_id}>"

    def channel(self, channel_id: str) -> str:
        return f"<#{channel_id}>"

    def link(self, link: Link) -> str:
        return f"<{link.url}|{escape(link.label)}>"


_MRKDWN = _Mrkdwn()
_PLAIN = _Plain()


def mrkdwn(sentence: Say | str) -> str:
    """`sentence` written for a mrkdwn text, in the reader's language (plain text is shown
    as it is, inert)."""
    sentence = said(sentence)
    return _MRKDWN.format(_MRKDWN.translate(sentence.template), **sentence.values)


def plain(sentence: Say | str) -> str:
    """`sentence` for a plain_text field (a form's error, a button): no markup at all."""
    sentence = said(sentence)
    return _PLAIN.format(_PLAIN.translate(sentence.template), **sentence.values)
