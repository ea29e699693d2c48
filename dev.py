#!/usr/bin/env python3
"""One entry point for people, on a fresh machine with only Python 3.11+.

    python3 dev.py demo     try the bot offline in a console (creates .venv on first use)
    python3 dev.py test     run the test suite (extra args go to pytest)
    python3 dev.py lint     ruff (check, format), mypy, and the import contracts
    python3 dev.py bench    run the benchmarks (or those named: bench lookup summary) and
                            print every figure beside its target, pass or fail, into
                            docs/performance.md (all of them: about 90 minutes; those
                            named replace their own rows, each row saying its run)
    python3 dev.py catalog  extract the strings people read into the Spanish catalog
                            (bot/i18n/locale/es/LC_MESSAGES/messages.po), keeping translations

The virtual environment lives in .venv and is (re)installed when pyproject.toml or
constraints.txt (the exact versions, which deployments install too) changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN_NAME = "Scripts" if os.name == "nt" else "bin"
BIN = VENV / BIN_NAME
# What a platform installs (requirements.txt: the bot and PostgreSQL's driver, none of the
# test tools): the benchmarks serve the bot from it, so they measure the deployed process.
DEPLOYED = ROOT / ".venv-deployed"
FIGURES_MISSED = (
    3  # a benchmark that ran to the end, a figure off target (benchmarks/_support.MISSED)
)


def ensure_venv(where: Path = VENV, extras: str = "dev") -> Path:
    """The virtual environment `where`, with the bot (editable: this checkout) and its
    `extras` installed at the versions CI runs, made or refreshed if pyproject.toml or
    constraints.txt changed; its scripts' directory."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this script may run on an old python3)
        sys.exit("loyalty-bot needs Python 3.11 or newer; this is " + sys.version.split()[0])
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()
    stamp, scripts = where / ".installed-from", where / BIN_NAME
    if stamp.exists() and stamp.read_text() == wanted:
        return scripts
    if not (scripts / "python").exists():
        print(f"Creating the virtual environment in {where.name} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(where)
    what = "its test tools" if extras == "dev" else "what a platform installs"
    print(f"Installing loyalty-bot and {what} (first run only) ...", flush=True)
    subprocess.run(
        [
            str(scripts / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),  # the versions CI runs
            "-e",
            f"{ROOT}[{extras}]",
        ],
        check=True,
    )
    stamp.write_text(wanted)
    return scripts


def run(*args: str) -> int:
    return subprocess.call([str(BIN / args[0]), *args[1:]], cwd=ROOT)


# Each run: a benchmark and its arguments; the lookup index at three sizes, acks at two.
BENCHMARKS: tuple[tuple[str, ...], ...] = (
    ("lookup", "--customers", "10000"),
    ("lookup", "--customers", "100000"),
    ("lookup", "--customers", "300000"),
    ("summary", "--customers", "100000"),
    ("summary", "--customers", "300000"),
    ("ack", "--customers", "100000"),
    ("ack", "--customers", "300000"),
    ("forms",),
    ("changes",),
    ("wait", "--server", "gunicorn"),  # as the Procfile runs it, on the test database
    ("wait", "--server", "serve", "--database", "sqlite"),  # a shop's own machine
    ("memory",),
    ("waves",),
    ("workspaces",),
    ("slow_slack",),
    ("first_try",),
)


BENCH_HELP = """python3 dev.py bench [NAME ...]

Runs the benchmarks (each in its own process, minutes each; all of them about 90
minutes), or only those named, and prints every figure beside its target, pass or fail;
exits 1 if one fails. The figures go to docs/performance.md: a run of all of them
rewrites it, a run of some replaces those benchmarks' rows (each row says its run).
Names: {names}.
One by hand, with its own options: .venv/bin/python benchmarks/bench_NAME.py --help"""


VERDICTS = {True: "pass", False: "**FAIL**", None: ""}  # None: a figure with no target


def bench(names: list[str]) -> int:
    """Each benchmark in its own run; then one table of every figure against its target."""
    import json
    import tempfile

    chosen = [run for run in BENCHMARKS if not names or run[0] in names]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.jsonl"
        failed_runs = []
        for name, *args in chosen:
            label = f"{int(args[1]):,}" if args[:1] == ["--customers"] else ""
            print(f"\n== benchmarks/bench_{name}.py {' '.join(args)} ==", flush=True)
            env = {**os.environ, "LOYALTY_BENCH_REPORT": str(report), "LOYALTY_BENCH_LABEL": label}
            script = str(ROOT / "benchmarks" / f"bench_{name}.py")
            status = subprocess.call([str(BIN / "python"), script, *args], cwd=ROOT, env=env)
            if status not in (0, FIGURES_MISSED):  # a miss is in the table; this broke
                failed_runs.append(" ".join([name, *args]))
        rows = (
            [json.loads(line) for line in report.read_text().splitlines()]
            if report.exists()
            else []
        )
    print("\n| benchmark | figure | measured | target | |")
    print("|---|---|---|---|---|")
    for row in rows:
        verdict = VERDICTS[row["passed"]]
        measured = f"{row['measured']:,.2f} {row['unit']}"
        print(
            f"| {row['benchmark']} | {row['figure']} | {measured} | {row['target']} | {verdict} |"
        )
    for name in failed_runs:
        print(f"| bench_{name} | (the run itself failed: see its output above) | | | **FAIL** |")
    write_performance(rows, failed_runs, {run[0] for run in chosen} if names else None)
    print("\nWritten: docs/performance.md")
    return 1 if failed_runs or any(row["passed"] is False for row in rows) else 0


def _machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # the table itself, written by the run before, is not a change to what is measured
    changed = git("status", "--porcelain", "--", ".", ":!docs/performance.md")
    return commit + (" with uncommitted changes" if changed else "")


PERFORMANCE = ROOT / "docs" / "performance.md"


def write_performance(
    rows: list[dict], failed_runs: list[str], only: set[str] | None = None
) -> None:
    """docs/performance.md from this run: the machine, every figure against its target
    with the run it came from (date and commit), and what each benchmark measures (its
    docstring). A run of `only` some benchmarks replaces their rows and keeps the others
    with their own run. Never edited by hand: a figure in it is one this command measured."""
    import ast
    import datetime as dt

    run = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {_commit()}"
    kept, machines = _rows_kept(only) if only is not None else ([], {})
    machines[run] = _machine()
    used = {_run_of(line) for line in kept} | {run}
    database = "PostgreSQL" if os.environ.get("LOYALTY_TEST_DATABASE_URL") else "SQLite"
    lines = [
        "# Performance",
        "",
        "Written by `python3 dev.py bench` (do not edit by hand: run it again). "
        "Each benchmark runs the bot as it is deployed (from `.venv-deployed`: what a "
        "platform installs, without the test tools), the Loyalty API sandbox, the Slack "
        "stand-in and the client in their own processes, and checks every answer. A run of "
        "all of them takes about 90 minutes; `python3 dev.py bench NAME ...` replaces only "
        "those benchmarks' rows, so each row says the run it is from (compare figures from "
        "one run: this machine's speed varies from hour to hour). A figure with no target "
        "says where a verdict's figure goes.",
        "",
        "- Runs (date, commit: machine):",
        *(f"  - {r}: {machines.get(r, 'not recorded')}" for r in sorted(used)),
        f"- Database for bench_changes and bench_wait under gunicorn: {database} "
        "(PostgreSQL when `LOYALTY_TEST_DATABASE_URL` is set)",
        "",
        "| benchmark | figure | measured | target | | run |",
        "|---|---|---|---|---|---|",
    ]
    fresh = []
    for row in rows:
        verdict = VERDICTS[row["passed"]]
        measured = f"{row['measured']:,.2f} {row['unit']}"
        fresh.append(
            f"| {row['benchmark']} | {row['figure']} | {measured} | {row['target']} | "
            f"{verdict} | {run} |"
        )
    fresh += [
        f"| bench_{name} | (the run itself failed) | | | **FAIL** | {run} |" for name in failed_runs
    ]
    order = list(dict.fromkeys(r[0] for r in BENCHMARKS))
    every = kept + fresh
    every.sort(
        key=lambda line: order.index(_benchmark_of(line)) if _benchmark_of(line) in order else 99
    )
    lines += every
    lines += ["", "## What each benchmark measures", ""]
    for name in order:
        script = ROOT / "benchmarks" / f"bench_{name}.py"
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
        about = [" ".join(part.split()) for part in doc.split("\n\n")]
        about = [part for part in about if not part.startswith("Run by hand")]
        lines += [f"**bench_{name}** (`benchmarks/bench_{name}.py`): " + " ".join(about), ""]
    PERFORMANCE.write_text("\n".join(lines), encoding="utf-8")


def _benchmark_of(row: str) -> str:
    """`changes` for a table row of bench_changes."""
    return row.split("|")[1].strip().removeprefix("bench_")


def _run_of(row: str) -> str:
    """`2026-12-03 14:02 UTC, 584443b` for a table row from that run."""
    return row.split("|")[6].strip()


def _rows_kept(rerun: set[str]) -> tuple[list[str], dict[str, str]]:
    """The rows of docs/performance.md not from the benchmarks in `rerun`, each with its
    run, and the machine of each run (a table written before rows had their own run takes
    the one run and machine it stated)."""
    if not PERFORMANCE.exists():
        return [], {}
    text = PERFORMANCE.read_text(encoding="utf-8").splitlines()

    def stated(prefix: str) -> str:
        return next((x.removeprefix(prefix) for x in text if x.startswith(prefix)), "")

    machines = dict(
        x.removeprefix("  - ").split(": ", 1) for x in text if x.startswith("  - ") and ": " in x
    )
    legacy = f"{stated('- When: ')}, {stated('- Code: commit ')}"
    if stated("- When: "):
        machines[legacy] = stated("- Machine: ")
    kept = []
    for line in text:
        if not line.startswith("| bench_") or _benchmark_of(line) in rerun:
            continue
        if line.count("|") == 6:  # no run column: the table's one run
            line += f" {legacy} |"
        kept.append(line)
    return kept, machines


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command in ("help", "-h", "--help"):
        print(__doc__)
        return 0
    ensure_venv()
    if command == "demo":
        return run("loyalty-bot", "console", *rest)
    if command == "test":
        return run("python", "-m", "pytest", *rest)
    if command == "lint":
        return (
            run("ruff", "check", ".")
            or run("ruff", "format", "--check", ".")
            or run("mypy")
            or run("lint-imports")
        )
    if command == "bench":
        if {"-h", "--help"} & set(rest):
            print(BENCH_HELP.format(names=", ".join(dict.fromkeys(run[0] for run in BENCHMARKS))))
            return 0
        return bench(rest)
    if command == "catalog":
        pot = ROOT / "bot" / "i18n" / "messages.pot"
        po = ROOT / "bot" / "i18n" / "locale" / "es" / "LC_MESSAGES" / "messages.po"
        keywords = ["-k", "Say", "-k", "_", "-k", "N_", "-k", "ngettext:1,2"]
        return run(
            "pybabel",
            "extract",
            "-F",
            "babel.cfg",
            *keywords,
            "--no-location",
            "--omit-header",
            "--width",
            "100",
            "-o",
            str(pot),
            "bot",
            "handlers",
        ) or run(
            "pybabel",
            "update",
            "-i",
            str(pot),
            "-o",
            str(po),
            "-l",
            "es",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
            "--width",
            "100",
        )
    if command == "bot":
        return run("loyalty-bot", *rest)
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
