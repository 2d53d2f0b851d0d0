"""What the operator looks at: status, positions, P&L per day, trades. Every function returns JSON-ready data
(money as strings, exact Decimal) for ``--json``; :mod:`arbx_pipelines.rpc.tables` renders the same for people."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.execution.risk_state import halted, load_risk_state
from arbx_pipelines.rpc.context import RpcContext
from arbx_pipelines.rpc.daemon import daemon_state
from arbx_pipelines.rpc.marks import direction_label, mark
from arbx_pipelines.storage.pnl_views import fees_by_day, funding_by_day, realized_by_day
from arbx_pipelines.storage.views import (
    PositionRecord,
    latest_mark_prices,
    latest_snapshot_time,
    positions_for_view,
    recent_executions,
)

VENUE_TIMEOUT_S = 5.0
OPEN_KIND = "open_funding"


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round((now - since).total_seconds(), 1)


async def _reach(ctx: RpcContext, venue: Venue) -> dict[str, Any]:
    from arbx_pipelines.venues import make_client  # ccxt (~90 MB): only when asked, not in every ops process

    cfg = ctx.loaded.config
    sim_url = f"http://{cfg.simulator.host}:{cfg.simulator.port}" if cfg.mode is Mode.SIM else None
    client = make_client(venue, cfg.mode, credentials={}, sim_url=sim_url)
    try:
        server_ms = await asyncio.wait_for(client.exchange.fetch_time(), VENUE_TIMEOUT_S)
        return {"reachable": True, "detail": f"server time {server_ms}"}
    except Exception as exc:  # any failure to answer is "unreachable", with its cause
        return {"reachable": False, "detail": f"{type(exc).__name__}: {str(exc)[:120]}"}
    finally:
        await client.close()


def venues_reachable(ctx: RpcContext) -> dict[str, dict[str, Any]]:
    venues = ctx.loaded.config.enabled_venues()

    async def every() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_reach(ctx, v) for v in venues)))

    return {v.value: answer for v, answer in zip(venues, asyncio.run(every()), strict=True)}


def breaker_status(ctx: RpcContext) -> dict[str, Any]:
    """The circuit breaker: open or closed, the failure count against the limit, and the failures behind it."""
    state = load_risk_state(ctx.engine)
    limit = ctx.loaded.config.risk.circuit_breaker_failures
    failures = [
        {"execution": e.key, "venue": e.venue, "symbol": e.symbol, "at": e.created_at.isoformat(), "error": e.error}
        for e in recent_executions(ctx.engine, max(limit, state.consecutive_failures), kind=OPEN_KIND)
        if e.status == "failed"
    ]
    return {
        "open": state.breaker_open,
        "consecutive_failures": state.consecutive_failures,
        "limit": limit,
        "failures": failures if (state.breaker_open or state.consecutive_failures) else [],
    }


def position_view(row: PositionRecord, price: Decimal | None, now: datetime) -> dict[str, Any]:
    marked = mark(row, price)
    return {
        "id": row.id,
        "venue": row.venue,
        "symbol": row.symbol,
        "direction": direction_label(row.direction),
        "status": row.status,
        "perp_amount": money(row.perp_amount),
        "spot_amount": money(row.spot_amount),
        "perp_entry_price": money(row.perp_entry_price),
        "spot_entry_price": money(row.spot_entry_price),
        "leverage": row.leverage,
        "mark_price": money(marked.mark_price),
        "liquidation_price": money(row.liquidation_price),
        "liquidation_distance": money(marked.liquidation_distance),
        "hedge_deviation": money(marked.hedge_deviation),
        "funding_received": money(row.funding_received),
        "fees_paid": money(row.fees_paid),
        "unrealized_pnl": money(marked.unrealized_pnl) if row.status != "closed" else None,
        "realized_pnl": money(row.realized_pnl),
        "close_reason": row.close_reason,
        "opened_at": row.opened_at.isoformat(),
        "closed_at": row.closed_at.isoformat() if row.closed_at else None,
        "age_seconds": _age(row.opened_at, row.closed_at or now),
    }


def positions(ctx: RpcContext, *, include_closed: bool = False) -> list[dict[str, Any]]:
    prices = latest_mark_prices(ctx.engine)
    now = ctx.now()
    rows = positions_for_view(ctx.engine, include_closed=include_closed)
    return [position_view(row, prices.get((row.venue, row.symbol)), now) for row in rows]


def _unrealized(ctx: RpcContext) -> Decimal:
    total = Decimal(0)
    for view in positions(ctx):
        if view["unrealized_pnl"] is not None:
            total += Decimal(view["unrealized_pnl"])
    return total


#: the upper bound of the P&L views' queries: any record dated after today, by whatever clock, is kept
_VENUE_CLOCK_AHEAD = datetime(9999, 1, 1, tzinfo=UTC)


def _up_to(today: date, totals: dict[date, Decimal]) -> dict[date, Decimal]:
    """Per-day totals with the days after ``today`` added to today's."""
    folded: dict[date, Decimal] = {}
    for day, amount in totals.items():
        key = min(day, today)
        folded[key] = folded.get(key, Decimal(0)) + amount
    return folded


