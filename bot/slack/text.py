"""Outside text made safe for Slack's mrkdwn, and cut to a length without breaking it.

Names, emails, descriptions and reasons come from the public. `escape` makes them inert
(no mentions, links or `<!channel>`) and adds nothing else: no invisible characters, so
what a person copies is what was stored. `fit` shortens text that is already escaped
without cutting an entity (`&amp;`) or a Slack token (`<@U123>`, `<!date^…>`) in half.
"""

from __future__ import annotations

ELLIPSIS = "…"


def escape(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """mrkdwn made plain again, for plain_text fields (where nothing is ever a mention)."""
    text = text.replace("*", "").replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


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
