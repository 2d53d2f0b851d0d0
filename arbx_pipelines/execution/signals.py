"""Funding opportunities for the funding-opportunity sensor, from the latest ``funding_snapshots`` rows.

A (venue, perpetual) is an opportunity when its latest snapshot is fresh, its |annualized| rate reaches the entry
threshold on a side we can trade, the symbol is wanted, no position on it is active, and its mark price is not
anomalous against its recent snapshots (the anomaly screen of DESIGN "Risk" runs on price here: a funding spike is
the signal itself, not an anomaly to ignore). The op re-validates everything on live data before it sends anything.

Positive funding is always tradable. Negative funding (long perp + sell spot) is tradable with margin borrowing
enabled, or when both what is left of the coin's declared inventory on that venue (``strategy.spot_inventory`` minus
what active negative hedges of the coin there sold) and its free inventory in the wallet, as last recorded by an open
or a reconcile (``spot_inventory`` table, :mod:`arbx_pipelines.execution.inventory`) within ``inventory_max_age``,
cover the smallest hedge the venue accepts (both legs' lot, minimum amount and minimum notional at the snapshot's
mark price, from the ``markets`` table; unknown rules: any inventory). The sensor thus never asks the venue, and a
negative rate on a coin not declared or not held launches no run. A stale record costs at most one run: that open
finds no inventory, records a ``no_inventory_for_negative_funding`` rejection under the signal key and records the
inventory anew.

Ranking and the user's algorithms (``core.funding_rules``, the same functions the backtester's ``threshold`` calls):
each candidate is scored (0.6 yield + 0.2 persistence + 0.2 liquidity, x venue risk; liquidity from the expected
slippage of both fills on the books the quotes monitor recorded, ``core.liquidity``) and vetted by the forecast
(funding expected over ``planned_holding_hours`` must beat the round-trip costs) and the persistence share, on its
recent settled funding (``funding_rates``) with the live rate last (the snapshots when no settled history is
stored); the hedge's leverage is decided from the volatility of its recent mark prices. Anomalies are typed
(``core.anomaly.classify``): a funding spike or a price jump pauses the symbol, suspected manipulation pauses every
entry; the sensor records and alerts them.

The run key ``open:{venue}:{symbol}:{next funding ms}`` makes a repeated signal for the same settlement a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from arbx_pipelines.core import funding_rules, liquidity
from arbx_pipelines.core.anomaly import (  # the screen's window, shared with the notifications (rpc.watch)
    DEFAULT_MAX_AGE,
    MIN_PRICE_HISTORY,
    PRICE_HISTORY,
    RESPONSES,
    AnomalyKind,
    classify,
    z_score,
)
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.funding import round_trip_cost_rate
from arbx_pipelines.core.hedge import base_of
from arbx_pipelines.core.liquidity import LegLiquidity
from arbx_pipelines.core.models import Venue, spot_symbol_of
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.scoring import ScoringParams
from arbx_pipelines.execution.inventory import declared_left, recorded_inventory
from arbx_pipelines.execution.positions import ACTIVE_STATUSES, positions_with_status
from arbx_pipelines.execution.prepare import minimum_hedge_base
from arbx_pipelines.storage.funding import snapshots_since
from arbx_pipelines.storage.market_history import SettledFunding, recent_settlements
from arbx_pipelines.storage.markets import stored_rules
from arbx_pipelines.storage.quotes import Quote, latest_quotes

#: inventory records older than this are not trusted (reconcile records them every ``reconcile_minutes`` <= 1 day)
INVENTORY_MAX_AGE = timedelta(hours=25)
#: settled funding the forecast, persistence and volatility read (a month covers the 90-settlement window at 8h)
HISTORY_SPAN = timedelta(days=31)
#: liquidity part of the score when no book of the candidate was recorded (the open re-checks depth on the live book)
DEFAULT_SLIPPAGE = Decimal("0.0005")
#: the notional whose fills the liquidity part prices when the caller names none (``risk.max_trade_usdt``'s default)
DEFAULT_NOTIONAL = Decimal("150")


@dataclass(frozen=True)
class Opportunity:
    venue: Venue
    symbol: str
    rate: Decimal
    annualized: Decimal
    interval_hours: int
    next_funding_time: datetime | None
    observed_at: datetime
    score: Decimal = ZERO  # the user's opportunity score, the ranking key
    leverage: int | None = None  # dynamic leverage for the open (None: strategy.max_leverage)

    @property
    def settlement_ms(self) -> int:
        when = self.next_funding_time or self.observed_at.replace(minute=0, second=0, microsecond=0)
        return int(when.timestamp() * 1000)

    @property
    def run_key(self) -> str:
        return f"open:{self.venue}:{self.symbol}:{self.settlement_ms}"


def can_sell_inventory(
    engine: Engine, venue: str, symbol: str, inventory: Decimal | None, price: Decimal | None
) -> bool:
    """Whether ``inventory`` (coins that may be sold) covers the smallest hedge of ``symbol`` the venue accepts."""
    if inventory is None or inventory <= 0:
        return False
    spot_symbol = spot_symbol_of(symbol)
    rules = stored_rules(engine, venue, [symbol, spot_symbol])
    if spot_symbol not in rules or symbol not in rules or price is None or price <= 0:
        return True  # rules unknown: the op decides on live data
    return inventory >= minimum_hedge_base(rules[spot_symbol], rules[symbol], price, price)


@dataclass(frozen=True)
class SymbolAnomaly:
    venue: str
    symbol: str
    kind: AnomalyKind
    detail: str
    observed_at: datetime

    @property
    def key(self) -> str:
        """One alert per anomaly, symbol and snapshot hour."""
        return f"{self.kind}:{self.venue}:{self.symbol}:{self.observed_at:%Y%m%d%H}"


@dataclass
class FundingScan:
    opportunities: list[Opportunity]
    anomalies: list[SymbolAnomaly]
    #: (venue, symbol) -> why the forecast, persistence or score refused a candidate past the threshold and screens
    refused: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def pause_all(self) -> bool:
        return any(RESPONSES[a.kind].pause_all for a in self.anomalies)


def funding_opportunities(engine: Engine, strategy: StrategyParams, **kwargs: Any) -> list[Opportunity]:
    """Best first by the user's score; at most ``limit`` (see :func:`scan_funding`)."""
    return scan_funding(engine, strategy, **kwargs).opportunities


