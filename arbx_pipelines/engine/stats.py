"""The engine's figures: success rate, expected vs realized profit, slippage, latency per stage, concurrency."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class EngineStats:
    detected: int = 0
    started: int = 0
    succeeded: int = 0  # both legs filled as planned
    flattened: int = 0  # a partial or failed leg, flattened
    failed: int = 0  # an exception or unknown outcome: left for reconcile
    skipped: int = 0  # recorded but not sent: ready too long after its book update (not an arbitrage)
    intents_inline: int = 0  # intents written on the event loop (the writer was idle), not through its thread
    expected_profit: Decimal = ZERO
    book_updates: int = 0
    resyncs: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    detect_to_send_ms: list[float] = field(default_factory=list)
    order_ms: list[float] = field(default_factory=list)
    fills_ms: list[float] = field(default_factory=list)
    naked_s: list[float] = field(default_factory=list)
    slippage_bps: list[float] = field(default_factory=list)
    pending: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_pending: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def finished(self) -> int:
        return self.succeeded + self.flattened + self.failed

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.finished if self.finished else 0.0

    def summary(self) -> dict[str, object]:
        return {
            "detected": self.detected,
            "arbitrages": self.finished,
            "succeeded": self.succeeded,
            "flattened": self.flattened,
            "failed": self.failed,
            "skipped": self.skipped,
            "intents_inline": self.intents_inline,
            "success_rate": round(self.success_rate, 4),
            "expected_pnl": str(self.expected_profit.quantize(Decimal("0.0001"))),
            "book_updates": self.book_updates,
            "resyncs": self.resyncs,
            "max_in_flight": self.max_in_flight,
            "max_pending_per_venue": max(self.max_pending.values(), default=0),
            "detect_to_send_p50_ms": round(percentile(self.detect_to_send_ms, 0.5), 3),
            "detect_to_send_p99_ms": round(percentile(self.detect_to_send_ms, 0.99), 3),
            "orders_p50_ms": round(percentile(self.order_ms, 0.5), 2),
            "orders_p95_ms": round(percentile(self.order_ms, 0.95), 2),
            "fills_p95_ms": round(percentile(self.fills_ms, 0.95), 2),
            "slippage_bps_mean": round(sum(self.slippage_bps) / len(self.slippage_bps), 3) if self.slippage_bps else 0,
            "naked_after_s": round(max(self.naked_s, default=0.0), 3),
        }
