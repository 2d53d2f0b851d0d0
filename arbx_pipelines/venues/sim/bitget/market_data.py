"""Bitget public market data (v2): server time, reference lists, tickers, order books, funding rates and history.

Spot lives under ``/api/v2/spot``, USDT-M perpetuals under ``/api/v2/mix`` with ``productType=USDT-FUTURES``; other
product types (coin-margined, USDC, the demo ``S*`` types) answer an empty list, which is what a venue with no such
contracts would send.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.bitget.formats import (
    PRODUCT_TYPES,
    USDT_FUTURES,
    Params,
    bounded_limit,
    envelope,
    int_param,
    native_id,
    params_of,
    required,
    string_param,
    text,
)
from arbx_pipelines.venues.sim.bitget.reference import LAUNCH_MS, BitgetReference
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.market import RATE_CAP, next_settlement
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

SPOT_DEPTH_DEFAULT, SPOT_DEPTH_MAX = 150, 150
MIX_DEPTH_DEFAULT, MIX_DEPTH_MAX = 100, 1000
FUNDING_PAGE_DEFAULT, FUNDING_PAGE_MAX = 20, 100
#: funding rate bounds per settlement (minFundingRate / maxFundingRate): the engine's own cap
FUNDING_CAP = Decimal(repr(RATE_CAP))
RATIO = Decimal("0.00001")


class BitgetMarketData:
    def __init__(self, venue: SimVenue, reference: BitgetReference) -> None:
        self.venue = venue
        self.reference = reference
        self.spot_by_id = {native_id(i): i for i in venue.spots()}
        self.swap_by_id = {native_id(i): i for i in venue.swaps()}

    def ok(self, data: Any) -> dict[str, Any]:
        return envelope(data, self.venue.now_ms())

    # ---- symbol lookups --------------------------------------------------------------------------------------

    def spot(self, native: str) -> Instrument:
        instrument = self.spot_by_id.get(native)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown spot symbol {native}", symbol=native)
        return instrument

    def swap(self, native: str) -> Instrument:
        instrument = self.swap_by_id.get(native)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown contract {native}", symbol=native)
        return instrument

    @staticmethod
    def product_type(params: Params) -> str:
        """The ``productType`` of a mix request (required, case-insensitive, one of Bitget's six)."""
        product = required(params, "productType").upper()
        if product not in PRODUCT_TYPES:
            raise SimError(ErrorKind.BAD_PARAMETER, "productType", parameter="productType")
        return product

    def swaps_of(self, params: Params) -> list[Instrument]:
        """Contracts a mix request selects: its ``symbol``, or every contract of its product type."""
        if self.product_type(params) != USDT_FUTURES:
            symbol = string_param(params, "symbol")
            if symbol is not None:
                raise SimError(ErrorKind.BAD_SYMBOL, f"unknown contract {symbol}", symbol=symbol)
            return []
        symbol = string_param(params, "symbol")
        return [self.swap(symbol)] if symbol is not None else list(self.swap_by_id.values())

    # ---- reference -------------------------------------------------------------------------------------------

    def server_time(self, request: SimRequest) -> Any:
        return self.ok({"serverTime": str(self.venue.now_ms())})

    def coins(self, request: SimRequest) -> Any:
        coin = string_param(params_of(request), "coin")
        return self.ok([c for c in self.reference.coins if coin is None or c["coin"] == coin.upper()])

    def spot_symbols(self, request: SimRequest) -> Any:
        symbol = string_param(params_of(request), "symbol")
        if symbol is not None:
            self.spot(symbol)
        return self.ok([s for s in self.reference.spot_symbols if symbol is None or s["symbol"] == symbol])

    def margin_currencies(self, request: SimRequest) -> Any:
        return self.ok(self.reference.margin_currencies)

    def contracts(self, request: SimRequest) -> Any:
        params = params_of(request)
        if self.product_type(params) != USDT_FUTURES:
            return self.ok([])
        symbol = string_param(params, "symbol")
        if symbol is not None:
            self.swap(symbol)
        return self.ok([c for c in self.reference.usdt_contracts if symbol is None or c["symbol"] == symbol])

    # ---- tickers ---------------------------------------------------------------------------------------------

    def _ticker(self, instrument: Instrument) -> dict[str, Any]:
        stats = self.venue.ticker(instrument.symbol)
        change = (stats.change / stats.open).quantize(RATIO) if stats.open else Decimal(0)
        ticker: dict[str, Any] = {
            "symbol": native_id(instrument), "high24h": text(stats.high), "low24h": text(stats.low),
            "lastPr": text(stats.last), "bidPr": text(stats.bid), "askPr": text(stats.ask),
            "bidSz": text(stats.bid_qty), "askSz": text(stats.ask_qty), "baseVolume": text(stats.base_volume),
            "quoteVolume": text(stats.quote_volume), "usdtVolume": text(stats.quote_volume), "ts": str(stats.time_ms),
            "openUtc": text(stats.open), "changeUtc24h": text(change), "change24h": text(change),
        }  # fmt: skip
        if not instrument.is_swap:
            return {"open": text(stats.open), **ticker}
        funding = self.venue.funding(instrument.symbol)
        holding = (Decimal(repr(instrument.depth_usd)) * 40 / stats.last).quantize(instrument.lot_size)
        return ticker | {
            "indexPrice": text(funding.index_price), "fundingRate": text(funding.rate), "holdingAmount": text(holding),
            "deliveryStartTime": None, "deliveryTime": None, "deliveryStatus": "", "open24h": text(stats.open),
            "markPrice": text(funding.mark_price),
        }  # fmt: skip

    def spot_tickers(self, request: SimRequest) -> Any:
        symbol = string_param(params_of(request), "symbol")
        instruments = [self.spot(symbol)] if symbol is not None else list(self.spot_by_id.values())
        return self.ok([self._ticker(i) for i in instruments])

    def mix_ticker(self, request: SimRequest) -> Any:
        params = params_of(request)
        required(params, "symbol")
        return self.ok([self._ticker(i) for i in self.swaps_of(params)])

    def mix_tickers(self, request: SimRequest) -> Any:
        params = params_of(request)
        params.pop("symbol", None)
        return self.ok([self._ticker(i) for i in self.swaps_of(params)])

    def symbol_price(self, request: SimRequest) -> Any:
        """Last, index and mark price of contracts (``fetch_mark_price``)."""
        rows = []
        for instrument in self.swaps_of(params_of(request)):
            funding = self.venue.funding(instrument.symbol)
            rows.append({"symbol": native_id(instrument), "price": text(self.venue.last_price(instrument.symbol)),
                         "indexPrice": text(funding.index_price), "markPrice": text(funding.mark_price),
                         "ts": str(funding.time_ms)})  # fmt: skip
        return self.ok(rows)

    def trade_rate(self, request: SimRequest) -> Any:
        """The account's fee rates for one symbol: ``businessType`` ``spot`` or ``mix`` (futures)."""
        params = params_of(request)
        business = required(params, "businessType").lower()
        if business not in ("spot", "mix", "margin"):
            raise SimError(ErrorKind.BAD_PARAMETER, "businessType", parameter="businessType")
        symbol = required(params, "symbol")
        instrument = self.swap(symbol) if business == "mix" else self.spot(symbol)
        fees = self.venue.fees
        maker, taker = (fees.swap_maker, fees.swap_taker) if instrument.is_swap else (fees.spot_maker, fees.spot_taker)
        return self.ok({"makerFeeRate": text(maker), "takerFeeRate": text(taker)})

    # ---- order books -----------------------------------------------------------------------------------------

    def spot_orderbook(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.spot(required(params, "symbol"))
        limit = bounded_limit(params, "limit", SPOT_DEPTH_DEFAULT, SPOT_DEPTH_MAX)
        book = self.venue.book(instrument.symbol, limit)
        return self.ok({"asks": [[text(p), text(q)] for p, q in book.asks[:limit]],
                        "bids": [[text(p), text(q)] for p, q in book.bids[:limit]],
                        "ts": str(book.timestamp_ms)})  # fmt: skip

    def mix_merge_depth(self, request: SimRequest) -> Any:
        """Merged depth: levels as JSON numbers (unlike the spot book's strings), at the contract's own tick."""
        params = params_of(request)
        instrument = self.swap(required(params, "symbol"))
        self.product_type(params)
        limit_text = string_param(params, "limit")
        limit = MIX_DEPTH_MAX if limit_text == "max" else bounded_limit(params, "limit", MIX_DEPTH_DEFAULT,
                                                                          MIX_DEPTH_MAX)  # fmt: skip
        book = self.venue.book(instrument.symbol, limit)
        return self.ok({
            "asks": [[float(p), float(q)] for p, q in book.asks[:limit]],
            "bids": [[float(p), float(q)] for p, q in book.bids[:limit]],
            "precision": "scale0", "scale": text(instrument.tick_size), "isMaxPrecision": "NO",
            "ts": str(book.timestamp_ms),
        })  # fmt: skip

    # ---- funding ---------------------------------------------------------------------------------------------

    def current_fund_rate(self, request: SimRequest) -> Any:
        """Rate of the coming settlement, its interval in hours and when it settles (``nextUpdate``)."""
        rows = []
        for instrument in self.swaps_of(params_of(request)):
            funding = self.venue.funding(instrument.symbol)
            rows.append({"symbol": native_id(instrument), "fundingRate": text(funding.rate),
                         "fundingRateInterval": str(funding.interval_hours), "nextUpdate": str(funding.next_funding_ms),
                         "minFundingRate": text(-FUNDING_CAP), "maxFundingRate": text(FUNDING_CAP)})  # fmt: skip
        return self.ok(rows)

    def funding_time(self, request: SimRequest) -> Any:
        params = params_of(request)
        required(params, "symbol")
        now = self.venue.now_ms()
        return self.ok([
            {"symbol": native_id(i), "nextFundingTime": str(next_settlement(i.funding_interval_hours, now)),
             "ratePeriod": str(i.funding_interval_hours)}
            for i in self.swaps_of(params)
        ])  # fmt: skip

    def history_fund_rate(self, request: SimRequest) -> Any:
        """Settled rates, newest first, paged by ``pageSize`` (max 100) and ``pageNo`` (from 1); no time filter."""
        params = params_of(request)
        instrument = self.swap(required(params, "symbol"))
        self.product_type(params)
        size = bounded_limit(params, "pageSize", FUNDING_PAGE_DEFAULT, FUNDING_PAGE_MAX)
        page = int_param(params, "pageNo", 1) or 1
        if page < 1:
            raise SimError(ErrorKind.BAD_PARAMETER, "pageNo", parameter="pageNo")
        step = instrument.funding_interval_hours * 3_600_000
        latest = next_settlement(instrument.funding_interval_hours, self.venue.now_ms()) - step
        newest = latest - (page - 1) * size * step
        oldest = max(newest - (size - 1) * step, LAUNCH_MS)
        if newest < oldest:
            return self.ok([])
        points = self.venue.funding_history(instrument.symbol, oldest, newest)
        return self.ok([{"symbol": native_id(instrument), "fundingRate": text(p.rate), "fundingTime": str(p.time_ms)}
                        for p in reversed(points)])  # fmt: skip
