"""OKX public endpoints: instruments, tickers, order books, mark prices, funding rate and funding-rate history.

Swap sizes (``askSz``, book levels, ``vol24h``) are in contracts; spot sizes in coins. Funding follows OKX:
``fundingTime`` is the settlement the current ``fundingRate`` will pay at, ``nextFundingTime`` the one after, so
``nextFundingTime - fundingTime`` is the instrument's interval (8h, 4h or 1h).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.clock import HOUR_MS
from arbx_pipelines.venues.sim.engine import FundingPoint, SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.okx.formats import (
    Params,
    contracts,
    envelope,
    inst_id,
    inst_type,
    int_param,
    limit_param,
    ms,
    num,
    optional,
    query_params,
    required,
)
from arbx_pipelines.venues.sim.okx.reference import OkxReference
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION")
BOOK_MAX, BOOK_FULL_MAX, BOOK_LEVELS_CAP = 400, 5000, 1000
FUNDING_RATE_CAP = "0.02"
PREMIUM_QUANTUM = Decimal("0.0000000001")


class OkxMarketData:
    def __init__(self, venue: SimVenue, reference: OkxReference) -> None:
        self.venue = venue
        self.reference = reference

    # ---- lookups ---------------------------------------------------------------------------------------------

    def instrument(self, native: str) -> Instrument:
        instrument = self.reference.by_id.get(native)
        if instrument is None:
            raise SimError(ErrorKind.BAD_SYMBOL, f"unknown instrument {native}")
        return instrument

    def swap(self, native: str) -> Instrument:
        instrument = self.instrument(native)
        if not instrument.is_swap:
            raise SimError(ErrorKind.BAD_SYMBOL, "Instrument ID does not match instrument type", code="51015")
        return instrument

    def of_type(self, params: Params, name: str = "instType") -> list[Instrument]:
        kind = required(params, name).upper()
        if kind not in INST_TYPES:
            raise SimError(ErrorKind.BAD_PARAMETER, f"Parameter {name} error", parameter=name)
        return [i for i in self.reference.by_id.values() if inst_type(i) == kind]

    # ---- reference -------------------------------------------------------------------------------------------

    def server_time(self, request: SimRequest) -> Any:
        return envelope([{"ts": ms(self.venue.now_ms())}])

    def system_status(self, request: SimRequest) -> Any:
        return envelope([])

    def instruments(self, request: SimRequest) -> Any:
        params = query_params(request)
        kind = required(params, "instType").upper()
        if kind not in INST_TYPES:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter instType error", parameter="instType")
        if kind == "OPTION" and not (optional(params, "uly") or optional(params, "instFamily")):
            raise SimError(ErrorKind.MISSING_PARAMETER, "Either parameter uly or instFamily is required",
                           code="50015")  # fmt: skip
        rows = {"SPOT": self.reference.spot, "SWAP": self.reference.swap}.get(kind, [])
        wanted = optional(params, "instId")
        return envelope([row for row in rows if wanted is None or row["instId"] == wanted])

    # ---- tickers and books -----------------------------------------------------------------------------------

    def _ticker(self, instrument: Instrument) -> dict[str, Any]:
        stats = self.venue.ticker(instrument.symbol)
        swap = instrument.is_swap
        volume = contracts(instrument, stats.base_volume)
        return {
            "instType": inst_type(instrument), "instId": inst_id(instrument), "last": num(stats.last),
            "lastSz": num(contracts(instrument, instrument.lot_size * 3)), "askPx": num(stats.ask),
            "askSz": num(contracts(instrument, stats.ask_qty)), "bidPx": num(stats.bid),
            "bidSz": num(contracts(instrument, stats.bid_qty)), "open24h": num(stats.open),
            "high24h": num(stats.high), "low24h": num(stats.low),
            "volCcy24h": num(stats.base_volume if swap else stats.quote_volume), "vol24h": num(volume),
            "ts": ms(stats.time_ms), "sodUtc0": num(stats.open), "sodUtc8": num(stats.open),
        }  # fmt: skip

    def ticker(self, request: SimRequest) -> Any:
        instrument = self.instrument(required(query_params(request), "instId"))
        return envelope([self._ticker(instrument)])

    def tickers(self, request: SimRequest) -> Any:
        return envelope([self._ticker(i) for i in self.of_type(query_params(request))])

    def _book(self, request: SimRequest, maximum: int) -> Any:
        params = query_params(request)
        instrument = self.instrument(required(params, "instId"))
        size = int_param(params, "sz", 1)
        assert size is not None
        if not 1 <= size <= maximum:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter sz error", parameter="sz")
        book = self.venue.book(instrument.symbol, min(size, BOOK_LEVELS_CAP))

        def levels(side: tuple[tuple[Any, Any], ...]) -> list[list[str]]:
            return [[num(price), num(contracts(instrument, qty)), "0", str(1 + n % 7)]
                    for n, (price, qty) in enumerate(side[:size])]  # fmt: skip

        return envelope([{"asks": levels(book.asks), "bids": levels(book.bids), "ts": ms(book.timestamp_ms)}])

    def books(self, request: SimRequest) -> Any:
        return self._book(request, BOOK_MAX)

    def books_full(self, request: SimRequest) -> Any:
        return self._book(request, BOOK_FULL_MAX)

    def mark_price(self, request: SimRequest) -> Any:
        params = query_params(request)
        wanted = optional(params, "instId")
        instruments = [self.instrument(wanted)] if wanted else self.of_type(params)
        now = self.venue.now_ms()
        return envelope([{"instId": inst_id(i), "instType": inst_type(i) if i.is_swap else "MARGIN",
                          "markPx": num(self.venue.mark_price(i.symbol)), "ts": ms(now)}
                         for i in instruments])  # fmt: skip

    # ---- funding -----------------------------------------------------------------------------------------------

    def _funding(self, instrument: Instrument) -> dict[str, Any]:
        snapshot = self.venue.funding(instrument.symbol)
        step = instrument.funding_interval_hours * HOUR_MS
        settled = self.venue.funding_rate_at(instrument, snapshot.next_funding_ms - step)
        premium = (snapshot.mark_price - snapshot.index_price) / snapshot.index_price
        return {
            "formulaType": "withRate", "fundingRate": num(snapshot.rate), "fundingTime": ms(snapshot.next_funding_ms),
            "impactValue": "", "instId": inst_id(instrument), "instType": "SWAP", "interestRate": "0.0001",
            "maxFundingRate": FUNDING_RATE_CAP, "method": "current_period", "minFundingRate": f"-{FUNDING_RATE_CAP}",
            "nextFundingRate": "", "nextFundingTime": ms(snapshot.next_funding_ms + step),
            "premium": num(premium.quantize(PREMIUM_QUANTUM)),
            "settFundingRate": num(settled), "settState": "settled", "ts": ms(snapshot.time_ms),
        }  # fmt: skip

    def funding_rate(self, request: SimRequest) -> Any:
        wanted = required(query_params(request), "instId")
        if wanted.upper() == "ANY":
            return envelope([self._funding(i) for i in self.reference.by_id.values() if i.is_swap])
        return envelope([self._funding(self.swap(wanted))])

    def funding_rate_history(self, request: SimRequest) -> Any:
        """Newest first, at most ``limit`` (100). ``after``: settled before that time (walking back, nearest
        first); ``before`` alone: the records right after that time (walking forward); neither: the latest."""
        params = query_params(request)
        instrument = self.swap(required(params, "instId"))
        limit = limit_param(params)
        before, after = int_param(params, "before"), int_param(params, "after")
        step = instrument.funding_interval_hours * HOUR_MS
        now = self.venue.now_ms()
        upper = min(now, after - 1) if after is not None else now
        if before is not None and after is None:
            points = self.venue.funding_history(instrument.symbol, before + 1, min(upper, before + limit * step))
            points = points[:limit]
        else:
            lower = max(before + 1, upper - limit * step) if before is not None else upper - limit * step
            points = self.venue.funding_history(instrument.symbol, lower, upper)[-limit:]
        return envelope([self._history_row(instrument, p) for p in reversed(points)])

    @staticmethod
    def _history_row(instrument: Instrument, point: FundingPoint) -> dict[str, Any]:
        rate = num(point.rate)
        return {"fundingRate": rate, "fundingTime": ms(point.time_ms), "instId": inst_id(instrument),
                "instType": "SWAP", "method": "current_period", "realizedRate": rate}  # fmt: skip
