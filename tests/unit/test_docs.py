"""The docs stay true: every link leads somewhere, every command and file they name exists,
the README fits on a screen, and docs/architecture.md's picture and traced request match
the code."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from bot.cli import build_parser
from handlers.subcommand import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
DOCS = [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    ROOT / "SECURITY.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
DEV_COMMANDS = {"demo", "test", "lint", "bench", "catalog", "bot", "help"}
# The typo the usage shows being answered, and a word answered with where its topic is.
TYPOS = {"pints", "alerts"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for a Markdown file's headings."""
    found = set()
    for line in _text(path).splitlines():
        if m := re.match(r"^#+ (.*)", line):
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            found.add(slug)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_leads_somewhere(doc: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", _text(doc)):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        where = (doc.parent / path).resolve() if path else doc
        assert where.exists(), f"{doc.name} links to {target}, which does not exist"
        if anchor and where.suffix == ".md":
            assert anchor in _anchors(where), f"{doc.name} links to {target}: no such heading"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_and_file_named_exists(doc: Path) -> None:
    text = _text(doc)
    cli = {
        name
        for action in build_parser()._subparsers._group_actions  # type: ignore[union-attr]
        for name in action.choices
    }
    for name in re.findall(r"loyalty-bot ([a-z][a-z-]+)", text):
        assert name in cli, f"{doc.name} names `loyalty-bot {name}`, which does not exist"
    for name in re.findall(r"python3 dev\.py ([a-z]+)", text):
        assert name in DEV_COMMANDS, f"{doc.name} names `python3 dev.py {name}`"
    for name in re.findall(r"`/loyalty ([a-zñ]+)", text):
        assert name in BY_NAME or name in TYPOS, (
            f"{doc.name} names `/loyalty {name}`, which does not exist"
        )
    pattern = r"(?<![\w/.])((?:bot|handlers|tests|benchmarks|examples|docs)/[\w/.-]*\w)"
    for name in re.findall(pattern, text):
        assert (ROOT / name).exists(), f"{doc.name} names {name}, which does not exist"


def test_the_readme_fits_on_a_screen() -> None:
    assert len(_text(ROOT / "README.md").encode()) <= 12 * 1024


def test_the_architecture_picture_is_the_layers_contract() -> None:
    config = tomllib.loads(_text(ROOT / "pyproject.toml"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    text = _text(ROOT / "docs" / "architecture.md")
    picture = text.split("## The shape", 1)[1].split("```", 2)[1]
    drawn = [line.split("  ")[0].strip() for line in picture.strip().splitlines()]
    assert drawn == contract["layers"]


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(found, attr):
                return False
            found = getattr(found, attr)
        return True
    return False


def test_the_traced_request_is_the_code() -> None:
    text = _text(ROOT / "docs" / "architecture.md")
    trace = text.split("## One request, step by step", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\d+\. ", trace, re.M)
    assert 0 < len(steps) <= 12
    names = re.findall(r"`((?:bot|handlers)\.[\w.]+)`", trace)
    assert len(names) >= 12
    missing = [name for name in names if not _resolves(name)]
    assert missing == []
    packages = {
        ".".join(name.split(".")[: 1 if name.startswith("handlers") else 2]) for name in names
    }
    assert packages - {"bot.domain", "bot.i18n"} <= {
        "handlers",
        "bot.core",
        "bot.store",
        "bot.smartpasses",
        "bot.slack",
    }
