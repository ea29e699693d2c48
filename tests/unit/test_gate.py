"""The gate in front of Bolt, alone (no server): it never reads more of a body than its
limit, and nothing a request carries can forge a log line."""

from __future__ import annotations

import io
import logging
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from bot.domain.logs import TextFormatter
from handlers.gate import MAX_BODY, SlackGate
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


# -- no request makes the gate fail -----------------------------------------------------

_HEADER = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", "²", "١٢٣", " 12", "12 ", "+12", "1e3", "0x10", "99999999999999999999"]),
)


def _signed(body: bytes, timestamp: str) -> str:
    import hashlib
    import hmac

    mac = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return "v0=" + mac.hexdigest()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=300),
    length=_HEADER,
    timestamp=_HEADER,
    signature=_HEADER,
    content_type=_HEADER,
    sign=st.booleans(),
    valid_time=st.booleans(),
)
def test_no_request_makes_the_gate_fail(
    body, length, timestamp, signature, content_type, sign, valid_time
) -> None:
    """Any bytes, any headers: 413, 401 or 400 with one log line, or on to the app; never
    an exception (a 500). Signed bodies too (signed with the secret: past the signature)."""
    if valid_time:
        timestamp = str(int(time.time()))
    if sign and timestamp is not None:
        signature = _signed(body, timestamp)
    environ = {"wsgi.input": io.BytesIO(body)}
    for name, value in (
        ("CONTENT_LENGTH", length if length is not None else str(len(body))),
        ("HTTP_X_SLACK_REQUEST_TIMESTAMP", timestamp),
        ("HTTP_X_SLACK_SIGNATURE", signature),
        ("CONTENT_TYPE", content_type),
    ):
        if value is not None:
            environ[name] = value
    reached: list[bool] = []
    statuses: list[str] = []
    gate = SlackGate(lambda env, start: reached.append(True) or [b""], SIGNING_SECRET)
    gate(environ, lambda status, headers: statuses.append(status))
    assert reached or statuses[0][:3] in ("400", "401", "413")


def test_deeply_nested_json_in_a_signed_body_is_malformed_not_a_crash() -> None:
    body = b"[" * 100_000
    ts = str(int(time.time()))
    statuses: list[str] = []
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts,
        "HTTP_X_SLACK_SIGNATURE": _signed(body, ts),
    }
    SlackGate(lambda env, start: [b""], SIGNING_SECRET, max_body=200_000)(
        environ, lambda status, headers: statuses.append(status)
    )
    assert statuses[0].startswith("400")
