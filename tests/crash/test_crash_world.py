"""The crash world's own promises, on the simulator: a case starts from its job's precondition as the real path
built it, no case sees another's orders, and a price jump reaches the order books (what IOC orders fill against)."""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.bench.crash_sweep import Worlds
from arbx_pipelines.bench.crash_world import PERP, SPOT, perp_held, spot_held


def test_each_case_starts_from_the_same_precondition(crash_worlds: Worlds) -> None:
    world = crash_worlds["binance"]
    start = world.start_case("close")
    exchange = world.plain_client()
    assert start.position_id is not None and start.perp < 0 and start.spot > 0
    assert (spot_held(exchange) - start.spot_at_start, perp_held(exchange)) == (start.spot, start.perp)
    exchange.create_order(SPOT, "market", "sell", float(start.spot))  # a case changes its world ...
    again = world.start_case("close")
    exchange = world.plain_client()
    assert spot_held(exchange) - again.spot_at_start == start.spot  # ... the next one starts untouched
    assert [o["side"] for o in exchange.fetch_orders(SPOT)] == ["buy"]  # the precondition's buy, not the sale


def test_a_price_jump_reaches_the_order_books(crash_worlds: Worlds) -> None:
    world = crash_worlds["okx"]
    world.start_case("open")
    exchange = world.plain_client()
    before = Decimal(str(exchange.fetch_order_book(PERP, 5)["asks"][0][0]))
    world.admin.move_price("okx", PERP, 0.8)
    for symbol in (SPOT, PERP):
        book = exchange.fetch_order_book(symbol, 5)
        last = Decimal(str(exchange.fetch_ticker(symbol)["last"]))
        assert abs(Decimal(str(book["asks"][0][0])) - last) / last < Decimal("0.01")
    assert Decimal(str(exchange.fetch_order_book(PERP, 5)["asks"][0][0])) < before * Decimal("0.85")
