"""Bulk writes on SQLite and PostgreSQL: exact values, idempotent re-imports, conflicts kept and counted."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, func, select

from arbx_pipelines.history.formats import FundingKey, FundingRecord, PriceRecord, parse_file
from arbx_pipelines.history.importer import import_file, import_files
from arbx_pipelines.storage import funding_history as writer
from arbx_pipelines.storage.funding_history import write_funding, write_prices
from arbx_pipelines.storage.models import FundingRateRow, PriceRow

AHA = "data/aha_hh_btc_eth_binance_bybit_okx"
BTC_JSON = "data/binance_usdm_funding_95_symbols_2025/BTCUSDT_funding.json"


def _count(engine: Engine, table: type[FundingRateRow] | type[PriceRow]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def test_shared_files_import_once_and_reimport_adds_nothing(migrated_engine: Engine, shared_dir: Path) -> None:
    aha = shared_dir / AHA
    paths = [
        aha / "all_exchanges.csv",
        aha / "binance_export_BTCUSDT_funding_2019-09-10_2024-08-09.csv",
        shared_dir / BTC_JSON,
    ]
    parsed = [parse_file(p) for p in paths]
    first = import_files(migrated_engine, paths)
    assert [r.error for r in first] == [None, None, None]

    # the export repeats all_exchanges.csv's binance BTC settlements: those are already present, and the ones whose
    # rate differs in the last decimal are kept as first stored and counted
    earlier = {(r.venue, r.symbol, r.funding_time): r.rate for r in parsed[0].funding}
    overlap = [r for r in parsed[1].funding if (r.venue, r.symbol, r.funding_time) in earlier]
    differing = [r for r in overlap if earlier[(r.venue, r.symbol, r.funding_time)] != r.rate]
    assert overlap and differing
    assert first[0].funding.inserted == len(parsed[0].funding)
    assert first[0].prices.inserted == len(parsed[0].prices)
    assert first[1].funding.already_present == len(overlap)
    assert first[1].funding.conflicting == len(differing)
    assert first[2].funding.inserted == len(parsed[2].funding)
    distinct_funding = len({(r.venue, r.symbol, r.funding_time) for p in parsed for r in p.funding})
    assert _count(migrated_engine, FundingRateRow) == distinct_funding
    assert _count(migrated_engine, PriceRow) == len(parsed[0].prices)

    again = import_files(migrated_engine, paths)
    for result, p in zip(again, parsed, strict=True):
        assert result.total.inserted == 0
        assert result.total.already_present == len(p.funding) + len(p.prices)
    assert _count(migrated_engine, FundingRateRow) == distinct_funding

    # values round-trip exactly; the first writer's rate is the one kept
    with migrated_engine.connect() as conn:
        stored = {
            (v, s, t): (rate, interval, mark, source)
            for v, s, t, rate, interval, mark, source in conn.execute(
                select(FundingRateRow.venue, FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.rate,
                       FundingRateRow.interval_hours, FundingRateRow.mark_price, FundingRateRow.source)
            )
        }  # fmt: skip
    for r in parsed[0].funding:
        assert stored[(r.venue, r.symbol, r.funding_time)] == (r.rate, 8, None, "import:all_exchanges_csv")
    for r in parsed[2].funding:
        mark = parsed[2].mark_prices[FundingKey(r.venue, r.symbol, r.funding_time)]
        assert stored[(r.venue, r.symbol, r.funding_time)] == (r.rate, 8, mark, "import:binance_json")


def test_dry_run_counts_without_writing(migrated_engine: Engine, shared_dir: Path) -> None:
    path = shared_dir / BTC_JSON
    result = import_file(migrated_engine, path, dry_run=True)
    assert result.error is None and result.funding.inserted == result.rows > 0
    assert _count(migrated_engine, FundingRateRow) == 0


def test_funding_and_price_csv_with_derived_intervals(migrated_engine: Engine, tmp_path: Path) -> None:
    funding = tmp_path / "funding.csv"
    funding.write_text(
        "symbol,venue,funding_time,rate\n"  # column order is free
        "ETH/USDT:USDT,okx,2024-01-01T00:00:00Z,0.0001\n"
        "ETH/USDT:USDT,okx,2024-01-01T04:00:00+00:00,0.00012\n"
        "ETH/USDT:USDT,okx,1704096000000,-0.00003\n"
        "ETH/USDT:USDT,okx,1704096000000,-0.00003\n"  # an exact repeat is kept once and counted
        "BTC/USDT:USDT,bitget,2024-01-01T00:00:00Z,0.0001\n"
    )
    prices = tmp_path / "prices.csv"
    prices.write_text("venue,symbol,time,close\nbinance,BTC/USDT,2024-01-01T00:00:00Z,42000.5\n"
                      "binance,BTC/USDT:USDT,2024-01-01T00:00:00Z,42010.25\n")  # fmt: skip
    result = import_file(migrated_engine, funding)
    assert result.error is None
    assert (result.rows, result.duplicate_rows, result.funding.inserted) == (5, 1, 4)
    assert import_file(migrated_engine, prices).prices.inserted == 2
    with migrated_engine.connect() as conn:
        rows = conn.execute(
            select(FundingRateRow.symbol, FundingRateRow.funding_time, FundingRateRow.interval_hours)
            .order_by(FundingRateRow.symbol, FundingRateRow.funding_time)
        ).all()  # fmt: skip
        closes = dict(conn.execute(select(PriceRow.symbol, PriceRow.close)).all())
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    assert rows == [
        ("BTC/USDT:USDT", t0, None),  # a lone settlement: interval unknown
        ("ETH/USDT:USDT", t0, 4),
        ("ETH/USDT:USDT", t0 + timedelta(hours=4), 4),
        ("ETH/USDT:USDT", t0 + timedelta(hours=8), 4),
    ]
    assert closes == {"BTC/USDT": Decimal("42000.5"), "BTC/USDT:USDT": Decimal("42010.25")}


def test_partial_overlap_inserts_only_new_keys(migrated_engine: Engine) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    records = [FundingRecord("binance", "X/USDT:USDT", t0 + timedelta(hours=8 * i), Decimal(i) / 10000, 8)
               for i in range(10)]  # fmt: skip
    with migrated_engine.begin() as conn:
        assert write_funding(conn, records[:4], source="t").inserted == 4
    changed = [*records[2:3], FundingRecord("binance", "X/USDT:USDT", records[3].funding_time, Decimal("0.5"), 8)]
    with migrated_engine.begin() as conn:
        result = write_funding(conn, changed + records[4:], source="t")
    assert (result.rows, result.inserted, result.already_present, result.conflicting) == (8, 6, 2, 1)
    with migrated_engine.begin() as conn:
        price = PriceRecord("okx", "X/USDT", t0, Decimal("1.5"))
        assert write_prices(conn, [price], source="t").inserted == 1
        again = write_prices(
            conn, [price, PriceRecord("okx", "X/USDT", t0 + timedelta(hours=1), Decimal("2"))], source="t"
        )
        moved = write_prices(conn, [PriceRecord("okx", "X/USDT", t0, Decimal("1.6"))], source="t")
    assert (again.inserted, again.already_present, again.conflicting) == (1, 1, 0)
    assert (moved.inserted, moved.conflicting) == (0, 1)


def test_jittered_venue_times_are_stored_as_settlement_instants(migrated_engine: Engine) -> None:
    t0 = datetime(2025, 7, 4, 16, tzinfo=UTC)
    rate = Decimal("0.0001")
    jittered = [FundingRecord("binance", "Z/USDT:USDT", t0 + timedelta(hours=8 * i, milliseconds=i + 1), rate, 8)
                for i in range(3)]  # fmt: skip
    with migrated_engine.begin() as conn:
        assert write_funding(conn, jittered, source="venue").inserted == 3
    exact = [FundingRecord(r.venue, r.symbol, r.funding_time.replace(microsecond=0), r.rate, 8) for r in jittered]
    with migrated_engine.begin() as conn:
        again = write_funding(conn, exact, source="import")
    assert (again.inserted, again.already_present) == (0, 3)
    with migrated_engine.connect() as conn:
        stored = conn.execute(select(FundingRateRow.funding_time).order_by(FundingRateRow.funding_time)).scalars().all()
    assert stored == [t0 + timedelta(hours=8 * i) for i in range(3)]


def test_a_failure_after_writing_rolls_the_whole_file_back(migrated_engine: Engine) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    records = [FundingRecord("binance", "X/USDT:USDT", t0, Decimal("0.0001"), 8)]
    with pytest.raises(RuntimeError), migrated_engine.begin() as conn:
        write_funding(conn, records, source="t")
        raise RuntimeError("the prices of the same file failed")
    assert _count(migrated_engine, FundingRateRow) == 0


@pytest.mark.postgres
def test_pg_concurrent_writer_between_check_and_copy(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row committed by someone else after the overlap check makes the direct COPY collide; the savepoint
    hands over to the merge path and the result is still exact."""
    from arbx_pipelines.storage.db import make_engine, upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    records = [
        FundingRecord("okx", "Y/USDT:USDT", t0 + timedelta(hours=8 * i), Decimal("0.0001"), 8) for i in range(50)
    ]
    real_check = writer._pg_any_stored
    schema = pg_url.rsplit("%3D", 1)[1]

    def check_then_race(cur: object, target: object, spans: object) -> bool:
        found = real_check(cur, target, spans)  # type: ignore[arg-type]
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as other:
            other.execute(
                f'INSERT INTO "{schema}".funding_rates (venue, symbol, funding_time, rate, source) '
                "VALUES ('okx', 'Y/USDT:USDT', %s, 0.0002, 'racer')",
                (t0 + timedelta(hours=8 * 49),),
            )
        return found

    monkeypatch.setattr(writer, "_pg_any_stored", check_then_race)
    try:
        with engine.begin() as conn:
            result = write_funding(conn, records, source="t")
        assert (result.inserted, result.already_present, result.conflicting) == (49, 1, 1)
        assert _count(engine, FundingRateRow) == 50
    finally:
        engine.dispose()


def test_copy_escapes_text_fields() -> None:
    assert writer._copy_escape("a\tb\\c\nd") == "a\\tb\\\\c\\nd"


def test_importer_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    from arbx_pipelines.storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(RuntimeError, match="arbx db upgrade"):
        import_files(engine, [tmp_path / "x.csv"])
    shutil.rmtree(tmp_path, ignore_errors=True)
