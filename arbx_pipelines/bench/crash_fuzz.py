"""The seeded fault fuzzer: a schedule mixes the simulator's faults (latency, timeouts after acceptance, rejects,
429, partial fills, dropped connections) with failures inside the run (the database or the state store going away
from some call on, the venue going away for a number of requests and coming back, a price jump mid-execution) and
a kill at a crash point. A schedule is a pure function of its seed: a failure is replayed with ``--seed``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arbx_pipelines.bench.crash_cases import CaseResult, ChildFaults, run_case
from arbx_pipelines.bench.crash_world import JOBS, PERP, CrashWorld

#: order endpoints per venue (OKX places both legs through one batch endpoint)
ORDER_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "binance": ("POST /api/v3/order", "POST /fapi/v1/order"),
    "okx": ("POST /api/v5/trade/batch-orders",),
    "bitget": ("POST /api/v2/spot/trade/place-order", "POST /api/v2/mix/order/place-order"),
}
FAULT_KINDS = ("latency", "timeout_after_accept", "reject", "rate_limit", "partial_fill", "drop_connection")
REJECT_REASONS = ("insufficient_balance", "insufficient_margin", "min_notional", "lot_size")
PRICE_FACTORS = (0.7, 0.85, 0.95, 1.05, 1.15, 1.3)
#: a reduce_leverage case starts 12 % below the short's liquidation price: a larger rise liquidates the perp on the
#: venue, a market event no order can undo, so no invariant can hold against it; its jumps stay below that
NEAR_LIQUIDATION_FACTORS = (0.9, 0.95, 1.05)
#: longer than the client's one-second timeout: the client gives up while the venue has the order
HANG_MS = 1500


@dataclass(frozen=True)
class Schedule:
    seed: int
    venue: str
    job: str
    state: str  # database | redis
    venue_faults: tuple[dict[str, Any], ...]
    #: the child's database fails from this SQL statement on
    db_fails_from: int | None
    #: the child's state store fails after this many calls
    state_works_for: int | None
    #: (SQL statement, factor): the price moves by ``factor`` at that point of the run
    price_jump: tuple[int, float] | None
    #: (SQL statement, requests): the venue drops that many requests from that point, then is back
    venue_away: tuple[int, int] | None
    kill_at: str | None

    def describe(self) -> str:
        parts = [f"seed {self.seed}: {self.venue} {self.job} ({self.state} state)"]
        parts += [f"{r['kind']} on {r['endpoint']}" for r in self.venue_faults]
        if self.db_fails_from is not None:
            parts.append(f"database down from statement {self.db_fails_from}")
        if self.state_works_for is not None:
            parts.append(f"state store down after {self.state_works_for} calls")
        if self.price_jump is not None:
            parts.append(f"price x{self.price_jump[1]} at statement {self.price_jump[0]}")
        if self.venue_away is not None:
            parts.append(f"venue away for {self.venue_away[1]} requests from statement {self.venue_away[0]}")
        if self.kill_at:
            parts.append(f"kill at {self.kill_at}")
        return "; ".join(parts)


def _venue_fault(rng: random.Random, venue: str) -> dict[str, Any]:
    kind = rng.choice(FAULT_KINDS)
    order_endpoint = rng.choice(ORDER_ENDPOINTS[venue])
    rule: dict[str, Any] = {"kind": kind, "venue": venue, "endpoint": order_endpoint, "times": rng.randint(1, 2)}
    if kind == "latency":
        rule |= {"endpoint": rng.choice((order_endpoint, "*")), "latency_ms": rng.choice((50, 200, 600))}
        rule["times"] = rng.randint(1, 6)
    elif kind == "timeout_after_accept":
        rule["hang_ms"] = HANG_MS
    elif kind == "reject":
        rule["reason"] = rng.choice(REJECT_REASONS)
    elif kind == "rate_limit":
        rule["endpoint"] = rng.choice((order_endpoint, "GET *", "*"))
        rule["times"] = rng.randint(1, 3)
    elif kind == "partial_fill":
        rule["fill_ratio"] = rng.choice((0.3, 0.5, 0.8))
    else:
        rule |= {"endpoint": rng.choice((order_endpoint, "*")), "after_accept": rng.random() < 0.5}
    return rule


def make_schedule(
    seed: int, venues: Sequence[str], points: Mapping[str, Sequence[str]], *, redis: bool = False
) -> Schedule:
    """The schedule of ``seed`` (the same seed, venues and point registry give the same schedule)."""
    rng = random.Random(seed)
    venue = rng.choice(list(venues))
    job = rng.choice(JOBS)
    state = "redis" if redis and rng.random() < 0.5 else "database"
    faults = tuple(_venue_fault(rng, venue) for _ in range(rng.randint(0, 3)))
    db_fails_from = rng.randint(3, 80) if rng.random() < 0.2 else None
    state_works_for = rng.randint(0, 12) if rng.random() < 0.2 else None
    factors = NEAR_LIQUIDATION_FACTORS if job == "reduce_leverage" else PRICE_FACTORS
    price_jump = (rng.randint(1, 60), rng.choice(factors)) if rng.random() < 0.3 else None
    venue_away = (rng.randint(1, 60), rng.randint(2, 25)) if rng.random() < 0.25 else None
    kill_at = f"{rng.choice(list(points[job]))}#{rng.randint(1, 2)}" if rng.random() < 0.4 else None
    return Schedule(seed, venue, job, state, faults, db_fails_from, state_works_for, price_jump, venue_away, kill_at)


def run_schedule(world: CrashWorld, schedule: Schedule) -> CaseResult:
    """Run ``schedule`` in ``world`` (whose venue must be the schedule's)."""
    actions: list[tuple[int, Callable[[], None]]] = []
    if schedule.price_jump is not None:
        statement, factor = schedule.price_jump
        actions.append((statement, lambda: world.admin.move_price(schedule.venue, PERP, factor)))
    if schedule.venue_away is not None:
        statement, requests = schedule.venue_away
        rule = {"kind": "drop_connection", "venue": schedule.venue, "endpoint": "*", "times": requests}
        actions.append((statement, lambda: world.admin.add_fault(**rule)))
    faults = ChildFaults(schedule.db_fails_from, schedule.state_works_for, tuple(actions))
    return run_case(
        world,
        schedule.job,
        schedule.kill_at,
        state_kind=schedule.state,
        faults=faults,
        venue_faults=schedule.venue_faults,
    )
