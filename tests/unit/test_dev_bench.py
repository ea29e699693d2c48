"""`python3 dev.py bench`'s docs/performance.md: a run of all the benchmarks rewrites it;
a run of some replaces only their rows, and every row says the run it came from."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

OLD_TABLE = """# Performance

- When: 2026-12-03 14:02 UTC
- Machine: Linux, 2 CPUs
- Code: commit 584443b

| benchmark | figure | measured | target | |
|---|---|---|---|---|
| bench_lookup | index load [10,000] | 0.20 s | < 1 s | pass |
| bench_changes | bot over the bare client | 0.19 x | >= 0.7x | **FAIL** |
| bench_waves | bot ack p99 over bare | 5.62 x | < 2x | **FAIL** |
"""


def _row(benchmark: str, figure: str, measured: float, passed: bool) -> dict:
    return {
        "benchmark": benchmark,
        "figure": figure,
        "measured": measured,
        "unit": "x",
        "target": "< 2x",
        "passed": passed,
    }


@pytest.fixture
def dev(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PERFORMANCE", tmp_path / "performance.md")
    monkeypatch.setattr(module, "_commit", lambda: "b85ca2d")
    monkeypatch.setattr(module, "_machine", lambda: "Linux, Xeon, 2 CPUs")
    return module


def _table(dev) -> list[list[str]]:
    lines = dev.PERFORMANCE.read_text().splitlines()
    return [[c.strip() for c in x.split("|")[1:-1]] for x in lines if x.startswith("| bench_")]


def _runs(dev) -> dict[str, str]:
    lines = dev.PERFORMANCE.read_text().splitlines()
    return dict(x.removeprefix("  - ").split(": ", 1) for x in lines if x.startswith("  - "))


def test_a_run_of_some_benchmarks_replaces_their_rows_and_keeps_the_others(dev) -> None:
    dev.PERFORMANCE.write_text(OLD_TABLE)
    dev.write_performance([_row("bench_waves", "bot ack p99 over bare", 1.76, True)], [], {"waves"})
    table = _table(dev)
    assert [(r[0], r[2], r[4]) for r in table] == [
        ("bench_lookup", "0.20 s", "pass"),
        ("bench_changes", "0.19 x", "**FAIL**"),
        ("bench_waves", "1.76 x", "pass"),
    ]
    assert [r[5] for r in table[:2]] == ["2026-12-03 14:02 UTC, 584443b"] * 2
    assert table[2][5].endswith("UTC, b85ca2d") and table[2][5] != table[0][5]
    assert _runs(dev) == {
        "2026-12-03 14:02 UTC, 584443b": "Linux, 2 CPUs",  # the old table's machine
        table[2][5]: "Linux, Xeon, 2 CPUs",
    }
    # and again: rows that already say their run keep it
    dev.write_performance(
        [_row("bench_changes", "bot over the bare client", 0.3, False)], [], {"changes"}
    )
    assert [(r[0], r[2], r[5][-7:]) for r in _table(dev)] == [
        ("bench_lookup", "0.20 s", "584443b"),
        ("bench_changes", "0.30 x", "b85ca2d"),
        ("bench_waves", "1.76 x", "b85ca2d"),
    ]
    assert _runs(dev)["2026-12-03 14:02 UTC, 584443b"] == "Linux, 2 CPUs"


def test_a_run_of_all_rewrites_every_row(dev) -> None:
    dev.PERFORMANCE.write_text(OLD_TABLE)
    dev.write_performance([_row("bench_waves", "bot ack p99 over bare", 1.5, True)], ["changes"])
    assert [(r[0], r[1]) for r in _table(dev)] == [
        ("bench_changes", "(the run itself failed)"),
        ("bench_waves", "bot ack p99 over bare"),
    ]
    assert "**bench_waves** (`benchmarks/bench_waves.py`)" in dev.PERFORMANCE.read_text()


def test_a_figure_with_no_target_is_listed_without_a_verdict(dev) -> None:
    """How a verdict's figure breaks down (benchmarks/_support.record): in the table, with
    no pass or fail, and never failing the run."""
    rows = [
        _row("bench_changes", "bot over the bare client", 0.3, False),
        {**_row("bench_changes", "the bot's own work", 0.45, True), "target": "—", "passed": None},
    ]
    dev.write_performance(rows, [])
    assert [(r[1], r[3], r[4]) for r in _table(dev)] == [
        ("bot over the bare client", "< 2x", "**FAIL**"),
        ("the bot's own work", "—", ""),
    ]
    assert [dev.VERDICTS[r["passed"]] for r in rows] == ["**FAIL**", ""]
