"""Bitget USDT-M positions (v2): ``all-position`` (every open position) and ``single-position`` (one symbol).

One-way position mode: one net position per symbol, ``holdSide`` ``long`` or ``short`` by its sign, ``posMode``
``one_way_mode``. ``marginSize`` is the position's margin (isolated: what it holds; cross: entry notional /
leverage), ``liquidationPrice`` the engine's, ``openDelegateSize`` the unfilled size of opening orders and ``locked``
what reduce-only orders hold. No position answers an empty list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import Position
from arbx_pipelines.venues.sim.bitget.formats import native_id, params_of, required, string_param, text
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.margin import maintenance_margin, unrealized_pnl
from arbx_pipelines.venues.sim.orders import ZERO
from arbx_pipelines.venues.sim.venue_api import SimRequest

RATIO_PLACES = Decimal("0.000000000001")


class BitgetPositions:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data
        self.account = venue.account

    def _record(self, position: Position) -> dict[str, Any]:
        account, instrument = self.account, position.instrument
        symbol = position.symbol
        mark = self.venue.mark_price(symbol)
        size = abs(position.qty)
        leverage = account.leverage_of(symbol)
        isolated = account.margin_mode_of(symbol) == "isolated"
        margin = position.isolated_margin if isolated else account.position_margin(position)
        upnl = unrealized_pnl(position.qty, position.entry_price, mark)
        orders = self.venue.trading.open_orders(symbol, swap=True)
        opening = sum((o.remaining for o in orders if not o.reduce_only), ZERO)
        locked = min(size, sum((o.remaining for o in orders if o.reduce_only), ZERO))
        maintenance = maintenance_margin(position.qty, mark, instrument.maint_margin_rate)
        collateral = margin + upnl if isolated else account.wallet_balance() + upnl
        ratio = (maintenance / collateral).quantize(RATIO_PLACES) if collateral > 0 else Decimal(1)
        round_trip = 2 * self.venue.fees.swap_taker
        break_even = position.entry_price * (1 + round_trip if position.qty > 0 else 1 - round_trip)
        return {
            "marginCoin": "USDT", "symbol": native_id(instrument), "holdSide": "long" if position.qty > 0 else "short",
            "openDelegateSize": text(opening), "marginSize": text(margin.quantize(RATIO_PLACES)),
            "available": text(size - locked), "locked": text(locked), "total": text(size), "leverage": str(leverage),
            "achievedProfits": "0", "openPriceAvg": text(position.entry_price.quantize(instrument.tick_size / 1000)),
            "marginMode": "isolated" if isolated else "crossed", "posMode": "one_way_mode",
            "unrealizedPL": text(upnl.quantize(RATIO_PLACES)),
            "liquidationPrice": text(account.liquidation_price(position, self.venue.mark_price)
                                     .quantize(instrument.tick_size / 1000)),
            "keepMarginRate": text(instrument.maint_margin_rate), "markPrice": text(mark), "marginRatio": text(ratio),
            "breakEvenPrice": text(break_even.quantize(instrument.tick_size / 1000)),
            "grant": "", "assetMode": "single", "autoMargin": "off",
            "takeProfit": "", "stopLoss": "", "takeProfitId": "", "stopLossId": "",
            "cTime": str(position.updated_ms), "uTime": str(position.updated_ms),
        }  # fmt: skip

    def _check(self, request: SimRequest) -> dict[str, Any]:
        params = params_of(request)
        product = self.data.product_type(params)
        coin = (string_param(params, "marginCoin") or "USDT").upper()
        if product == "USDT-FUTURES" and coin != "USDT":
            raise SimError(ErrorKind.BAD_PARAMETER, "marginCoin", parameter="marginCoin")
        return params | {"productType": product}

    def all_positions(self, request: SimRequest) -> Any:
        params = self._check(request)
        if params["productType"] != "USDT-FUTURES":
            return self.data.ok([])
        positions = sorted(self.account.open_positions(), key=lambda p: p.symbol)
        return self.data.ok([self._record(p) for p in positions])

    def single_position(self, request: SimRequest) -> Any:
        params = self._check(request)
        instrument = self.data.swap(required(params, "symbol"))
        position = self.account.positions.get(instrument.symbol)
        return self.data.ok([self._record(position)] if position is not None and position.qty != 0 else [])
