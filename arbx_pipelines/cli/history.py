"""``arbx history import FILE... [--dry-run]`` and ``arbx history stats``: recorded funding and price history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.history.importer import describe, import_files
from arbx_pipelines.history.progress import ProgressBar
from arbx_pipelines.history.stats import SeriesStats, funding_stats, price_stats
from arbx_pipelines.storage.db import make_engine


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    history = sub.add_parser("history", help="import and inspect recorded funding and price history")
    history_sub = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    imp = history_sub.add_parser(
        "import",
        help="import funding/price files (CSV, Binance JSON, the recorded ../shared/data layouts)",
        description="Each file is validated completely, then written in one transaction; a malformed row stops "
        "that file (file:line: reason) and nothing of it is written. Re-importing adds nothing.",
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="validate and count, then roll back")
    imp.add_argument("--progress", action="store_true", help="show the progress bar even when not on a terminal")
    imp.set_defaults(handler=_import)
    stats = history_sub.add_parser("stats", help="stored rows per venue, symbol and funding interval")
    stats.set_defaults(handler=_stats)


def _engine(args: argparse.Namespace) -> Engine:
    return make_engine(load_config(args.config).database_url)


def _import(args: argparse.Namespace) -> int:
    paths: list[Path] = args.files
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CliError(f"no such file: {', '.join(missing)}")
    engine = _engine(args)
    total = sum(p.stat().st_size for p in paths)
    progress = ProgressBar(total, len(paths), force=args.progress)
    try:
        results = import_files(engine, paths, dry_run=args.dry_run, progress=progress)
    except RuntimeError as exc:
        raise CliError(str(exc)) from exc
    finally:
        engine.dispose()
    failed = 0
    for result in results:
        if result.error is not None:
            failed += 1
            print(f"arbx: {result.error}", file=sys.stderr)
        else:
            print(("(dry run) " if args.dry_run else "") + describe(result))
    if len(results) > 1:
        inserted = sum(r.total.inserted for r in results if r.error is None)
        present = sum(r.total.already_present for r in results if r.error is None)
        verb = "would insert" if args.dry_run else "inserted"
        print(f"{len(results) - failed} of {len(results)} files imported: {verb} {inserted}, already present {present}")
    return 2 if failed else 0


def _stats(args: argparse.Namespace) -> int:
    engine = _engine(args)
    try:
        funding, prices = funding_stats(engine), price_stats(engine)
    finally:
        engine.dispose()
    print(f"funding_rates: {sum(s.rows for s in funding)} rows")
    print(f"  {'venue':<8} {'symbol':<22} {'interval':>8} {'rows':>8}  first .. last (UTC)")
    for s in funding:
        print(_line(s, f"{s.interval_hours}h" if s.interval_hours else "?"))
    print(f"prices: {sum(s.rows for s in prices)} rows")
    for s in prices:
        print(_line(s, ""))
    return 0


def _line(s: SeriesStats, interval: str) -> str:
    span = f"{s.first:%Y-%m-%d %H:%M} .. {s.last:%Y-%m-%d %H:%M}"
    return f"  {s.venue:<8} {s.symbol:<22} {interval:>8} {s.rows:>8}  {span}"
