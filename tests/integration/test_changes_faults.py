"""A change answered unclearly while every read back fails (the sandbox's hook on reads)."""

from __future__ import annotations

import pytest

from bot.i18n import speaking
from bot.offline.sandbox import Fault
from tests.unit.test_changes import FLOWS, _entry, _fault


@pytest.mark.parametrize("name", FLOWS)
def test_applied_then_empty_answer_and_every_read_failing(core, name) -> None:
    flow = FLOWS[name]
    _fault(core, flow, Fault.APPLY_THEN_EMPTY, reads_fail=True)
    seen = flow.act(core)
    assert flow.applied(core)
    entry = _entry(core, flow)
    if flow.empty_is_an_answer:  # a 2xx is a yes: nothing to check
        assert flow.done in seen and entry.outcome == "ok"
        return
    assert "could not tell whether it was applied" in seen and "Check" in seen, seen
    assert "safe to try again" not in seen
    assert entry.outcome == "unknown"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("points add", "volver a leer el saldo también falló: HTTP 503"),
        ("customer edit", "volver a leer el cliente también falló: HTTP 503"),
    ],
)
def test_why_it_is_unclear_is_told_in_the_readers_language(core, name, why) -> None:
    """The check's reason sits inside the reply's sentence: in Spanish for a Spanish
    reader, as the sentence is (the audit entry keeps the English, for the record)."""
    flow = FLOWS[name]
    _fault(core, flow, Fault.APPLY_THEN_EMPTY, reads_fail=True)
    with speaking("es"):
        seen = flow.act(core)
    assert f"no pude saber si se aplicó ({why})" in seen, seen
    assert "reading" not in seen and "failed too" not in seen
    assert "reading" in _entry(core, flow).detail
