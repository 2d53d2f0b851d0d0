"""A funding_history backfill launched the way the UI launches it (the webserver's launchPartitionBackfill
mutation), run by the daemon as one run for the whole range, against the simulated venues."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arbx_pipelines.assets.funding_history import funding_history_partitions
from arbx_pipelines.bench.sim_process import sim_process
from arbx_pipelines.marketdata.backfill import partition_range
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import FundingRateRow
from tests.support.dagster_ui import PROJECT, dagster_dev

#: the daemon's backfill loop ticks every 2 s instead of Dagster's fixed 30 (see the folder's sitecustomize.py): the
#: test waits for the daemon's work, not for its sleep
FAST_BACKFILL_TICK = {
    "PYTHONPATH": os.pathsep.join((str(PROJECT), str(PROJECT / "tests" / "support" / "daemon_tick"))),
    "ARBX_TEST_BACKFILL_TICK_S": "2",
}

LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status numPartitions runs(limit: 10) { status } }
  }
}"""


@pytest.mark.slow
def test_backfill_launched_like_the_ui_fills_every_venue(tmp_path: Path) -> None:
    start, end = partition_range(2)
    keys = funding_history_partitions.get_partition_keys()
    wanted = keys[keys.index(start) : keys.index(end) + 1]
    with sim_process() as (base_url, venues):
        config = tmp_path / "arbx.yaml"
        config.write_text(f"data_dir: {tmp_path / 'data'}\nsimulator:\n  port: {base_url.rsplit(':', 1)[1]}\n")
        upgrade(f"sqlite:///{tmp_path / 'data' / 'arbx.db'}")  # as `arbx run` does before the UI starts
        with dagster_dev(tmp_path, {"ARBX_CONFIG": str(config), **FAST_BACKFILL_TICK}) as ui:
            answer = ui.graphql(
                LAUNCH,
                {"params": {"assetSelection": [{"path": ["funding_history"]}], "partitionNames": wanted}},
            )["launchPartitionBackfill"]
            assert answer["__typename"] == "LaunchBackfillSuccess", answer
            deadline, state = time.time() + 240, {}
            while time.time() < deadline:
                state = ui.graphql(STATUS, {"id": answer["backfillId"]})["partitionBackfillOrError"]
                if state.get("status") in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED"):
                    break
                time.sleep(1)
    assert state.get("status") in ("COMPLETED", "COMPLETED_SUCCESS"), state
    assert state["numPartitions"] == len(wanted) == 2 * 3
    runs = [run["status"] for run in state["runs"]]
    assert runs and set(runs) == {"SUCCESS"} and len(runs) < len(wanted)  # ranges, not one run per partition
    with transaction(make_engine(f"sqlite:///{tmp_path / 'data' / 'arbx.db'}")) as session:
        per_venue = dict(
            session.execute(select(FundingRateRow.venue, func.count()).group_by(FundingRateRow.venue)).all()
        )
    assert set(per_venue) == set(venues) and all(count >= 2 * 3 * 50 for count in per_venue.values())
