"""The three venues' order-book stream formats, as ccxt.pro reads them (``ccxt/pro/binance.py``, ``okx.py``,
``bitget.py``: ``handle_order_book``).

* Binance spot diff-depth (``<symbol>@depth``): ``depthUpdate`` events with first/final update ids ``U``/``u``; the
  client takes the REST snapshot (``lastUpdateId``) itself and checks ``U == previous u + 1``.
* OKX ``books``: a snapshot then updates, each with ``seqId``/``prevSeqId`` (checked by ccxt) and the CRC32
  ``checksum`` of the top 25 levels.
* Bitget ``books``: a snapshot then updates with the CRC32 ``checksum`` of the top 25 levels (checked by ccxt; a
  mismatch makes it unsubscribe, which must be acknowledged) and ``seq``/``pseq``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.binance.formats import fixed8
from arbx_pipelines.venues.sim.binance.formats import native_id as binance_id
from arbx_pipelines.venues.sim.bitget.formats import native_id as bitget_id
from arbx_pipelines.venues.sim.bitget.formats import text as bitget_text
from arbx_pipelines.venues.sim.book import Level
from arbx_pipelines.venues.sim.okx.formats import contracts, inst_id, num
from arbx_pipelines.venues.sim.streams.feed import Connection, StreamFaultKind, VenueFeed
from arbx_pipelines.venues.sim.streams.frames import Frame, book_checksum, diff
from arbx_pipelines.venues.sim.universe import Instrument


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


def _parse(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


class BinanceStreams:
    """``/binance/ws/stream/ws/<n>``: combined SUBSCRIBE requests, spot diff-depth events."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self.by_stream = {f"{binance_id(i).lower()}@depth": i for i in instruments if not i.is_swap}

    def _instrument(self, stream: str) -> Instrument | None:
        name, _, rate = str(stream).partition("@depth")
        return self.by_stream.get(f"{name}@depth") if rate in ("", "@100ms", "@1000ms") else None

    async def on_text(self, feed: VenueFeed, connection: Connection, text: str) -> None:
        request = _parse(text)
        if request is None or request.get("method") not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            connection.send(dumps({"error": {"code": 3, "msg": "Invalid JSON: expected a method"}, "id": None}))
            return
        params = request.get("params") or []
        instruments = [self._instrument(stream) for stream in params]
        if not params or any(i is None for i in instruments):
            connection.send(dumps({"error": {"code": 2, "msg": f"Invalid request: unknown stream {params}"},
                                   "id": request.get("id")}))  # fmt: skip
            return
        for instrument in instruments:
            assert instrument is not None
            if request["method"] == "SUBSCRIBE":
                feed.subscribe(connection, instrument.symbol)
            else:
                feed.unsubscribe(connection, instrument.symbol)
        connection.send(dumps({"result": None, "id": request.get("id")}))

    def update(self, instrument: Instrument, old: Frame, new: Frame, fault: StreamFaultKind | None) -> str:
        change = diff(old, new)
        first = old.bucket + (2 if fault is StreamFaultKind.GAP else 1)
        return dumps({"e": "depthUpdate", "E": new.time_ms, "s": binance_id(instrument), "U": first,
                      "u": new.bucket, "b": _levels(change.bids, fixed8, fixed8),
                      "a": _levels(change.asks, fixed8, fixed8)})  # fmt: skip


def _levels(levels: tuple[Level, ...], price: Callable[[Decimal], str], size: Callable[[Decimal], str]) -> list[Any]:
    return [[price(p), size(q)] for p, q in levels]


class _ChannelStreams:
    """OKX and Bitget: ``{"op": "subscribe", "args": [...]}`` with ``books`` args, text ping/pong."""

    def key(self, arg: dict[str, Any]) -> Instrument | None:
        raise NotImplementedError

    def error(self, arg: Any, op: str) -> dict[str, Any]:
        raise NotImplementedError

    def snapshot(self, instrument: Instrument, arg: dict[str, Any], frame: Frame) -> str:
        raise NotImplementedError

    async def on_text(self, feed: VenueFeed, connection: Connection, text: str) -> None:
        if text == "ping":
            connection.send("pong")
            return
        request = _parse(text)
        op = request.get("op") if request else None
        args = request.get("args") if request else None
        if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
            connection.send(dumps(self.error(request, str(op))))
            return
        for arg in args:
            instrument = self.key(arg) if isinstance(arg, dict) and arg.get("channel") == "books" else None
            if instrument is None:
                connection.send(dumps(self.error(arg, op)))
                continue
            if op == "unsubscribe":
                feed.unsubscribe(connection, instrument.symbol)
                connection.send(dumps({"event": "unsubscribe", "arg": arg}))
                continue
            frame = feed.subscribe(connection, instrument.symbol)
            connection.send(dumps({"event": "subscribe", "arg": arg, "connId": "sim"}))
            connection.send(self.snapshot(instrument, arg, frame))


