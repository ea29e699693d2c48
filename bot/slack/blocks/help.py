"""The help: one line per subcommand, and one subcommand's details."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    HeaderBlock,
)

from bot.i18n import _
from bot.slack.blocks.common import _CUSTOMER_IS, Message, _chunked_sections, _context, _message


def help_message(briefs: Sequence[tuple[str, str]]) -> Message:
    """The short help, one line per subcommand: (name, what it does in a few words)."""
    lines = [f"`/loyalty {name}` · {brief}" for name, brief in briefs]
    blocks: list[Block] = [
        HeaderBlock(text=_("Loyalty bot: what you can ask")),
        *_chunked_sections(lines),
        _context(
            _("`/loyalty {help} <subcommand>` gives its details and examples.").format(
                help=_("help")
            )
            + " "
            + _(_CUSTOMER_IS)
        ),
    ]
    return _message(_("Loyalty bot help"), blocks)


def help_detail(
    name: str, usages: Sequence[tuple[str, str, Sequence[str]]], *, names_customers: bool = True
) -> Message:
    """`help <subcommand>`: each form of use, what it does, and examples; what a
    `<customer>` may be, when one of them takes one."""
    lines = [
        f"*`/loyalty {usage}`*\n{summary}" + "".join(f"\n>`/loyalty {e}`" for e in examples)
        for usage, summary, examples in usages
    ]
    blocks: list[Block] = [HeaderBlock(text=f"/loyalty {name}"), *_chunked_sections(lines)]
    if names_customers:
        blocks.append(_context(_(_CUSTOMER_IS)))
    return _message(f"/loyalty {name}", blocks)
