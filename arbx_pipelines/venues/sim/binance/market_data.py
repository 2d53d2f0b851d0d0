"""Binance public market data: exchange info, tickers, books, mark price + funding, funding intervals and history."""

from __future__ import annotations

import json
import time
from typing import Any

from arbx_pipelines.venues.sim.binance.formats import Params, fixed8, int_param, native_id, params_of, plain
from arbx_pipelines.venues.sim.binance.reference import BinanceReference
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

SPOT_DEPTH_DEFAULT, SPOT_DEPTH_MAX = 100, 5000
FUTURES_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
FUNDING_HISTORY_DEFAULT, FUNDING_HISTORY_MAX = 100, 1000
DAY_MS = 86_400_000


class BinanceMarketData:
    def __init__(self, venue: SimVenue, reference: BinanceReference) -> None:
        self.venue = venue
        self.reference = reference
        self.spot_by_id = {native_id(i): i for i in venue.spots()}
        self.swap_by_id = {native_id(i): i for i in venue.swaps()}
        self.funding_info = [
            {"symbol": native_id(i), "adjustedFundingRateCap": "0.02000000",
             "adjustedFundingRateFloor": "-0.02000000", "fundingIntervalHours": i.funding_interval_hours,
             "disclaimer": False}
            for n, i in enumerate(venue.swaps()) if i.funding_interval_hours != 8 or n % 3 == 0
        ]  # fmt: skip

    # ---- symbol lookups --------------------------------------------------------------------------------------

    def spot(self, native: str) -> Instrument:
        instrument = self.spot_by_id.get(native)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown spot symbol {native}")
        return instrument

    def swap(self, native: str) -> Instrument:
        instrument = self.swap_by_id.get(native)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown futures symbol {native}")
        return instrument

    def _selected(self, params: Params, futures: bool) -> list[Instrument] | Instrument:
        """One instrument for ``symbol=``, a list for ``symbols=[...]`` or for none (all)."""
        lookup = self.swap if futures else self.spot
        if params.get("symbol"):
            return lookup(params["symbol"])
        if params.get("symbols"):
            try:
                names = json.loads(params["symbols"])
            except json.JSONDecodeError as exc:
                raise SimError(ErrorKind.BAD_PARAMETER, "symbols", parameter="symbols") from exc
            return [lookup(str(name)) for name in names]
        return list((self.swap_by_id if futures else self.spot_by_id).values())

    # ---- reference ---------------------------------------------------------------------------------------------

    def server_time(self, request: SimRequest) -> Any:
        """Wall-clock time, the clock ``recvWindow`` is checked against (simulated time may run fast or jump), so
        ccxt's ``adjustForTimeDifference`` keeps signed requests valid."""
        return {"serverTime": int(time.time() * 1000)}

    def ping(self, request: SimRequest) -> Any:
        return {}

    def spot_exchange_info(self, request: SimRequest) -> Any:
        return self.reference.spot_info | {"serverTime": self.venue.now_ms()}

    def futures_exchange_info(self, request: SimRequest) -> Any:
        return self.reference.futures_info | {"serverTime": self.venue.now_ms()}

    def coin_futures_exchange_info(self, request: SimRequest) -> Any:
        return self.reference.coin_futures_info | {"serverTime": self.venue.now_ms()}

    def capital_config(self, request: SimRequest) -> Any:
        return self.reference.coins

    def cross_margin_pairs(self, request: SimRequest) -> Any:
        return self.reference.cross_margin_pairs

    def isolated_margin_pairs(self, request: SimRequest) -> Any:
        return self.reference.isolated_margin_pairs

    def empty_list(self, request: SimRequest) -> Any:
        return []

    # ---- tickers and books -----------------------------------------------------------------------------------

    def _ticker(self, instrument: Instrument, futures: bool) -> dict[str, Any]:
        stats = self.venue.ticker(instrument.symbol)
        text = plain if futures else fixed8
        weighted = (stats.high + stats.low + stats.last) / 3
        ticker: dict[str, Any] = {
            "symbol": native_id(instrument), "priceChange": text(stats.change),
            "priceChangePercent": plain(stats.change_percent, 3),
            "weightedAvgPrice": text(weighted.quantize(instrument.tick_size)),
        }  # fmt: skip
        if not futures:
            ticker["prevClosePrice"] = text(stats.open)
        ticker |= {"lastPrice": text(stats.last), "lastQty": text(instrument.lot_size * 3)}
        if not futures:
            ticker |= {"bidPrice": text(stats.bid), "bidQty": text(stats.bid_qty), "askPrice": text(stats.ask),
                       "askQty": text(stats.ask_qty)}  # fmt: skip
        trades = stats.time_ms // 1000
        ticker |= {
            "openPrice": text(stats.open), "highPrice": text(stats.high), "lowPrice": text(stats.low),
            "volume": text(stats.base_volume), "quoteVolume": text(stats.quote_volume),
            "openTime": stats.time_ms - DAY_MS, "closeTime": stats.time_ms,
            "firstId": trades - 500000, "lastId": trades, "count": 500001,
        }  # fmt: skip
        return ticker

    def spot_ticker_24h(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=False)
        if isinstance(selected, Instrument):
            return self._ticker(selected, futures=False)
        return [self._ticker(i, futures=False) for i in selected]

    def futures_ticker_24h(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=True)
        if isinstance(selected, Instrument):
            return self._ticker(selected, futures=True)
        return [self._ticker(i, futures=True) for i in selected]

    def _book_ticker(self, instrument: Instrument, futures: bool) -> dict[str, Any]:
        book = self.venue.book(instrument.symbol, 5)
        text = plain if futures else fixed8
        ticker: dict[str, Any] = {
            "symbol": native_id(instrument), "bidPrice": text(book.best_bid), "bidQty": text(book.bids[0][1]),
            "askPrice": text(book.best_ask), "askQty": text(book.asks[0][1]),
        }  # fmt: skip
        if futures:
            ticker["time"] = book.timestamp_ms
        return ticker

    def spot_book_ticker(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=False)
        if isinstance(selected, Instrument):
            return self._book_ticker(selected, futures=False)
        return [self._book_ticker(i, futures=False) for i in selected]

    def futures_book_ticker(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=True)
        if isinstance(selected, Instrument):
            return self._book_ticker(selected, futures=True)
        return [self._book_ticker(i, futures=True) for i in selected]

    def _last_price(self, instrument: Instrument, futures: bool) -> dict[str, Any]:
        price = self.venue.last_price(instrument.symbol)
        row: dict[str, Any] = {"symbol": native_id(instrument), "price": plain(price) if futures else fixed8(price)}
        if futures:
            row["time"] = self.venue.now_ms()
        return row

    def spot_last_price(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=False)
        if isinstance(selected, Instrument):
            return self._last_price(selected, futures=False)
        return [self._last_price(i, futures=False) for i in selected]

    def futures_last_price(self, request: SimRequest) -> Any:
        selected = self._selected(params_of(request), futures=True)
        if isinstance(selected, Instrument):
            return self._last_price(selected, futures=True)
        return [self._last_price(i, futures=True) for i in selected]

    def system_status(self, request: SimRequest) -> Any:
        return {"status": 0, "msg": "normal"}

    def spot_depth(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.spot(params.get("symbol", ""))
        limit = int_param(params, "limit", SPOT_DEPTH_DEFAULT) or SPOT_DEPTH_DEFAULT
        if not 1 <= limit <= SPOT_DEPTH_MAX:
            raise SimError(ErrorKind.BAD_PARAMETER, "limit", parameter="limit")
        book = self.venue.book(instrument.symbol, min(limit, 1000))
        return {"lastUpdateId": book.update_id,
                "bids": [[fixed8(p), fixed8(q)] for p, q in book.bids[:limit]],
                "asks": [[fixed8(p), fixed8(q)] for p, q in book.asks[:limit]]}  # fmt: skip

    def futures_depth(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.swap(params.get("symbol", ""))
        limit = int_param(params, "limit", 500) or 500
        if limit not in FUTURES_DEPTH_LIMITS:
            limit = min((n for n in FUTURES_DEPTH_LIMITS if n >= limit), default=1000)
        book = self.venue.book(instrument.symbol, limit)
        places_price = max(0, -instrument.tick_size.normalize().as_tuple().exponent)  # type: ignore[operator]
        places_qty = max(0, -instrument.lot_size.normalize().as_tuple().exponent)  # type: ignore[operator]
        return {"lastUpdateId": book.update_id, "E": book.timestamp_ms, "T": book.timestamp_ms - 6,
                "bids": [[plain(p, places_price), plain(q, places_qty)] for p, q in book.bids],
                "asks": [[plain(p, places_price), plain(q, places_qty)] for p, q in book.asks]}  # fmt: skip

    # ---- funding -----------------------------------------------------------------------------------------------

    def _premium(self, instrument: Instrument) -> dict[str, Any]:
        snapshot = self.venue.funding(instrument.symbol)
        return {
            "symbol": native_id(instrument), "markPrice": plain(snapshot.mark_price, 8),
            "indexPrice": plain(snapshot.index_price, 8), "estimatedSettlePrice": plain(snapshot.index_price, 8),
            "lastFundingRate": plain(snapshot.rate, 8), "interestRate": "0.00010000",
            "nextFundingTime": snapshot.next_funding_ms, "time": snapshot.time_ms,
        }  # fmt: skip

    def premium_index(self, request: SimRequest) -> Any:
        params = params_of(request)
        if params.get("symbol"):
            return self._premium(self.swap(params["symbol"]))
        return [self._premium(i) for i in self.swap_by_id.values()]

    def funding_intervals(self, request: SimRequest) -> Any:
        return self.funding_info

    def funding_rate_history(self, request: SimRequest) -> Any:
        """``/fapi/v1/fundingRate``: oldest first; from ``startTime`` when given, else the most recent ``limit``."""
        params = params_of(request)
        limit = int_param(params, "limit", FUNDING_HISTORY_DEFAULT) or FUNDING_HISTORY_DEFAULT
        if not 1 <= limit <= FUNDING_HISTORY_MAX:
            raise SimError(ErrorKind.BAD_PARAMETER, "limit", parameter="limit")
        start = int_param(params, "startTime")
        end = int_param(params, "endTime") or self.venue.now_ms()
        instruments = [self.swap(params["symbol"])] if params.get("symbol") else list(self.swap_by_id.values())
        rows: list[dict[str, Any]] = []
        for instrument in instruments:
            step = instrument.funding_interval_hours * 3_600_000
            if start is None:
                points = self.venue.funding_history(instrument.symbol, end - limit * step, end)[-limit:]
            else:
                points = self.venue.funding_history(instrument.symbol, start, min(end, start + limit * step))
            rows += [{"symbol": native_id(instrument), "fundingTime": p.time_ms, "fundingRate": plain(p.rate, 8),
                      "markPrice": plain(p.mark_price, 8)} for p in points[:limit]]  # fmt: skip
        rows.sort(key=lambda row: (row["fundingTime"], row["symbol"]))
        return rows[-limit:] if start is None else rows[:limit]
