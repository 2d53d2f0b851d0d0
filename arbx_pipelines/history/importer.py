"""``arbx history import``: parse each file completely, then write all of it in ONE transaction.

A malformed row stops its file before anything of it is written; the other files still import.
``dry_run`` writes inside a transaction that is rolled back, so it reports exactly what an import would add.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.history.formats import parse_file
from arbx_pipelines.history.materializations import covered_partitions
from arbx_pipelines.history.progress import ProgressBar
from arbx_pipelines.history.records import HistoryFormatError
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.funding_history import WriteResult, missing_history_tables, record_history

log = get_logger(__name__)


@dataclass(slots=True)
class FileResult:
    path: str
    format: str = ""
    rows: int = 0
    funding: WriteResult = field(default_factory=lambda: WriteResult(0, 0))
    prices: WriteResult = field(default_factory=lambda: WriteResult(0, 0))
    duplicate_rows: int = 0
    missing_values: int = 0
    error: str | None = None
    partitions: Counter[tuple[str, str]] = field(default_factory=Counter)  #: settlements per (day, venue) written

    @property
    def total(self) -> WriteResult:
        return self.funding + self.prices


def import_files(
    engine: Engine, paths: Sequence[Path], *, dry_run: bool = False, progress: ProgressBar | None = None
) -> list[FileResult]:
    _require_tables(engine)
    results: list[FileResult] = []
    for index, path in enumerate(paths, start=1):
        if progress is not None:
            progress.start_file(index, path.name)
        results.append(import_file(engine, path, dry_run=dry_run, progress=progress))
        if progress is not None:
            progress.finish_file(_size(path))
    if progress is not None:
        progress.close()
    return results


def import_file(
    engine: Engine, path: Path, *, dry_run: bool = False, progress: ProgressBar | None = None
) -> FileResult:
    """Parse ``path`` fully, then write it in one transaction; a format error is returned, never half-written."""
    try:
        parsed = parse_file(path, progress.advance if progress is not None else None)
    except HistoryFormatError as exc:
        log.warning("history file rejected", extra={"path": str(path), "reason": str(exc)})
        return FileResult(path=str(path), error=str(exc))
    if progress is not None:
        progress.stage(f"writing {path.name}")
    result = FileResult(
        path=str(path),
        format=parsed.format,
        rows=parsed.rows,
        duplicate_rows=parsed.duplicate_rows,
        missing_values=parsed.missing_values,
    )
    result.funding, result.prices = record_history(
        engine, parsed.funding, parsed.prices, source=f"import:{parsed.format}", mark_prices=parsed.mark_prices,
        dry_run=dry_run,
    )  # fmt: skip
    if not dry_run and result.funding.inserted:  # a re-import that added nothing materializes nothing
        result.partitions = covered_partitions(parsed.funding)
    log.info(
        "history file imported" if not dry_run else "history file checked (dry run)",
        extra={"path": str(path), "format": parsed.format, "inserted": result.total.inserted,
               "already_present": result.total.already_present, "conflicting": result.total.conflicting},
    )  # fmt: skip
    return result


def _require_tables(engine: Engine) -> None:
    missing = missing_history_tables(engine)
    if missing:
        raise RuntimeError(f"table(s) {', '.join(missing)} missing: run `arbx db upgrade` first")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def describe(result: FileResult) -> str:
    """One line per file: ``path: N rows (inserted X, already present Y)`` and what else is worth knowing."""
    if result.error is not None:
        return result.error
    total = result.total
    parts = [f"{result.format}, {result.rows} lines read"]
    if result.funding.rows:
        parts.append(f"{result.funding.rows} funding settlements (inserted {result.funding.inserted})")
    if result.prices.rows:
        parts.append(f"{result.prices.rows} prices (inserted {result.prices.inserted})")
    if total.conflicting:
        parts.append(f"{total.conflicting} already stored with a DIFFERENT value (kept as stored)")
    if result.duplicate_rows:
        parts.append(f"{result.duplicate_rows} exact repeats within the file (kept once)")
    if result.missing_values:
        parts.append(f"{result.missing_values} blank values (no observation)")
    return (
        f"{result.path}: {total.rows} rows (inserted {total.inserted}, already present {total.already_present})"
        f" [{'; '.join(parts)}]"
    )
