"""Pure settlement-time rules and history checks (core): no database, no files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arbx_pipelines.core.funding_history import derive_interval_hours, settlement_instant
from arbx_pipelines.core.history_checks import (
    DEFAULT_RATE_CAPS,
    Settlement,
    duplicate_settlements,
    missing_settlements,
    overdue,
    rate_cap,
    rates_out_of_range,
)

T0 = datetime(2025, 7, 4, 16, tzinfo=UTC)


def hours(*offsets: int) -> list[datetime]:
    return [T0 + timedelta(hours=h) for h in offsets]


def test_settlement_instant_removes_binance_jitter() -> None:
    jittered = datetime.fromtimestamp(1751644800.016, tz=UTC)
    assert settlement_instant(jittered) == datetime(2025, 7, 4, 16, tzinfo=UTC)
    assert settlement_instant(T0 - timedelta(milliseconds=3)) == T0
    with pytest.raises(ValueError, match="naive"):
        settlement_instant(datetime(2025, 1, 1))


def test_interval_derived_from_spacing() -> None:
    assert derive_interval_hours(hours(0, 8, 16, 24)) == [8, 8, 8, 8]
    assert derive_interval_hours(hours(0, 4, 8)) == [4, 4, 4]
    # a missing settlement (16h gap) leaves the neighbours' own spacing in charge
    assert derive_interval_hours(hours(0, 8, 24, 32)) == [8, 8, 8, 8]
    # the venue switched 8h -> 4h at +16h: the settlement at the switch is ambiguous
    assert derive_interval_hours(hours(0, 8, 16, 20, 24)) == [8, 8, None, 4, 4]
    # a lone settlement, or spacing that is no funding interval, tells nothing
    assert derive_interval_hours(hours(0)) == [None]
    assert derive_interval_hours(hours(0, 5)) == [None, None]
    assert derive_interval_hours(hours(0, 24)) == [None, None]  # more likely two missing 8h settlements


def test_missing_settlements_follow_the_interval_in_force() -> None:
    rate = Decimal("0.0001")
    eight = [Settlement(t, rate, 8) for t in hours(0, 8, 32, 40)]
    assert missing_settlements(eight) == hours(16, 24)
    switched = [Settlement(t, rate, i) for t, i in zip(hours(0, 8, 16, 20, 28), (8, 8, None, 4, 4), strict=True)]
    assert missing_settlements(switched) == hours(24)
    unknown = [Settlement(t, rate) for t in hours(0, 24)]
    assert missing_settlements(unknown) == hours(8, 16)
    assert missing_settlements(unknown, default_interval_hours=12) == hours(12)
    assert missing_settlements([]) == []


def test_duplicates_are_instants_stored_twice() -> None:
    times = [*hours(0, 8), T0 + timedelta(milliseconds=5), T0 + timedelta(hours=16, seconds=1)]
    assert duplicate_settlements(times) == [T0]
    assert duplicate_settlements(hours(0, 8, 16)) == []


def test_rates_outside_the_cap() -> None:
    settlements = [
        Settlement(t, Decimal(r)) for t, r in zip(hours(0, 8, 16), ("0.003", "-0.0031", "0.01"), strict=True)
    ]
    flagged = rates_out_of_range(settlements, Decimal("0.003"))
    assert [(o.time, o.rate) for o in flagged] == [
        (T0 + timedelta(hours=8), Decimal("-0.0031")),
        (T0 + timedelta(hours=16), Decimal("0.01")),
    ]
    assert rates_out_of_range(settlements, Decimal("0.03")) == []


def test_rate_cap_overrides_and_defaults() -> None:
    overrides = {"bitget:BTC/USDT:USDT": Decimal("0.003"), "okx": Decimal("-0.015")}
    assert rate_cap("bitget", "BTC/USDT:USDT", overrides) == Decimal("0.003")
    assert rate_cap("bitget", "ETH/USDT:USDT", overrides) == DEFAULT_RATE_CAPS["bitget"]
    assert rate_cap("okx", "ETH/USDT:USDT", overrides) == Decimal("0.015")
    assert rate_cap("newvenue", "X/USDT:USDT") == Decimal("0.03")


def test_overdue() -> None:
    last = T0
    assert overdue(last, last + timedelta(hours=8, minutes=29), 8) is None
    assert overdue(last, last + timedelta(hours=9), 8) == timedelta(hours=1)
    assert overdue(last, last + timedelta(hours=5), 4) == timedelta(hours=1)
    assert overdue(None, T0, 4) == timedelta(hours=4)
