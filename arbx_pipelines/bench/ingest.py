"""``arbx bench ingest``: the two ingestion figures of issue 4.

1. One funding snapshot of every perpetual on the three simulated venues (goal <= 2 s): ``arbx sim`` in its own
   process, the same code the ``funding_snapshot`` asset runs (venues concurrent), markets loaded beforehand.
2. History rows per second into PostgreSQL through the bulk writer (goal >= 200,000 rows/s), beside a naive per-row
   SQLAlchemy ORM insert of the same rows, and their ratio. Runs in a temporary schema of ARBX_BENCH_PG_URL.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.history.records import FundingRecord
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.funding_history import delete_all_funding, insert_funding_row_by_row, write_funding
from arbx_pipelines.storage.pg_schema import bench_pg_url, temporary_schema

HISTORY_GOAL_ROWS_PER_S = 200_000
SNAPSHOT_GOAL_S = 2.0


def run(args: argparse.Namespace) -> int:
    if args.rows < 1 or args.naive_rows < 1 or args.symbols < 1:
        raise ValueError("--rows, --naive-rows and --symbols must be positive")
    print("ingest bench")
    snapshot_ok = _snapshot_figure()
    records = synthetic_settlements(args.rows, args.symbols)
    url = bench_pg_url()
    print(f"  history into PostgreSQL ({_safe(url)}, temporary schema), {len(records):,} settlements, "
          f"{args.symbols} symbols; load average {_load()}")  # fmt: skip
    with temporary_schema(url) as schema_url:
        engine = make_engine(schema_url)
        try:
            bulk = _timed_bulk(engine, records)
            remerge = _timed_bulk(engine, records, expect_inserted=0)
            naive_rows = records[: min(args.naive_rows, len(records))]
            delete_all_funding(engine)
            naive_s = _timed_naive(engine, naive_rows)
        finally:
            engine.dispose()
    bulk_rate = len(records) / bulk.wall
    naive_rate = len(naive_rows) / naive_s
    verdict = "meets" if bulk_rate >= HISTORY_GOAL_ROWS_PER_S else "MISSES"
    print(f"  bulk COPY writer:        {bulk_rate:12,.0f} rows/s  ({len(records):,} rows in {bulk.wall:.2f} s; "
          f"{verdict} the goal of >= {HISTORY_GOAL_ROWS_PER_S:,} rows/s)")  # fmt: skip
    print(f"    {bulk.cpu_note(len(records))}")
    print(
        f"  re-import (all present): {len(records) / remerge.wall:12,.0f} rows/s  ({remerge.wall:.2f} s, nothing added)"
    )
    print(f"    {remerge.cpu_note(len(records))}")
    print(f"  naive per-row ORM:       {naive_rate:12,.0f} rows/s  (the first {len(naive_rows):,} of the same rows, "
          f"one INSERT each, in {naive_s:.2f} s)")  # fmt: skip
    print(f"  ratio bulk / naive:      {bulk_rate / naive_rate:12,.1f} x")
    met = snapshot_ok and bulk_rate >= HISTORY_GOAL_ROWS_PER_S
    print(f"  goals: {'all met' if met else 'NOT all met'} (figures depend on what else the machine is running)")
    return 0


def synthetic_settlements(rows: int, symbols: int) -> list[FundingRecord]:
    """Deterministic 8-hourly settlements over ``symbols`` perpetuals, sorted by key like a parsed file."""
    per_symbol = -(-rows // symbols)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    step = timedelta(hours=8)
    result: list[FundingRecord] = []
    for s in range(symbols):
        symbol = f"SYM{s:04d}/USDT:USDT"
        for i in range(min(per_symbol, rows - len(result))):
            rate = Decimal((s * 7919 + i * 104729) % 20001 - 10000).scaleb(-8)
            result.append(FundingRecord("binance", symbol, start + step * i, rate, 8))
    return result


@dataclass(frozen=True, slots=True)
class Timing:
    wall: float
    client_cpu: float  #: this process (parsing aside: formatting COPY text, the driver)
    server_cpu: float | None  #: the PostgreSQL backend, when it runs on this machine

    def cpu_note(self, rows: int) -> str:
        """CPU seconds spent, so a figure taken on a busy machine can be judged: on an idle one the two sides
        overlap and the wall time approaches the larger of the two."""
        if self.server_cpu is None:
            return f"CPU: client {self.client_cpu:.2f} s (server CPU not visible from here)"
        bound = max(self.client_cpu, self.server_cpu)
        return (
            f"CPU: client {self.client_cpu:.2f} s, PostgreSQL backend {self.server_cpu:.2f} s "
            f"-> about {rows / bound:,.0f} rows/s if the busier side had a core to itself"
        )


def _timed_bulk(engine: Engine, records: list[FundingRecord], *, expect_inserted: int | None = None) -> Timing:
    with engine.begin() as conn:
        backend_pid = int(conn.connection.driver_connection.info.backend_pid)  # type: ignore[union-attr]
        server_before = _process_cpu(backend_pid)
        client_before = time.process_time()
        started = time.perf_counter()
        result = write_funding(conn, records, source="bench")
    elapsed = time.perf_counter() - started
    client = time.process_time() - client_before
    server_after = _process_cpu(backend_pid)
    server = None if server_before is None or server_after is None else server_after - server_before
    wanted = len(records) if expect_inserted is None else expect_inserted
    if result.inserted != wanted:
        raise RuntimeError(f"bulk writer inserted {result.inserted} rows, expected {wanted}")
    return Timing(elapsed, client, server)


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (Linux /proc), or None when not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_naive(engine: Engine, records: list[FundingRecord]) -> float:
    """One ORM object and one INSERT round trip per row (flush per row), committed once at the end."""
    started = time.perf_counter()
    stored = insert_funding_row_by_row(engine, records, "bench-naive")
    elapsed = time.perf_counter() - started
    if stored != len(records):
        raise RuntimeError(f"naive insert stored {stored} rows, expected {len(records)}")
    return elapsed


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _snapshot_figure(repeats: int = 5) -> bool:
    """Wall seconds of one snapshot of every perpetual on every simulated venue (best and worst of ``repeats``)."""
    import asyncio

    from arbx_pipelines.bench.sim_process import sim_process
    from arbx_pipelines.core.models import Mode, Venue
    from arbx_pipelines.marketdata.snapshot import fetch_snapshot
    from arbx_pipelines.venues import make_client

    async def measure(base_url: str, venues: list[Venue]) -> tuple[list[float], int]:
        clients = {v: make_client(v, Mode.SIM, sim_url=base_url) for v in venues}
        try:
            await asyncio.gather(*(c.markets() for c in clients.values()))
            timings, count = [], 0
            for _ in range(repeats):
                await asyncio.sleep(1.0)  # let each venue's rate limiter refill, as between scheduled snapshots
                started = time.perf_counter()
                result = await fetch_snapshot(clients, datetime.now(UTC))
                timings.append(time.perf_counter() - started)
                if result.failures:
                    raise RuntimeError(f"snapshot failed on {result.failures}")
                count = len(result.rates)
            return timings, count
        finally:
            await asyncio.gather(*(c.close() for c in clients.values()))

    with sim_process() as (base_url, served):
        venues = [Venue(v) for v in served]
        timings, count = asyncio.run(measure(base_url, venues))
    worst = max(timings)
    verdict = "meets" if worst <= SNAPSHOT_GOAL_S else "MISSES"
    print(
        f"  funding snapshot, every perpetual on {', '.join(v.value for v in venues)}: {count} perpetuals in "
        f"{min(timings):.3f} s best, {worst:.3f} s worst of {repeats} ({verdict} the goal of <= {SNAPSHOT_GOAL_S} s)"
    )
    return worst <= SNAPSHOT_GOAL_S
