"""The checks of ``arbx deploy check``: can this machine's settings run the production services?

Each check returns findings (name, ok, detail); nothing here prints or exits, so the command and tests share it.
Checks read only: they never migrate, write secrets or start anything.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.secrets import SecretsError, check_required_secrets, load_secrets, secrets_path
from arbx_pipelines.core.models import Mode
from arbx_pipelines.storage.db import alembic_config, display_url, normalize_url, postgres_connect_error, revision_of

CONNECT_TIMEOUT_SECONDS = 3
DAGSTER_PG_VARS = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def safe_url(url: str) -> str:
    """The URL without its password, for printing; not only database URLs (Redis too), so not normalized."""
    return make_url(url).render_as_string(hide_password=True)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def check_database(url: str) -> list[Finding]:
    """Reachable, then migrated to the newest revision (``arbx db upgrade`` applies it)."""
    parsed = make_url(normalize_url(url))
    sqlite_file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if sqlite_file and sqlite_file != ":memory:" and not Path(sqlite_file).exists():
        return [Finding("database", False, f"SQLite file {parsed.database} does not exist: run `arbx db upgrade`")]
    try:
        current = revision_of(url, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except Exception as exc:  # any driver error means the same to the operator: not reachable
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [Finding("database", False, f"not reachable at {display_url(url)}: {reason}")]
    found = [Finding("database", True, f"reachable at {display_url(url)}")]
    head = head_revision(url)
    if current == head:
        found.append(Finding("migrations", True, f"at head revision {head}"))
    else:
        found.append(
            Finding("migrations", False, f"at revision {current or '(none)'}, head is {head}: run `arbx db upgrade`")
        )
    return found


def check_redis(url: str | None) -> list[Finding]:
    if not url:
        return [Finding("redis", True, "not configured: locks and caches live in the database")]
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return [Finding("redis", False, f"not reachable at {safe_url(url)}: {exc}")]
    finally:
        client.close()
    return [Finding("redis", True, f"reachable at {safe_url(url)}")]


def check_secrets(loaded: LoadedConfig, environ: Mapping[str, str]) -> list[Finding]:
    """The same rule as ``arbx secrets check``: demo and live need every enabled venue's keys."""
    mode = loaded.config.mode
    path = secrets_path(loaded)
    try:
        secrets = load_secrets(loaded, environ)
        check_required_secrets(loaded, secrets)
    except SecretsError as exc:
        return [Finding("secrets", False, f"{exc} (mode {mode.value}, {path})")]
    if mode not in (Mode.DEMO, Mode.LIVE):
        return [Finding("secrets", True, f"mode {mode.value} needs no API keys")]
    return [Finding("secrets", True, f"every enabled venue's keys present for mode {mode.value} ({path})")]


def check_dagster_storage(environ: Mapping[str, str], app_url: str) -> list[Finding]:
    """Dagster's run storage on PostgreSQL (dagster.yaml reads DAGSTER_PG_*), when the environment names one.

    It needs a database of its own: Dagster and arbx each keep an alembic ``alembic_version`` table."""
    if not environ.get("DAGSTER_PG_HOST"):
        return []
    missing = [name for name in DAGSTER_PG_VARS if name not in environ and name != "DAGSTER_PG_PASSWORD"]
    if missing:
        return [Finding("dagster storage", False, f"{', '.join(missing)} not set")]
    app = make_url(normalize_url(app_url))
    own_schema = "search_path" in str(app.query.get("options", ""))  # arbx's tables in a schema of their own
    same = (app.host, str(app.port or 5432), app.database) == tuple(
        environ[f"DAGSTER_PG_{k}"] for k in ("HOST", "PORT", "DB")
    )
    if app.get_backend_name() == "postgresql" and same and not own_schema:
        detail = f"DAGSTER_PG_DB {app.database} is the application database; give Dagster a database of its own"
        return [Finding("dagster storage", False, f"{detail} (both keep an alembic_version table)")]
    reason = postgres_connect_error(
        host=environ["DAGSTER_PG_HOST"], port=environ["DAGSTER_PG_PORT"], user=environ["DAGSTER_PG_USER"],
        password=environ.get("DAGSTER_PG_PASSWORD") or None, dbname=environ["DAGSTER_PG_DB"],
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )  # fmt: skip
    if reason is not None:
        return [Finding("dagster storage", False, f"PostgreSQL database {environ['DAGSTER_PG_DB']}: {reason}")]
    where = f"{environ['DAGSTER_PG_HOST']}:{environ['DAGSTER_PG_PORT']}/{environ['DAGSTER_PG_DB']}"
    return [Finding("dagster storage", True, f"PostgreSQL reachable at {where}")]


def check_port(name: str, port: int, host: str = "127.0.0.1") -> Finding:
    """Free means this process could bind it now (the service that needs it is not started yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            why = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            return Finding(f"port {port}", False, f"{name} cannot bind {host}:{port}: {why}")
    return Finding(f"port {port}", True, f"free for {name} on {host}")


def run_checks(
    loaded: LoadedConfig, ports: Sequence[tuple[str, int]], environ: Mapping[str, str] | None = None
) -> list[Finding]:
    environ = os.environ if environ is None else environ
    findings = check_database(loaded.database_url)
    findings += check_redis(loaded.config.redis.url)
    findings += check_secrets(loaded, environ)
    findings += check_dagster_storage(environ, loaded.database_url)
    findings += [check_port(name, port) for name, port in ports]
    return findings
