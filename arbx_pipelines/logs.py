"""One structured logging setup for the CLI, the simulator and Dagster ops.

Under systemd (``INVOCATION_ID`` or ``JOURNAL_STREAM`` set) records go to stdout as JSON lines: journald stores,
indexes and rotates them. Run by hand, long-running commands also keep a file in the data dir, rotated by size.

Every record is scrubbed when it is created (a log-record factory), so no handler - ours, Dagster's or a
library's - ever sees an API key, secret, passphrase or signature. Known secret values are registered with
:func:`register_secret`; common ``key=value`` and header shapes are masked by pattern as a second net.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

MASK = "***"
#: set by systemd for every service it starts (journald is then the log store)
SYSTEMD_ENV = ("INVOCATION_ID", "JOURNAL_STREAM")
LOG_FILE_NAME = "arbx.log"
LOG_FILE_MAX_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 5
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


def under_systemd(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return any(environ.get(name) for name in SYSTEMD_ENV)


def _replace_handler(logger: logging.Logger, marker: str, handler: logging.Handler) -> None:
    """Swap the arbx handler of this kind (``marker``) for ``handler``: configuring twice never logs twice."""
    for old in list(logger.handlers):
        if getattr(old, marker, False):
            logger.removeHandler(old)
            old.close()
    setattr(handler, marker, True)
    logger.addHandler(handler)


def configure_logging(
    level: str = "INFO", fmt: str = "kv", stream: Any = None, environ: Mapping[str, str] | None = None
) -> None:
    """Install the arbx console handler on the ``arbx`` logger (idempotent); under systemd, JSON on stdout."""
    if stream is None and under_systemd(environ):
        fmt, stream = "json", sys.stdout
    logger = logging.getLogger("arbx")
    logger.setLevel(level)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    _replace_handler(logger, "_arbx", handler)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """Size-rotated log file readable by its owner only (logs name positions, balances and chat ids)."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # an older file may have been created with wider rights
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def add_file_log(
    log_dir: Path,
    environ: Mapping[str, str] | None = None,
    *,
    max_bytes: int = LOG_FILE_MAX_BYTES,
    backups: int = LOG_FILE_BACKUPS,
) -> Path | None:
    """Run by hand: also write key=value lines to ``log_dir/arbx.log`` (0600), rotated every ``max_bytes`` with
    ``backups`` old files kept. Under systemd nothing is written (journald has every line); returns the file."""
    if under_systemd(environ):
        return None
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    handler = PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(KeyValueFormatter())
    _replace_handler(logging.getLogger("arbx"), "_arbx_file", handler)
    return path


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``arbx`` hierarchy (Dagster captures it via ``managed_python_loggers``)."""
    return logging.getLogger(name if name.startswith("arbx") else f"arbx.{name}")
