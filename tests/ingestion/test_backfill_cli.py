"""`arbx history backfill` runs Dagster's own CLI against the project's instance: the run is in the UI's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from sqlalchemy import func, select

from arbx_pipelines.bench.sim_process import sim_process
from arbx_pipelines.cli.main import main
from arbx_pipelines.storage.db import make_engine, transaction
from arbx_pipelines.storage.models import FundingRateRow

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_cli_backfill_is_a_dagster_run_and_repeatable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """``arbx`` itself runs in this process (its own start would import Dagster once more); the Dagster CLI it
    starts is a process of its own, as for a user."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))  # the Dagster CLI imports this checkout's code
    monkeypatch.chdir(tmp_path)
    with sim_process() as (base_url, venues):
        port = base_url.rsplit(":", 1)[1]
        config = tmp_path / "arbx.yaml"
        config.write_text(f"data_dir: data\nsimulator:\n  port: {port}\n", encoding="utf-8")
        command = ["--config", str(config), "history", "backfill"]
        assert main([*command, "--days", "1"]) == 0, capfd.readouterr().err[-3000:]
        engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'arbx.db'}")
        with transaction(engine) as session:
            rows = session.execute(select(FundingRateRow.venue, func.count()).group_by(FundingRateRow.venue)).all()
        assert {venue for venue, _ in rows} == set(venues)
        assert all(count >= 3 * 50 for _, count in rows)
        assert main([*command, "--days", "1"]) == 0, capfd.readouterr().err[-3000:]
        with transaction(engine) as session:
            assert (
                session.execute(select(FundingRateRow.venue, func.count()).group_by(FundingRateRow.venue)).all() == rows
            )
    with DagsterInstance.from_config(str(tmp_path / ".dagster_home")) as instance:
        runs = instance.get_runs()
        assert len(runs) == 2 and all(run.status == DagsterRunStatus.SUCCESS for run in runs)
        assert {run.tags.get("dagster/asset_partition_range_end") for run in runs} == {
            runs[0].tags.get("dagster/asset_partition_range_end")
        }
