"""One structured logging setup for the CLI, the simulator and Dagster ops.

Every record is scrubbed when it is created (a log-record factory), so no handler - ours, Dagster's or a
library's - ever sees an API key, secret, passphrase or signature. Known secret values are registered with
:func:`register_secret`; common ``key=value`` and header shapes are masked by pattern as a second net.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any

MASK = "***"
_secrets: set[str] = set()
_lock = threading.Lock()
_SECRET_FIELD = re.compile(
    r"(?i)([\"']?(?:api[_-]?key|apikey|secret(?:[_-]?key)?|passphrase|password|signature|sign|"
    r"x-mbx-apikey|ok-access-(?:key|sign|passphrase)|access-(?:key|sign|passphrase))[\"']?\s*[:=]\s*[\"']?)"
    r"([^\s\"',&}]+)"
)
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    """Mask this exact value in every later log message (ignored when too short to be a secret)."""
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    """Mask registered secrets and ``key=value``-shaped credentials in ``text``."""
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return _SECRET_FIELD.sub(lambda m: m.group(1) + MASK, text)


_base_factory = logging.getLogRecordFactory()


def _scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the record
        message = f"{record.msg!r} {record.args!r}"
    record.msg = scrub(message)
    record.args = ()
    return record


logging.setLogRecordFactory(_scrubbing_factory)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    """Fields given with ``extra=``; scrubbed here because logging attaches them after the factory ran."""
    return {
        k: scrub(v) if isinstance(v, str) else v
        for k, v in record.__dict__.items()
        if k not in _STANDARD_ATTRS and not k.startswith("_")
    }


def _fields(formatter: logging.Formatter, record: logging.LogRecord) -> dict[str, Any]:
    """What every arbx log line carries, in order: time, level, logger, message, extras, exception."""
    fields: dict[str, Any] = {
        "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "msg": record.getMessage(),
        **_extras(record),
    }
    if record.exc_info:
        fields["exc"] = scrub(formatter.formatException(record.exc_info))
    return fields


class KeyValueFormatter(logging.Formatter):
    """``time=... level=INFO logger=arbx.x msg="..." key=value`` lines."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_kv(v)}" for k, v in _fields(self, record).items())


def _kv(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (not text or any(c in text for c in ' "=\n')) else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_fields(self, record), default=str)


def configure_logging(level: str = "INFO", fmt: str = "kv", stream: Any = None) -> None:
    """Install the arbx handler on the ``arbx`` logger (idempotent)."""
    logger = logging.getLogger("arbx")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if getattr(handler, "_arbx", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    handler._arbx = True  # type: ignore[attr-defined]
    logger.addHandler(handler)


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``arbx`` hierarchy (Dagster captures it via ``managed_python_loggers``)."""
    return logging.getLogger(name if name.startswith("arbx") else f"arbx.{name}")
