"""The signals of ``arbx bench execution``: funding spikes on the simulated venue, held until the live entry rules
accept them.

A spike is set on the chosen symbols and funding snapshots are written as the ``funding_snapshot`` asset writes them
until ``scan_funding`` (the funding-opportunity sensor's function, with its arguments) accepts each symbol; that
snapshot is the symbol's signal. Between rounds the symbols are calmed and simulated time moves to the next
settlement, observed every half hour, so a new signal is judged against a recent history. The measurement around
these signals is :mod:`arbx_pipelines.bench.execution`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from arbx_pipelines.config.adapters import scoring_params
from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, positions_with_status
from arbx_pipelines.execution.signals import FundingScan, Opportunity, scan_funding
from arbx_pipelines.marketdata.snapshot import fetch_snapshot
from arbx_pipelines.scenarios.harness import Harness
from arbx_pipelines.storage.funding import record_snapshot
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.server import SimServer

VENUE = Venue.BINANCE
CANDIDATES = ("DOGE", "XRP", "ADA", "TRX", "LINK", "SOL", "DOT", "LTC", "AVAX", "NEAR", "ATOM", "UNI")
SPIKE = 0.003
CALM = 0.00001
OBSERVATIONS_PER_SETTLEMENT = 16
#: snapshots of a held spike before the bench gives up on a symbol the entry rules keep refusing
MAX_SPIKE_SNAPSHOTS = 12


def pick_symbols(server: SimServer, count: int) -> list[str]:
    engine = server.simulator.venue(VENUE.value).engine
    found = [
        f"{c}/USDT:USDT"
        for c in CANDIDATES
        if f"{c}/USDT:USDT" in engine.instruments and f"{c}/USDT" in engine.instruments
    ]
    if len(found) < count:
        raise ValueError(f"only {len(found)} suitable symbols on the simulated {VENUE}; ask for at most that many")
    return found[:count]


async def write_signal(client: VenueClient, engine: Engine, symbols: Sequence[str]) -> datetime:
    """The signal: a funding snapshot written as the ``funding_snapshot`` asset writes it; its time is the signal's."""
    signal_at = datetime.now(UTC)
    snapshot = await fetch_snapshot({VENUE: client}, signal_at)
    record_snapshot(engine, snapshot.time, snapshot.rates)
    return signal_at


def sensor_scan(harness: Harness, deps: ExecutionDeps) -> FundingScan:
    """What the funding-opportunity sensor decides on the stored snapshots now (its function, its arguments)."""
    cfg = harness.loaded.config
    return scan_funding(
        deps.engine,
        deps.strategy,
        venues=cfg.enabled_venues(),
        symbols=cfg.strategy.symbols,
        now=datetime.now(UTC),
        anomaly_z=cfg.risk.anomaly_z,
        scoring=scoring_params(cfg),
    )


def refusal(scan: FundingScan, busy: dict[str, str], symbol: str) -> str:
    """Why the entry rules do not take ``symbol`` now, as ``scan_funding`` found it."""
    if symbol in busy:
        return f"position {busy[symbol]}"
    kinds = [str(a.kind) for a in scan.anomalies if a.venue == str(VENUE) and a.symbol == symbol]
    if kinds:
        return ", ".join(kinds)
    veto = scan.refused.get((str(VENUE), symbol))
    return veto if veto is not None else "below the entry threshold or not tradable"


async def signal_when_accepted(
    harness: Harness, client: VenueClient, deps: ExecutionDeps, batch: Sequence[str]
) -> dict[str, tuple[datetime, Opportunity]]:
    """Spike ``batch`` and hold it, one snapshot after the other, until the entry rules accept every symbol (or
    ``MAX_SPIKE_SNAPSHOTS``): symbol -> (its signal, the snapshot the rules first accepted it on; its opportunity).
    Warns with the rules' own reason for a symbol they never accepted."""
    spike(harness, batch)
    accepted: dict[str, tuple[datetime, Opportunity]] = {}
    scan = FundingScan([], [])
    for _ in range(MAX_SPIKE_SNAPSHOTS):
        signal_at = await write_signal(client, deps.engine, batch)
        scan = sensor_scan(harness, deps)
        for found in scan.opportunities:
            if found.venue == VENUE and found.symbol in batch and found.symbol not in accepted:
                accepted[found.symbol] = (signal_at, found)
        if len(accepted) == len(batch):
            return accepted
    busy = {p.symbol: p.status for p in positions_with_status(deps.engine, ACTIVE_STATUSES)}
    missing = [s for s in batch if s not in accepted]
    why = ", ".join(f"{s} ({refusal(scan, busy, s)})" for s in missing)
    print(f"    warning: {len(accepted)} signals for {len(batch)} spiked symbols; screened out: {why}")
    return accepted


def spike(harness: Harness, symbols: Sequence[str], rate: float = SPIKE) -> None:
    for symbol in symbols:
        harness.admin.set_funding(VENUE.value, symbol, rate)


def calm(harness: Harness, symbols: Sequence[str]) -> None:
    """No signal anywhere until a round spikes its symbols (the seeded market has extreme stretches of its own)."""
    spike(harness, symbols, CALM)


async def next_settlement(harness: Harness, client: VenueClient, engine: Engine, symbols: Sequence[str]) -> None:
    """Calm every symbol and move simulated time to the next settlement (new signals, new run keys), observing the
    market every half hour on the way as the snapshot asset would: a signal's price is then judged against a recent
    history, not against one from hours before (which the anomaly screen rightly refuses)."""
    calm(harness, symbols)
    for _ in range(OBSERVATIONS_PER_SETTLEMENT):
        harness.admin.advance_hours(8 / OBSERVATIONS_PER_SETTLEMENT)
        await write_signal(client, engine, symbols)
