"""Settled funding history, partitioned by day x venue and backfillable from the UI and the CLI in one run
per backfill (``BackfillPolicy.single_run()``), with asset checks for freshness, gaps, duplicates and caps."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    DailyPartitionsDefinition,
    MaterializeResult,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
    asset,
    multi_asset_check,
)

from arbx_pipelines.core.models import ALL_VENUES, Venue
from arbx_pipelines.history.checks import SymbolHistoryCheck, check_funding_history
from arbx_pipelines.history.materializations import HISTORY_START
from arbx_pipelines.marketdata.history_fetch import fetch_venues_history
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.storage.funding_history import record_funding

funding_history_partitions = MultiPartitionsDefinition(
    {
        "date": DailyPartitionsDefinition(start_date=HISTORY_START),
        "venue": StaticPartitionsDefinition([v.value for v in ALL_VENUES]),
    }
)


def days_by_venue(partition_keys: list[str]) -> dict[Venue, list[date]]:
    grouped: dict[Venue, list[date]] = defaultdict(list)
    for key in partition_keys:
        dims = (
            key.keys_by_dimension
            if isinstance(key, MultiPartitionKey)
            else dict(zip(("date", "venue"), key.split("|"), strict=True))
        )
        grouped[Venue(dims["venue"])].append(date.fromisoformat(dims["date"]))
    return {venue: sorted(days) for venue, days in grouped.items()}


@asset(
    group_name="ingestion",
    partitions_def=funding_history_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    description="Settled funding rates of every perpetual, one partition per UTC day and venue; re-runs add nothing.",
)
def funding_history(
    context: AssetExecutionContext, exchanges: ExchangesResource, database: DatabaseResource
) -> MaterializeResult:
    wanted = days_by_venue(list(context.partition_keys))
    enabled = {Venue(v) for v in exchanges.venues}
    totals = {"rows": 0, "inserted": 0, "conflicting": 0}
    per_venue: dict[str, int] = {}
    failures: dict[str, str] = {}
    for venue in [v for v in wanted if v not in enabled]:
        context.log.warning(f"{venue} is not enabled; its partitions stay empty")
    ranges = {
        venue: (
            datetime.combine(days[0], datetime.min.time(), UTC),
            datetime.combine(days[-1], datetime.min.time(), UTC) + timedelta(days=1),
        )
        for venue, days in wanted.items()
        if venue in enabled
    }
    context.log.info(f"fetching {', '.join(f'{v}: {s:%Y-%m-%d}..{e:%Y-%m-%d}' for v, (s, e) in ranges.items())}")
    fetched = exchanges.run(lambda clients: fetch_venues_history(clients, ranges))
    for venue, (records, venue_failures) in fetched.items():
        day_set = set(wanted[venue])
        result = record_funding(database.engine, [r for r in records if r.funding_time.date() in day_set], "venue")
        context.log.info(f"{venue}: {result.rows} settlements, {result.inserted} new, {result.already_present} present")
        totals["rows"] += result.rows
        totals["inserted"] += result.inserted
        totals["conflicting"] += result.conflicting
        per_venue[venue.value] = result.rows
        failures.update({f"{venue}:{symbol}": error for symbol, error in venue_failures.items()})
    if failures:
        raise RuntimeError(
            f"funding history incomplete for {len(failures)} symbol(s): {dict(list(failures.items())[:5])}"
        )
    return MaterializeResult(
        metadata={**totals, "settlements_by_venue": per_venue, "partitions": len(context.partition_keys)}
    )


def _describe(failed: list[SymbolHistoryCheck], what: str, limit: int = 10) -> str:
    parts = []
    for check in failed[:limit]:
        times = {
            "gaps": check.missing,
            "duplicates": check.duplicates,
            "out_of_range": [o.time for o in check.out_of_range],
        }[what]
        shown = ", ".join(t.strftime("%Y-%m-%d %H:%M") for t in times[:3])
        parts.append(f"{check.venue} {check.symbol} at {shown}{' ...' if len(times) > 3 else ''}")
    return "; ".join(parts) + (f"; and {len(failed) - limit} more symbols" if len(failed) > limit else "")


def _result(checks: list[SymbolHistoryCheck], what: str, name: str) -> AssetCheckResult:
    attribute = {"gaps": "missing", "duplicates": "duplicates", "out_of_range": "out_of_range"}[what]
    failed = [c for c in checks if getattr(c, attribute)]
    return AssetCheckResult(
        check_name=name,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description=f"{what}: " + (_describe(failed, what) if failed else f"none in {len(checks)} symbols"),
        metadata={"symbols_checked": len(checks), "symbols_failing": len(failed)},
    )


def _fresh(checks: list[SymbolHistoryCheck]) -> AssetCheckResult:
    stale = [c for c in checks if c.overdue_by]
    return AssetCheckResult(
        check_name="funding_history_fresh",
        passed=bool(checks) and not stale,
        severity=AssetCheckSeverity.WARN,
        description=(
            "no history stored"
            if not checks
            else "stale: " + "; ".join(f"{c.venue} {c.symbol} last {c.last:%Y-%m-%d %H:%M}" for c in stale[:10])
            if stale
            else f"all {len(checks)} symbols fresh"
        ),
        metadata={"symbols_checked": len(checks), "symbols_stale": len(stale)},
    )


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            "funding_history_gaps",
            asset=funding_history,
            description="A settlement missing given the symbol's interval.",
        ),
        AssetCheckSpec(
            "funding_history_duplicates",
            asset=funding_history,
            description="Two settlements of one symbol at (almost) the same time.",
        ),
        AssetCheckSpec(
            "funding_history_rates_in_range",
            asset=funding_history,
            description="Rates outside the venue's cap and floor.",
        ),
        AssetCheckSpec(
            "funding_history_fresh",
            asset=funding_history,
            description="The newest settlement of every symbol is at most one day plus one interval old "
            "(daily partitions).",
        ),
    ],
    description="Gaps, duplicates, rates out of range and freshness of the stored funding history.",
)
def funding_history_checks(
    context: AssetCheckExecutionContext, database: DatabaseResource
) -> Iterator[AssetCheckResult]:
    """The four checks from one read of the stored history: four separate checks read and checked every settlement
    four times (most of a 90-day backfill's check time)."""
    checks = check_funding_history(database.engine, now=datetime.now(UTC), grace=timedelta(days=1))
    yield _result(checks, "gaps", "funding_history_gaps")
    yield _result(checks, "duplicates", "funding_history_duplicates")
    yield _result(checks, "out_of_range", "funding_history_rates_in_range")
    yield _fresh(checks)


FUNDING_HISTORY_CHECKS = [funding_history_checks]
