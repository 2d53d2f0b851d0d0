"""The life of arbx as notifications: each function raises one alert of its type through the sink, so it is recorded
first and then sent (``[type] venue-symbol``, the message, the time in UTC). Critical ones bypass the rate limit;
the others may be merged into a digest, never dropped.

Types: hedge_opened, hedge_closed, funding_digest, breaker_tripped, anomaly_pause, config_applied, config_rejected,
start, stop, sensor_failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


class Sink(Protocol):
    def raise_alert(
        self,
        kind: str,
        message: str,
        *,
        severity: str = "warning",
        venue: str | None = None,
        symbol: str | None = None,
        details: dict[str, Any] | None = None,
        bypass_limit: bool = False,
    ) -> int: ...


def _pct(value: Decimal) -> str:
    return f"{value * 100:.4g}%"


def notify_hedge_opened(
    sink: Sink,
    *,
    position_id: int,
    venue: str,
    symbol: str,
    size: Decimal,
    notional: Decimal | None,
    rate: Decimal | None,
    interval_hours: int | None,
    annualized: Decimal | None,
) -> int:
    """Size in coins and USDT, the funding rate per settlement and the expected yield (annualized rate)."""
    parts = [f"hedge {position_id} opened: {size} coins"]
    if notional is not None:
        parts[0] += f" ({notional.quantize(Decimal('0.01'))} USDT)"
    if rate is not None:
        parts.append(f"funding rate {_pct(rate)} per {interval_hours or 8}h")
    if annualized is not None:
        parts.append(f"expected yield {_pct(annualized)} a year")
    return sink.raise_alert(
        "hedge_opened", "; ".join(parts), severity="info", venue=venue, symbol=symbol,
        details={"position_id": position_id},
    )  # fmt: skip


def notify_hedge_closed(
    sink: Sink, *, position_id: int, venue: str, symbol: str, reason: str | None, realized_pnl: Decimal | None
) -> int:
    pnl = "unknown" if realized_pnl is None else f"{realized_pnl.quantize(Decimal('0.0001'))} USDT"
    return sink.raise_alert(
        "hedge_closed", f"hedge {position_id} closed ({reason or 'no reason recorded'}); realized P&L {pnl}",
        severity="info", venue=venue, symbol=symbol, details={"position_id": position_id},
    )  # fmt: skip


def notify_funding_digest(sink: Sink, day: date, totals: Sequence[tuple[str, str, Decimal, int]]) -> int:
    """One message for a UTC day's funding: per (venue, symbol) the amount and the number of settlements."""
    total = sum((amount for _, _, amount, _ in totals), Decimal(0))
    lines = [f"funding of {day.isoformat()}: {total} USDT over {sum(n for *_, n in totals)} settlements"]
    lines += [f"{venue}-{symbol}: {amount} USDT ({n})" for venue, symbol, amount, n in totals]
    return sink.raise_alert("funding_digest", "\n".join(lines), severity="info", details={"day": day.isoformat()})


def notify_breaker_tripped(sink: Sink, failures: int, limit: int, causes: Sequence[str]) -> int:
    """Critical: no new position until a human runs ``arbx breaker reset`` (or /breaker_reset)."""
    text = f"circuit breaker tripped after {failures} consecutive failed opens (limit {limit})"
    if causes:
        text += ":\n" + "\n".join(f"- {cause}" for cause in causes)
    text += "\nno new positions until `arbx breaker reset` (or /breaker_reset)"
    return sink.raise_alert("breaker_tripped", text, severity="critical", details={"failures": failures})


def notify_anomaly_pause(
    sink: Sink, venue: str, symbol: str, price: Decimal | None, detail: str, threshold: float
) -> int:
    """New entries on the symbol are paused: its price sits off its recent history (funding says enter)."""
    return sink.raise_alert(
        "anomaly_pause",
        f"new entries paused: price {price} is anomalous ({detail}, threshold {threshold})",
        severity="warning", venue=venue, symbol=symbol,
    )  # fmt: skip


def notify_config_change(
    sink: Sink,
    *,
    applied: bool,
    source: str,
    changes: Mapping[str, tuple[object, object]] | None = None,
    error: str | None = None,
) -> int:
    """An edited config taken into force (the keys that changed, old -> new) or rejected (why; the last good config
    stays in force). ``source`` names the file."""
    if applied:
        listed = "; ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in sorted((changes or {}).items()))
        return sink.raise_alert(
            "config_applied", f"{source}: change applied: {listed or 'no key changed'}", severity="info",
            details={"changes": {k: [str(o), str(n)] for k, (o, n) in (changes or {}).items()}},
        )  # fmt: skip
    return sink.raise_alert(
        "config_rejected",
        f"{source}: change rejected, the last good configuration stays in force: {error or 'invalid'}",
        severity="critical",
    )


def notify_lifecycle(sink: Sink, kind: str, detail: str) -> int:
    """``start`` or ``stop`` of ``arbx run``: once per process, so never held back by the rate limit."""
    if kind not in ("start", "stop"):
        raise ValueError(f"lifecycle kind {kind!r}: start or stop")
    return sink.raise_alert(kind, detail, severity="info", bypass_limit=True)


def notify_sensor_failing(sink: Sink, sensor: str, ticks: int, error: str) -> int:
    return sink.raise_alert(
        "sensor_failing", f"sensor {sensor} failed {ticks} ticks in a row; last error: {error}", severity="critical",
        details={"sensor": sensor},
    )  # fmt: skip