def scan_funding(
    engine: Engine,
    strategy: StrategyParams,
    *,
    venues: Sequence[Venue],
    symbols: Sequence[str] = (),
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    anomaly_z: float = 3.0,
    limit: int = 10,
    inventory_max_age: timedelta = INVENTORY_MAX_AGE,
    scoring: ScoringParams = ScoringParams(),
    expected_slippage_rate: Decimal = DEFAULT_SLIPPAGE,
    notional: Decimal = DEFAULT_NOTIONAL,
) -> FundingScan:
    """The opportunities (best first by score, at most ``limit``) and the anomalies of the latest snapshots.

    The liquidity part of the score is the expected slippage of the hedge's two fills of ``notional`` on the books
    the quotes monitor recorded within ``max_age`` (``core.liquidity``); ``expected_slippage_rate`` stands in for a
    candidate whose books were not recorded."""
    anomalies: list[SymbolAnomaly] = []
    positions = positions_with_status(engine, ACTIVE_STATUSES)
    active = {(str(p.venue), p.symbol) for p in positions}
    inventory: dict[tuple[str, str], Decimal] | None = None  # read once, only when a negative rate needs it
    found = []
    watched = [str(v) for v in venues]
    for (venue, symbol), rows in snapshots_since(engine, now - max_age, venues=watched, symbols=symbols).items():
        latest = rows[0]
        if venue not in {str(v) for v in venues} or (symbols and symbol not in symbols) or (venue, symbol) in active:
            continue
        if abs(latest.annualized) < strategy.entry_annualized or latest.rate == 0:
            continue
        if latest.rate < 0 and not strategy.allow_margin_borrow:
            coin = base_of(symbol)
            left = declared_left(coin, venue, strategy.declared_inventory(venue, coin), positions)
            if left <= 0:
                continue  # not declared, or all of it sold: no need to read the wallet records
            if inventory is None:
                inventory = recorded_inventory(engine, now - inventory_max_age)
            sellable = min(inventory.get((venue, coin), ZERO), left)
            if not can_sell_inventory(engine, venue, symbol, sellable, latest.mark_price):
                continue
        kinds = _anomalies(rows, anomaly_z)
        anomalies += [SymbolAnomaly(venue, symbol, kind, detail, latest.time) for kind, detail in kinds]
        if any(RESPONSES[kind].pause_symbol for kind, _ in kinds):
            continue
        found.append(
            Opportunity(
                Venue(venue),
                symbol,
                latest.rate,
                latest.annualized,
                latest.interval_hours,
                latest.next_funding_time,
                latest.time,
            )
        )
    if any(RESPONSES[a.kind].pause_all for a in anomalies):
        return FundingScan([], anomalies)
    history = recent_settlements(engine, [(str(o.venue), o.symbol) for o in found], now - HISTORY_SPAN)
    books = [(str(o.venue), symbol) for o in found for symbol in (o.symbol, spot_symbol_of(o.symbol))]
    quotes = latest_quotes(engine, books, now - max_age)
    decided = []
    refused: dict[tuple[str, str], str] = {}
    for item in found:
        settled = history.get((str(item.venue), item.symbol), [])
        slippage = book_slippage(item, quotes, notional)
        decision = _decide(item, settled, strategy, scoring, expected_slippage_rate if slippage is None else slippage)
        if isinstance(decision, str):
            refused[(str(item.venue), item.symbol)] = decision
        else:
            decided.append(decision)
    decided.sort(key=lambda o: (-o.score, -abs(o.annualized), str(o.venue), o.symbol))
    return FundingScan(decided[:limit], anomalies, refused)


