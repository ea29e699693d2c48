"""A change answered unclearly while every read back fails (the sandbox's hook on reads)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.i18n import speaking
from bot.offline.sandbox import Fault
from bot.slack import blocks
from tests.demo import JUAN
from tests.harness import text_of
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
    customer = core.service.customer(JUAN)  # for the history, read before reads fail
    _fault(core, flow, Fault.APPLY_THEN_EMPTY, reads_fail=True)
    with speaking("es"):
        seen = flow.act(core)
    assert f"no pude saber si se aplicó ({why})" in seen, seen
    assert "reading" not in seen and "failed too" not in seen
    entry = _entry(core, flow)
    assert "reading" in entry.detail  # the record, in English
    # The history says it in the reader's words too (kept as it was said); once reconcile
    # settles the entry with a note of its own, that note is what the history shows.
    with speaking("es"):
        history = text_of(blocks.history(customer, [entry], dt.UTC).kwargs())
    assert why in history and "reading" not in history, history
    with speaking("en"):
        history = text_of(blocks.history(customer, [entry], dt.UTC).kwargs())
    assert "reading" in history and "back failed too: HTTP 503" in history, history
    core.store.complete(entry.id, "ok", resolved="reconciled", detail="done")
    settled = core.store.entry(entry.id)
    assert settled is not None and settled.detail_said is None
