"""The run a docs/performance.md row names: the commit, and "with uncommitted changes"
only when something other than that table (written by the run before) was changed."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_itself_is_not_an_uncommitted_change(tmp_path, monkeypatch) -> None:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec and spec.loader
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "performance.md").write_text("old table\n")
    (tmp_path / "bot.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    head = git("rev-parse", "--short", "HEAD")
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    assert dev._commit() == head
    (tmp_path / "docs" / "performance.md").write_text("a run's new rows\n")
    assert dev._commit() == head
    (tmp_path / "bot.py").write_text("x = 2\n")
    assert dev._commit() == f"{head} with uncommitted changes"
