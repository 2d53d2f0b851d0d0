"""The ``markets`` table: market rules, fees and listings as the venues last reported them.

A market the venue no longer lists is marked ``delisted_at`` (never deleted: history and positions refer to it);
one that reappears is active again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Engine, select

from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.sizing import MarketRules
from arbx_pipelines.core.venue_data import MarketInfo
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Market


@dataclass
class MarketsDiff:
    listed: list[tuple[str, str]] = field(default_factory=list)
    delisted: list[tuple[str, str]] = field(default_factory=list)
    updated: int = 0


def record_markets(
    engine: Engine, markets: Mapping[Venue, list[MarketInfo]], now: datetime, intervals: Mapping[str, int] | None = None
) -> MarketsDiff:
    """Upsert every market of the given venues; mark the ones they stopped listing."""
    diff = MarketsDiff()
    intervals = intervals or {}
    with transaction(engine) as session:
        for venue, infos in markets.items():
            stored = {m.symbol: m for m in session.execute(select(Market).where(Market.venue == venue.value)).scalars()}
            seen = set()
            for info in infos:
                seen.add(info.symbol)
                row = stored.get(info.symbol)
                if row is None:
                    row = Market(venue=venue.value, symbol=info.symbol, listed_at=now)
                    session.add(row)
                    diff.listed.append((venue.value, info.symbol))
                else:
                    diff.updated += 1
                rules = info.rules
                row.market_type, row.base, row.quote = info.market_type.value, info.base, info.quote
                row.venue_symbol, row.active, row.delisted_at = info.venue_symbol, info.active, None
                row.contract_size, row.amount_step, row.price_step = (
                    rules.contract_size,
                    rules.amount_step,
                    rules.price_step,
                )
                row.min_amount, row.min_notional = rules.min_amount, rules.min_notional
                row.taker_fee, row.maker_fee = info.taker_fee, info.maker_fee
                row.funding_interval_hours = intervals.get(f"{venue.value}|{info.symbol}", row.funding_interval_hours)
                row.updated_at = now
            for symbol, row in stored.items():
                if symbol not in seen and row.delisted_at is None:
                    row.delisted_at, row.active, row.updated_at = now, False, now
                    diff.delisted.append((venue.value, symbol))
    return diff


def stored_rules(engine: Engine, venue: str, symbols: Sequence[str]) -> dict[str, MarketRules]:
    """Market rules of ``symbols`` on ``venue`` as the markets asset stored them (readable without the venue)."""
    with transaction(engine) as session:
        rows = session.execute(select(Market).where(Market.venue == venue, Market.symbol.in_(symbols))).scalars()
        return {
            row.symbol: MarketRules(
                amount_step=row.amount_step,
                price_step=row.price_step,
                min_amount=row.min_amount,
                min_notional=row.min_notional,
                contract_size=row.contract_size or Decimal(1),
            )
            for row in rows
        }
