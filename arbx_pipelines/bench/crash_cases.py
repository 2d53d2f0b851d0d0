"""One case of the crash sweep or the fuzzer: a fresh world, the job's precondition, the job in a forked child that
may be killed or faulted, then reconcile at once (the ``reconcile`` job's code) and the invariants checked from
outside; a second reconcile must change nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arbx_pipelines.bench.crash_checks import Start, Verdict, check, look_at_venue
from arbx_pipelines.bench.crash_child import ChildResult, StatementHooks, failing_state, run_forked
from arbx_pipelines.bench.crash_world import CLIENT_TIMEOUT_MS, PERP, SPOT, CrashWorld, StartingPoint
from arbx_pipelines.execution.close_hedge import close_hedge
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.execution.open_hedge import OpenRequest, open_hedge
from arbx_pipelines.execution.rebalance import rebalance_hedge
from arbx_pipelines.execution.reconcile import ReconcileReport, reconcile_venue
from arbx_pipelines.execution.reduce_leverage import reduce_leverage
from arbx_pipelines.storage.state import StateStore
from arbx_pipelines.storage.venue_audit import records_of
from arbx_pipelines.venues.client import VenueClient

#: seconds a child may run before it counts as hung (the slowest faulted job takes a few seconds)
CHILD_TIMEOUT_S = 60.0
RUN_ID = "crash-sweep"


@dataclass(frozen=True)
class ChildFaults:
    """Failures injected inside the child (see crash_child): statement numbers, state-store calls, actions."""

    db_fails_from: int | None = None
    state_works_for: int | None = None
    actions: tuple[tuple[int, Callable[[], Any]], ...] = ()


@dataclass
class CaseResult:
    venue: str
    job: str
    crash_at: str | None
    child: ChildResult
    verdict: Verdict = field(default_factory=Verdict)
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.child.outcome == "killed"

    @property
    def converged(self) -> bool:
        return self.verdict.ok

    def describe(self) -> str:
        point = self.crash_at or "no kill"
        detail = f" ({self.child.detail[:160]})" if self.child.detail and not self.killed else ""
        return f"{self.venue} {self.job} @ {point}: child {self.child.outcome}{detail}; {self.verdict.summary()}"


async def run_job(job: str, deps: ExecutionDeps, client: VenueClient, position_id: int | None) -> str:
    """The job as its Dagster op calls it; returns its outcome in one line."""
    if job == "open":
        request = OpenRequest(client.venue, PERP, "crash:open", run_id=RUN_ID)
        opened = await open_hedge(deps, client, request)
        return f"{opened.status}: {opened.reason}"
    if position_id is None:
        raise ValueError(f"{job} needs a position")
    if job == "close":
        outcome: Any = await close_hedge(deps, client, position_id, "crash sweep", run_id=RUN_ID)
    elif job == "rebalance_hedge":
        outcome = await rebalance_hedge(deps, client, position_id, run_id=RUN_ID)
    elif job == "reduce_leverage":
        outcome = await reduce_leverage(deps, client, position_id, run_id=RUN_ID)
    else:
        raise ValueError(f"unknown job {job!r}")
    return f"{outcome.status}: {getattr(outcome, 'detail', '')}"


def _child_work(
    world: CrashWorld, job: str, position_id: int | None, state_kind: str, faults: ChildFaults
) -> Callable[[], str]:
    def work() -> str:
        world.engine.dispose(close=False)  # the parent's pooled connections are not the child's to use
        StatementHooks(world.engine, fail_from=faults.db_fails_from, at=faults.actions)
        state: StateStore = world.state_store(state_kind)
        if faults.state_works_for is not None:
            state = failing_state(state, faults.state_works_for)

        async def run() -> str:
            async with world.client() as client:
                return await run_job(job, world.deps(state), client, position_id)

        return asyncio.run(run())

    return work


def reconcile_once(world: CrashWorld, state_kind: str) -> ReconcileReport:
    async def run() -> ReconcileReport:
        async with world.client() as client:
            return await reconcile_venue(world.deps(world.state_store(state_kind)), client)

    return asyncio.run(run())


def run_case(
    world: CrashWorld,
    job: str,
    crash_at: str | None,
    *,
    state_kind: str = "database",
    faults: ChildFaults = ChildFaults(),
    venue_faults: Sequence[dict[str, Any]] = (),
    after_child: Callable[[], None] | None = None,
    client_timeout_ms: int = CLIENT_TIMEOUT_MS,
    variant: str = "",
    settings: ExecutionSettings | None = None,
) -> CaseResult:
    """Fresh world (``variant``, see crash_setups), precondition, the job in a child (killed at ``crash_at``, faulted
    by ``faults`` and the simulator's ``venue_faults``), then the venue comes back whole (faults cleared), reconcile
    runs twice and the invariants are checked after each. ``client_timeout_ms`` is the venue client's request
    timeout in this case, ``settings`` its execution settings (the world's by default)."""
    world.client_timeout_ms = client_timeout_ms
    default_settings = world.settings
    world.settings = settings or default_settings
    try:
        return _run_case(world, job, crash_at, state_kind, faults, venue_faults, after_child, variant)
    finally:
        world.client_timeout_ms = CLIENT_TIMEOUT_MS
        world.settings = default_settings


def _run_case(
    world: CrashWorld,
    job: str,
    crash_at: str | None,
    state_kind: str,
    faults: ChildFaults,
    venue_faults: Sequence[dict[str, Any]],
    after_child: Callable[[], None] | None,
    variant: str,
) -> CaseResult:
    started = time.perf_counter()
    start = world.start_case(job, variant)
    position_id = start.position_id
    for rule in venue_faults:
        world.admin.add_fault(**rule)
    child = run_forked(
        _child_work(world, job, position_id, state_kind, faults), crash_at=crash_at, timeout_s=CHILD_TIMEOUT_S
    )
    world.engine.dispose()
    world.admin.clear_faults()
    if after_child is not None:
        after_child()
    result = CaseResult(world.venue.value, job, crash_at, child)
    result.verdict = _verdict_after_reconcile(world, state_kind, start)
    result.seconds = time.perf_counter() - started
    return result


def _verdict_after_reconcile(world: CrashWorld, state_kind: str, start: StartingPoint) -> Verdict:
    symbols = (SPOT, PERP)
    venue = world.venue.value
    hand = frozenset(world.hand_orders)
    try:
        first = reconcile_once(world, state_kind)
    except Exception as exc:  # a reconcile that raises is a finding, reported as such
        return Verdict(mismatches=[f"reconcile raised {type(exc).__name__}: {exc}"])
    exchange = world.plain_client()
    view = look_at_venue(exchange, start.spot_at_start, hand)
    records = records_of(world.engine, venue, symbols)
    verdict = check(view, records, world.lots, Start(start.spot, start.perp, start.positions))
    if first.skipped:
        verdict.mismatches.append(f"reconcile skipped {first.skipped}: a dead run's lock was not taken over")
    if first.pending:
        verdict.mismatches.append(f"reconcile left {first.pending} waiting for the venue")
    try:
        second = reconcile_once(world, state_kind)
    except Exception as exc:
        verdict.mismatches.append(f"second reconcile raised {type(exc).__name__}: {exc}")
        return verdict
    again = records_of(world.engine, venue, symbols)
    if again != records:
        verdict.mismatches.append(f"a second reconcile changed the records: {_difference(records, again)}")
    if look_at_venue(exchange, start.spot_at_start, hand) != view:
        verdict.mismatches.append("a second reconcile changed the venue")
    if second.executions_repaired or second.orders_updated:
        verdict.mismatches.append(
            f"a second reconcile repaired {second.executions_repaired} / updated {second.orders_updated} orders"
        )
    return verdict


def _difference(before: Any, after: Any) -> str:
    parts = []
    for name in ("positions", "executions", "orders", "fills"):
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            parts.append(f"{name} {[r for r in old if r not in new]} -> {[r for r in new if r not in old]}")
    return "; ".join(parts)
