"""One venue's order-book streams: who is subscribed to which symbol, and the loop that publishes each new bucket.

Everything runs on the simulator's event loop thread. Messages to a connection go through its own queue and writer
task, so a snapshot queued on subscription always precedes the updates that follow it. One diff per symbol and bucket
is computed and rendered once, then queued to every subscriber of that symbol.

Stream faults (``/_admin/streams``) corrupt the next update(s): ``gap`` skips a sequence number, ``bad_checksum``
sends a wrong checksum; clients must detect either and resync.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.sim.book import BOOK_QUANTUM_MS
from arbx_pipelines.venues.sim.streams.frames import STREAM_DEPTH, Frame
from arbx_pipelines.venues.sim.universe import Instrument

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.simulator import VenueSlot

log = get_logger("arbx.sim.streams")

#: buckets a stream replays one by one when it falls behind; beyond that it sends one diff to the present
MAX_STEPS = 8
IDLE_WAIT_S = 0.1


class StreamFaultKind(StrEnum):
    GAP = "gap"
    BAD_CHECKSUM = "bad_checksum"


@dataclass
class StreamFault:
    kind: StreamFaultKind
    symbol: str | None
    times: int


class Connection:
    """A client websocket with an ordered outgoing queue (``send`` never awaits, so callers keep message order)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.symbols: set[str] = set()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())

    def send(self, text: str) -> None:
        self._queue.put_nowait(text)

    async def _write(self) -> None:
        while True:
            text = await self._queue.get()
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def close(self) -> None:
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        await self.ws.close()


class StreamProtocol(Protocol):
    """A venue's wire format: requests from clients and the messages the feed publishes."""

    async def on_text(self, feed: VenueFeed, connection: Connection, text: str) -> None: ...

    def update(self, instrument: Instrument, old: Frame, new: Frame, fault: StreamFaultKind | None) -> str: ...


class VenueFeed:
    def __init__(self, slot: VenueSlot, protocol: StreamProtocol, lag_ms: int = 0) -> None:
        self.slot = slot
        self.protocol = protocol
        self.lag_ms = lag_ms
        self.subscribers: dict[str, set[Connection]] = {}
        self.frames: dict[str, Frame] = {}
        self.faults: list[StreamFault] = []
        self.connections: set[Connection] = set()
        self.published = 0

    @property
    def venue(self) -> str:
        return self.slot.module.name

    def instrument(self, symbol: str) -> Instrument:
        return self.slot.engine.instrument(symbol)

    def current_bucket(self) -> int:
        return (self.slot.engine.now_ms() - self.lag_ms) // BOOK_QUANTUM_MS

    def frame(self, symbol: str, bucket: int) -> Frame:
        book = self.slot.engine.book(symbol, STREAM_DEPTH, t_ms=bucket * BOOK_QUANTUM_MS)
        return Frame(bucket, bucket * BOOK_QUANTUM_MS, book.bids[:STREAM_DEPTH], book.asks[:STREAM_DEPTH])

    def subscribe(self, connection: Connection, symbol: str) -> Frame:
        """Add a subscriber; returns the frame its snapshot must show (the last one published for the symbol)."""
        frame = self.frames.get(symbol)
        if frame is None or not self.subscribers.get(symbol):
            frame = self.frames[symbol] = self.frame(symbol, self.current_bucket())
        self.subscribers.setdefault(symbol, set()).add(connection)
        connection.symbols.add(symbol)
        return frame

    def unsubscribe(self, connection: Connection, symbol: str) -> None:
        self.subscribers.get(symbol, set()).discard(connection)
        connection.symbols.discard(symbol)

    def drop(self, connection: Connection) -> None:
        for symbol in list(connection.symbols):
            self.unsubscribe(connection, symbol)
        self.connections.discard(connection)

    def add_fault(self, fault: StreamFault) -> None:
        self.faults.append(fault)

    def _take_fault(self, symbol: str) -> StreamFaultKind | None:
        for fault in self.faults:
            if fault.symbol in (None, symbol):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault.kind
        return None

    def publish_symbol(self, symbol: str, bucket: int) -> None:
        """Queue ``symbol``'s diffs up to ``bucket`` to its subscribers (nothing when it has none, or is there)."""
        connections = self.subscribers.get(symbol)
        last = self.frames.get(symbol)
        if not connections or last is None or bucket <= last.bucket:
            return
        behind = bucket - last.bucket
        steps = range(last.bucket + 1, bucket + 1) if behind <= MAX_STEPS else range(bucket, bucket + 1)
        instrument = self.instrument(symbol)
        for step in steps:
            new = self.frame(symbol, step)
            text = self.protocol.update(instrument, last, new, self._take_fault(symbol))
            for connection in connections:
                connection.send(text)
            self.published += 1
            last = new
        self.frames[symbol] = last

    async def publish_interleaved(self) -> None:
        """:meth:`publish`, one symbol at a time with a turn of the event loop between symbols: every feed
        publishes at the same bucket boundary, the moment a spread appears and orders arrive, and a request must not
        wait for all of them (a book and its diff cost about a millisecond a symbol)."""
        bucket = self.current_bucket()
        for symbol in list(self.subscribers):
            try:
                self.publish_symbol(symbol, bucket)
            except Exception:  # keep streaming; logged once per symbol and bucket at most
                log.exception("stream publish failed", extra={"venue": self.venue, "symbol": symbol})
            await asyncio.sleep(0)

    def seconds_to_next_bucket(self) -> float:
        clock = self.slot.engine.clock
        if clock.paused:
            return IDLE_WAIT_S
        now = clock.now_ms() - self.lag_ms
        remaining_ms = (now // BOOK_QUANTUM_MS + 1) * BOOK_QUANTUM_MS - now
        return min(IDLE_WAIT_S, max(0.002, remaining_ms / clock.speed / 1000))

    async def run(self) -> None:
        while True:
            await self.publish_interleaved()
            await asyncio.sleep(self.seconds_to_next_bucket())

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(ws)
        self.connections.add(connection)
        try:
            async for message in ws:
                if message.type == web.WSMsgType.TEXT:
                    await self.protocol.on_text(self, connection, message.data)
        finally:
            self.drop(connection)
            await connection.close()
        return ws
