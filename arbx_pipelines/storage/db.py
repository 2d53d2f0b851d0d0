"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
#: the database and everything arbx writes beside it are the owner's alone
FILE_MODE = 0o600
DIR_MODE = 0o700
#: how long a SQLite connection waits for another one's write lock
SQLITE_BUSY_TIMEOUT_MS = 30000


class DatabaseError(Exception):
    """The database URL is unusable or the server cannot be reached; the message is one line."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs, as DESIGN asks; any other backend is an error."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise DatabaseError(f"database URL {url.split('://', 1)[0]!r}...: not a database URL ({exc})") from exc
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseError(
            f"database URL {backend}://...: not supported; use sqlite:///path/arbx.db or "
            "postgresql+psycopg://user@host:5432/db"
        )
    return url


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


def _create_private_file(path: Path) -> None:
    """Create the SQLite file 0600 (in a 0700 folder when arbx creates it) before SQLite creates it world-readable;
    its -wal and -shm files take the same mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_commit_without_fsync(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, low_latency: bool = False) -> Engine:
    """Create an engine; for SQLite the file's folder is created and WAL mode is on for concurrent runs.

    ``low_latency`` (the spot engine, whose intent commit sits between a book update and its orders): SQLite commits
    with ``synchronous=NORMAL``, which in WAL mode writes without an fsync per commit (milliseconds each on a busy
    disk). A commit still survives a crash or kill of the process, which is what reconcile repairs; only a power loss
    or OS crash of the host can lose the last commits. PostgreSQL is unchanged (its commit is the server's)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database))
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        if low_latency:
            event.listen(engine, "connect", _sqlite_commit_without_fsync)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args={"connect_timeout": 10}
    )


def checkpoint_wal(engine: Engine) -> tuple[int, int]:
    """A passive WAL checkpoint of a SQLite database (nothing for PostgreSQL): it copies what it can into the
    database file without waiting for, or blocking, readers and writers. Run in the background, it keeps the WAL
    short, so the commit that crosses SQLite's auto-checkpoint size (whose checkpoint, with its fsyncs, would run
    inside that commit) rarely comes. Returns the frames in the WAL and those checkpointed."""
    if engine.dialect.name != "sqlite":
        return 0, 0
    with engine.connect() as connection:
        row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return int(row[1]), int(row[2])


def skip_sqlite_fsync(engine: Engine) -> None:
    """Turn off fsync on every commit of this SQLite engine's connections: for harnesses whose SIGKILLs lose nothing
    the OS already holds, where fsync would only slow the sweep down. Never for the application database."""
    event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA synchronous=OFF"))


def revision_of(url: str, *, connect_timeout: int) -> str | None:
    """The migrated revision of the database at ``url``, through an engine that fails fast and never creates anything
    (make_engine would create a SQLite file's folder); any driver error propagates to the caller."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url, connect_args={"connect_timeout": connect_timeout})
    else:
        engine = create_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def postgres_connect_error(
    *, host: str, port: str, user: str, password: str | None, dbname: str, connect_timeout: int
) -> str | None:
    """Why a PostgreSQL database cannot be connected to (the driver's first line), or None when it can."""
    import psycopg

    try:
        psycopg.connect(
            host=host, port=port, user=user, password=password, dbname=dbname, connect_timeout=connect_timeout
        ).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed whole on success, rolled back whole on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (``arbx db upgrade``)."""
    check_reachable(url)  # also creates the SQLite file, 0600
    command.upgrade(alembic_config(url), revision)


def check_reachable(url: str) -> None:
    """Connect once; a server that cannot be reached is one :class:`DatabaseError` line, not a traceback."""
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
        raise DatabaseError(f"database {display_url(url)} is not reachable: {reason}") from exc
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return None if row is None else str(row[0])
