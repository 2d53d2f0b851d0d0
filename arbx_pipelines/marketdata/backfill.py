"""Backfills of the day x venue funding history: the partition range of the last N days, and the Dagster CLI
command that materializes it in one run (the asset's ``BackfillPolicy.single_run()``)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

from arbx_pipelines.core.models import ALL_VENUES

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def last_complete_day(now: datetime | None = None) -> date:
    return ((now or datetime.now(UTC)) - timedelta(days=1)).date()


def partition_range(days: int, end: date | None = None) -> tuple[str, str]:
    """First and last multi-partition keys ("YYYY-MM-DD|venue") of ``days`` days ending with ``end``.

    Keys order date first, then venue (binance, okx, bitget), so this range holds every venue of every day.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    last = end or last_complete_day()
    first = last - timedelta(days=days - 1)
    return f"{first.isoformat()}|{ALL_VENUES[0].value}", f"{last.isoformat()}|{ALL_VENUES[-1].value}"


DEFINITIONS_MODULE = "arbx_pipelines.definitions"


def dagster_backfill_command(days: int, end: date | None = None) -> list[str]:
    """``dagster asset materialize`` of the range, in one run (the asset's single-run backfill policy); its steps
    (the asset, then its checks) run in the run's own process, the code location's executor."""
    start, stop = partition_range(days, end)
    return [
        sys.executable, "-m", "dagster", "asset", "materialize", "-m", DEFINITIONS_MODULE,
        "--select", "funding_history", "--partition-range", f"{start}...{stop}",
    ]  # fmt: skip