def pnl(ctx: RpcContext, days: int = 7) -> dict[str, Any]:
    """Per UTC day (newest first) and in total: realized P&L of closed positions, funding received, fees paid (those
    are also inside realized once a position closes), and the unrealized P&L of what is open now (today's row)."""
    today = ctx.now().date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    # a venue's clock may run ahead of ours (a few seconds; the simulator's up to two funding intervals): what it
    # dated after today is counted in today's row, never left out
    later = _VENUE_CLOCK_AHEAD
    realized = _up_to(today, realized_by_day(ctx.engine, start, later))
    funding = _up_to(today, funding_by_day(ctx.engine, start, later))
    fees = _up_to(today, fees_by_day(ctx.engine, start, later))
    unrealized = _unrealized(ctx)
    zero = Decimal(0)
    rows = []
    for offset in range(days):
        day: date = today - timedelta(days=offset)
        rows.append(
            {
                "day": day.isoformat(),
                "realized": str(realized.get(day, zero)),
                "funding": str(funding.get(day, zero)),
                "fees": str(fees.get(day, zero)),
                "unrealized": str(unrealized if day == today else zero),
            }
        )
    total = {key: str(sum((Decimal(r[key]) for r in rows), zero)) for key in ("realized", "funding", "fees")}
    return {"days": rows, "total": total | {"unrealized": str(unrealized)}}


def trades(ctx: RpcContext, limit: int = 20) -> list[dict[str, Any]]:
    """The newest executions with their orders and outcome."""
    return [
        {
            "id": e.id,
            "key": e.key,
            "kind": e.kind,
            "venue": e.venue,
            "symbol": e.symbol,
            "status": e.status,
            "position_id": e.position_id,
            "error": e.error,
            "created_at": e.created_at.isoformat(),
            "orders": [
                {
                    "client_order_id": o.client_order_id,
                    "leg": o.leg,
                    "side": o.side,
                    "amount": money(o.amount),
                    "filled": money(o.filled),
                    "average_price": money(o.average_price),
                    "fee": money(o.fee),
                    "fee_currency": o.fee_currency,
                    "status": o.status,
                }
                for o in e.orders
            ],
        }
        for e in recent_executions(ctx.engine, limit)
    ]


def status(ctx: RpcContext, *, check_venues: bool = True) -> dict[str, Any]:
    now = ctx.now()
    snapshot = latest_snapshot_time(ctx.engine)
    reason = halted(ctx.engine)
    daemon = daemon_state(ctx.loaded)
    today = pnl(ctx, days=1)["days"][0]
    return {
        "mode": ctx.loaded.config.mode.value,
        "venues": venues_reachable(ctx) if check_venues else {},
        "kill_switch": {"engaged": reason is not None, "reason": reason},
        "breaker": breaker_status(ctx),
        "daemon": {"alive": daemon.alive, "detail": daemon.detail},
        "last_funding_snapshot": {
            "time": snapshot.isoformat() if snapshot else None,
            "age_seconds": _age(snapshot, now),
        },
        "open_positions": len(positions(ctx)),
        "today_pnl": today,
    }
