"""Logging setup: plain text or one JSON object per line (LOYALTY_LOG_FORMAT=json), and a
filter that scrubs secret values from every record as a last line of defence."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable

# Fields a record may carry (logger.info(..., extra={...})) that the JSON lines include.
EXTRA_FIELDS = ("event", "kind", "request", "user", "outcome", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update({k: getattr(record, k) for k in EXTRA_FIELDS if hasattr(record, k)})
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


# Control characters (a newline, a carriage return, an escape sequence) in a logged value
# could forge a log line of their own: in the text format they are written escaped.
_INERT = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]} | {
    0x85: "\\x85",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class TextFormatter(logging.Formatter):
    """One record, one line: the message's control characters escaped (a traceback
    below it, when there is one, is left as Python wrote it)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.translate(_INERT)
        return super().formatMessage(record)


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        scrubbed = message
        for secret in self.secrets:
            scrubbed = scrubbed.replace(secret, "[secret]")
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


# The one filter every log line passes: secrets from the settings, and (OAuth mode) each
# workspace's App Key as it is opened or typed.
_SECRETS = SecretFilter(())


def hide(secret: str) -> None:
    """Never write `secret` to a log line from now on."""
    if secret and len(secret) >= 6 and secret not in _SECRETS.secrets:
        _SECRETS.secrets.append(secret)


def configure_logging(
    *, json_format: bool = False, verbose: bool = False, secrets: Iterable[str] = ()
) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_format
        else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(_SECRETS)
    _SECRETS.secrets = []
    for secret in secrets:
        hide(secret)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not verbose:  # one line per Loyalty API request is noise
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)  # bot.store.migrate says it


def secrets_of(settings: object) -> list[str]:
    from pydantic import SecretStr

    values = []
    for name in type(settings).model_fields:  # type: ignore[attr-defined]
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values
