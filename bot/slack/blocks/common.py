"""What every message is made of: Slack's limits, sections, the plain notices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.say import Say
from bot.i18n import N_, ngettext, number
from bot.slack.text import fit, mrkdwn, shorten

# Our words written inside f-strings (where the catalog extractor cannot see them).
_IN_FSTRINGS = (
    N_("no change"),
    N_("Email"),
    N_("Phone"),
    N_("Points"),
    N_("Id"),
    N_("Points cost"),
    N_("Auto-claim"),
    N_("Status"),
    N_("the request"),
    N_("offer"),
    N_("edit"),
    N_("Customers"),
    N_("Points outstanding"),
    N_("Added via the bot, 24 h"),
    N_("Deducted via the bot, 24 h"),
    N_("Top customers by points"),
    N_("Who changed points most (24 h)"),
    N_("Offers"),
)


MAX_BLOCKS = 50
MAX_SECTION = 3000  # a section's or context element's text
MAX_FIELD = 2000  # a section field's text
MAX_TEXT = 3000  # a message's top-level text (the notification): Slack allows more
MAX_PICKER = 10


@dataclass(frozen=True)
class Message:
    """What to send: `text` (notifications, fallback) and `blocks`, both mrkdwn."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def _message(text: str, blocks: Sequence[Block]) -> Message:
    """`text` is ours, with any outside text in it already escaped."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks is over Slack's limit of {MAX_BLOCKS}")
    return Message(text=fit(text, MAX_TEXT), blocks=[b.to_dict() for b in blocks])


def plain(text: str, limit: int = 150) -> str:
    """Untrusted text for plain_text fields (buttons, headers): no escaping needed, just
    length, and never empty (Slack refuses an empty text)."""
    return shorten(text, limit) or "—"


def slack_date(moment: dt.datetime, tz: ZoneInfo) -> str:
    """A date Slack shows in each reader's own time zone, with a fallback in ours."""
    fallback = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _section(text: str, **kwargs: Any) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit(text, MAX_SECTION)), **kwargs)


def _field(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=fit(text, MAX_FIELD))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=fit(text, MAX_SECTION))])


def _chunked_sections(lines: Iterable[str]) -> list[SectionBlock]:
    """Pack lines into as few sections as fit under the 3,000-character limit."""
    sections: list[SectionBlock] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = fit(line, MAX_SECTION - 1)
        if current and size + len(line) + 1 > MAX_SECTION:
            sections.append(_section("\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        sections.append(_section("\n".join(current)))
    return sections


def points(n: int) -> str:
    return ngettext("{n} point", "{n} points", abs(n)).format(n=number(n))


# -- simple replies ------------------------------------------------------------


def saved(message: Message, text: str, remarks: Sequence[Say] = ()) -> Message:
    """A card shown after a form saved it: `text` (ours, escaped) as the notification,
    and whatever the person should also know below the card."""
    notes = [_context(mrkdwn(remark)).to_dict() for remark in remarks]
    return Message(text=fit(text, MAX_TEXT), blocks=[*message.blocks, *notes][:MAX_BLOCKS])


def notice(text: str) -> Message:
    """A one-paragraph reply; `text` is ours (already escaped where needed)."""
    return _message(text, [_section(text)])


_CUSTOMER_IS = N_(
    '`<customer>` is an id, email, phone, name (`"quoted full name"` for an exact match) '
    "or a Slack @mention."
)
