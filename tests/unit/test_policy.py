"""Who may do what: one table in the code (bot.domain.policy) and in docs/operations.md. (Each
command, button and form asking it: tests/unit/test_records.py, test_approvals.py,
test_blocks.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.policy import POLICY, Act

ROOT = Path(__file__).resolve().parents[2]


def test_the_operations_table_is_the_policy() -> None:
    readme = (ROOT / "docs" / "operations.md").read_text()
    section = readme.split("## Who may do what", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", section, re.M)[1:]  # after the header
    assert {act: who for act, who in rows} == {a.value: w.value for a, w in POLICY.items()}


@pytest.mark.parametrize("act", list(Act))
def test_every_act_has_a_rule(act) -> None:
    assert act in POLICY
