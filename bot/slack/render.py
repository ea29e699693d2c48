"""Block Kit messages as readable terminal text (the summary command and the console)."""

from __future__ import annotations

import re
from typing import Any

_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MARKS = [re.compile(rf"(?<!\w){m}([^{m}\n]+?){m}(?!\w)") for m in ("`", r"\*", "_")]
_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|([^>]*))?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")


# Invisible characters that steer a terminal's layout, shown as what they are instead.
_CONTROLS = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _visible(text: str) -> str:
    """The bot's own isolates around a right-to-left name dropped (a terminal has no use for
    them); any other invisible control shown escaped, like `\\u202e`."""
    text = text.replace("\u2068", "").replace("\u2069", "")
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def mrkdwn_to_text(text: str, names: dict[str, str] | None = None) -> str:
    names = names or {}
    text = _visible(text)
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _GROUP.sub(lambda m: "@" + (m.group(2) or names.get(m.group(1), "managers")), text)
    text = _MENTION.sub(
        lambda m: m.group(1) + (m.group(3) or names.get(m.group(2), m.group(2))), text
    )
    # *bold*, _italic_ and `code` markers, as Slack would render them.
    for mark in _MARKS:
        text = mark.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: dict[str, str]) -> str:
    if isinstance(obj, dict):
        return mrkdwn_to_text(obj.get("text", ""), names)
    return mrkdwn_to_text(str(obj or ""), names)


def render_blocks(
    blocks: list[dict[str, Any]], names: dict[str, str] | None = None, fallback: str = ""
) -> str:
    """Headers, sections (with fields), context, dividers, inputs; buttons as [Label]."""
    names = names or {}
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"), names)
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"], names))
            for f in block.get("fields") or []:
                lines.append("  " + _text(f, names).replace("\n", ": ", 1).replace("\n", " "))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines[-1] += f"  [{_text(accessory['text'], names)}]"
        elif kind == "context":
            lines.append("  " + " ".join(_text(e, names) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append(
                "  "
                + " ".join(
                    f"[{_text(e.get('text'), names)}]"
                    for e in block.get("elements", [])
                    if e.get("type") == "button"
                )
            )
        elif kind == "input":
            lines.append(f"  {_text(block.get('label'), names)}: ____")
    return "\n".join(lines) if lines else mrkdwn_to_text(fallback, names)
