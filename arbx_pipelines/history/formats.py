"""Parsers of every supported history file format (STABLE API: the analytics and backtest code uses it).

Formats (``detect_format`` tells them apart by their first line):

- ``funding_csv``: ``venue,symbol,funding_time,rate[,interval_hours]``; ``funding_time`` ISO-8601 with a zone or
  epoch ms; ``symbol`` ccxt unified (``BTC/USDT:USDT``); ``rate`` a decimal fraction.
- ``prices_csv``: ``venue,symbol,time,close``; ``time`` is when ``close`` was the price (a bar's end), spot or perp.
- ``binance_json``: raw Binance ``GET /fapi/v1/fundingRate`` responses (a JSON array).
- ``all_exchanges_csv``: the 8-hourly bars of ../shared/data/aha_hh_btc_eth_binance_bybit_okx (London local time).
- ``binance_export_csv``: Binance website funding-history exports (London local time, rates as '0.010000%').
- ``basis_hourly_csv``: Binance hourly closes of spot, USDT perp and coin perp (UTC, bars labelled by opening).

Every row is validated; the first bad one raises :class:`HistoryFormatError` ``"<file>:<line>: <reason>"``.
Funding times are settlement instants (UTC, rounded to the minute); a missing ``interval_hours`` is derived from
the spacing of the symbol's settlements where that is unambiguous.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from arbx_pipelines.history.csv_formats import FUNDING_COLUMNS, PRICE_COLUMNS, parse_funding_csv, parse_prices_csv
from arbx_pipelines.history.csv_source import CsvSource, ProgressCallback, read_header
from arbx_pipelines.history.json_format import parse_binance_json
from arbx_pipelines.history.recorded_formats import (
    ALL_EXCHANGES_COLUMNS,
    BINANCE_EXPORT_COLUMNS,
    basis_columns,
    parse_all_exchanges,
    parse_basis_hourly,
    parse_binance_export,
)
from arbx_pipelines.history.records import (
    HISTORY_VENUES,
    FundingKey,
    FundingRecord,
    HistoryFormatError,
    ParsedFile,
    PriceRecord,
)

__all__ = [
    "FORMATS",
    "HISTORY_VENUES",
    "FundingKey",
    "FundingRecord",
    "HistoryFormatError",
    "ParsedFile",
    "PriceRecord",
    "detect_format",
    "parse_file",
    "read_funding",
    "read_prices",
]

FORMATS: tuple[str, ...] = (
    "funding_csv", "prices_csv", "binance_json", "all_exchanges_csv", "binance_export_csv", "basis_hourly_csv",
)  # fmt: skip
FUNDING_FORMATS = frozenset({"funding_csv", "binance_json", "all_exchanges_csv", "binance_export_csv"})
PRICE_FORMATS = frozenset({"prices_csv", "all_exchanges_csv", "basis_hourly_csv"})


def detect_format(path: Path) -> str:
    """The format of ``path``, from its first character (JSON) or its header line."""
    name = str(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise HistoryFormatError(name, 0, f"cannot read: {exc.strerror or exc}") from None
    if not start:
        raise HistoryFormatError(name, 1, "empty file")
    if start[:1] in (b"[", b"{"):
        return "binance_json"
    header = read_header(path)
    if header is None:
        raise HistoryFormatError(name, 1, "first line is not CSV text")
    lowered = [cell.lower() for cell in header]
    if tuple(lowered) == ALL_EXCHANGES_COLUMNS:
        return "all_exchanges_csv"
    if tuple(lowered) == BINANCE_EXPORT_COLUMNS:
        return "binance_export_csv"
    if basis_columns(header) is not None:
        return "basis_hourly_csv"
    if "funding_time" in lowered or "rate" in lowered:
        return "funding_csv"
    if "close" in lowered or ("time" in lowered and "venue" in lowered):
        return "prices_csv"
    raise HistoryFormatError(
        name,
        1,
        f"unrecognised header {','.join(header)!r}: expected funding ({','.join(FUNDING_COLUMNS)}[,interval_hours]),"
        f" prices ({','.join(PRICE_COLUMNS)}), a Binance fundingRate JSON array, all_exchanges.csv, a Binance "
        "funding export or a Binance basis file",
    )


def parse_file(path: Path, progress: ProgressCallback | None = None) -> ParsedFile:
    """Everything ``path`` holds (funding, prices, mark prices), fully validated before anything is returned."""
    fmt = detect_format(path)
    if fmt == "binance_json":
        return parse_binance_json(path, progress)
    parser = _CSV_PARSERS[fmt]
    source = CsvSource(path, progress)
    try:
        return parser(source)
    finally:
        source.close()


_CSV_PARSERS: dict[str, Callable[[CsvSource], ParsedFile]] = {
    "funding_csv": parse_funding_csv,
    "prices_csv": parse_prices_csv,
    "all_exchanges_csv": parse_all_exchanges,
    "binance_export_csv": parse_binance_export,
    "basis_hourly_csv": parse_basis_hourly,
}


def read_funding(path: Path) -> list[FundingRecord]:
    """The funding settlements of any funding-bearing file, sorted by (venue, symbol, funding_time)."""
    parsed = parse_file(path)
    if parsed.format not in FUNDING_FORMATS:
        raise HistoryFormatError(str(path), 1, f"{parsed.format} holds no funding rates")
    return parsed.funding


def read_prices(path: Path) -> list[PriceRecord]:
    """The closes of a prices CSV, all_exchanges.csv (every series) or a basis file, sorted by (venue, symbol, time)."""
    parsed = parse_file(path)
    if parsed.format not in PRICE_FORMATS:
        raise HistoryFormatError(str(path), 1, f"{parsed.format} holds no prices")
    return parsed.prices
