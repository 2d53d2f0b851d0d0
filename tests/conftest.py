"""Shared fixtures: real PostgreSQL and Redis (fail, never skip, when missing under CI=true), SQLite files,
and the path of the recorded data in ../shared."""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from arbx_pipelines.storage.db import make_engine, upgrade

PROJECT_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("ARBX_SHARED_DIR", PROJECT_DIR.parent / "shared"))
PG_BASE_URL = os.environ.get("ARBX_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("ARBX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_data(path: Path) -> None:
    """Recorded data or fixtures absent: a failure under CI=true (every test must run there), a skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{path} is missing; CI runs with ../shared beside the checkout")
    pytest.skip(f"{path} is missing")


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run, not skip)")
    pytest.skip(message)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI=true a skip from any source (fixture, marker, parameter) is reported as a failure: every test runs."""
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {report.longrepr}"
    return report


#: the longest test files, longest first (measured with --durations under ``make test``'s four workers, 2026-12-07:
#: each file's tests summed): ``make test`` hands files to its workers in collection order (--dist loadfile
#: --no-loadscope-reorder), so these start first and the many short files fill in behind them, instead of one worker
#: finishing a long file alone while the others idle
LONGEST_FIRST = (
    "tests/crash/test_crash_sweep.py",
    "tests/execution/test_bench_execution.py",
    "tests/ingestion/test_ingestion_assets.py",
    "tests/deploy/test_celery.py",
    "tests/ingestion/test_backfill_cli.py",
    "tests/ui/test_backfill_from_ui.py",
    "tests/engine/test_engine_crash_sweep.py",
    "tests/ui/test_dagster_ui.py",
    "tests/deploy/test_prod_topology.py",
    "tests/history/test_cli.py",
    "tests/execution/test_faults.py",
    "tests/ops/test_telegram_control.py",
    "tests/analytics/test_assets.py",
    "tests/foundation/test_run_command.py",
    "tests/foundation/test_storage.py",
    "tests/history/test_writer.py",
    "tests/ops/test_cli_ops.py",
)


#: how a file marks its tests ``isolated`` (``pytestmark = ...`` or a decorator): the text ``make test``'s isolated run
#: looks for, so it imports only those files instead of the whole suite (seconds, in a part that runs alone)
ISOLATED_MARK = "pytest.mark.isolated"


def _isolated_run(config: pytest.Config) -> bool:
    return str(config.option.markexpr).strip() == "isolated"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """In the isolated run (``-m isolated``, nothing else), a test file without ``ISOLATED_MARK`` is not imported."""
    if not _isolated_run(config) or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    return ISOLATED_MARK not in collection_path.read_text(encoding="utf-8")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: the check below sees every collected test
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest files first (a stable sort: every other file, and the tests within a file, keep their order).

    A test marked isolated without ``ISOLATED_MARK`` in its file (a conftest's mark, a mark kept in a variable) would
    run in neither part of ``make test``: a run that collects every file fails on it instead."""
    if not _isolated_run(config):
        hidden = sorted({str(item.path) for item in items if item.get_closest_marker("isolated")
                         and ISOLATED_MARK not in item.path.read_text(encoding="utf-8")})  # fmt: skip
        if hidden:
            raise pytest.UsageError(f"tests marked isolated in files without {ISOLATED_MARK!r}: {hidden}")
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.exists():
        missing_data(SHARED_DIR)
    return SHARED_DIR


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    import psycopg

    try:
        with psycopg.connect(PG_BASE_URL.replace("+psycopg", ""), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL at {PG_BASE_URL}", exc)
    return PG_BASE_URL


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test; dropped afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = pg_admin_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_admin_url else "?"
    yield f"{pg_admin_url}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'arbx.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database URL on each backend: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database with every migration applied, on each backend."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis at {REDIS_TEST_URL}", exc)
    return REDIS_TEST_URL
