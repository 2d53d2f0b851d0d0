"""Readable text of the service answers (pure): one table or a few lines each, shared by the CLI and Telegram."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; ``-`` for a missing value."""
    cells = [[str(h) for h in headers]] + [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def short(value: str | None, places: int = 4) -> str | None:
    """A money string rounded for reading (the JSON keeps every digit)."""
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal(1).scaleb(-places)))


def percent(value: str | None) -> str | None:
    return None if value is None else f"{Decimal(value) * 100:.2f}%"


def duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24:02d}h"


def status_text(status: Mapping[str, Any]) -> str:
    kill, breaker, daemon = status["kill_switch"], status["breaker"], status["daemon"]
    venues = ", ".join(
        f"{name} {'ok' if v['reachable'] else 'UNREACHABLE (' + v['detail'] + ')'}"
        for name, v in status["venues"].items()
    )
    breaker_line = (
        f"OPEN after {breaker['consecutive_failures']} consecutive failures"
        if breaker["open"]
        else f"closed ({breaker['consecutive_failures']}/{breaker['limit']} failures)"
    )
    lines = [
        f"mode: {status['mode']}",
        f"venues: {venues or 'not checked'}",
        f"kill switch: {'ENGAGED: ' + str(kill['reason']) if kill['engaged'] else 'off'}",
        f"breaker: {breaker_line}",
    ]
    lines += [f"  failed {f['symbol']} on {f['venue']} at {f['at']}: {f['error']}" for f in breaker["failures"]]
    snap = status["last_funding_snapshot"]
    today = status["today_pnl"]
    lines += [
        f"daemon: {'alive' if daemon['alive'] else 'DOWN'} ({daemon['detail']})",
        f"last funding snapshot: {snap['time'][:19] + ' UTC' if snap['time'] else 'none yet'}"
        + (f" ({duration(snap['age_seconds'])} ago)" if snap["age_seconds"] is not None else ""),
        f"open positions: {status['open_positions']}",
        f"today's P&L: realized {short(today['realized'])}, funding {short(today['funding'])}, "
        f"fees {short(today['fees'])}, unrealized {short(today['unrealized'])} USDT",
    ]
    return "\n".join(lines)


def positions_text(positions: Sequence[Mapping[str, Any]]) -> str:
    if not positions:
        return "no positions"
    headers = ["id", "venue", "symbol", "direction", "status", "perp", "spot", "entry", "lev", "liq dist", "hedge dev",
               "funding", "unrealized", "realized", "age"]  # fmt: skip
    rows = [
        [
            p["id"],
            p["venue"],
            p["symbol"],
            p["direction"],
            p["status"],
            p["perp_amount"],
            p["spot_amount"],
            short(p["perp_entry_price"], 6),
            p["leverage"],
            percent(p["liquidation_distance"]),
            percent(p["hedge_deviation"]),
            short(p["funding_received"]),
            short(p["unrealized_pnl"]),
            short(p["realized_pnl"]),
            duration(p["age_seconds"]),
        ]
        for p in positions
    ]
    return table(headers, rows)


def pnl_text(pnl: Mapping[str, Any]) -> str:
    rows = [[d["day"], short(d["realized"]), short(d["funding"]), short(d["fees"]), short(d["unrealized"])]
            for d in pnl["days"]]  # fmt: skip
    total = pnl["total"]
    rows.append(["total", short(total["realized"]), short(total["funding"]), short(total["fees"]),
                 short(total["unrealized"])])  # fmt: skip
    return table(["day (UTC)", "realized", "funding", "fees", "unrealized"], rows) + "\n(USDT)"


def trades_text(trades: Sequence[Mapping[str, Any]]) -> str:
    if not trades:
        return "no executions"
    lines = []
    for t in trades:
        outcome = t["status"] + (f" ({t['error']})" if t["error"] else "")
        lines.append(f"#{t['id']} {t['created_at'][:19]} {t['kind']} {t['venue']} {t['symbol']}: {outcome}")
        for o in t["orders"]:
            price = f" @ {short(o['average_price'], 6)}" if o["average_price"] else ""
            lines.append(f"    {o['leg']:<8} {o['side']:<4} {o['filled']}/{o['amount']}{price} {o['status']}")
    return "\n".join(lines)


def breaker_text(breaker: Mapping[str, Any]) -> str:
    head = (
        f"circuit breaker OPEN after {breaker['consecutive_failures']} consecutive failures (limit {breaker['limit']})"
        if breaker["open"]
        else f"circuit breaker closed ({breaker['consecutive_failures']}/{breaker['limit']} consecutive failures)"
    )
    lines = [f"  {f['at'][:19]} {f['venue']} {f['symbol']}: {f['error']}" for f in breaker["failures"]]
    return "\n".join([head, *lines])


def close_text(answer: Mapping[str, Any]) -> str:
    if answer["via"] == "daemon":
        return f"close of position {answer['position_id']} submitted to the daemon (run {answer['run_id'][:8]})"
    pnl = f", realized P&L {short(answer['realized_pnl'])} USDT" if answer.get("realized_pnl") is not None else ""
    return f"position {answer['position_id']}: {answer['status']}{pnl}"
