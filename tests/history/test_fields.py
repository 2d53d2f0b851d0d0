"""Cell parsers: times (ISO, epoch ms, Europe/London around both DST switches), rates, symbols, venues."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arbx_pipelines.history.fields import (
    FieldError,
    london_to_utc,
    parse_interval_hours,
    parse_percent_rate,
    parse_price,
    parse_rate,
    parse_symbol,
    parse_utc_time,
    parse_venue,
)
from arbx_pipelines.history.symbols import all_exchanges_symbol, binance_export_symbol, binance_usdm_symbol


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        # winter (GMT = UTC)
        (datetime(2023, 3, 25, 16), utc(2023, 3, 25, 16)),
        (datetime(2023, 3, 26, 0), utc(2023, 3, 26, 0)),
        # clocks go forward at 01:00 GMT on 2023-03-26: the next bars read 09:00 and 17:00 BST
        (datetime(2023, 3, 26, 9), utc(2023, 3, 26, 8)),
        (datetime(2023, 3, 26, 17), utc(2023, 3, 26, 16)),
        # summer
        (datetime(2023, 7, 1, 1), utc(2023, 7, 1, 0)),
        # 2023-10-29: 01:00 exists twice (BST, then GMT); the 8h UTC grid picks the BST reading = 00:00 UTC
        (datetime(2023, 10, 29, 1), utc(2023, 10, 29, 0)),
        (datetime(2023, 10, 29, 8), utc(2023, 10, 29, 8)),
        (datetime(2024, 3, 31, 9), utc(2024, 3, 31, 8)),
    ],
)
def test_london_wall_clock_to_utc_lands_on_the_settlement_grid(wall: datetime, expected: datetime) -> None:
    assert london_to_utc(wall, grid_hours=8) == expected


def test_london_time_that_does_not_exist_is_rejected() -> None:
    with pytest.raises(FieldError, match="does not exist in Europe/London"):
        london_to_utc(datetime(2023, 3, 26, 1, 30), grid_hours=8)


def test_london_time_ambiguous_off_the_grid_is_rejected() -> None:
    # 01:30 on 2023-10-29 is 00:30 or 01:30 UTC: neither is on an 8h grid
    with pytest.raises(FieldError, match="ambiguous"):
        london_to_utc(datetime(2023, 10, 29, 1, 30), grid_hours=8)
    # on a 1h grid both readings are whole hours, so the grid cannot decide either
    with pytest.raises(FieldError, match="ambiguous"):
        london_to_utc(datetime(2023, 10, 29, 1), grid_hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-01T08:00:00Z", utc(2024, 1, 1, 8)),
        ("2024-01-01 08:00:00+00:00", utc(2024, 1, 1, 8)),
        ("2024-01-01T09:00:00+01:00", utc(2024, 1, 1, 8)),
        ("1704096000000", utc(2024, 1, 1, 8)),
    ],
)
def test_utc_times_in_iso_or_epoch_ms(text: str, expected: datetime) -> None:
    assert parse_utc_time(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2024-01-01 08:00:00", "no time zone"),
        ("1704096000", "epoch seconds instead of milliseconds"),
        ("yesterday", "neither ISO-8601 nor epoch milliseconds"),
        ("", "empty time"),
    ],
)
def test_bad_utc_times(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_utc_time(text)


def test_rates_are_fractions_rounded_to_the_stored_precision() -> None:
    assert parse_rate("-1.609e-05") == Decimal("-0.00001609")
    assert parse_rate("0.00010000") == Decimal("0.0001")
    assert parse_rate("0.0000000000000000004") == Decimal(0)  # below 1e-18: NUMERIC(38, 18) holds 0
    assert parse_percent_rate("0.010000%") == Decimal("0.0001")
    assert parse_percent_rate("-0.3%") == Decimal("-0.003")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.01%", "percent sign"),
        ("abc", "not a number"),
        ("NaN", "not a finite number"),
        ("0.08", "implausible"),
        ("-0.5", "implausible"),
    ],
)
def test_bad_rates(text: str, reason: str) -> None:
    with pytest.raises(FieldError, match=reason):
        parse_rate(text)


def test_prices_must_be_positive() -> None:
    assert parse_price("16526.190") == Decimal("16526.19")
    for text in ("0", "-1", ""):
        with pytest.raises(FieldError):
            parse_price(text)


def test_venues_and_symbols() -> None:
    assert parse_venue("Binance") == "binance"
    assert parse_venue("bybit") == "bybit"  # history only, documented in records.HISTORY_VENUES
    with pytest.raises(FieldError, match="unknown venue 'kraken'"):
        parse_venue("kraken")
    assert parse_symbol("1000PEPE/USDT:USDT", perpetual=True) == "1000PEPE/USDT:USDT"
    assert parse_symbol("BTC/USDT", perpetual=False) == "BTC/USDT"
    with pytest.raises(FieldError, match="is not a perpetual"):
        parse_symbol("BTC/USDT", perpetual=True)
    with pytest.raises(FieldError, match="ccxt unified form"):
        parse_symbol("BTCUSDT", perpetual=True)
    assert parse_interval_hours("8h") == 8
    assert parse_interval_hours("") is None
    with pytest.raises(FieldError):
        parse_interval_hours("5")


def test_source_symbol_names_map_to_ccxt_unified() -> None:
    assert binance_usdm_symbol("BTCUSDT") == "BTC/USDT:USDT"
    assert binance_usdm_symbol("1INCHUSDT") == "1INCH/USDT:USDT"
    assert binance_usdm_symbol("ETHUSDC") == "ETH/USDC:USDC"
    assert binance_usdm_symbol("BTCUSD_PERP") == "BTC/USD:BTC"
    with pytest.raises(FieldError, match="delivery future"):
        binance_usdm_symbol("BTCUSDT_250926")
    assert all_exchanges_symbol("ETHUSDCM", "perpetual") == "ETH/USD:ETH"
    assert all_exchanges_symbol("ETHUSDT", "perpetual") == "ETH/USDT:USDT"
    assert all_exchanges_symbol("ETH/USDT", "spot") == "ETH/USDT"
    assert binance_export_symbol("BTCUSD CM Perpetual") == "BTC/USD:BTC"
    assert binance_export_symbol("BTCUSDT Perpetual") == "BTC/USDT:USDT"


def test_progress_bar_draws_only_when_enabled_and_after_a_delay() -> None:
    import io

    from arbx_pipelines.history.progress import ProgressBar

    quiet = io.StringIO()
    bar = ProgressBar(1000, 2, stream=quiet)  # not a terminal, not forced
    bar._started -= 10
    bar.advance(500)
    assert quiet.getvalue() == ""

    shown = io.StringIO()
    bar = ProgressBar(1000, 2, stream=shown, force=True)
    bar.start_file(1, "a.csv")
    assert shown.getvalue() == ""  # the first half second stays silent: short imports never draw
    bar._started -= 10
    bar.advance(500)
    bar.close()
    assert "[###############---------------]  50%  file 1/2  a.csv" in shown.getvalue()
    assert shown.getvalue().endswith("\r")
