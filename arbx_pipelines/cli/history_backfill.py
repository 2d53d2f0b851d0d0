"""``arbx history backfill --days N``: the funding_history backfill of the last N days on every venue, run by
Dagster's own CLI in the project's instance, so the run shows in the UI like one started there."""

from __future__ import annotations

import argparse
import os
import subprocess
from datetime import date
from pathlib import Path

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.instance import default_dagster_home, ensure_dagster_home
from arbx_pipelines.marketdata.backfill import dagster_backfill_command, last_complete_day, partition_range
from arbx_pipelines.storage.db import upgrade


def add_backfill_parser(history_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backfill = history_sub.add_parser(
        "backfill",
        help="fetch settled funding of every perpetual from the venues for the last N days (one Dagster run)",
    )
    backfill.add_argument("--days", type=int, default=90, help="days to fetch, ending yesterday (default 90)")
    backfill.add_argument("--end", type=date.fromisoformat, help="last day (YYYY-MM-DD, UTC; default yesterday)")
    backfill.set_defaults(handler=_backfill)


def _backfill(args: argparse.Namespace) -> int:
    if args.days < 1:
        raise CliError(f"--days must be at least 1, got {args.days}")
    from arbx_pipelines.assets.funding_history import HISTORY_START  # dagster: only for this command

    last = args.end or last_complete_day()
    first_day = date.fromisoformat(HISTORY_START)
    most = (last - first_day).days + 1
    if args.days > most:
        raise CliError(
            f"--days {args.days} reaches back before {HISTORY_START}, where funding history starts; "
            f"at most {max(most, 0)} days end on {last.isoformat()}"
        )
    loaded = load_config(args.config)
    upgrade(loaded.database_url)
    start, end = partition_range(args.days, args.end)
    home = ensure_dagster_home(default_dagster_home(loaded.base_dir))
    env = dict(os.environ, DAGSTER_HOME=str(home))
    if args.config:
        env["ARBX_CONFIG"] = str(Path(args.config).resolve())
    print(f"backfilling funding_history {start} ... {end} in {home}")
    command = dagster_backfill_command(args.days, args.end)
    return subprocess.run(command, env=env, cwd=loaded.base_dir, check=False).returncode
