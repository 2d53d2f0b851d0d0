"""Every file of ../shared/data parses with the row counts its SOURCE.txt documents, in UTC, on the settlement grid.

Counts were checked independently of the parser: ``csv`` row counts in Python, ``jq -s 'map(length)|add'`` for the
JSON folder (19018 elements), and ``wc -l``. Two documented counts are one short: SOURCE.txt gives 5385 and 999 rows
for the Binance exports, but both files have 5386 and 1000 data rows (their last line has no final newline, so
``wc -l`` minus the header undercounts by one); the tests assert the true counts and the documented ones + 1.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from arbx_pipelines.history.formats import ParsedFile, detect_format, parse_file, read_funding, read_prices

AHA = "data/aha_hh_btc_eth_binance_bybit_okx"
BINANCE_95 = "data/binance_usdm_funding_95_symbols_2025"
#: SOURCE.txt: "1642 bars per series, 18 series, 29556 rows"; 12 of the 18 series are perpetuals
ALL_EXCHANGES_ROWS, BARS, SERIES, PERP_SERIES = 29556, 1642, 18, 12
#: SOURCE.txt: basis hourly "26285 rows"; 3 price series (spot, USDT perp, coin perp)
BASIS_ROWS = 26285
#: SOURCE.txt: "BTCUSDT ... (5385 rows ...)", "BTCUSD CM ... (999 rows)"; one short each, see the module docstring
EXPORT_ROWS_DOCUMENTED = {"BTCUSDT": 5385, "BTCUSD_CM": 999}
#: SOURCE.txt: "Nine symbols (e.g. BLZ, FLM, NKN, REEF, RVN, STMX, TRB, UNFI) settle every 4h; the rest every 8h."
FOUR_HOURLY_NAMED = {"BLZ", "FLM", "NKN", "REEF", "RVN", "STMX", "TRB", "UNFI"}


@pytest.fixture(scope="module")
def aha(shared_dir: Path) -> Path:
    return shared_dir / AHA


@pytest.fixture(scope="module")
def all_exchanges(aha: Path) -> ParsedFile:
    return parse_file(aha / "all_exchanges.csv")


def _csv_data_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_all_exchanges_counts_and_utc_grid(aha: Path, all_exchanges: ParsedFile) -> None:
    assert all_exchanges.format == "all_exchanges_csv"
    assert all_exchanges.rows == ALL_EXCHANGES_ROWS == BARS * SERIES == _csv_data_rows(aha / "all_exchanges.csv")
    assert len(all_exchanges.funding) == BARS * PERP_SERIES
    assert len(all_exchanges.prices) == BARS * SERIES
    series = Counter((r.venue, r.symbol) for r in all_exchanges.funding)
    assert set(series.values()) == {BARS}
    assert {v for v, _ in series} == {"binance", "bybit", "okx"}
    assert {s for _, s in series} == {"BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC", "ETH/USD:ETH"}
    # London local time converted: every settlement on 00/08/16 UTC, none lost or doubled at the DST switches
    assert {r.funding_time.hour for r in all_exchanges.funding} == {0, 8, 16}
    assert all(r.interval_hours == 8 for r in all_exchanges.funding)
    times = sorted({r.funding_time for r in all_exchanges.funding})
    assert len(times) == BARS
    assert all(b - a == timedelta(hours=8) for a, b in itertools.pairwise(times))
    # prices are stamped at the end of their 8h bar
    assert min(r.time for r in all_exchanges.prices) == times[0] + timedelta(hours=8)


def test_binance_exports_counts_london_time_and_agreement(aha: Path, all_exchanges: ParsedFile) -> None:
    stored = {(r.venue, r.symbol, r.funding_time): r.rate for r in all_exchanges.funding}
    for key, name, symbol in (
        ("BTCUSDT", "binance_export_BTCUSDT_funding_2019-09-10_2024-08-09.csv", "BTC/USDT:USDT"),
        ("BTCUSD_CM", "binance_export_BTCUSD_CM_funding_2023-09-11_2024-08-09.csv", "BTC/USD:BTC"),
    ):
        path = aha / name
        parsed = parse_file(path)
        assert parsed.format == "binance_export_csv"
        assert parsed.rows == EXPORT_ROWS_DOCUMENTED[key] + 1 == _csv_data_rows(path)
        assert len(parsed.funding) == parsed.rows
        assert {r.symbol for r in parsed.funding} == {symbol}
        assert {r.funding_time.hour for r in parsed.funding} == {0, 8, 16}
        # the same settlements as all_exchanges.csv, the same rates up to the export's 6 percent decimals (1e-8)
        common = [(stored[(r.venue, r.symbol, r.funding_time)], r.rate) for r in parsed.funding
                  if (r.venue, r.symbol, r.funding_time) in stored]  # fmt: skip
        assert len(common) > 800
        assert all(abs(a - b) <= Decimal("1e-8") for a, b in common)


def test_basis_hourly_counts_and_alignment(aha: Path, all_exchanges: ParsedFile) -> None:
    path = aha / "binance_BTC_basis_hourly_2021-07_2024-07.csv"
    parsed = parse_file(path)
    assert detect_format(path) == parsed.format == "basis_hourly_csv"
    assert parsed.rows == BASIS_ROWS == _csv_data_rows(path)
    with path.open(newline="") as handle:
        blanks = sum(
            1 for row in csv.DictReader(handle) for k, v in row.items() if v == "" and not k.startswith("Basis")
        )
    assert parsed.missing_values == blanks > 0
    assert len(parsed.prices) == BASIS_ROWS * 3 - blanks
    # hourly bars labelled by their UTC opening: the close at the end of each 8h bar equals all_exchanges.csv's
    hourly = {(r.symbol, r.time): r.close for r in parsed.prices}
    eight = [(hourly.get((r.symbol, r.time)), r.close) for r in all_exchanges.prices
             if r.venue == "binance" and r.symbol == "BTC/USDT"]  # fmt: skip
    assert len(eight) == BARS
    assert sum(1 for a, b in eight if a == b) >= BARS - 1


def test_binance_95_symbols_json(shared_dir: Path) -> None:
    files = sorted((shared_dir / BINANCE_95).glob("*.json"))
    assert len(files) == 95
    intervals: dict[str, set[int | None]] = {}
    total = 0
    for path in files:
        parsed = parse_file(path)
        elements = len(json.loads(path.read_text()))
        assert parsed.format == "binance_json"
        assert parsed.rows == len(parsed.funding) == len(parsed.mark_prices) == elements
        assert 195 <= elements <= 205  # "about 200 settlements per symbol"
        assert all(t.funding_time.second == 0 and t.funding_time.microsecond == 0 for t in parsed.funding)
        base = path.name.removesuffix("USDT_funding.json")
        assert {r.symbol for r in parsed.funding} == {f"{base}/USDT:USDT"}
        intervals[base] = {r.interval_hours for r in parsed.funding}
        total += elements
    assert total == 19018  # jq -s 'map(length) | add' *.json
    four = {base for base, found in intervals.items() if found == {4}}
    assert len(four) == 9 and four >= FOUR_HOURLY_NAMED
    assert all(found == {8} for base, found in intervals.items() if base not in four)


def test_read_funding_and_read_prices_refuse_files_without_them(aha: Path) -> None:
    with pytest.raises(ValueError, match="holds no funding rates"):
        read_funding(aha / "binance_BTC_basis_hourly_2021-07_2024-07.csv")
    with pytest.raises(ValueError, match="holds no prices"):
        read_prices(aha / "binance_export_BTCUSD_CM_funding_2023-09-11_2024-08-09.csv")
