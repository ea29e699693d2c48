"""The gate in front of Bolt, alone (no server): it never reads more of a body than its
limit, and nothing a request carries can forge a log line."""

from __future__ import annotations

import io
import logging
import time

from slack_sdk.signature import SignatureVerifier

from bot.runtime.gate import MAX_BODY, SlackGate
from bot.runtime.logs import TextFormatter
from tests.harness import SIGNING_SECRET


class _Input(io.BytesIO):
    """A request body that counts what the app reads of it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def _gate_call(body: bytes, declared: int | None = None) -> tuple[str, _Input]:
    """Through the gate alone: the status it gave, and what it read of the body. The
    signature covers the declared part (the signed command `command=/loyalty&…`)."""
    declared = len(body) if declared is None else declared
    signed = b"command=%2Floyalty&user_id=U1&team_id=T1&text=" + body
    reached: list[bool] = []
    gate = SlackGate(lambda environ, start: reached.append(True) or [b""], SIGNING_SECRET)
    stream = _Input(signed)
    statuses: list[str] = []
    ts = str(int(time.time()))
    length = declared + len(signed) - len(body)
    environ = {
        "CONTENT_LENGTH": str(length),
        "wsgi.input": stream,
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=ts, body=signed[:length]
        ),
    }
    gate(environ, lambda status, headers: statuses.append(status))
    return (statuses[0] if statuses else "200 (reached the app)" if reached else "?"), stream


def test_the_gate_never_reads_more_than_its_limit() -> None:
    status, stream = _gate_call(b"x" * (5 * 1024 * 1024))
    assert status.startswith("413") and stream.read_bytes == 0  # refused on its length
    status, stream = _gate_call(b"x" * (MAX_BODY + 10), declared=10)  # it says less
    assert status == "200 (reached the app)" and stream.read_bytes < 100
    status, stream = _gate_call(b"x" * (MAX_BODY * 2), declared=MAX_BODY - 100)
    assert status == "200 (reached the app)" and stream.read_bytes <= MAX_BODY


def test_control_characters_cannot_forge_a_log_line() -> None:
    record = logging.LogRecord(
        "loyalty.requests",
        logging.INFO,
        "x",
        1,
        "request user=%s outcome=%s",
        ("U1\n2026-11-26 12:00:00 INFO loyalty.requests request user=UADMIN", "ok\r\x1b[2K"),
        None,
    )
    line = TextFormatter("%(levelname)s %(name)s %(message)s").format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "U1\\x0a2026-11-26" in line
