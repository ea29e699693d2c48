"""A points change with no answer in time: reported unknown, sent once."""

from __future__ import annotations

from tests.core import AS_MANAGER, core_over, told
from tests.demo import JUAN
from tests.faults import Gate
from tests.harness import wait_until
from tests.unit.test_points import add


def test_no_answer_in_time_is_reported_as_unknown_and_sent_once(sandbox, tmp_path) -> None:
    with core_over(sandbox, f"sqlite:///{tmp_path / 'slow.db'}", timeout=0.2) as core:
        gate = Gate(core.sandbox, "POST", "/points/add")  # held past the client's timeout
        shown = told(lambda: core.service.change_points(AS_MANAGER, JUAN, add(10)))
        assert "may or may not have been applied" in shown and "safe to try again" not in shown
        gate.release()  # Smart Passes then applies it: once, never sent again
        wait_until(lambda: core.sandbox.calls_to("POST", "/points/add"), what="the add")
        assert len(core.sandbox.calls_to("POST", "/points/add")) == 1 and core.points(JUAN) == 15
        (entry,) = core.store.entries(target_id=JUAN)
        assert entry.outcome == "unknown" and entry.before == 5
