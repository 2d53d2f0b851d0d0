"""What ``arbx history import`` tells Dagster: a materialization of ``funding_history`` for every (day, venue)
partition the imported files cover, so the asset shows the history it holds instead of "Never materialized"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from arbx_pipelines.core.models import ALL_VENUES
from arbx_pipelines.history.records import FundingRecord

ASSET = "funding_history"
HISTORY_START = "2024-01-01"  #: the first day partition of ``funding_history``


def covered_partitions(records: Iterable[FundingRecord]) -> Counter[tuple[str, str]]:
    """Settlements per (day, venue) of the given records."""
    return Counter((record.funding_time.date().isoformat(), record.venue) for record in records)


def record_import_materializations(home: Path, partitions: Counter[tuple[str, str]], source: str) -> int:
    """One runless materialization per partition on the instance in ``home`` (days before ``HISTORY_START`` and
    unknown venues have no partition and are left out); returns how many were recorded."""
    from dagster import AssetMaterialization, DagsterInstance, MultiPartitionKey

    venues = {v.value for v in ALL_VENUES}
    wanted = {key: n for key, n in partitions.items() if key[0] >= HISTORY_START and key[1] in venues}
    with DagsterInstance.from_config(str(home)) as instance:
        for (day, venue), settlements in sorted(wanted.items()):
            instance.report_runless_asset_event(
                AssetMaterialization(
                    asset_key=ASSET,
                    partition=MultiPartitionKey({"date": day, "venue": venue}),
                    description=f"arbx history import of {source}",
                    metadata={"settlements": settlements, "source": source},
                )
            )
    return len(wanted)
