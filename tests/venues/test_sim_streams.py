"""Stock ccxt.pro ``watch_order_book`` against each simulated venue's stream, wired like REST (``ccxt_wiring``).

Each venue: the first book is the venue's book at the stream's bucket, every later book arrives with a higher update
id and equals the simulator's book at that bucket, and an injected stream fault (Binance and OKX: a sequence gap;
Bitget: a wrong checksum) makes ccxt.pro raise, after which watching again resyncs to the right book.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro
import pytest
from ccxt.base.errors import ChecksumError, InvalidNonce, UnsubscribeError
from conftest import make_settings

from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.venues.sim.book import BOOK_QUANTUM_MS
from arbx_pipelines.venues.sim.ccxt_wiring import simulated_urls, wire
from arbx_pipelines.venues.sim.server import SimServer

SYMBOL = "ETH/USDT"
TOP = 10
FAULT_OF = {"binance": "gap", "okx": "gap", "bitget": "bad_checksum"}


@pytest.fixture(scope="module")
def stream_server() -> Iterator[SimServer]:
    with SimServer(make_settings(speed=4.0, clock_running=True)) as server:  # streams publish as time runs
        yield server


def _bucket(venue: str, book: Any) -> int:
    if venue == "bitget":  # its books carry the bucket's time, no nonce
        return int(book["timestamp"]) // BOOK_QUANTUM_MS
    return int(book["nonce"])


def _server_top(server: SimServer, venue: str, bucket: int) -> tuple[list[list[float]], list[list[float]]]:
    def read() -> Any:
        return server.simulator.venue(venue).engine.book(SYMBOL, 50, t_ms=bucket * BOOK_QUANTUM_MS)

    book = server.call(read)
    return [[float(p), float(q)] for p, q in book.bids[:TOP]], [[float(p), float(q)] for p, q in book.asks[:TOP]]


def _client_top(book: Any) -> tuple[list[list[float]], list[list[float]]]:
    return [list(level[:2]) for level in book["bids"][:TOP]], [list(level[:2]) for level in book["asks"][:TOP]]


async def _book_after_resync(exchange: Any) -> Any:
    """The next book, resubscribing like the engine's watcher: Bitget's ccxt.pro rejects the watch again after its own
    resync (it unsubscribes, then rejects), and a book left half-reset is dropped by unwatching it."""
    errors = []
    for attempt in range(10):
        try:
            return await asyncio.wait_for(exchange.watch_order_book(SYMBOL), 10)
        except (ChecksumError, InvalidNonce, UnsubscribeError) as exc:
            errors.append(type(exc).__name__)
            if attempt % 3 == 2:
                with contextlib.suppress(Exception):
                    await exchange.un_watch_order_book(SYMBOL)
    raise AssertionError(f"no book after resyncs: {errors}")


async def _watch_venue(server: SimServer, venue: str) -> dict[str, Any]:
    exchange = wire(getattr(ccxtpro, venue)({"enableRateLimit": False}), server.base_url)
    seen: list[int] = []
    mismatches: list[int] = []
    try:
        await exchange.load_markets()
        for _ in range(6):
            book = await exchange.watch_order_book(SYMBOL)
            bucket = _bucket(venue, book)
            seen.append(bucket)
            if _client_top(book) != _server_top(server, venue, bucket):
                mismatches.append(bucket)
        async with aiohttp.ClientSession() as session:
            reply = await session.post(f"{server.base_url}/_admin/streams",
                                       json={"venue": venue, "fault": FAULT_OF[venue], "symbol": SYMBOL})  # fmt: skip
            assert reply.status == 200, await reply.text()
        detected: BaseException | None = None
        for _ in range(20):
            try:
                await exchange.watch_order_book(SYMBOL)
            except (ChecksumError, InvalidNonce, UnsubscribeError) as exc:
                detected = exc
                break
        resynced = []
        for _ in range(3):
            book = await _book_after_resync(exchange)
            bucket = _bucket(venue, book)
            resynced.append(_client_top(book) == _server_top(server, venue, bucket))
        return {"seen": seen, "mismatches": mismatches, "detected": detected, "resynced": resynced}
    finally:
        await exchange.close()


@pytest.mark.parametrize("venue", ["binance", "okx", "bitget"])
def test_stock_ccxt_pro_books_follow_the_stream_and_resync(stream_server: SimServer, venue: str) -> None:
    result = asyncio.run(_watch_venue(stream_server, venue))
    seen = result["seen"]
    assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen
    assert result["mismatches"] == []
    assert result["detected"] is not None, "the injected stream fault went unnoticed"
    assert result["resynced"] == [True, True, True]


def test_ws_urls_are_rewired_under_the_venue_and_keep_binance_spot_recognisable() -> None:
    urls = simulated_urls(ccxtpro.binance().urls["api"], "http://127.0.0.1:9", "binance")
    assert urls["ws"]["spot"] == "ws://127.0.0.1:9/binance/ws/stream/ws"
    assert urls["ws"]["linear"] == "ws://127.0.0.1:9/binance/ws/fstream/ws"
    assert urls["public"].startswith("http://127.0.0.1:9/binance/")
    okx = simulated_urls(ccxtpro.okx().urls["api"], "http://127.0.0.1:9", "okx")
    assert okx["ws"] == "ws://127.0.0.1:9/okx/ws/ws/ws/v5"


async def _lagging_bucket(server: SimServer) -> tuple[int, int]:
    exchange = wire(ccxtpro.okx({"enableRateLimit": False}), server.base_url)
    try:
        await exchange.load_markets()
        book = await exchange.watch_order_book(SYMBOL)
        book = await exchange.watch_order_book(SYMBOL)
        now_bucket = server.call(lambda: server.simulator.clock.now_ms() // BOOK_QUANTUM_MS)
        return int(book["nonce"]), int(now_bucket)
    finally:
        await exchange.close()


def test_a_venue_can_lag_or_jump_through_the_admin_endpoint(stream_server: SimServer) -> None:
    admin = SimAdmin(stream_server.base_url)
    before = admin.call("GET", "/dislocations")
    assert before["lag_ms"]["okx"] == 0 and before["enabled"] is False
    assert admin.call("POST", "/dislocations", {"venue": "okx", "lag_ms": 4000})["lag_ms"] == 4000
    try:
        streamed, now = asyncio.run(_lagging_bucket(stream_server))
    finally:
        admin.call("POST", "/dislocations", {"venue": "okx", "lag_ms": 0})
    assert now - streamed >= 4000 // BOOK_QUANTUM_MS - 1  # the stream shows the book of 4 s ago
    engine = stream_server.simulator.venue("bitget").engine
    mid = stream_server.call(lambda: engine.book(SYMBOL, 5).mid)
    jump = admin.call("POST", "/dislocations", {"venue": "bitget", "coin": "ETH", "bps": 200, "duration_ms": 60000})
    assert jump["factor"] == 1.02
    moved = stream_server.call(lambda: engine.book(SYMBOL, 5, t_ms=jump["start_ms"] + BOOK_QUANTUM_MS).mid)
    assert moved / mid > Decimal("1.015")  # from the next book on: a 2% jump on top of a few bps of noise
    admin.call("DELETE", "/price", None)
