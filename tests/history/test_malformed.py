"""Malformed input: each kind is rejected with ``file:line: reason``, and nothing of the file is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from arbx_pipelines.history.formats import HistoryFormatError, parse_file
from arbx_pipelines.history.importer import import_file
from arbx_pipelines.storage.models import FundingRateRow, PriceRow

HEADER = "venue,symbol,funding_time,rate\n"
GOOD = "binance,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001\nokx,ETH/USDT:USDT,2024-01-01T00:00:00Z,-0.0002\n"
JSON_GOOD = (
    '  {"symbol": "BTCUSDT", "fundingTime": 1751644800001, "fundingRate": "0.00001797", "markPrice": "107534.7"},\n'
)
AE_HEADER = "time,exchange,crypto,pair,contract,open,high,low,close,volume,funding rate\n"
AE_GOOD = "2023-03-26 00:00:00,binance,bitcoin,BTCUSDT,perpetual,1,1,1,27000.5,10,0.0001\n"
EXPORT_HEADER = '\ufeff"Time","Contracts","Funding Interval","Funding Rate"\n'
EXPORT_GOOD = '"2024-08-09 09:00:00","BTCUSDT Perpetual","8h","0.002184%"\n'


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    content: str | bytes
    line: int
    reason: str


CASES = [
    Case("empty file", "empty.csv", "", 1, "empty file"),
    Case("header only", "header.csv", HEADER, 2, "no data rows"),
    Case("unrecognised header", "what.csv", "foo,bar\n1,2\n", 1, "unrecognised header 'foo,bar'"),
    Case("missing column", "nocol.csv", "venue,symbol,rate\nbinance,BTC/USDT:USDT,0.0001\n", 1,
         "missing column 'funding_time'"),
    Case("unknown column", "typo.csv", "venue,symbol,funding_time,rate,intervall_hours\n", 1,
         "unknown column 'intervall_hours'"),
    Case("wrong field count", "fields.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01T08:00:00Z\n", 4,
         "expected 4 fields as in the header, found 3"),
    Case("unparseable time", "time.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,8am on monday,0.0001\n", 4,
         "funding_time '8am on monday' is neither ISO-8601 nor epoch milliseconds"),
    Case("naive time", "naive.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01 08:00:00,0.0001\n", 4,
         "has no time zone"),
    Case("epoch seconds", "secs.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,1704096000,0.0001\n", 4,
         "epoch seconds instead of milliseconds"),
    Case("bad rate", "rate.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01T08:00:00Z,1e-4x\n", 4,
         "rate '1e-4x' is not a number"),
    Case("percent rate", "pct.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01T08:00:00Z,0.01%\n", 4,
         "percent sign"),
    Case("implausible rate", "big.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01T08:00:00Z,0.75\n", 4,
         "implausible"),
    Case("unknown venue", "venue.csv", HEADER + GOOD + "kraken,BTC/USDT:USDT,2024-01-01T08:00:00Z,0.0001\n", 4,
         "unknown venue 'kraken'"),
    Case("bad symbol", "sym.csv", HEADER + GOOD + "binance,BTCUSDT,2024-01-01T08:00:00Z,0.0001\n", 4,
         "symbol 'BTCUSDT' is not ccxt unified form"),
    Case("conflicting duplicate", "dup.csv", HEADER + GOOD + "binance,BTC/USDT:USDT,1704067200000,0.0003\n", 4,
         "duplicate settlement binance BTC/USDT:USDT 2024-01-01T00:00:00+00:00 with a different value"),
    Case("bad interval", "interval.csv", HEADER.replace("rate", "rate,interval_hours")
         + "binance,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001,7\n", 2, "interval_hours '7'"),
    Case("not UTF-8", "latin.csv", (HEADER + GOOD + "binance,BTC/USDT:USDT,2024-01-01T08:00:00Z,0.0001 é\n")
         .encode("latin-1"), 4, "not UTF-8 text"),
    Case("negative price", "prices.csv", "venue,symbol,time,close\nbinance,BTC/USDT,2024-01-01T00:00:00Z,42000\n"
         "binance,BTC/USDT,2024-01-01T01:00:00Z,-1\n", 3, "close '-1' is not positive"),
    Case("bad JSON", "trunc.json", "[\n" + JSON_GOOD + '  {"symbol": "BTCUSDT", "fundingTime": 17516\n', 4,
         "invalid JSON: Expecting ',' delimiter (column 1, the file ends early (truncated?))"),
    Case("JSON not an array", "obj.json", '{"code": -1121, "msg": "Invalid symbol."}', 1,
         "expected a JSON array of funding records"),
    Case("JSON element missing a key", "key.json", "[\n" + JSON_GOOD + '  {"symbol": "BTCUSDT", "fundingTime": '
         "1751673600004}\n]", 3, "missing key 'fundingRate'"),
    Case("JSON time as text", "jtime.json", "[\n" + JSON_GOOD + '  {"symbol": "BTCUSDT", "fundingTime": '
         '"2025-07-05", "fundingRate": "0.0001"}\n]', 3, "fundingTime must be integer epoch milliseconds"),
    Case("London time that does not exist", "ae.csv", AE_HEADER + AE_GOOD
         + "2023-03-26 01:30:00,binance,bitcoin,BTCUSDT,perpetual,1,1,1,27000.5,10,0.0001\n", 3,
         "does not exist in Europe/London"),
    Case("spot row with a funding rate", "ae_spot.csv", AE_HEADER + AE_GOOD
         + "2023-03-26 09:00:00,binance,bitcoin,BTC/USDT,spot,1,1,1,27000.5,10,0.0001\n", 3,
         "spot row with a funding rate"),
    Case("export rate without %", "export.csv", EXPORT_HEADER + EXPORT_GOOD
         + '"2024-08-09 01:00:00","BTCUSDT Perpetual","8h","0.004994"\n', 3, "lacks the '%'"),
]  # fmt: skip


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / case.name
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        path.write_text(case.content, encoding="utf-8")
    return path


def test_at_least_ten_kinds() -> None:
    assert len({c.kind for c in CASES}) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_rejected_with_file_line_and_reason(tmp_path: Path, case: Case) -> None:
    path = _write(tmp_path, case)
    with pytest.raises(HistoryFormatError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{case.line}: "), message
    assert case.reason in message, message
    assert (caught.value.file, caught.value.line) == (str(path), case.line)


def test_nothing_of_a_rejected_file_is_written(tmp_path: Path, migrated_engine: Engine) -> None:
    for case in CASES:
        result = import_file(migrated_engine, _write(tmp_path, case))
        assert result.error is not None and f":{case.line}: " in result.error
        assert result.total.inserted == 0
    with migrated_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(FundingRateRow)) == 0
        assert conn.scalar(select(func.count()).select_from(PriceRow)) == 0
