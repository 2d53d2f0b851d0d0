"""Each venue's books over its WebSocket stream (stock ccxt.pro ``watch_order_book``), resynced on gaps and bad
checksums: ccxt.pro raises, the watcher counts a resync and watches again (after three in a row it unwatches first,
so a half-reset book is dropped)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from ccxt.base.errors import ChecksumError, InvalidNonce, NetworkError, UnsubscribeError

from arbx_pipelines.core.models import Mode
from arbx_pipelines.logs import get_logger

log = get_logger("arbx.engine.books")
RESYNC_ERRORS = (ChecksumError, InvalidNonce, UnsubscribeError)

OnBook = Callable[[str, str, Any], None]
#: how long trading waits for a stream that has not delivered its first book
WARMUP_S = 10.0


class Warmup:
    """Trading starts once every watched book has arrived at least once, i.e. every stream is connected: opening
    one costs the event loop tens of milliseconds (ccxt builds a TLS context, subscribes, loads a snapshot), which
    would hold up the orders of the first arbitrages while the others connect. A stream still missing after
    ``timeout_s`` (counted from its creation, as the streams open) no longer holds trading back."""

    def __init__(self, expected: Iterable[tuple[str, str]], timeout_s: float = WARMUP_S,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._missing = set(expected)
        self._timeout_s = timeout_s
        self._clock = clock
        self._since = clock()
        self.ready = not self._missing

    def seen(self, venue: str, symbol: str) -> bool:
        """Note a book of ``venue`` / ``symbol``; whether trading may start."""
        if not self.ready:
            self._missing.discard((venue, symbol))
            self.ready = not self._missing or self._clock() - self._since >= self._timeout_s
        return self.ready


def stream_client(ccxt_id: str, mode: Mode, sim_url: str | None) -> Any:
    """A ccxt.pro client for public books; in sim mode wired to the simulator like the REST clients."""
    import ccxt.pro as ccxtpro

    exchange = getattr(ccxtpro, ccxt_id)({"enableRateLimit": False})
    # no permessage-deflate (ccxt asks for it by default): a book update is a few hundred bytes, and inflating every
    # one costs the engine CPU on each update and time before detection
    exchange.options["ws"] = {**exchange.options.get("ws", {}), "compress": 0}
    if mode is Mode.SIM:
        from arbx_pipelines.venues.sim.ccxt_wiring import wire

        if sim_url is None:
            raise ValueError("sim mode needs the simulator's URL")
        wire(exchange, sim_url)
    return exchange


async def watch_books(venue: str, exchange: Any, symbol: str, on_book: OnBook, on_resync: Callable[[], None]) -> None:
    errors_in_row = 0
    delay = 0.2
    while True:
        try:
            book = await exchange.watch_order_book(symbol)
        except RESYNC_ERRORS as exc:
            on_resync()
            errors_in_row += 1
            log.info("book resync", extra={"venue": venue, "symbol": symbol, "error": type(exc).__name__})
            if errors_in_row % 3 == 0:
                with contextlib.suppress(Exception):
                    await exchange.un_watch_order_book(symbol)
            continue
        except NetworkError as exc:
            log.warning("book stream down; reconnecting", extra={"venue": venue, "error": str(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        errors_in_row = 0
        delay = 0.2
        on_book(venue, symbol, book)
