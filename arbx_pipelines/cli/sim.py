"""``arbx sim``: serve the simulated Binance, OKX and Bitget venues on loopback until interrupted.

Prints the URL of each venue and the credentials a ccxt client needs (they are the simulator's own, not secrets).
The simulated world (accounts, orders, positions, ledgers, overrides, clock) is kept in ``<data_dir>/sim/world.json``
and continued at the next start; ``--reset`` starts a fresh one, ``--ephemeral`` keeps it in memory only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.logs import get_logger

log = get_logger("arbx.sim")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sim = sub.add_parser("sim", help="serve the simulated venues (Binance, OKX, Bitget REST) on loopback")
    sim.add_argument("--host", default=None, help="bind address (default: simulator.host, 127.0.0.1)")
    sim.add_argument("--port", type=int, default=None, help="port (default: simulator.port, 8700)")
    sim.add_argument("--seed", type=int, default=None, help="market seed (default: simulator.seed)")
    sim.add_argument("--speed", type=float, default=None, help="simulated seconds per real second")
    sim.add_argument("--history-dir", default=None, help="real history to replay (default: ../shared/data)")
    sim.add_argument("--no-history", action="store_true", help="seeded generator only, no replay")
    sim.add_argument("--state", default=None, help="the saved world (default: <data_dir>/sim/world.json)")
    world = sim.add_mutually_exclusive_group()
    world.add_argument("--reset", action="store_true", help="start a fresh world (the saved one is replaced)")
    world.add_argument("--ephemeral", action="store_true", help="keep the world in memory only (benchmarks)")
    sim.set_defaults(handler=_sim)


def _sim(args: argparse.Namespace) -> int:
    from arbx_pipelines.venues.sim.server import SimServer, serve_forever
    from arbx_pipelines.venues.sim.settings import SimSettings
    from arbx_pipelines.venues.sim.world import WorldError

    loaded = load_config(args.config)
    overrides: dict[str, object] = {}
    for name in ("host", "port", "seed", "speed"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.port is not None and not 0 <= args.port <= 65535:
        raise CliError(f"--port must be in 0..65535, got {args.port}")
    if args.speed is not None and args.speed <= 0:
        raise CliError(f"--speed must be positive, got {args.speed}")
    if args.no_history:
        overrides["history_dir"] = None
    elif args.history_dir:
        overrides["history_dir"] = Path(args.history_dir).resolve()
    if not args.ephemeral:
        state = Path(args.state).resolve() if args.state else loaded.data_dir / "sim" / "world.json"
        overrides["state_path"] = state
        try:
            state.parent.mkdir(parents=True, exist_ok=True)
            if args.reset:
                state.unlink(missing_ok=True)
        except OSError as exc:
            raise CliError(f"cannot use {state} for the simulator's world: {exc.strerror or exc}") from exc
    settings = SimSettings.from_config(
        loaded.config.simulator, base_dir=loaded.base_dir, venues_config=loaded.config.venues, **overrides
    )

    def announce(server: SimServer) -> None:
        print(f"arbx simulated venues on {server.base_url} (seed {settings.seed}, speed {settings.speed}x)")
        print(f"  world    {settings.state_path or 'in memory only'}")
        for venue in server.simulator.venues:
            print(f"  {venue:8s} {server.url(venue)}")
        print(f"  admin    {server.base_url}/_admin/state")
        print(f"credentials: apiKey={settings.api_key} secret={settings.secret} passphrase={settings.passphrase}")
        print("press Ctrl+C to stop", flush=True)

    try:
        serve_forever(settings, on_ready=announce)
    except WorldError as exc:
        raise CliError(f"{exc}; `arbx sim --reset` starts a fresh world") from exc
    except OSError as exc:
        raise CliError(f"cannot serve on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    return 0
