"""Bulk upserts of funding settlements and prices, idempotent on their natural keys.

PostgreSQL: when no offered key can already be stored (checked per symbol over the offered time span), COPY straight
into the table; otherwise COPY into a temporary table and ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
SQLite: batched ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING``.

Loads are fastest with records sorted by key, as the parsers return them: a million settlements COPYed in
(venue, symbol, time) order cost the server about 4 CPU-seconds, in time order over 6 (primary-key inserts then
hop between symbols).

Rows whose key is already stored are left exactly as they are: a re-import adds and changes nothing. A key stored
with a DIFFERENT value is also kept as stored (first writer wins, no silent overwrite) and counted as
``conflicting`` so the caller can report it. The caller owns the transaction (``engine.begin()``), so everything of
one file is written or nothing is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, func, inspect, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from arbx_pipelines.core.funding_history import settlement_instant
from arbx_pipelines.history.records import FundingKey, FundingRecord, PriceRecord
from arbx_pipelines.storage.models import FundingRateRow, PriceRow

SQLITE_BATCH = 5_000
_COPY_CHUNK = 20_000
_FUNDING: Table = FundingRateRow.__table__  # type: ignore[assignment]
_PRICES: Table = PriceRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class WriteResult:
    rows: int  #: records offered
    inserted: int
    conflicting: int = 0  #: already stored with a different value (kept as stored)

    @property
    def already_present(self) -> int:
        return self.rows - self.inserted

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.rows + other.rows, self.inserted + other.inserted, self.conflicting + other.conflicting)


def write_funding(
    conn: Connection,
    records: Sequence[FundingRecord],
    *,
    source: str,
    mark_prices: Mapping[FundingKey, Decimal] | None = None,
) -> WriteResult:
    """Insert the settlements not stored yet; keyed on (venue, symbol, funding_time).

    Funding times are stored as settlement instants (:func:`settlement_instant`: UTC, whole minute) whoever the
    caller is, so a venue's millisecond jitter never creates a second row for one settlement.
    """
    if not records:
        return WriteResult(0, 0)
    records = _as_settlements(records)
    marks = mark_prices or {}
    if conn.dialect.name == "postgresql":
        spans = _spans((r.venue, r.symbol, r.funding_time) for r in records)
        return _pg_load(conn, _PG_FUNDING, lambda: _funding_lines(records, marks, source), len(records), spans)
    conflicting = _sqlite_conflicts(
        conn, _FUNDING, "funding_time", "rate", ((r.venue, r.symbol, r.funding_time, r.rate) for r in records)
    )
    params = [
        {
            "venue": r.venue, "symbol": r.symbol, "funding_time": r.funding_time, "rate": r.rate,
            "interval_hours": r.interval_hours, "source": source,
            "mark_price": marks.get(FundingKey(r.venue, r.symbol, r.funding_time)),
        }
        for r in records
    ]  # fmt: skip
    inserted = _sqlite_insert(conn, _FUNDING, ("venue", "symbol", "funding_time"), params)
    return WriteResult(len(records), inserted, conflicting)


def _as_settlements(records: Sequence[FundingRecord]) -> Sequence[FundingRecord]:
    if all(r.funding_time.second == 0 and r.funding_time.microsecond == 0 for r in records):
        return records
    return [
        r
        if r.funding_time.second == 0 and r.funding_time.microsecond == 0
        else FundingRecord(r.venue, r.symbol, settlement_instant(r.funding_time), r.rate, r.interval_hours)
        for r in records
    ]


def write_prices(conn: Connection, records: Sequence[PriceRecord], *, source: str) -> WriteResult:
    """Insert the closes not stored yet; keyed on (venue, symbol, time)."""
    if not records:
        return WriteResult(0, 0)
    if conn.dialect.name == "postgresql":
        spans = _spans((r.venue, r.symbol, r.time) for r in records)
        return _pg_load(conn, _PG_PRICES, lambda: _price_lines(records, source), len(records), spans)
    conflicting = _sqlite_conflicts(
        conn, _PRICES, "time", "close", ((r.venue, r.symbol, r.time, r.close) for r in records)
    )
    params = [
        {"venue": r.venue, "symbol": r.symbol, "time": r.time, "close": r.close, "source": source} for r in records
    ]
    inserted = _sqlite_insert(conn, _PRICES, ("venue", "symbol", "time"), params)
    return WriteResult(len(records), inserted, conflicting)


# --- PostgreSQL: COPY (straight into the table when no key can collide, else via a temporary table) ---------------


@dataclass(frozen=True, slots=True)
class _PgTarget:
    table: str
    time_col: str
    value_col: str
    columns: str  #: in COPY line order
    temp_columns: str


_PG_FUNDING = _PgTarget(
    table="funding_rates",
    time_col="funding_time",
    value_col="rate",
    columns="venue, symbol, funding_time, rate, interval_hours, mark_price, source",
    temp_columns="venue text, symbol text, funding_time timestamptz, rate numeric, interval_hours integer, "
    "mark_price numeric, source text",
)
_PG_PRICES = _PgTarget(
    table="prices",
    time_col="time",
    value_col="close",
    columns="venue, symbol, time, close, source",
    temp_columns="venue text, symbol text, time timestamptz, close numeric, source text",
)
_Spans = dict[tuple[str, str], list[datetime]]


def _spans(keys: Iterable[tuple[str, str, datetime]]) -> _Spans:
    """The [first, last] time offered per (venue, symbol)."""
    spans: _Spans = {}
    for venue, symbol, time in keys:
        span = spans.get((venue, symbol))
        if span is None:
            spans[(venue, symbol)] = [time, time]
        elif time < span[0]:
            span[0] = time
        elif time > span[1]:
            span[1] = time
    return spans


def _pg_load(
    conn: Connection, target: _PgTarget, lines: Callable[[], Iterator[str]], rows: int, spans: _Spans
) -> WriteResult:
    import psycopg  # the PostgreSQL path only: the driver (~20 MB) stays out of every SQLite process

    raw: Any = conn.connection.driver_connection  # psycopg.Connection, inside the caller's transaction
    with raw.cursor() as cur:
        if not _pg_any_stored(cur, target, spans):
            # Nothing stored in the offered spans: COPY straight into the table. A row written concurrently since
            # the check makes the COPY fail on the unique key; the savepoint then lets the merge path take over.
            cur.execute("SAVEPOINT arbx_direct_copy")
            try:
                _pg_copy(cur, f"{target.table} ({target.columns})", lines())
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT arbx_direct_copy")
            else:
                cur.execute("RELEASE SAVEPOINT arbx_direct_copy")
                return WriteResult(rows, rows, 0)
        return _pg_merge(cur, target, lines(), rows)


def _pg_any_stored(cur: Any, target: _PgTarget, spans: _Spans) -> bool:
    venues, symbols, firsts, lasts = [], [], [], []
    for (venue, symbol), (first, last) in spans.items():
        venues.append(venue)
        symbols.append(symbol)
        firsts.append(first)
        lasts.append(last)
    cur.execute(
        f"SELECT EXISTS (SELECT 1 FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
        f"AS s(venue, symbol, first, last) JOIN {target.table} t ON t.venue = s.venue AND t.symbol = s.symbol "
        f"AND t.{target.time_col} BETWEEN s.first AND s.last)",
        (venues, symbols, firsts, lasts),
    )
    return bool(cur.fetchone()[0])


def _pg_merge(cur: Any, target: _PgTarget, lines: Iterator[str], rows: int) -> WriteResult:
    """COPY into a temporary table, insert the new keys, count stored keys holding another value."""
    temp, time_col, value_col = f"arbx_load_{target.table}", target.time_col, target.value_col
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {temp} ({target.temp_columns}) ON COMMIT DROP")
    cur.execute(f"TRUNCATE {temp}")
    _pg_copy(cur, temp, lines)
    cur.execute("SET LOCAL work_mem = '256MB'")
    cur.execute(
        f"INSERT INTO {target.table} ({target.columns}) SELECT {target.columns} FROM {temp} "
        f"ORDER BY venue, symbol, {time_col} ON CONFLICT (venue, symbol, {time_col}) DO NOTHING"
    )
    inserted = int(cur.rowcount)
    cur.execute(
        f"SELECT count(*) FROM {temp} l JOIN {target.table} t USING (venue, symbol, {time_col}) "
        f"WHERE t.{value_col} <> l.{value_col}"
    )
    conflicting = int(cur.fetchone()[0])
    cur.execute("RESET work_mem")
    cur.execute(f"TRUNCATE {temp}")
    return WriteResult(rows, inserted, conflicting)


def _pg_copy(cur: Any, destination: str, lines: Iterator[str]) -> None:
    with cur.copy(f"COPY {destination} FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= _COPY_CHUNK:
                copy.write("".join(chunk))
                chunk.clear()
        if chunk:
            copy.write("".join(chunk))


_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_escape(text: str) -> str:
    """COPY text format: backslash, tab and line breaks are escaped; everything else is literal."""
    return text.translate(_ESCAPES)


#: distinct timestamps whose ISO text is kept while formatting (formatting an aware datetime costs microseconds,
#: and the settlement times of one load repeat across its symbols)
_TIME_TEXTS_KEPT = 200_000


def _funding_lines(records: Sequence[FundingRecord], marks: Mapping[FundingKey, Decimal], source: str) -> Iterator[str]:
    """COPY text lines in ``_PG_FUNDING.columns`` order. Hot loop: a million rows, so lookups are inlined."""
    tail = f"\t{_copy_escape(source)}\n"
    texts: dict[datetime, str] = {}
    last_venue = last_symbol = None
    prefix = ""
    for r in records:
        if r.symbol is not last_symbol or r.venue is not last_venue:
            last_venue, last_symbol = r.venue, r.symbol
            prefix = f"{_copy_escape(r.venue)}\t{_copy_escape(r.symbol)}\t"
        time = r.funding_time
        text = texts.get(time)
        if text is None:
            if len(texts) >= _TIME_TEXTS_KEPT:
                texts.clear()
            text = texts[time] = time.isoformat()
        interval = _NULL if r.interval_hours is None else r.interval_hours
        mark = marks.get(FundingKey(r.venue, r.symbol, time)) if marks else None
        yield f"{prefix}{text}\t{r.rate}\t{interval}\t{_NULL if mark is None else mark}{tail}"


def _price_lines(records: Sequence[PriceRecord], source: str) -> Iterator[str]:
    """COPY text lines in ``_PG_PRICES.columns`` order."""
    tail = f"\t{_copy_escape(source)}\n"
    texts: dict[datetime, str] = {}
    last_venue = last_symbol = None
    prefix = ""
    for r in records:
        if r.symbol is not last_symbol or r.venue is not last_venue:
            last_venue, last_symbol = r.venue, r.symbol
            prefix = f"{_copy_escape(r.venue)}\t{_copy_escape(r.symbol)}\t"
        time = r.time
        text = texts.get(time)
        if text is None:
            if len(texts) >= _TIME_TEXTS_KEPT:
                texts.clear()
            text = texts[time] = time.isoformat()
        yield f"{prefix}{text}\t{r.close}{tail}"


# --- SQLite: batched executemany -----------------------------------------------------------------------------------


def _sqlite_insert(conn: Connection, table: Table, key: tuple[str, ...], params: list[dict[str, Any]]) -> int:
    raw: Any = conn.connection.driver_connection  # sqlite3.Connection: total_changes counts rows really inserted
    before = int(raw.total_changes)
    statement = sqlite_insert(table).on_conflict_do_nothing(index_elements=list(key))
    for start in range(0, len(params), SQLITE_BATCH):
        conn.execute(statement, params[start : start + SQLITE_BATCH])
    return int(raw.total_changes) - before


def _sqlite_conflicts(
    conn: Connection, table: Table, time_col: str, value_col: str, keyed: Iterable[tuple[str, str, datetime, Decimal]]
) -> int:
    """How many offered rows hit a stored key with a different value (read per symbol over the offered span)."""
    offered: dict[tuple[str, str], dict[datetime, Decimal]] = defaultdict(dict)
    for venue, symbol, time, value in keyed:
        offered[(venue, symbol)][time] = value
    conflicting = 0
    for (venue, symbol), values in offered.items():
        query = select(table.c[time_col], table.c[value_col]).where(
            and_(
                table.c.venue == venue,
                table.c.symbol == symbol,
                table.c[time_col] >= min(values),
                table.c[time_col] <= max(values),
            )
        )
        for time, stored in conn.execute(query):
            mine = values.get(time)
            if mine is not None and mine != stored:
                conflicting += 1
    return conflicting


class _DryRunRollback(Exception):
    """Raised inside the transaction of a dry run so it is rolled back."""


def record_history(
    engine: Engine,
    funding: Sequence[FundingRecord],
    prices: Sequence[PriceRecord],
    *,
    source: str,
    mark_prices: Mapping[FundingKey, Decimal] | None = None,
    dry_run: bool = False,
) -> tuple[WriteResult, WriteResult]:
    """Settlements and prices of one file in ONE transaction (all or nothing); a dry run counts, then rolls back."""
    results = (WriteResult(0, 0), WriteResult(0, 0))
    try:
        with engine.begin() as conn:
            results = (
                write_funding(conn, funding, source=source, mark_prices=mark_prices),
                write_prices(conn, prices, source=source),
            )
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return results


def record_funding(engine: Engine, records: Sequence[FundingRecord], source: str) -> WriteResult:
    """Settlements fetched from a venue, in one transaction."""
    with engine.begin() as conn:
        return write_funding(conn, records, source=source)


def missing_history_tables(engine: Engine) -> list[str]:
    """The history tables a database lacks (before ``arbx db upgrade``)."""
    with engine.connect() as conn:
        return [t for t in ("funding_rates", "prices") if not inspect(conn).has_table(t)]


def insert_funding_row_by_row(engine: Engine, records: Sequence[FundingRecord], source: str) -> int:
    """The naive way, for the ingest bench's comparison: one ORM object and one INSERT per row; returns rows stored."""
    with Session(engine) as session, session.begin():
        for r in records:
            session.add(
                FundingRateRow(
                    venue=r.venue, symbol=r.symbol, funding_time=r.funding_time, rate=r.rate,
                    interval_hours=r.interval_hours, source=source,
                )
            )  # fmt: skip
            session.flush()
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(FundingRateRow)) or 0)


def delete_all_funding(engine: Engine) -> None:
    """Empty ``funding_rates`` (PostgreSQL; the ingest bench's scratch schema between measurements)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE funding_rates")
