"""Every console transcript in the README and docs/usage.md is replayed in the offline console, on the demo
data, and every line it shows must appear (`...` stands for lines left out): an example
that no longer does what it says fails here."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.offline.console import run_console

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("README.md", "docs/usage.md")  # the console transcripts people copy
PROMPT = re.compile(r"^(\w+)@#shop> (.*)$")


def _transcripts() -> list[str]:
    """The docs' code blocks that are console sessions (they start at a prompt)."""
    blocks, current = [], None
    text = "\n".join((ROOT / doc).read_text(encoding="utf-8") for doc in DOCS)
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return [b for b in blocks if b and PROMPT.match(b.splitlines()[0])]


@pytest.mark.parametrize("transcript", _transcripts(), ids=lambda t: t.splitlines()[0][:40])
def test_each_readme_transcript_does_what_it_shows(monkeypatch, transcript: str) -> None:
    monkeypatch.delenv("SMARTPASSES_APP_KEY", raising=False)
    lines = transcript.splitlines()
    first = PROMPT.match(lines[0])
    assert first is not None
    typed = [m.group(2) for line in lines if (m := PROMPT.match(line))]
    out = io.StringIO()
    assert run_console(user=first.group(1), script=iter(typed), out=out) == 0
    shown = out.getvalue()
    for line in lines:
        if line.strip() and line.strip() != "..." and not PROMPT.match(line):
            assert line.rstrip() in shown, f"the README shows {line!r}; the console did not"


def test_the_readme_has_transcripts() -> None:
    assert len(_transcripts()) >= 2
