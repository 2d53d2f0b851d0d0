"""What Dagster shows of the engine: one arbitrage's result, a day's statistics, the heartbeat's age."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from arbx_pipelines.storage.spot_arbitrage import ArbExecution, ArbFill

ZERO = Decimal(0)


def quote_flow(fills: Sequence[ArbFill]) -> Decimal:
    """USDT received minus paid over an arbitrage's fills; fees paid in a coin are valued at that fill's price."""
    total = ZERO
    for fill in fills:
        quote = fill.amount * fill.price
        total += quote if fill.side == "sell" else -quote
        if fill.fee_currency and fill.fee_currency != fill.symbol.split("/")[0]:
            total -= fill.fee
        elif fill.fee_currency:
            total -= fill.fee * fill.price
    return total


def net_coins(fills: Sequence[ArbFill]) -> Decimal:
    return sum((f.amount if f.side == "buy" else -f.amount for f in fills), ZERO)


@dataclass(frozen=True)
class DayStats:
    arbitrages: int
    succeeded: int
    success_rate: float
    expected_pnl: Decimal
    realized_pnl: Decimal
    symbols: list[str]


def day_stats(executions: Sequence[tuple[ArbExecution, Sequence[ArbFill]]]) -> DayStats:
    """``realized_pnl`` is the USDT flow of the fills (coins left over, e.g. a fee taken in the coin, not valued)."""
    done = [e for e, _ in executions if e.status == "done"]
    expected = sum((Decimal(e.planned.get("expected_profit", "0")) for e, _ in executions), ZERO)
    realized = sum((quote_flow(fills) for _, fills in executions), ZERO)
    return DayStats(
        arbitrages=len(executions),
        succeeded=len(done),
        success_rate=round(len(done) / len(executions), 4) if executions else 0.0,
        expected_pnl=expected.quantize(Decimal("0.0001")),
        realized_pnl=realized.quantize(Decimal("0.0001")),
        symbols=sorted({e.symbol for e, _ in executions}),
    )


def stats_per_day(executions: Sequence[tuple[ArbExecution, Sequence[ArbFill]]]) -> list[tuple[str, DayStats]]:
    """:func:`day_stats` for each UTC day (ISO date) with any arbitrage, oldest first."""
    by_day: dict[str, list[tuple[ArbExecution, Sequence[ArbFill]]]] = {}
    for execution, fills in executions:
        created = execution.created_at
        day = (created if created.tzinfo is None else created.astimezone(UTC)).date().isoformat()
        by_day.setdefault(day, []).append((execution, fills))
    return [(day, day_stats(rows)) for day, rows in sorted(by_day.items())]


def heartbeat_age_s(raw: str | None, now: datetime | None = None) -> float | None:
    """Seconds since the engine's last heartbeat; None when there never was one or it cannot be read."""
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(json.loads(raw)["at"])
    except (ValueError, KeyError, TypeError):
        return None
    return ((now or datetime.now(UTC)) - at).total_seconds()
