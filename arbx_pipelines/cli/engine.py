"""``arbx engine [--seconds N] [--live]``: run the spot arbitrage engine in the foreground.

It needs ``spread`` active (``spread.enabled``; unset means on in sim mode only) and, in sim mode, the simulator
running (``arbx sim`` or ``arbx run``). Live mode needs ``--live`` at each start plus the config opt-in. Ctrl-C (or
``--seconds``) stops new entries, lets running arbitrages finish and prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
from decimal import Decimal

from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.config.secrets import load_secrets
from arbx_pipelines.config.startup import require_live_opt_in
from arbx_pipelines.core.models import Mode
from arbx_pipelines.engine.books import stream_client
from arbx_pipelines.engine.detector import DetectionLimits
from arbx_pipelines.engine.executor import ExecutorSettings
from arbx_pipelines.engine.service import SpotEngine
from arbx_pipelines.execution.context import deps_from_config
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.venues import make_client


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    engine = sub.add_parser("engine", help="run the spot arbitrage engine (WebSocket books, IOC on two venues)")
    engine.add_argument("--seconds", type=float, default=None, help="stop after this long (default: run until Ctrl-C)")
    engine.add_argument("--live", action="store_true", help="the live-trading opt-in for this start")
    engine.set_defaults(handler=_run)


def _run_id() -> str:
    """Unique per start: execution keys (``spot-<run id>-<n>``) restart their count with each engine, and the
    heartbeat's run id tells reconcile which arbitrages belong to the engine it shows."""
    return f"engine-{secrets.token_hex(4)}"


def _credentials(loaded: LoadedConfig, mode: Mode) -> dict[str, dict[str, str]]:
    if mode is Mode.SIM:
        sim = loaded.config.simulator
        shared = {"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}
        return {venue.value: shared for venue in loaded.config.enabled_venues()}
    return {venue: dict(values) for venue, values in load_secrets(loaded).items()}


async def _engine(loaded: LoadedConfig, mode: Mode, seconds: float | None) -> dict[str, object]:
    cfg = loaded.config
    sim_url = f"http://{cfg.simulator.host}:{cfg.simulator.port}" if mode is Mode.SIM else None
    credentials = _credentials(loaded, mode)
    venues = cfg.enabled_venues()
    clients = {v.value: make_client(v, mode, credentials=credentials.get(v.value), sim_url=sim_url) for v in venues}
    streams = {v.value: stream_client(clients[v.value].ccxt_id, mode, sim_url) for v in venues}
    deps = deps_from_config(loaded, engine=make_engine(loaded.database_url, low_latency=True))
    limits = DetectionLimits(cfg.spread.min_profit_rate, cfg.spread.min_profit_usdt, Decimal(cfg.risk.max_trade_usdt),
                             cfg.spread.max_book_skew_ms)  # fmt: skip
    settings = ExecutorSettings(max_in_flight=cfg.spread.max_in_flight,
                                task_timeout_s=cfg.spread.task_timeout_seconds, run_id=_run_id(),
                                min_profit_rate=cfg.spread.min_profit_rate,
                                send_deadline_s=cfg.spread.send_deadline_ms / 1000)  # fmt: skip
    engine = SpotEngine(deps, clients, streams, cfg.spread.symbols, limits, settings)
    try:
        stats = await engine.run(seconds)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()), *(s.close() for s in streams.values()))
    return stats.summary()


def _run(args: argparse.Namespace) -> int:
    from arbx_pipelines.cli.main import CliError

    loaded = load_config(args.config)
    mode = loaded.config.mode
    if not loaded.config.spread.active(mode):
        raise CliError(f"spread is off in {mode.value} mode (set spread.enabled: true to run the engine)")
    if mode is Mode.PAPER:
        raise CliError("the spot engine trades in sim, demo or live mode, not paper")
    if mode is Mode.LIVE:
        require_live_opt_in(loaded, args.live)
    upgrade(loaded.database_url)
    summary = asyncio.run(_engine(loaded, mode, args.seconds))
    print(json.dumps(summary, indent=2))
    return 0
