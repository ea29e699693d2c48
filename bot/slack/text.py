"""Outside text made safe for Slack's mrkdwn, and cut to a length without breaking it.

Names, emails, descriptions and reasons come from the public. `escape` makes them inert
(no mentions, links or `<!channel>`) and keeps them from reordering the line around them
(`isolate`); it adds nothing to ordinary text: no invisible characters, so what a person
copies is what was stored. `fit` shortens text that is already escaped without cutting an
entity (`&amp;`) or a Slack token (`<@U123>`, `<!date^…>`) in half.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from bot.domain.say import Link, Money, Say, Writer, said
from bot.i18n import duration, gettext, money, number

ELLIPSIS = "…"
# Explicit bidi embeddings, overrides and isolates: outside text never keeps them (one
# U+202E in a name would reverse the rest of the line, numbers included).
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Right-to-left letters, and the marks that carry direction.
_RTL = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u061c\u200f\U00010800-\U00010fff"
    "\U0001e800-\U0001efff]"
)
FSI, PDI = "\u2068", "\u2069"  # first strong isolate ... pop directional isolate


def isolate(text: str) -> str:
    """Outside text that cannot reorder the line it is shown in: its bidi controls
    removed, and, only when it has right-to-left letters, wrapped in an isolate (so an
    Arabic or Hebrew name keeps its own order and leaves the numbers after it alone)."""
    if not text.isascii():
        text = _BIDI_CONTROLS.sub("", text)
        if _RTL.search(text):
            return FSI + text + PDI
    return text


def escape(text: str | None) -> str:
    if not text:
        return ""
    return isolate(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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

    def text(self, value: str) -> str:
        return isolate(value)

    def group(self, group_id: str) -> str:
        # Plain text cannot mention the group: any one of its members is who to ask
        # ("Pídele a un gerente", where "a el grupo" would not be Spanish).
        return gettext("a manager")

    def duration(self, length: dt.timedelta) -> str:
        return duration(length)

    def number(self, value: int, *, signed: bool = False) -> str:
        return number(value, signed=signed)

    def money(self, value: Money) -> str:
        return money(value.amount, value.currency, trimmed=value.trimmed)


class _PlainNamed(_Plain):
    """Plain text that shows each person by their name (looked up by `name_of`)."""

    def __init__(self, name_of: Callable[[str], str | None]) -> None:
        super().__init__()
        self.name_of = name_of

    def person(self, user_id: str) -> str:
        name = self.name_of(user_id)
        return self.text(name) if name else super().person(user_id)


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


def plain(sentence: Say | str, *, name_of: Callable[[str], str | None] | None = None) -> str:
    """`sentence` for a plain_text field (a form's error, a button): no markup at all.
    Plain text cannot mention anyone: a person is shown by the name `name_of` gives for
    their Slack id (a workflow step's failure, read by whoever runs the workflow), else as
    @ and the id."""
    sentence = said(sentence)
    writer = _PLAIN if name_of is None else _PlainNamed(name_of)
    return writer.format(writer.translate(sentence.template), **sentence.values)