def book_slippage(item: Opportunity, quotes: Mapping[tuple[str, str], Quote], notional: Decimal) -> Decimal | None:
    """Expected slippage of the hedge's fills from its recorded books: positive funding buys spot (its asks) and
    sells the perp (its bids), negative funding the other way round. None: a book missing or crossed."""
    buy_spot = item.rate > 0
    legs = []
    for symbol, buying in ((spot_symbol_of(item.symbol), buy_spot), (item.symbol, not buy_spot)):
        quote = quotes.get((str(item.venue), symbol))
        if quote is None or quote.bid is None or quote.ask is None or not 0 < quote.bid <= quote.ask:
            return None
        depth = quote.ask_depth_usdt if buying else quote.bid_depth_usdt
        legs.append(LegLiquidity.from_quote(quote.bid, quote.ask, depth))
    return liquidity.expected_slippage_rate(legs, notional)


def _anomalies(rows: Sequence[Any], threshold: float) -> list[tuple[AnomalyKind, str]]:
    """Typed anomalies of the newest snapshot against the ones before it (``rows`` newest first)."""
    latest = rows[0]
    prices = [row.mark_price for row in rows[1 : PRICE_HISTORY + 1] if row.mark_price is not None]
    rates = [row.annualized for row in rows[1 : PRICE_HISTORY + 1]]
    price_z = (
        z_score(prices, latest.mark_price)
        if len(prices) >= MIN_PRICE_HISTORY and latest.mark_price is not None
        else None
    )
    funding_z = z_score(rates, latest.annualized) if len(rates) >= MIN_PRICE_HISTORY else None
    detail = f"funding z {funding_z}, price z {price_z} over the last {len(rows) - 1} snapshots"
    return [(kind, detail) for kind in classify(funding_z, price_z, None, threshold=threshold)]


def _decide(
    found: Opportunity,
    settled: Sequence[SettledFunding],
    strategy: StrategyParams,
    scoring: ScoringParams,
    slippage: Decimal,
) -> Opportunity | str:
    """The opportunity with its score and leverage, or why the forecast, persistence or score refuse it."""
    settled_funding = [(s.rate, s.interval_hours) for s in settled]
    recent = funding_rules.recent_funding(settled_funding, found.rate, found.interval_hours)
    rates, annualized = recent.rates, recent.annualized
    fees = strategy.fees_for(found.venue)
    cost = float(round_trip_cost_rate(fees.spot_taker, fees.perp_taker, slippage))
    assessment = funding_rules.assess_entry(
        rates,
        annualized,
        1 if found.rate > 0 else -1,
        float(found.interval_hours),
        planned_hours=strategy.planned_holding_hours,
        round_trip_cost_rate=cost,
        min_persistence=strategy.min_persistence,
        expected_slippage_rate=slippage,
        venue=found.venue,
        scoring=scoring,
    )
    if assessment.veto is not None:
        return assessment.veto
    marks = [float(s.mark_price) for s in settled if s.mark_price is not None]
    volatility = funding_rules.daily_volatility(marks, float(found.interval_hours)) if len(marks) > 2 else None
    leverage = funding_rules.choose_leverage(
        volatility, strategy.planned_holding_hours, strategy.min_leverage, strategy.max_leverage
    )
    return replace(found, score=assessment.score.score, leverage=leverage)
