"""One venue over ccxt's async client, with Decimal values and arbx errors at the boundary.

The same client runs every mode: ``sim`` points stock ccxt at the simulated venues on loopback, ``demo`` at the
venue's demo environment, ``live`` at the real API; ``paper`` wraps a public client with local fills
(:mod:`arbx_pipelines.venues.paper`). Venue quirks live in one subclass per venue (binance.py, okx.py, bitget.py).
Markets are loaded once and cached; ccxt's rate limiter stays on. The order calls (check, place, read, cancel,
fills) are :class:`~arbx_pipelines.venues.trading.OrderMixin`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import ccxt
import ccxt.async_support as ccxt_async

from arbx_pipelines.core.funding_history import derive_interval_hours
from arbx_pipelines.core.models import FundingRate, MarketType, Mode, Venue
from arbx_pipelines.core.money import ZERO, optional_decimal, to_decimal
from arbx_pipelines.core.venue_data import Balance, FundingIncome, FundingInfo, MarketInfo, OrderBook, PositionInfo
from arbx_pipelines.venues.errors import UnknownSymbol, VenueError, map_ccxt_error
from arbx_pipelines.venues.parsing import interval_hours, is_traded_market, ms_to_datetime, parse_market
from arbx_pipelines.venues.trading import OrderMixin

T = TypeVar("T")
ONE = Decimal(1)


class VenueClient(OrderMixin):
    """Async venue access (the order calls come from :class:`OrderMixin`). Subclasses set ``venue`` and ``ccxt_id``
    and override the quirk hooks."""

    venue: ClassVar[Venue]
    ccxt_id: ClassVar[str]
    #: spot and perpetual balances live in separate wallets that need a transfer between them
    separate_wallets: ClassVar[bool] = True
    #: request cost (ccxt's units) the limiter lets through at once before pacing: ccxt's default of 1 spaces every
    #: request of an execution ~50-200 ms apart, while the venues allow bursts of this size (a few percent of their
    #: per-minute weight); the pacing behind the burst is ccxt's
    burst_cost: ClassVar[int] = 10
    #: spot sells may borrow the coin (margin); no client does yet, so negative funding sells inventory only
    spot_margin_borrow: ClassVar[bool] = False
    #: a spot buy's fee is taken out of the bought coin (Binance without BNB, OKX and Bitget all do): a buy-back
    #: must buy that much more to restore the coins it sold
    spot_buy_fee_in_coin: ClassVar[bool] = True

    def __init__(
        self,
        mode: Mode,
        *,
        credentials: Mapping[str, str] | None = None,
        sim_url: str | None = None,
        timeout_ms: int = 10_000,
        rate_limit_ms: int | None = None,
    ) -> None:
        """``rate_limit_ms`` replaces ccxt's per-venue pacing (the limiter stays on); tests against the simulator
        use a short one, everything else keeps ccxt's."""
        self.mode = mode
        exchange_class = getattr(ccxt_async, self.ccxt_id)
        creds = dict(credentials or {})
        self.exchange: Any = exchange_class(
            {
                "apiKey": creds.get("api_key"),
                "secret": creds.get("secret"),
                "password": creds.get("passphrase"),
                "enableRateLimit": True,
                "timeout": timeout_ms,
                "options": self.ccxt_options(),
                "tokenBucket": {"capacity": self.burst_cost, "tokens": self.burst_cost},
                **({"rateLimit": rate_limit_ms} if rate_limit_ms else {}),
            }
        )
        if mode is Mode.SIM:
            from arbx_pipelines.venues.sim.ccxt_wiring import wire

            if sim_url is None:
                raise ValueError("sim mode needs the simulator's URL")
            wire(
                self.exchange,
                sim_url,
                api_key=creds.get("api_key", "arbx-sim-key"),
                secret=creds.get("secret", "arbx-sim-secret"),
                passphrase=creds.get("passphrase", "arbx-sim-pass"),
            )
        elif mode is Mode.DEMO:
            self.enable_demo()
        self._markets: dict[str, MarketInfo] | None = None
        self._markets_lock = asyncio.Lock()

    # ----- quirk hooks -------------------------------------------------------------------------------------
    def ccxt_options(self) -> dict[str, Any]:
        return {}

    def enable_demo(self) -> None:
        self.exchange.set_sandbox_mode(True)

    def funding_rates_params(self) -> dict[str, Any]:
        return {}

    async def _fetch_funding_intervals(self, symbols: list[str]) -> dict[str, int]:
        """Per-symbol funding interval in hours where the venue reports it apart from the rate."""
        return {}

    # ----- lifecycle --------------------------------------------------------------------------------------
    async def close(self) -> None:
        await self.exchange.close()

    async def __aenter__(self) -> VenueClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool = False) -> T:
        try:
            return await call()
        except ccxt.BaseError as exc:
            raise map_ccxt_error(exc, self.venue, write=write) from exc
        except (TimeoutError, OSError) as exc:
            raise map_ccxt_error(ccxt.NetworkError(f"{what}: {exc}"), self.venue, write=write) from exc

    # ----- markets ----------------------------------------------------------------------------------------
    async def markets(self, reload: bool = False) -> dict[str, MarketInfo]:
        async with self._markets_lock:
            if self._markets is None or reload:
                raw = await self._call("load_markets", lambda: self.exchange.load_markets(reload))
                mode = int(self.exchange.precisionMode)
                self._markets = {s: parse_market(m, self.venue, mode) for s, m in raw.items() if is_traded_market(m)}
        return self._markets

    async def market(self, symbol: str) -> MarketInfo:
        markets = await self.markets()
        if symbol not in markets:
            raise UnknownSymbol(self.venue, f"no USDT spot or linear perpetual market {symbol!r}")
        return markets[symbol]

    async def perpetuals(self) -> list[MarketInfo]:
        return [m for m in (await self.markets()).values() if m.market_type is MarketType.SWAP and m.active]

    # ----- market data ------------------------------------------------------------------------------------
    async def funding_rates(self, symbols: Iterable[str] | None = None) -> list[FundingInfo]:
        """Current funding of every USDT perpetual (or the given ones), with each symbol's own interval."""
        wanted = list(symbols) if symbols is not None else [m.symbol for m in await self.perpetuals()]
        raw, intervals = await asyncio.gather(
            self._call(
                "fetch_funding_rates", lambda: self.exchange.fetch_funding_rates(wanted, self.funding_rates_params())
            ),
            self._fetch_funding_intervals(wanted),
        )
        now = datetime.now(UTC)
        result = []
        for symbol, item in raw.items():
            if symbol not in wanted or item.get("fundingRate") is None:
                continue
            interval = intervals.get(symbol) or interval_hours(item.get("interval")) or 8
            result.append(
                FundingInfo(
                    venue=self.venue,
                    symbol=symbol,
                    rate=to_decimal(item["fundingRate"]),
                    interval_hours=interval,
                    next_funding_time=ms_to_datetime(item.get("fundingTimestamp")),
                    mark_price=optional_decimal(item.get("markPrice")),
                    index_price=optional_decimal(item.get("indexPrice")),
                    time=ms_to_datetime(item.get("timestamp")) or now,
                )
            )
        return result

    async def funding_history(self, symbol: str, since: datetime, until: datetime) -> list[FundingRate]:
        """Settled funding rates in [since, until), following the venue's pagination (cursor on time)."""
        found: dict[int, tuple[Decimal, int | None]] = {}
        cursor = int(since.timestamp() * 1000)
        end = int(until.timestamp() * 1000)
        while cursor < end:
            page = await self._call(
                "fetch_funding_rate_history",
                lambda c=cursor: self.exchange.fetch_funding_rate_history(symbol, c, self.history_page_size()),  # type: ignore[misc]
            )
            stamps = [int(p["timestamp"]) for p in page if p.get("timestamp") is not None]
            fresh = [p for p in page if p.get("timestamp") is not None and cursor <= int(p["timestamp"]) < end]
            for p in fresh:
                found[int(p["timestamp"])] = (to_decimal(p["fundingRate"]), interval_hours(p.get("interval")))
            # a short page is the newest data there is; a page reaching ``end`` covers the window
            if not fresh or len(page) < self.history_page_size() or max(stamps) >= end:
                break
            cursor = max(int(p["timestamp"]) for p in fresh) + 1
        return await self._settlements(symbol, found)

    async def _settlements(self, symbol: str, found: Mapping[int, tuple[Decimal, int | None]]) -> list[FundingRate]:
        """Settlements in time order, each with its interval: as the venue gave it, else from the spacing of its
        neighbours, else the symbol's current interval (a history answer rarely carries the interval)."""
        stamps = sorted(found)
        times = [ms_to_datetime(ts) for ts in stamps]
        derived = derive_interval_hours(times)  # type: ignore[arg-type]
        fallback: int | None = None
        result = []
        for ts, time_, spaced in zip(stamps, times, derived, strict=True):
            rate, given = found[ts]
            interval = given or spaced
            if interval is None:
                if fallback is None:
                    fallback = (await self._fetch_funding_intervals([symbol])).get(symbol) or 8
                interval = fallback
            result.append(FundingRate(self.venue, symbol, time_, rate, interval))  # type: ignore[arg-type]
        return result

    def history_page_size(self) -> int:
        return 100

    async def order_book(self, symbol: str, limit: int = 20) -> OrderBook:
        raw = await self._call("fetch_order_book", lambda: self.exchange.fetch_order_book(symbol, limit))
        info = await self.market(symbol)
        size = info.rules.contract_size
        return OrderBook(
            venue=self.venue, symbol=symbol,
            bids=tuple((to_decimal(p), to_decimal(a) * size) for p, a, *_ in raw["bids"]),
            asks=tuple((to_decimal(p), to_decimal(a) * size) for p, a, *_ in raw["asks"]),
            time=ms_to_datetime(raw.get("timestamp")),
        )  # fmt: skip

    # ----- account ----------------------------------------------------------------------------------------
    def balance_params(self, account: MarketType) -> dict[str, Any]:
        return {"type": "spot" if account is MarketType.SPOT else "swap"}

    async def balances(self, account: MarketType) -> dict[str, Balance]:
        raw = await self._call("fetch_balance", lambda: self.exchange.fetch_balance(self.balance_params(account)))
        result = {}
        for currency, total in (raw.get("total") or {}).items():
            if total is None:
                continue
            result[currency] = Balance(
                currency=currency,
                free=optional_decimal(raw.get("free", {}).get(currency)) or ZERO,
                used=optional_decimal(raw.get("used", {}).get(currency)) or ZERO,
                total=to_decimal(total),
            )
        return result

    async def positions(self, symbols: list[str] | None = None) -> list[PositionInfo]:
        raw = await self._call("fetch_positions", lambda: self.exchange.fetch_positions(symbols))
        out = []
        for p in raw:
            contracts = optional_decimal(p.get("contracts")) or ZERO
            if contracts == 0 or p.get("symbol") not in (await self.markets()):
                continue
            size = (await self.market(p["symbol"])).rules.contract_size
            out.append(
                PositionInfo(
                    venue=self.venue,
                    symbol=p["symbol"],
                    side=str(p.get("side")),
                    amount=abs(contracts) * size,
                    entry_price=optional_decimal(p.get("entryPrice")),
                    mark_price=optional_decimal(p.get("markPrice")),
                    liquidation_price=optional_decimal(p.get("liquidationPrice")),
                    leverage=optional_decimal(p.get("leverage")),
                    margin_mode=p.get("marginMode"),
                    unrealized_pnl=optional_decimal(p.get("unrealizedPnl")),
                )
            )
        return out

    async def set_leverage(self, symbol: str, leverage: int) -> None:
        await self._call("set_leverage", lambda: self.exchange.set_leverage(leverage, symbol), write=True)

    async def set_margin_mode(self, symbol: str, margin_mode: str = "cross") -> None:
        try:
            await self._call("set_margin_mode", lambda: self.exchange.set_margin_mode(margin_mode, symbol), write=True)
        except VenueError as exc:
            if "no need to change" not in str(exc).lower():  # already in that mode is fine
                raise

    async def transfer(self, currency: str, amount: Decimal, source: MarketType, target: MarketType) -> None:
        """Move collateral between the spot and perpetual wallets (a no-op where one wallet holds both)."""
        if not self.separate_wallets or source is target or amount <= 0:
            return
        names = {MarketType.SPOT: "spot", MarketType.SWAP: "swap"}
        await self._call(
            "transfer",
            lambda: self.exchange.transfer(currency, float(amount), names[source], names[target]),
            write=True,
        )

    async def funding_income(self, symbol: str | None, since: datetime) -> list[FundingIncome]:
        raw = await self._call(
            "fetch_funding_history", lambda: self.exchange.fetch_funding_history(symbol, int(since.timestamp() * 1000))
        )
        return [
            FundingIncome(
                venue=self.venue,
                symbol=str(p.get("symbol")),
                time=ms_to_datetime(p["timestamp"]),  # type: ignore[arg-type]
                amount=to_decimal(p["amount"]),
                currency=str(p.get("code") or "USDT"),
                venue_ref=p.get("id"),
            )
            for p in raw
            if p.get("timestamp") is not None and p.get("amount") is not None
        ]
