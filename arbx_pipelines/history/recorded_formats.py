"""Third-party recordings in ../shared/data, each with its own time-zone trap (see that folder's SOURCE.txt).

- ``all_exchanges.csv``: 8-hourly bars labelled by their OPENING time in Europe/London local time (DST).
- Binance website funding exports: Europe/London local time as well (01/09/17h in summer, 00/08/16h in winter,
  although upstream calls it "UTC+1"), rates as ``'0.010000%'`` strings, newest first.
- ``Binance_BTC_Basis`` hourly closes: hourly bars labelled by their OPENING time in UTC (checked: each 8-hourly
  close of all_exchanges.csv equals the hourly close labelled 7 hours after that bar's UTC opening).

A blank close in the basis file (263 hours of the coin perp) is a missing observation, counted, not an error.
Prices are stored at the END of their bar (opening + bar length): the close is the price at that instant.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from arbx_pipelines.history.collect import Collector
from arbx_pipelines.history.csv_source import CsvSource
from arbx_pipelines.history.fields import (
    FieldError,
    london_to_utc,
    parse_interval_hours,
    parse_naive,
    parse_percent_rate,
    parse_price,
    parse_rate,
    parse_venue,
)
from arbx_pipelines.history.records import HistoryFormatError, ParsedFile
from arbx_pipelines.history.symbols import all_exchanges_symbol, binance_export_symbol

ALL_EXCHANGES_COLUMNS = (
    "time", "exchange", "crypto", "pair", "contract", "open", "high", "low", "close", "volume", "funding rate",
)  # fmt: skip
BINANCE_EXPORT_COLUMNS = ("time", "contracts", "funding interval", "funding rate")
ALL_EXCHANGES_BAR = timedelta(hours=8)
BASIS_BAR = timedelta(hours=1)
_BASIS_SPOT = re.compile(r"^([A-Z0-9]+)USDT Spot$")


def parse_all_exchanges(source: CsvSource) -> ParsedFile:
    col = source.column_index(ALL_EXCHANGES_COLUMNS)
    collector = Collector(source.name, "all_exchanges_csv")
    for line, row in source.rows():
        collector.rows += 1
        try:
            opened = london_to_utc(parse_naive(row[col["time"]]), grid_hours=8)
            venue = parse_venue(row[col["exchange"]])
            contract = row[col["contract"]].strip()
            symbol = all_exchanges_symbol(row[col["pair"]].strip(), contract)
            close = parse_price(row[col["close"]])
            funding_text = row[col["funding rate"]].strip()
            if contract == "perpetual" and not funding_text:
                raise FieldError("perpetual row without a funding rate")
            if contract == "spot" and funding_text:
                raise FieldError(f"spot row with a funding rate {funding_text!r}")
            rate = parse_rate(funding_text) if funding_text else None
        except FieldError as exc:
            raise HistoryFormatError(source.name, line, str(exc)) from None
        collector.add_price(line, venue, symbol, opened + ALL_EXCHANGES_BAR, close)
        if rate is not None:
            collector.add_funding(line, venue, symbol, opened, rate, None)
    return collector.finish()


def parse_binance_export(source: CsvSource) -> ParsedFile:
    col = source.column_index(BINANCE_EXPORT_COLUMNS)
    collector = Collector(source.name, "binance_export_csv")
    for line, row in source.rows():
        collector.rows += 1
        try:
            interval = parse_interval_hours(row[col["funding interval"]])
            settled = london_to_utc(parse_naive(row[col["time"]]), grid_hours=interval or 8)
            symbol = binance_export_symbol(row[col["contracts"]].strip())
            rate = parse_percent_rate(row[col["funding rate"]])
        except FieldError as exc:
            raise HistoryFormatError(source.name, line, str(exc)) from None
        collector.add_funding(line, "binance", symbol, settled, rate, interval)
    return collector.finish()


def basis_columns(header: list[str]) -> dict[str, int] | None:
    """Column positions of a Binance basis file (``Time,BTCUSDT Spot,BTCUSDT Future,Basis ...``), or None."""
    if not header or header[0] != "Time" or len(header) < 2:
        return None
    match = _BASIS_SPOT.match(header[1])
    if match is None:
        return None
    base = match.group(1)
    expected = [
        "Time", f"{base}USDT Spot", f"{base}USDT Future", f"Basis {base}USDT Future",
        f"{base}USD PERP Future", f"Basis {base}USD PERP Future",
    ]  # fmt: skip
    if header != expected:
        return None
    return {f"{base}/USDT": 1, f"{base}/USDT:USDT": 2, f"{base}/USD:{base}": 4}


def parse_basis_hourly(source: CsvSource) -> ParsedFile:
    columns = basis_columns(source.header)
    if columns is None:
        raise HistoryFormatError(source.name, 1, f"header {','.join(source.header)!r} is not a Binance basis file")
    collector = Collector(source.name, "basis_hourly_csv")
    for line, row in source.rows():
        collector.rows += 1
        try:
            closed = parse_naive(row[0]).replace(tzinfo=UTC) + BASIS_BAR
            closes = [
                (symbol, parse_price(row[index], what=source.header[index]))
                for symbol, index in columns.items()
                if row[index].strip()
            ]
        except FieldError as exc:
            raise HistoryFormatError(source.name, line, str(exc)) from None
        if not closes:
            raise HistoryFormatError(source.name, line, "row without any close")
        collector.missing_values += len(columns) - len(closes)
        for symbol, close in closes:
            collector.add_price(line, "binance", symbol, closed, close)
    return collector.finish()
