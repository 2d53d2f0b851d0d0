"""Backups of the application database (the user's design, section 8.3): a consistent copy while arbx runs.

SQLite is copied with its online backup API (consistent even while runs write); PostgreSQL with ``pg_dump -Fc``
(only the schema the URL's ``search_path`` names, when it names one) and restored with ``pg_restore --clean``.
Backup files are created 0600 under a 0700 folder; their names carry the UTC time, so pruning never depends on
file times.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url

from arbx_pipelines.storage.db import DIR_MODE, FILE_MODE, DatabaseError, normalize_url

KEEP_DAYS = 30
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^arbx-(sqlite|postgresql)-(\d{8}T\d{6}Z)\.(sqlite3|dump)$")
_SQLITE_HEADER = b"SQLite format 3\x00"
_PGDUMP_HEADER = b"PGDMP"
_PG_TIMEOUT_SECONDS = 600


class BackupError(DatabaseError):
    """A backup or restore could not be done; the message is one line."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    backend: str
    taken_at: datetime


def _backend(url: URL) -> str:
    return "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"


def backup_name(backend: str, now: datetime) -> str:
    return f"arbx-{backend}-{now.astimezone(UTC).strftime(_STAMP)}.{'sqlite3' if backend == 'sqlite' else 'dump'}"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def backup_database(url: str, target_dir: Path, now: datetime | None = None) -> BackupFile:
    """Write one backup of the database at ``url`` into ``target_dir``; returns it."""
    parsed = make_url(normalize_url(url))
    backend = _backend(parsed)
    taken_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    target = _private_dir(target_dir) / backup_name(backend, taken_at)
    partial = target.with_name(target.name + ".partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE))
    try:
        if backend == "sqlite":
            _sqlite_backup(_sqlite_path(parsed), partial)
        else:
            _run_pg(["pg_dump", "-Fc", "--no-owner", "-f", str(partial), *_schema_args(parsed)], parsed)
        os.chmod(partial, FILE_MODE)
        os.replace(partial, target)  # a backup file exists only once complete
    finally:
        partial.unlink(missing_ok=True)
    return BackupFile(target, backend, taken_at)


def restore_database(url: str, file: Path) -> None:
    """Replace the content of the database at ``url`` by the backup ``file`` (of the same backend)."""
    parsed = make_url(normalize_url(url))
    backend = _backend(parsed)
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    with file.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if backend == "sqlite":
        if not header.startswith(_SQLITE_HEADER):
            raise BackupError(f"{file}: not an SQLite backup (the database is SQLite)")
        _sqlite_restore(file, _sqlite_path(parsed))
        return
    if not header.startswith(_PGDUMP_HEADER):
        raise BackupError(f"{file}: not a pg_dump -Fc archive (the database is PostgreSQL)")
    _run_pg(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "-d", _dbname(parsed),
             *_schema_args(parsed), str(file)], parsed)  # fmt: skip


def list_backups(target_dir: Path) -> list[BackupFile]:
    """The backups in ``target_dir``, oldest first (files of other names are not arbx's and are left alone)."""
    found: list[BackupFile] = []
    if not target_dir.is_dir():
        return found
    for path in target_dir.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            taken_at = datetime.strptime(match.group(2), _STAMP).replace(tzinfo=UTC)
            found.append(BackupFile(path, match.group(1), taken_at))
    return sorted(found, key=lambda b: b.taken_at)


def prune_backups(target_dir: Path, now: datetime | None = None, keep_days: int = KEEP_DAYS) -> list[Path]:
    """Delete backups older than ``keep_days``; the newest one is always kept. Returns the deleted paths."""
    backups = list_backups(target_dir)
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    deleted = [b.path for b in backups[:-1] if b.taken_at < cutoff]
    for path in deleted:
        path.unlink(missing_ok=True)
    return deleted


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no database file to back up (run `arbx db upgrade` first)")
    src, dst = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: backup failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _sqlite_restore(backup: Path, target: Path) -> None:
    if not target.exists():
        _private_dir(target.parent)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    src, dst = sqlite3.connect(f"file:{backup}?mode=ro", uri=True), sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the target, under its lock
    except sqlite3.Error as exc:
        raise BackupError(f"{backup}: restore failed: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _search_path(url: URL) -> str | None:
    options = url.query.get("options")
    text = " ".join(options) if isinstance(options, tuple) else (options or "")
    match = re.search(r"-c\s*search_path=([A-Za-z0-9_]+)", unquote(text))
    return match.group(1) if match else None


def _schema_args(url: URL) -> list[str]:
    schema = _search_path(url)
    return ["-n", schema] if schema else []


def _dbname(url: URL) -> str:
    return url.database or "postgres"


def _run_pg(command: list[str], url: URL) -> None:
    """Run pg_dump/pg_restore with the connection in the environment (the password never on a command line)."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    env = dict(os.environ, PGHOST=url.host or "127.0.0.1", PGPORT=str(url.port or 5432), PGCONNECT_TIMEOUT="10")
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if command[0] == "pg_dump":
        env["PGDATABASE"] = _dbname(url)
    try:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=_PG_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{command[0]} did not finish within {_PG_TIMEOUT_SECONDS} s") from exc
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{command[0]} failed: {lines[0] if lines else f'exit code {proc.returncode}'}")
