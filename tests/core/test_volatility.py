"""When the funding market counts as volatile (a snapshot every few minutes instead of every ten)."""

from __future__ import annotations

from decimal import Decimal as D

from arbx_pipelines.core.volatility import DEFAULT_JUMP, market_is_volatile

ENTRY = D("0.5")
BTC, ETH = ("binance", "BTC/USDT:USDT"), ("okx", "ETH/USDT:USDT")


def test_a_rate_at_the_entry_threshold_is_volatile_and_named() -> None:
    volatile, why = market_is_volatile({BTC: D("0.1"), ETH: D("-0.5")}, {}, ENTRY)
    assert volatile and why == "okx ETH/USDT:USDT at -50.00% annualized >= entry 50%"
    assert market_is_volatile({BTC: D("0.4999")}, {}, ENTRY) == (False, "calm")


def test_the_biggest_hot_rate_is_the_one_named() -> None:
    _, why = market_is_volatile({BTC: D("0.6"), ETH: D("0.9")}, {}, ENTRY)
    assert why.startswith("okx ETH/USDT:USDT at 90.00%")


def test_a_jump_since_the_previous_snapshot_is_volatile_from_the_jump_on() -> None:
    previous = {BTC: D("0.1"), ETH: D("0.0")}
    volatile, why = market_is_volatile({BTC: D("0.1") + DEFAULT_JUMP, ETH: D("0.1")}, previous, ENTRY)
    assert volatile and why == "binance BTC/USDT:USDT moved 25.00% annualized since the previous snapshot"
    assert market_is_volatile({BTC: D("0.34"), ETH: D("0.1")}, previous, ENTRY) == (False, "calm")


def test_a_symbol_new_in_the_latest_snapshot_has_no_move() -> None:
    assert market_is_volatile({ETH: D("0.4")}, {BTC: D("0.0")}, ENTRY) == (False, "calm")
