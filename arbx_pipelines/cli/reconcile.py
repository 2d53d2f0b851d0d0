"""``arbx reconcile [--venue V] [--json]``: reconcile now, the same code as the ``reconcile`` job, on every enabled
venue (or one): settle what the venue answered, finish interrupted executions, mark open positions the venue does
not hold, and report exposure nobody can explain. Exit 0 when venue and records agree, 3 when unknown exposure (or
an execution still waiting for the venue) remains.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import Any

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.config.startup import require_live_opt_in
from arbx_pipelines.core.models import Venue
from arbx_pipelines.definitions import build_resources
from arbx_pipelines.execution.context import deps_from_config
from arbx_pipelines.execution.reconcile import ReconcileReport
from arbx_pipelines.execution.reconcile_all import reconcile_all
from arbx_pipelines.resources.exchange import ExchangesResource
from arbx_pipelines.storage.db import upgrade

UNEXPLAINED = 3


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("reconcile", help="reconcile the venues with the records now; exit 3 on unknown exposure")
    parser.add_argument("--venue", choices=[v.value for v in Venue], help="only this venue (default: every enabled)")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument("--live", action="store_true", help="required in live mode: reconcile may place corrections")
    parser.set_defaults(handler=_reconcile)


def _lines(report: ReconcileReport) -> list[str]:
    lines = [
        f"{report.venue}: {report.orders_checked} orders checked ({report.orders_updated} updated, "
        f"{report.orders_abandoned} abandoned), {len(report.executions_repaired)} executions repaired, "
        f"{report.funding_recorded} funding payments"
    ]
    lines += [f"  repaired {key}" for key in report.executions_repaired]
    lines += [f"  position {pid} broken (needs attention)" for pid in report.positions_broken]
    lines += [f"  waiting for the venue: {key}" for key in report.pending]
    lines += [f"  skipped (a live run holds it): {key}" for key in report.skipped]
    lines += [
        f"  position {m['position_id']} {m['symbol']} missing on the venue (perp {m['venue_perp']} of "
        f"{m['recorded_perp']}, spot {m['venue_spot']} of {m['recorded_spot']})"
        for m in report.missing_positions
    ]
    lines += [
        f"  UNKNOWN EXPOSURE {e['symbol']} {e['kind']}: {e['unknown_amount']} (venue {e['venue_amount']}, "
        f"recorded {e['recorded_amount']})"
        for e in report.unknown_exposure
    ]
    lines += [
        f"  inventory missing {m['coin']}: {m['venue_amount']} held, {m['expected_amount']} expected"
        for m in report.missing_inventory
    ]
    return lines


def _reconcile(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    require_live_opt_in(loaded, args.live)  # reconcile may place corrections: live needs --live like every start
    enabled = [v.value for v in loaded.config.enabled_venues()]
    if args.venue and args.venue not in enabled:
        raise CliError(f"--venue {args.venue} is not enabled; enabled: {', '.join(enabled)}")
    upgrade(loaded.database_url)
    exchanges = build_resources(loaded, args.config, live_opt_in=args.live)["exchanges"]
    assert isinstance(exchanges, ExchangesResource)
    deps = deps_from_config(loaded)
    deps.run_id = "cli-reconcile"
    venues = [args.venue] if args.venue else enabled
    reports, failed = asyncio.run(reconcile_all(deps, venues, exchanges.client))
    agrees = not failed and all(r.agrees for r in reports)
    if args.json:
        payload: dict[str, Any] = {
            "agrees": agrees,
            "venues": [asdict(r) | {"agrees": r.agrees} for r in reports],
            "unreachable": failed,
        }
        print(json.dumps(payload, indent=2, default=str))
    else:
        for report in reports:
            print("\n".join(_lines(report)))
        for venue, error in failed.items():
            print(f"{venue}: not reconciled ({error})")
        print("venue and records agree" if agrees else "exposure or executions left unexplained (exit 3)")
    return 0 if agrees else UNEXPLAINED
