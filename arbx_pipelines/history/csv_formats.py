"""arbx's own CSV layouts: funding (``venue,symbol,funding_time,rate[,interval_hours]``) and prices
(``venue,symbol,time,close``). Times are ISO-8601 with a zone or epoch milliseconds; rates are fractions."""

from __future__ import annotations

from arbx_pipelines.history.collect import Collector
from arbx_pipelines.history.csv_source import CsvSource
from arbx_pipelines.history.fields import (
    FieldError,
    parse_interval_hours,
    parse_price,
    parse_rate,
    parse_symbol,
    parse_utc_time,
    parse_venue,
)
from arbx_pipelines.history.records import HistoryFormatError, ParsedFile

FUNDING_COLUMNS = ("venue", "symbol", "funding_time", "rate")
FUNDING_OPTIONAL = ("interval_hours",)
PRICE_COLUMNS = ("venue", "symbol", "time", "close")


def parse_funding_csv(source: CsvSource) -> ParsedFile:
    col = source.column_index(FUNDING_COLUMNS, FUNDING_OPTIONAL)
    collector = Collector(source.name, "funding_csv")
    interval_col = col.get("interval_hours")
    for line, row in source.rows():
        collector.rows += 1
        try:
            venue = parse_venue(row[col["venue"]])
            symbol = parse_symbol(row[col["symbol"]], perpetual=True)
            time = parse_utc_time(row[col["funding_time"]], what="funding_time")
            rate = parse_rate(row[col["rate"]])
            interval = parse_interval_hours(row[interval_col]) if interval_col is not None else None
        except FieldError as exc:
            raise HistoryFormatError(source.name, line, str(exc)) from None
        collector.add_funding(line, venue, symbol, time, rate, interval)
    return collector.finish()


def parse_prices_csv(source: CsvSource) -> ParsedFile:
    col = source.column_index(PRICE_COLUMNS)
    collector = Collector(source.name, "prices_csv")
    for line, row in source.rows():
        collector.rows += 1
        try:
            venue = parse_venue(row[col["venue"]])
            symbol = parse_symbol(row[col["symbol"]], perpetual=False)
            time = parse_utc_time(row[col["time"]])
            close = parse_price(row[col["close"]])
        except FieldError as exc:
            raise HistoryFormatError(source.name, line, str(exc)) from None
        collector.add_price(line, venue, symbol, time, close)
    return collector.finish()
