"""The code server reads Dagster's migration scripts once per process (each sensor tick builds an instance that
checks the schema revision); our own migrations and the revision check itself are untouched."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from dagster import DagsterInstance
from dagster._core.storage.sql import get_alembic_config

import arbx_pipelines.definitions  # noqa: F401  (installs the cache, as in the code server)
from arbx_pipelines.dagster_ticks import cached_script_directories
from arbx_pipelines.storage.db import alembic_config


def test_dagster_scripts_are_read_once_and_ours_every_time(tmp_path: Path) -> None:
    dagster_config = get_alembic_config(__file__)
    assert ScriptDirectory.from_config(dagster_config) is ScriptDirectory.from_config(get_alembic_config(__file__))
    ours = alembic_config(f"sqlite:///{tmp_path / 'arbx.db'}")
    assert ScriptDirectory.from_config(ours) is not ScriptDirectory.from_config(ours)


def test_instances_still_check_their_schema(tmp_path: Path) -> None:
    ref = DagsterInstance.local_temp(str(tmp_path)).get_ref()
    for _ in range(3):
        with DagsterInstance.from_ref(ref) as instance:
            assert instance.get_runs(limit=1) == []
            revision = instance.run_storage.alembic_version()  # type: ignore[attr-defined]
            assert revision is not None and revision[0] is not None
            assert revision[0] == revision[1]  # the database at head, as the scripts say
    assert cached_script_directories() >= 1
