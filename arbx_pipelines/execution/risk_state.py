"""The risk layer's state, durable in the application database (never only in Redis, which may keep nothing on
disk): the kill switch, the circuit breaker and its failure count as flags; today's traded amount and count from
the ``executions`` of the UTC day; today's realized P&L from the positions closed today.

Public API::

    halt(engine, reason) ; resume(engine) ; halted(engine) -> str | None     # the kill switch (arbx halt/resume)
    load_risk_state(engine, now=None) -> RiskState
    record_execution_result(engine, limits, success) -> RiskState            # failure count and breaker
    count_execution_result(engine, limits, success)                          # the same, switches only
    entries_stopped(engine) -> bool                                          # kill switch or breaker
    reset_breaker(engine)
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.money import ZERO, to_decimal
from arbx_pipelines.core.risk import RiskLimits, RiskState, record_failure, record_success, reset_circuit_breaker
from arbx_pipelines.execution.positions import realized_between
from arbx_pipelines.storage.executions import planned_notionals
from arbx_pipelines.storage.state import DatabaseState

KILL_SWITCH = "kill_switch"
FAILURES = "risk:consecutive_failures"
BREAKER = "risk:breaker_open"
OPEN_KIND = "open_funding"
#: open executions that sent orders (count against the daily amount and count)
TRADED_STATUSES = ("sending", "done", "failed", "repaired", "broken")


def _flags(engine: Engine) -> DatabaseState:
    return DatabaseState(engine)


def halt(engine: Engine, reason: str = "") -> None:
    payload = {"reason": reason or "manual halt", "at": datetime.now(UTC).isoformat()}
    _flags(engine).set_flag(KILL_SWITCH, json.dumps(payload))


def resume(engine: Engine) -> None:
    _flags(engine).set_flag(KILL_SWITCH, None)


def halted(engine: Engine) -> str | None:
    """The halt reason while the kill switch is engaged, else None."""
    raw = _flags(engine).get_flag(KILL_SWITCH)
    if raw is None:
        return None
    try:
        return str(json.loads(raw).get("reason") or "halted")
    except (ValueError, AttributeError):
        return raw or "halted"


def _traded_today(engine: Engine, start: datetime, end: datetime) -> tuple[Decimal, int]:
    notionals = planned_notionals(engine, OPEN_KIND, TRADED_STATUSES, start, end)
    return sum((to_decimal(n) for n in notionals), ZERO), len(notionals)


def load_risk_state(engine: Engine, now: datetime | None = None) -> RiskState:
    now = now or datetime.now(UTC)
    start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    traded, count = _traded_today(engine, start, end)
    flags = _flags(engine)
    return RiskState(
        day=start.date(),
        traded_usdt=traded,
        trade_count=count,
        realized_pnl_usdt=realized_between(engine, start, end),
        consecutive_failures=int(flags.get_flag(FAILURES) or 0),
        breaker_open=flags.get_flag(BREAKER) == "1",
        kill_switch=halted(engine) is not None,
    )


def _save_switches(engine: Engine, state: RiskState) -> None:
    flags = _flags(engine)
    flags.set_flag(FAILURES, str(state.consecutive_failures))
    flags.set_flag(BREAKER, "1" if state.breaker_open else None)


def record_execution_result(engine: Engine, limits: RiskLimits, success: bool) -> RiskState:
    """Count a failed execution toward the breaker, or reset the count after a success."""
    state = load_risk_state(engine)
    state = record_success(state) if success else record_failure(state, limits)
    _save_switches(engine, state)
    return state


def entries_stopped(engine: Engine) -> bool:
    """Whether the kill switch or the circuit breaker is engaged: the two flags alone, without today's totals."""
    return halted(engine) is not None or _flags(engine).get_flag(BREAKER) == "1"


def count_execution_result(engine: Engine, limits: RiskLimits, success: bool) -> None:
    """:func:`record_execution_result` reading and writing only the two switches it changes (no daily totals), and
    writing nothing when nothing changes (a success with no failures counted): the spot engine's per-arbitrage
    count, on the writer its other writes wait behind."""
    flags = _flags(engine)
    failures = int(flags.get_flag(FAILURES) or 0)
    breaker_open = flags.get_flag(BREAKER) == "1"
    before = RiskState(day=datetime.now(UTC).date(), consecutive_failures=failures, breaker_open=breaker_open)
    after = record_success(before) if success else record_failure(before, limits)
    if after.consecutive_failures != failures:
        flags.set_flag(FAILURES, str(after.consecutive_failures))
    if after.breaker_open != breaker_open:
        flags.set_flag(BREAKER, "1" if after.breaker_open else None)


def reset_breaker(engine: Engine) -> None:
    _save_switches(engine, reset_circuit_breaker(replace(load_risk_state(engine))))
