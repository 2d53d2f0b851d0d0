"""``arbx bench execution``: signal -> both legs acknowledged, in process and through the real daemon.

A funding spike is set on N symbols of the simulated Binance at once and held as a persisting extreme regime: funding
snapshots are written (as the ``funding_snapshot`` asset writes them, what the funding-opportunity sensor reads) until
the live entry rules (``scan_funding``, the sensor's own function and arguments) accept the symbol. A spike against
a calm history is a ``funding_spike`` anomaly the rules pause on, so the snapshots before cannot start a run; a
symbol's signal is the first snapshot the rules accept. Latency runs from then until the venue has acknowledged both
legs of that symbol's hedge (``orders.acknowledged_at``). The simulator's clock does not move meanwhile, so the market
and the number of snapshots are the same on every run.

1. In process: the execution path alone (warm venue clients, no Dagster), N executions concurrently.
2. Through ``dagster dev`` (webserver + daemon, temporary DAGSTER_HOME, QueuedRunCoordinator): the sensor tick, the
   run queue, a fresh run process per execution, its imports and market load, then the same path. Goal: p95 <= 10 s.

Both report the executions running at once and the most orders seen pending per venue at once (from the orders'
send/answer times; the venue slots cap it at ``execution.max_pending_orders_per_venue``). Each round closes its
hedges and moves simulated time to the next settlement, so the next round's signals are new.

This module runs the rounds, measures them and reports; the spikes, snapshots and settlements that make the signals
are :mod:`arbx_pipelines.bench.execution_signals`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from dagster import DagsterInstance, RunsFilter
from sqlalchemy import Engine

from arbx_pipelines.bench.daemon import DagsterDev
from arbx_pipelines.bench.execution_signals import VENUE, calm, next_settlement, pick_symbols, signal_when_accepted
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.context import ExecutionDeps, deps_from_config
from arbx_pipelines.execution.open_hedge import OpenRequest, open_hedge
from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.scenarios.harness import Harness, sim_harness
from arbx_pipelines.storage.execution_timings import round_timings
from arbx_pipelines.storage.executions import any_execution_sending
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.server import SimServer

GOAL_P95_S = 10.0
BENCH_CONFIG: dict[str, Any] = {
    "risk.daily_trade_count": 10_000,
    "risk.daily_amount_usdt": 10_000_000,
    "risk.max_account_share": 0.9,
    "venues.binance.capital_share": 1,
}


@dataclass
class Round:
    latencies: dict[str, float] = field(default_factory=dict)
    concurrent_executions: int = 0
    max_pending: int = 0
    #: through the daemon: run processes alive at once (Dagster's start .. end of each run)
    runs_at_once: int = 0
    #: through the daemon: each execution's stages (symbol -> seconds per stage, in STAGES order)
    breakdown: dict[str, list[float]] = field(default_factory=dict)


STAGES = (
    ("signal -> run queued", "sensor tick and run creation"),
    ("queued -> launched", "run queue"),
    ("launched -> started", "run process start: imports, code location"),
    ("started -> both acks", "the op: markets, live data, risk, both legs"),
)


def run_stages(home: Path, round_: Round, keys: Sequence[str], signals: dict[str, datetime]) -> None:
    """Split each daemon execution's latency into its stages, from Dagster's own run timestamps."""
    spans: list[tuple[datetime, datetime]] = []
    with DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs(filters=RunsFilter(job_name="open_funding_position"), limit=200)
        for run in runs:
            symbol = run.tags.get("arbx/symbol")
            if run.tags.get("dagster/run_key") not in keys or symbol not in round_.latencies:
                continue
            stats = instance.get_run_stats(run.run_id)
            if None in (stats.enqueued_time, stats.launch_time, stats.start_time):
                continue
            signal_at = signals[symbol].timestamp()
            marks = [
                signal_at,
                stats.enqueued_time,
                stats.launch_time,
                stats.start_time,
                signal_at + round_.latencies[symbol],
            ]
            round_.breakdown[symbol] = [float(end) - float(start) for start, end in pairwise(marks)]  # type: ignore[arg-type]
            finished = stats.end_time or time.time()
            spans.append((datetime.fromtimestamp(float(stats.start_time), UTC), datetime.fromtimestamp(finished, UTC)))  # type: ignore[arg-type]
    round_.runs_at_once = max_overlap(spans)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def max_overlap(intervals: Sequence[tuple[datetime, datetime]]) -> int:
    """Most intervals open at one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def measure_round(engine: Engine, keys: Sequence[str], signals: dict[str, datetime]) -> Round:
    """Latency per execution (its symbol's signal -> both first legs acknowledged) and the round's concurrency
    figures."""
    result = Round()
    timings = round_timings(engine, keys, str(VENUE), min(signals.values()))
    spans = []
    for execution in timings.executions:
        acks = execution.first_legs_acknowledged
        if len(acks) == 2:
            result.latencies[execution.symbol] = (max(acks) - signals[execution.symbol]).total_seconds()
            spans.append((execution.created_at, max(acks)))  # in flight: intent recorded .. both legs answered
    result.concurrent_executions = max_overlap(spans)
    result.max_pending = max_overlap(timings.order_spans)
    return result


