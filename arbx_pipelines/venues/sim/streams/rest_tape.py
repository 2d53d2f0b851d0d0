"""Public trades and candles (klines) over REST in each venue's format, from :mod:`.tape`.

Binance ``/api/v3`` and ``/fapi/v1`` ``klines``, ``trades``, ``aggTrades``; OKX ``/api/v5/market/candles``,
``history-candles`` and ``trades`` (swap sizes in contracts); Bitget ``/api/v2/spot|mix/market/candles``,
``history-candles``, ``fills`` and ``fills-history``.
``tape_routes(slot)`` returns them for ``server.build_app`` to register like the venue module's own routes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.okx.formats import contracts, num
from arbx_pipelines.venues.sim.streams.tape import Candle, candles, recent_trades
from arbx_pipelines.venues.sim.venue_api import Route, SimRequest

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.simulator import VenueSlot

UNIT_MS = {"s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "H": 3_600_000, "d": 86_400_000,
           "D": 86_400_000, "day": 86_400_000, "w": 604_800_000, "W": 604_800_000, "week": 604_800_000}  # fmt: skip


def interval_ms(text: str) -> int:
    """``1m``, ``15min``, ``1H``, ``4h``, ``1D``, ``1Dutc``, ``1day``, ``1w`` -> milliseconds."""
    match = re.fullmatch(r"(\d+)(s|min|m|h|H|day|d|D|week|w|W)(utc)?", text or "")
    if match is None:
        raise SimError(ErrorKind.BAD_PARAMETER, f"invalid interval {text!r}", parameter="interval")
    return int(match.group(1)) * UNIT_MS[match.group(2)]


def _int(params: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = params.get(name)
        if value not in (None, ""):
            try:
                return int(str(value))
            except ValueError as exc:
                raise SimError(ErrorKind.BAD_PARAMETER, f"{name} must be an integer", parameter=name) from exc
    return None


def _ohlc(candle: Candle) -> list[str]:
    return [str(candle.open), str(candle.high), str(candle.low), str(candle.close), str(candle.volume)]


def binance_routes(slot: VenueSlot) -> list[Route]:
    data, venue = slot.module.market_data, slot.engine  # type: ignore[attr-defined]

    def instrument(request: SimRequest, futures: bool) -> Any:
        symbol = request.query.get("symbol", "")
        return data.swap(symbol) if futures else data.spot(symbol)

    def klines(futures: bool) -> Any:
        def handle(request: SimRequest) -> Any:
            q = request.query
            found = candles(venue, instrument(request, futures).symbol, interval_ms(q.get("interval", "")),
                            _int(q, "startTime"), _int(q, "endTime"), _int(q, "limit") or 500)  # fmt: skip
            rows = []
            for c in found:
                quote = (c.volume * c.close).quantize(c.close)
                rows.append([c.open_ms, *_ohlc(c), c.close_ms, str(quote), 100, str(c.volume / 2), str(quote / 2), "0"])
            return rows

        return handle

    def trades(aggregated: bool, futures: bool) -> Any:
        def handle(request: SimRequest) -> Any:
            found = recent_trades(venue, instrument(request, futures).symbol, _int(request.query, "limit") or 500)
            if aggregated:
                return [{"a": t.trade_id, "p": str(t.price), "q": str(t.amount), "f": t.trade_id, "l": t.trade_id,
                         "T": t.time_ms, "m": t.buyer_maker, "M": True} for t in found]  # fmt: skip
            return [{"id": t.trade_id, "price": str(t.price), "qty": str(t.amount),
                     "quoteQty": str(t.price * t.amount), "time": t.time_ms, "isBuyerMaker": t.buyer_maker,
                     "isBestMatch": True} for t in found]  # fmt: skip

        return handle

    return [
        Route("GET", "/api/v3/klines", klines(False), 2, limit_group="api"),
        Route("GET", "/api/v3/trades", trades(False, False), 25, limit_group="api"),
        Route("GET", "/api/v3/aggTrades", trades(True, False), 2, limit_group="api"),
        Route("GET", "/fapi/v1/klines", klines(True), 5, limit_group="fapi"),
        Route("GET", "/fapi/v1/trades", trades(False, True), 5, limit_group="fapi"),
        Route("GET", "/fapi/v1/aggTrades", trades(True, True), 20, limit_group="fapi"),
    ]


def okx_routes(slot: VenueSlot) -> list[Route]:
    data, venue = slot.module.market_data, slot.engine  # type: ignore[attr-defined]

    def ok(rows: list[Any]) -> dict[str, Any]:
        return {"code": "0", "msg": "", "data": rows}

    def candle_rows(request: SimRequest) -> Any:
        q = request.query
        instrument = data.instrument(q.get("instId", ""))
        step = interval_ms(q.get("bar", "1m"))
        after, before = _int(q, "after"), _int(q, "before")  # after: older than; before: newer than
        end = after - 1 if after is not None else None
        start = before + 1 if before is not None else None
        limit = min(_int(q, "limit") or 100, 300)
        found = candles(venue, instrument.symbol, step, start, end, limit)
        if start is None and end is not None:
            found = candles(venue, instrument.symbol, step, end - step * limit + 1, end, limit)
        return ok([[str(c.open_ms), *_ohlc(c)[:4], num(contracts(instrument, c.volume)), str(c.volume),
                    str(c.volume * c.close), "1"]
                   for c in reversed(found)])  # fmt: skip

    def trades(request: SimRequest) -> Any:
        instrument = data.instrument(request.query.get("instId", ""))
        found = recent_trades(venue, instrument.symbol, min(_int(request.query, "limit") or 100, 500))
        inst_id = request.query.get("instId")
        return ok([{"instId": inst_id, "side": "sell" if t.buyer_maker else "buy", "px": str(t.price),
                    "sz": num(contracts(instrument, t.amount)), "tradeId": str(t.trade_id), "ts": str(t.time_ms)}
                   for t in reversed(found)])  # fmt: skip

    return [
        Route("GET", "/api/v5/market/candles", candle_rows, 1, limit_group="/market/candles"),
        Route("GET", "/api/v5/market/history-candles", candle_rows, 1, limit_group="/market/history-candles"),
        Route("GET", "/api/v5/market/trades", trades, 1, limit_group="/market/trades"),
    ]


def bitget_routes(slot: VenueSlot) -> list[Route]:
    data, venue = slot.module.market_data, slot.engine  # type: ignore[attr-defined]

    def ok(rows: Any) -> dict[str, Any]:
        return {"code": "00000", "msg": "success", "requestTime": venue.now_ms(), "data": rows}

    def candle_rows(futures: bool) -> Any:
        def handle(request: SimRequest) -> Any:
            q = request.query
            symbol = q.get("symbol", "")
            instrument = data.swap(symbol) if futures else data.spot(symbol)
            found = candles(venue, instrument.symbol, interval_ms(q.get("granularity", "1m")), _int(q, "startTime"),
                            _int(q, "endTime"), min(_int(q, "limit") or 100, 1000))  # fmt: skip
            return ok([[str(c.open_ms), *_ohlc(c)[:4], str(c.volume), str(c.volume * c.close), str(c.volume * c.close)]
                       for c in found])  # fmt: skip

        return handle

    def fills(futures: bool) -> Any:
        def handle(request: SimRequest) -> Any:
            symbol = request.query.get("symbol", "")
            instrument = data.swap(symbol) if futures else data.spot(symbol)
            found = recent_trades(venue, instrument.symbol, min(_int(request.query, "limit") or 100, 500))
            return ok([{"symbol": symbol, "tradeId": str(t.trade_id), "side": "sell" if t.buyer_maker else "buy",
                        "price": str(t.price), "size": str(t.amount), "ts": str(t.time_ms)}
                       for t in reversed(found)])  # fmt: skip

        return handle

    return [
        Route("GET", "/api/v2/spot/market/candles", candle_rows(False), 1, limit_group="public"),
        Route("GET", "/api/v2/spot/market/history-candles", candle_rows(False), 1, limit_group="public"),
        Route("GET", "/api/v2/spot/market/fills", fills(False), 1, limit_group="public"),
        Route("GET", "/api/v2/spot/market/fills-history", fills(False), 1, limit_group="public"),
        Route("GET", "/api/v2/mix/market/candles", candle_rows(True), 1, limit_group="public"),
        Route("GET", "/api/v2/mix/market/history-candles", candle_rows(True), 1, limit_group="public"),
        Route("GET", "/api/v2/mix/market/fills", fills(True), 1, limit_group="public"),
        Route("GET", "/api/v2/mix/market/fills-history", fills(True), 1, limit_group="public"),
    ]


_BUILDERS = {"binance": binance_routes, "okx": okx_routes, "bitget": bitget_routes}


def tape_routes(slot: VenueSlot) -> list[Route]:
    """The trade and candle routes of ``slot``'s venue, skipping any the venue module already serves."""
    builder = _BUILDERS.get(slot.module.name)
    if builder is None:
        return []
    served = {(r.method, r.path) for r in slot.module.routes()}
    return [route for route in builder(slot) if (route.method, route.path) not in served]
