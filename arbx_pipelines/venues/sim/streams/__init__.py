"""WebSocket order-book streams of the simulated venues, and the cross-venue dislocations the spot engine trades.

``add_stream_routes(app, simulator)`` (called by ``server.build_app``) serves ``/<venue>/ws/...`` for each venue (the
URLs ``ccxt_wiring`` gives ccxt.pro), installs the dislocation generator into the market model, adds the admin
routes (``admin.py``) and runs one publishing loop per venue while the app runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from arbx_pipelines.venues.sim.simulator import Simulator
from arbx_pipelines.venues.sim.streams.admin import add_stream_admin_routes
from arbx_pipelines.venues.sim.streams.dislocations import DislocationGenerator, DislocationSettings
from arbx_pipelines.venues.sim.streams.feed import StreamProtocol, VenueFeed
from arbx_pipelines.venues.sim.streams.protocols import BinanceStreams, BitgetStreams, OkxStreams

FEEDS_KEY = web.AppKey("stream_feeds", dict)

_PROTOCOLS: dict[str, type[BinanceStreams] | type[OkxStreams] | type[BitgetStreams]] = {
    "binance": BinanceStreams,
    "okx": OkxStreams,
    "bitget": BitgetStreams,
}


def add_stream_routes(app: web.Application, simulator: Simulator) -> dict[str, VenueFeed]:
    """Register the stream routes (before the venues' catch-all routes) and return the feeds by venue."""
    settings = DislocationSettings.from_mapping(getattr(simulator.settings, "dislocations", None) or {})
    generator = DislocationGenerator(simulator.settings.seed, tuple(simulator.venues), settings)
    simulator.market.factor_sources.append(generator.factor)
    feeds: dict[str, VenueFeed] = {}
    for name, slot in simulator.venues.items():
        protocol_class = _PROTOCOLS.get(name)
        if protocol_class is None:
            continue
        protocol: StreamProtocol = protocol_class(list(slot.engine.instruments.values()))
        feed = feeds[name] = VenueFeed(slot, protocol, lag_ms=int(settings.lag_ms.get(name, 0)))
        app.router.add_get(f"/{name}/ws/{{tail:.*}}", feed.serve)
    app[FEEDS_KEY] = feeds
    add_stream_admin_routes(app, simulator, feeds, generator)

    async def run_feeds(app: web.Application) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(feed.run()) for feed in feeds.values()]
        yield
        for task in tasks:
            task.cancel()
        for feed in feeds.values():
            for connection in list(feed.connections):
                with contextlib.suppress(Exception):
                    await connection.close()
        await asyncio.gather(*tasks, return_exceptions=True)

    app.cleanup_ctx.append(run_feeds)
    return feeds
