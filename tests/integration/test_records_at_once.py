"""Confirmations and deletions on threads: simultaneous confirmations act once; a refused deletion."""

from __future__ import annotations

import threading

from tests.core import AS_MANAGER, told
from tests.demo import PAN
from tests.unit.test_records import OFFER_DELETE


def test_simultaneous_confirmations_act_once(core) -> None:
    token, _ = core.service.ask_to_confirm(AS_MANAGER, OFFER_DELETE, PAN)
    said: list[str] = []
    clicks = [
        threading.Thread(
            target=lambda: said.append(told(lambda: core.service.confirm(AS_MANAGER, token)))
        )
        for _ in range(5)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert len(core.sandbox.calls_to("DELETE", f"/offers/{PAN}")) == 1
    assert sum("not shown" in s for s in said) == 1  # one Done; the others are told why not
    assert all("already done" in s or "right now" in s for s in said if "not shown" not in s)


def test_smart_passes_refusing_a_deletion_is_shown_and_recorded(core) -> None:
    token, _ = core.service.ask_to_confirm(AS_MANAGER, OFFER_DELETE, PAN)

    def published_just_before(method: str, path: str) -> None:
        if method == "DELETE":
            core.program.offers[PAN]["status"] = "Published"

    core.sandbox.before = published_just_before
    shown = told(lambda: core.service.confirm(AS_MANAGER, token))
    assert "Only Draft offers can be deleted; this one is Published" in shown
    (entry,) = core.store.entries(actions=[OFFER_DELETE])
    assert entry.outcome == "refused" and "only Draft" in entry.detail.replace("Only", "only")