async def close_all(deps: ExecutionDeps, clients: dict[str, VenueClient]) -> None:
    open_positions = positions_with_status(deps.engine, ("open", "broken"))
    await asyncio.gather(*(close_hedge(deps, clients[p.symbol], p.id, "bench") for p in open_positions))


async def in_process_rounds(harness: Harness, symbols: Sequence[str], rounds: int) -> list[Round]:
    deps = deps_from_config(harness.loaded)
    sim = harness.loaded.config.simulator
    creds = {"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}
    clients = {
        s: make_client(VENUE, harness.loaded.config.mode, credentials=creds, sim_url=harness.server.base_url)
        for s in symbols
    }
    results = []
    calm(harness, symbols)
    try:
        await asyncio.gather(*(c.markets() for c in clients.values()))
        for _ in range(rounds):
            accepted = await signal_when_accepted(harness, clients[symbols[0]], deps, symbols)
            # no sensor here: every execution starts on the round's last snapshot, when all are accepted
            signal_at = max((at for at, _ in accepted.values()), default=datetime.now(UTC))
            found = [o for _, o in accepted.values()]
            await asyncio.gather(
                *(
                    open_hedge(deps, clients[o.symbol], OpenRequest(VENUE, o.symbol, o.run_key, signal_at))
                    for o in found
                )
            )
            results.append(measure_round(deps.engine, [o.run_key for o in found], dict.fromkeys(symbols, signal_at)))
            await close_all(deps, clients)
            await next_settlement(harness, clients[symbols[0]], deps.engine, symbols)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
    return results


async def _wait_for(engine: Engine, keys: Sequence[str], signals: dict[str, datetime], timeout: float) -> Round:
    deadline = time.monotonic() + timeout
    measured = measure_round(engine, keys, signals)
    while len(measured.latencies) < len(keys) and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        measured = measure_round(engine, keys, signals)
    return measured


async def daemon_rounds(
    harness: Harness, home: Path, symbols: Sequence[str], singles: int, together: int, timeout: float
) -> tuple[list[Round], list[Round]]:
    """``singles`` signals one at a time (each on its own symbol), then ``together`` rounds of every symbol at once;
    the daemon's sensor, queue and run processes do the work, this only writes signals and waits for the acks."""
    deps = deps_from_config(harness.loaded)
    sim = harness.loaded.config.simulator
    creds = {"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}
    clients = {
        s: make_client(VENUE, harness.loaded.config.mode, credentials=creds, sim_url=harness.server.base_url)
        for s in symbols
    }

    async def one_round(batch: Sequence[str]) -> Round:
        # the sensor sees the same snapshots: each symbol's run starts on the snapshot the rules first accepted
        accepted = await signal_when_accepted(harness, clients[batch[0]], deps, batch)
        keys = [o.run_key for _, o in accepted.values()]
        signals = {symbol: at for symbol, (at, _) in accepted.items()}
        if not signals:
            return Round()
        measured = await _wait_for(deps.engine, keys, signals, timeout)
        run_stages(home, measured, keys, signals)
        return measured

    async def settle_runs() -> None:
        """Wait until no open is still sending (a run finishing its corrections), then close every hedge."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any_execution_sending(deps.engine):
                break
            await asyncio.sleep(0.5)
        await close_all(deps, clients)

    one_by_one, all_at_once = [], []
    calm(harness, symbols)
    try:
        for index in range(singles):
            if index and index % len(symbols) == 0:  # every symbol has a position: close them, next settlement
                await settle_runs()
                await next_settlement(harness, clients[symbols[0]], deps.engine, symbols)
            one_by_one.append(await one_round([symbols[index % len(symbols)]]))
        for _ in range(together):
            await settle_runs()
            await next_settlement(harness, clients[symbols[0]], deps.engine, symbols)
            all_at_once.append(await one_round(symbols))
        await settle_runs()
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
    return one_by_one, all_at_once


def report(title: str, rounds: list[Round], wanted: int, limit: int, goal: float | None) -> None:
    latencies = [v for r in rounds for v in r.latencies.values()]
    measured = sum(len(r.latencies) for r in rounds)
    print(f"  {title}: {measured}/{wanted * len(rounds)} executions measured over {len(rounds)} round(s)")
    if latencies:
        p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
        verdict = "" if goal is None else (f"  (goal p95 <= {goal:.0f} s: {'meets' if p95 <= goal else 'MISSES'})")
        print(
            f"    signal -> both legs acknowledged: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(latencies):.2f} s"
            f"{verdict}"
        )
    breakdowns = [parts for r in rounds for parts in r.breakdown.values()]
    for index, (name, what) in enumerate(STAGES):
        values = [parts[index] for parts in breakdowns if len(parts) > index]
        if values:
            print(f"      {name:<22} median {statistics.median(values):6.2f} s, max {max(values):6.2f} s  ({what})")
    slowest = max(
        ((latency, r.breakdown.get(symbol)) for r in rounds for symbol, latency in r.latencies.items()),
        key=lambda item: item[0],
        default=None,
    )
    if slowest is not None and slowest[1]:
        parts = " + ".join(f"{value:.2f}" for value in slowest[1])
        print(f"      slowest execution {slowest[0]:.2f} s = {parts} s (the stages above, in order)")
    print(
        f"    executions sending at once (intent .. both legs answered): "
        f"max {max((r.concurrent_executions for r in rounds), default=0)}"
    )
    if any(r.runs_at_once for r in rounds):
        print(f"    open runs in progress at once: max {max(r.runs_at_once for r in rounds)}")
    print(
        f"    orders pending per venue at once: max {max((r.max_pending for r in rounds), default=0)} (limit {limit})"
    )


def run(args: argparse.Namespace) -> int:
    if args.symbols < 5 or args.rounds < 1 or args.daemon_rounds < 0 or args.daemon_single < 0:
        raise ValueError("--symbols must be at least 5, --rounds at least 1, the daemon counts not negative")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    chosen: list[str] = []

    def configure(server: SimServer) -> dict[str, Any]:
        chosen.extend(pick_symbols(server, args.symbols))
        return {"strategy.symbols": chosen}

    with sim_harness(
        BENCH_CONFIG, sim_settings={"start_balance_usdt": Decimal(20000)}, configure=configure, venues=[VENUE.value]
    ) as harness:
        symbols = chosen
        limit = harness.loaded.config.execution.max_pending_orders_per_venue
        print(
            f"execution bench: {len(symbols)} symbols at once on the simulated {VENUE} "
            f"({', '.join(s.split('/')[0] for s in symbols)}); load average {load:.2f}"
        )
        start = time.monotonic()
        inproc = asyncio.run(in_process_rounds(harness, symbols, args.rounds))
        report(f"in process ({time.monotonic() - start:.0f} s)", inproc, len(symbols), limit, None)
        if args.no_daemon:
            return 0
        start = time.monotonic()
        with DagsterDev(harness.workdir, harness.config_path) as dev:
            print(f"  dagster dev up in {dev.startup_s:.1f} s (webserver {dev.url}, temporary DAGSTER_HOME)")
            singles, together = asyncio.run(
                daemon_rounds(harness, dev.home, symbols, args.daemon_single, args.daemon_rounds, args.timeout)
            )
        print(f"  through dagster dev ({time.monotonic() - start:.0f} s):")
        report("one signal at a time", singles, 1, limit, GOAL_P95_S)
        report(f"{len(symbols)} signals at once", together, len(symbols), limit, None)
    return 0