class OkxStreams(_ChannelStreams):
    """``/okx/ws/ws/ws/v5/public``: the ``books`` channel (spot and swaps; swap sizes in contracts)."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self.by_id = {inst_id(i): i for i in instruments}

    def key(self, arg: dict[str, Any]) -> Instrument | None:
        return self.by_id.get(str(arg.get("instId")))

    def error(self, arg: Any, op: str) -> dict[str, Any]:
        return {"event": "error", "code": "60018", "msg": f"Wrong URL or channel: {dumps(arg)} doesn't exist.",
                "connId": "sim"}  # fmt: skip

    def _data(self, instrument: Instrument, frame: Frame, bids: tuple[Level, ...], asks: tuple[Level, ...],
              previous: int, checksum: int) -> dict[str, Any]:  # fmt: skip
        def render(levels: tuple[Level, ...]) -> list[list[str]]:
            return [[num(p), num(contracts(instrument, q)), "0", "1" if q else "0"] for p, q in levels]

        return {"asks": render(asks), "bids": render(bids), "ts": str(frame.time_ms), "checksum": checksum,
                "prevSeqId": previous, "seqId": frame.bucket}  # fmt: skip

    def checksum(self, instrument: Instrument, frame: Frame) -> int:
        return book_checksum(frame, num) if not instrument.is_swap else book_checksum(
            Frame(frame.bucket, frame.time_ms, _in_contracts(instrument, frame.bids),
                  _in_contracts(instrument, frame.asks)), num)  # fmt: skip

    def snapshot(self, instrument: Instrument, arg: dict[str, Any], frame: Frame) -> str:
        data = self._data(instrument, frame, frame.bids, frame.asks, -1, self.checksum(instrument, frame))
        return dumps({"arg": {"channel": "books", "instId": inst_id(instrument)}, "action": "snapshot",
                      "data": [data]})  # fmt: skip

    def update(self, instrument: Instrument, old: Frame, new: Frame, fault: StreamFaultKind | None) -> str:
        change = diff(old, new)
        checksum = self.checksum(instrument, new) + (1 if fault is StreamFaultKind.BAD_CHECKSUM else 0)
        previous = old.bucket - (1 if fault is StreamFaultKind.GAP else 0)
        data = self._data(instrument, new, change.bids, change.asks, previous, checksum)
        return dumps({"arg": {"channel": "books", "instId": inst_id(instrument)}, "action": "update",
                      "data": [data]})  # fmt: skip


def _in_contracts(instrument: Instrument, levels: tuple[Level, ...]) -> tuple[Level, ...]:
    return tuple((p, contracts(instrument, q)) for p, q in levels)


class BitgetStreams(_ChannelStreams):
    """``/bitget/ws/ws/v2/ws/public``: the ``books`` channel of ``SPOT`` and ``USDT-FUTURES``."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self.by_key = {("USDT-FUTURES" if i.is_swap else "SPOT", bitget_id(i)): i for i in instruments}

    def key(self, arg: dict[str, Any]) -> Instrument | None:
        return self.by_key.get((str(arg.get("instType")).upper(), str(arg.get("instId"))))

    def error(self, arg: Any, op: str) -> dict[str, Any]:
        return {"event": "error", "arg": arg, "code": 30001, "msg": f"{dumps(arg)} doesn't exist", "op": op}

    @staticmethod
    def _arg(instrument: Instrument) -> dict[str, str]:
        return {"instType": "USDT-FUTURES" if instrument.is_swap else "SPOT", "channel": "books",
                "instId": bitget_id(instrument)}  # fmt: skip

    def _message(self, instrument: Instrument, action: str, frame: Frame, bids: tuple[Level, ...],
                 asks: tuple[Level, ...], previous: int, checksum: int) -> str:  # fmt: skip
        data = {"asks": _levels(asks, bitget_text, bitget_text), "bids": _levels(bids, bitget_text, bitget_text),
                "checksum": checksum, "seq": frame.bucket, "pseq": previous, "ts": str(frame.time_ms)}  # fmt: skip
        return dumps({"action": action, "arg": self._arg(instrument), "data": [data], "ts": frame.time_ms})

    def snapshot(self, instrument: Instrument, arg: dict[str, Any], frame: Frame) -> str:
        return self._message(instrument, "snapshot", frame, frame.bids, frame.asks, 0, 0)

    def update(self, instrument: Instrument, old: Frame, new: Frame, fault: StreamFaultKind | None) -> str:
        change = diff(old, new)
        checksum = book_checksum(new, bitget_text) + (1 if fault is StreamFaultKind.BAD_CHECKSUM else 0)
        previous = old.bucket - (1 if fault is StreamFaultKind.GAP else 0)
        return self._message(instrument, "update", new, change.bids, change.asks, previous, checksum)
