"""A feed publishes its symbols one at a time with a turn of the event loop between them, so a request that arrives
at a bucket boundary (when every feed publishes, and when spreads appear) is served between two symbols rather than
after all of them; each symbol still gets every diff in order."""

from __future__ import annotations

import asyncio
import json

from conftest import make_settings

from arbx_pipelines.venues.sim.book import BOOK_QUANTUM_MS
from arbx_pipelines.venues.sim.simulator import Simulator
from arbx_pipelines.venues.sim.streams.feed import VenueFeed
from arbx_pipelines.venues.sim.streams.protocols import OkxStreams

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


class _Subscriber:
    """The part of a connection the feed uses: its symbols and an ordered outbox."""

    def __init__(self, log: list[str]) -> None:
        self.symbols: set[str] = set()
        self._log = log

    def send(self, text: str) -> None:
        self._log.append(json.loads(text)["arg"]["instId"])


def test_symbols_are_published_with_a_turn_of_the_loop_between_them() -> None:
    simulator = Simulator(make_settings(history_dir=None))
    slot = simulator.venues["okx"]
    feed = VenueFeed(slot, OkxStreams(list(slot.engine.instruments.values())))
    events: list[str] = []
    subscriber = _Subscriber(events)
    for symbol in SYMBOLS:
        feed.subscribe(subscriber, symbol)  # type: ignore[arg-type]
    start = feed.current_bucket()
    slot.engine.clock.advance(BOOK_QUANTUM_MS)

    async def main() -> None:
        publishing = asyncio.create_task(feed.publish_interleaved())
        await asyncio.sleep(0)  # the feed's first step: one symbol, then it yields
        events.append("request served")
        await publishing

    asyncio.run(main())
    assert events == ["BTC-USDT", "request served", "ETH-USDT", "SOL-USDT"]
    assert {symbol: feed.frames[symbol].bucket for symbol in SYMBOLS} == dict.fromkeys(SYMBOLS, start + 1)
