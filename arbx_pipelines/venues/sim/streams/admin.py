"""Admin endpoints of the streams (same conventions as ``venues/sim/admin.py``; bad input answers 400).

=======================================  ==========================================================================
``GET /_admin/streams``                  per venue: lag, subscribed symbols, connections, pending stream faults
``POST /_admin/streams``                 ``{"venue", "fault": "gap"|"bad_checksum", "symbol"?, "times"?}``: corrupt
                                         the venue's next update(s) (of one symbol); clients must resync
``GET /_admin/dislocations``             generator settings and the dislocations active now
``POST /_admin/dislocations``            ``{"venue", "lag_ms"}``: the venue's stream lags; ``{"venue", "coin" |
                                         "symbol", "bps", "duration_ms"}``: the venue's price jumps by ``bps``
=======================================  ==========================================================================
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from arbx_pipelines.venues.sim.clock import HOUR_MS
from arbx_pipelines.venues.sim.market import Override
from arbx_pipelines.venues.sim.simulator import Simulator
from arbx_pipelines.venues.sim.streams.dislocations import DislocationGenerator
from arbx_pipelines.venues.sim.streams.feed import StreamFault, StreamFaultKind, VenueFeed


class StreamAdminError(ValueError):
    pass


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=lambda data: json.dumps(data, default=str))


def _number(data: dict[str, Any], key: str) -> Decimal:
    try:
        return Decimal(str(data[key]))
    except (KeyError, InvalidOperation) as exc:
        raise StreamAdminError(f"{key!r} must be a number") from exc


def add_stream_admin_routes(
    app: web.Application, simulator: Simulator, feeds: dict[str, VenueFeed], generator: DislocationGenerator
) -> None:
    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError as exc:
            raise StreamAdminError(f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise StreamAdminError("body must be a JSON object")
        return data

    def feed_of(data: dict[str, Any]) -> VenueFeed:
        feed = feeds.get(str(data.get("venue")))
        if feed is None:
            raise StreamAdminError(f"unknown venue {data.get('venue')!r}; streamed: {sorted(feeds)}")
        return feed

    async def streams(request: web.Request) -> web.Response:
        return _reply({name: {"lag_ms": feed.lag_ms, "connections": len(feed.connections),
                              "symbols": sorted(s for s, c in feed.subscribers.items() if c),
                              "published": feed.published,
                              "faults": [{"kind": f.kind.value, "symbol": f.symbol, "times": f.times}
                                         for f in feed.faults]}
                       for name, feed in feeds.items()})  # fmt: skip

    async def add_fault(request: web.Request) -> web.Response:
        try:
            data = await body(request)
            feed = feed_of(data)
            kind = StreamFaultKind(str(data.get("fault")))
            times = int(data.get("times", 1))
            if times < 1:
                raise StreamAdminError("'times' must be >= 1")
        except (StreamAdminError, ValueError) as exc:
            return _reply({"error": str(exc)}, status=400)
        symbol = data.get("symbol")
        feed.add_fault(StreamFault(kind, str(symbol) if symbol else None, times))
        return _reply({"venue": feed.venue, "fault": kind.value, "symbol": symbol, "times": times})

    async def dislocations(request: web.Request) -> web.Response:
        now = simulator.clock.now_ms()
        settings = generator.settings
        active = []
        for coin in settings.coins:
            event = generator.event(coin, now // settings.every_ms)
            if settings.enabled and event is not None and event.start_ms <= now < event.end_ms:
                active.append(event.__dict__)
        return _reply({"enabled": settings.enabled, "coins": list(settings.coins), "every_ms": settings.every_ms,
                       "bps": [settings.min_bps, settings.max_bps], "duration_ms": [settings.min_ms, settings.max_ms],
                       "lag_ms": {name: feed.lag_ms for name, feed in feeds.items()}, "active": active})  # fmt: skip

    async def dislocate(request: web.Request) -> web.Response:
        try:
            data = await body(request)
            feed = feed_of(data)
            if "lag_ms" in data:
                lag = int(_number(data, "lag_ms"))
                if not 0 <= lag <= HOUR_MS:
                    raise StreamAdminError("'lag_ms' must be within 0..3600000")
                feed.lag_ms = lag
                return _reply({"venue": feed.venue, "lag_ms": lag})
            coin = str(data.get("coin") or str(data.get("symbol") or "").split("/")[0]).upper()
            if not coin:
                raise StreamAdminError("give 'lag_ms', or 'coin'/'symbol' with 'bps' and 'duration_ms'")
            bps = _number(data, "bps")
            duration = int(_number(data, "duration_ms"))
            if duration <= 0 or abs(bps) >= 5000:
                raise StreamAdminError("need 'duration_ms' > 0 and |bps| < 5000")
        except (StreamAdminError, ValueError) as exc:
            return _reply({"error": str(exc)}, status=400)
        now = simulator.clock.now_ms()
        factor = 1.0 + float(bps) / 1e4
        simulator.market.price_overrides.append(Override(feed.venue, coin, now, now + duration, factor))
        return _reply({"venue": feed.venue, "coin": coin, "factor": factor, "start_ms": now,
                       "end_ms": now + duration})  # fmt: skip

    router = app.router
    router.add_get("/_admin/streams", streams)
    router.add_post("/_admin/streams", add_fault)
    router.add_get("/_admin/dislocations", dislocations)
    router.add_post("/_admin/dislocations", dislocate)
