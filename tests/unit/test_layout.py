"""The house's shape: small modules, one job each (CONTRIBUTING.md, "Layout")."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOST_LINES = 450  # "about 400": a module past it has more than one job; split it by what it does


def test_no_module_is_a_grab_bag() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in ("bot", "handlers")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > MOST_LINES} == {}
