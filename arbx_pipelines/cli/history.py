"""``arbx history import FILE... [--dry-run]`` and ``arbx history stats``: recorded funding and price history."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.cli.history_backfill import add_backfill_parser
from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.history.checks import SymbolHistoryCheck, check_funding_history
from arbx_pipelines.history.importer import FileResult, describe, import_files
from arbx_pipelines.history.materializations import record_import_materializations
from arbx_pipelines.history.progress import ProgressBar
from arbx_pipelines.instance import default_dagster_home, ensure_dagster_home
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.funding import SeriesStats, funding_stats
from arbx_pipelines.storage.prices import price_stats


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
    check = history_sub.add_parser(
        "check", help="gaps, duplicated settlements and rates beyond the venue's cap (exit 1 on findings)"
    )
    check.add_argument("--venue", help="only this venue")
    check.add_argument("--freshness", action="store_true", help="also flag symbols whose next settlement is overdue")
    check.add_argument("--all", action="store_true", help="print every symbol, not only those with findings")
    check.add_argument(
        "--since", type=_since, metavar="DATE", help="only settlements from DATE on (YYYY-MM-DD or ISO time, UTC)"
    )
    check.set_defaults(handler=_check)
    add_backfill_parser(history_sub)


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
    _record_materializations(args, results)
    if len(results) > 1:
        inserted = sum(r.total.inserted for r in results if r.error is None)
        present = sum(r.total.already_present for r in results if r.error is None)
        verb = "would insert" if args.dry_run else "inserted"
        print(f"{len(results) - failed} of {len(results)} files imported: {verb} {inserted}, already present {present}")
    return 2 if failed else 0


def _record_materializations(args: argparse.Namespace, results: list[FileResult]) -> None:
    """Each imported partition shows as materialized on the ``funding_history`` asset in the Dagster UI."""
    partitions: Counter[tuple[str, str]] = Counter()
    for result in results:
        partitions.update(result.partitions)
    if not partitions:
        return
    loaded = load_config(args.config)
    home = ensure_dagster_home(default_dagster_home(loaded.base_dir))
    source = ", ".join(Path(r.path).name for r in results if r.partitions)
    recorded = record_import_materializations(home, partitions, source)
    print(f"funding_history: {recorded} partitions (day x venue) recorded as materialized in Dagster")


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


def _check(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    config = loaded.config
    engine = make_engine(loaded.database_url)
    try:
        results = check_funding_history(
            engine,
            now=datetime.now(UTC) if args.freshness else None,
            venue=args.venue,
            since=args.since,
            rate_caps=config.history.rate_caps,
            grace=timedelta(minutes=config.history.freshness_grace_minutes),
        )
    finally:
        engine.dispose()
    failed = [r for r in results if not r.passed]
    print(check_summary(results, args.since))
    for r in results if args.all else failed:
        print(_check_line(r))
    return 1 if failed else 0


def _since(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_summary(results: list[SymbolHistoryCheck], since: datetime | None) -> str:
    """The first thing ``arbx history check`` prints: how many symbols, how many with findings, of which kind."""
    failed = [r for r in results if not r.passed]
    scope = f" since {since:%Y-%m-%d %H:%M}" if since is not None else ""
    line = f"{len(results)} symbols checked{scope}, {len(failed)} with findings"
    kinds = {
        "missing settlements": sum(len(r.missing) for r in results),
        "duplicated settlements": sum(len(r.duplicates) for r in results),
        "rates beyond the cap": sum(len(r.out_of_range) for r in results),
        "stale symbols": sum(1 for r in results if r.overdue_by),
    }
    found = [f"{count} {kind}" for kind, count in kinds.items() if count]
    return line + (f": {', '.join(found)}" if found else "")


def _check_line(r: SymbolHistoryCheck) -> str:
    parts = [f"{r.settlements} settlements"]
    if r.missing:
        parts.append(f"{len(r.missing)} missing (first {r.missing[0]:%Y-%m-%d %H:%M})")
    if r.duplicates:
        parts.append(f"{len(r.duplicates)} duplicated (first {r.duplicates[0]:%Y-%m-%d %H:%M})")
    if r.out_of_range:
        worst = max(r.out_of_range, key=lambda o: abs(o.rate))
        parts.append(
            f"{len(r.out_of_range)} beyond the cap ±{worst.cap} (worst {worst.rate} at {worst.time:%Y-%m-%d %H:%M})"
        )
    if r.overdue_by:
        parts.append(f"stale: next settlement overdue by {r.overdue_by}")
    return f"{r.venue} {r.symbol}: {', '.join(parts)}"
