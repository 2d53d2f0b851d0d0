"""Dagster instances: production on PostgreSQL from dagster.yaml + environment; embedded on SQLite under a
project-local DAGSTER_HOME; both queue runs with at most one run per arbx/symbol value."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from dagster import DagsterInstance

from arbx_pipelines.instance import SYMBOL_TAG, embedded_instance_config, ensure_dagster_home

PROJECT = Path(__file__).resolve().parents[2]


def _symbol_limit(instance: DagsterInstance) -> list[dict[str, object]]:
    coordinator = instance.run_coordinator
    assert type(coordinator).__name__ == "QueuedRunCoordinator"
    limits = coordinator.inst_data.config_dict["tag_concurrency_limits"]  # type: ignore[attr-defined]
    return [limit for limit in limits if limit["key"] == SYMBOL_TAG]


def test_embedded_instance_is_sqlite_with_symbol_limit(tmp_path: Path) -> None:
    home = ensure_dagster_home(tmp_path / ".dagster_home")
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert _symbol_limit(instance) == [{"key": SYMBOL_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]
        assert instance.run_monitoring_enabled  # runs of a killed start are marked failed, never left STARTED
    before = (home / "dagster.yaml").read_text()
    ensure_dagster_home(home)  # a restart keeps the existing instance (and its history)
    assert (home / "dagster.yaml").read_text() == before


def test_a_config_an_earlier_arbx_wrote_gains_run_monitoring_and_an_edited_one_is_kept(tmp_path: Path) -> None:
    home = tmp_path / ".dagster_home"
    home.mkdir()
    earlier = {k: v for k, v in yaml.safe_load(yaml.safe_dump(embedded_instance_config())).items()
               if k != "run_monitoring"}  # fmt: skip
    (home / "dagster.yaml").write_text(yaml.safe_dump(earlier))
    ensure_dagster_home(home)
    assert yaml.safe_load((home / "dagster.yaml").read_text())["run_monitoring"]["enabled"] is True
    before_automation_off = {k: v for k, v in earlier.items() if k not in ("auto_materialize", "freshness")}
    (home / "dagster.yaml").write_text(yaml.safe_dump(before_automation_off))
    ensure_dagster_home(home)
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == yaml.safe_load(
        yaml.safe_dump(embedded_instance_config())
    )
    queue_every_second = yaml.safe_load(yaml.safe_dump(embedded_instance_config()))
    queue_every_second["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    (home / "dagster.yaml").write_text(yaml.safe_dump(queue_every_second))
    ensure_dagster_home(home)
    assert (
        yaml.safe_load((home / "dagster.yaml").read_text())["run_coordinator"]["config"]["dequeue_interval_seconds"]
        == 2
    )
    edited = {**earlier, "telemetry": {"enabled": True}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(edited))
    ensure_dagster_home(home)
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == edited


@pytest.fixture
def dagster_pg_db(pg_admin_url: str) -> Iterator[str]:
    name = f"arbx_dagster_{uuid.uuid4().hex[:10]}"
    plain = pg_admin_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_production_instance_uses_postgres_from_environment(
    tmp_path: Path, dagster_pg_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(PROJECT / "dagster.yaml", tmp_path / "dagster.yaml")
    for key, value in {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": dagster_pg_db,
    }.items():
        monkeypatch.setenv(key, value)
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert _symbol_limit(instance)[0]["limit"] == 1
        assert instance.get_runs_count() == 0


def test_definitions_validate_command(tmp_path: Path) -> None:
    home = ensure_dagster_home(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(PROJECT / "workspace.yaml")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        env={
            "DAGSTER_HOME": str(home),
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT),
            "ARBX_DATA_DIR": str(tmp_path / "data"),
        },
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "All code locations passed validation" in proc.stderr + proc.stdout
