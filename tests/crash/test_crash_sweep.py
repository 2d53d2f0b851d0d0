"""The crash-point sweep (issue 10): each job killed (SIGKILL) at a named crash point in a forked child on the
simulated venue, reconcile run at once, then checked from outside: no client order id twice on the venue, spot and
perp hedged within one lot or both flat, records equal to the venue, and a second reconcile changing nothing.

One clean run of each job on each venue (itself a checked case) lists the points the job passes there; the suite
then kills every point name each venue reaches at least once, and every (job, point) reached on at least one venue
(``suite_kills``: the venues take turns over the jobs sharing a point); the look-up points, which only a lost answer
reaches, are killed on every venue behind that fault; the points only another world or fault reaches (an order
left resting and cancelled, a negative-funding close's transfer, a leg changed by hand, an open's correction, a
rebalance with nothing to do: crash_setups) are killed a few per venue, in turn. Half the cases use Redis as the
state store, half the database. ``arbx bench crash`` runs the whole matrix: every hit of every point of every job,
on every venue.
"""

from __future__ import annotations

import pytest

from arbx_pipelines.bench.crash_cases import run_case
from arbx_pipelines.bench.crash_fuzz import ORDER_ENDPOINTS
from arbx_pipelines.bench.crash_setups import CaseSetup, case_setup, not_applicable
from arbx_pipelines.bench.crash_sweep import Worlds, reached, state_for, suite_kills, sweep_point
from arbx_pipelines.bench.crash_world import JOBS, PATIENT_TIMEOUT_MS
from arbx_pipelines.execution.crashpoints import CRASH_POINTS

VENUES = ("binance", "okx", "bitget")
VENUE_JOBS = [(venue, job) for venue in VENUES for job in JOBS]
Reach = dict[tuple[str, str], tuple[str, ...]]


@pytest.fixture(scope="module")
def reach(crash_worlds: Worlds) -> Reach:
    """The points each job passes on each venue, from one clean run each (which must converge as well)."""
    points: Reach = {}
    failures = []
    for venue, job in VENUE_JOBS:
        result, points[(venue, job)] = reached(crash_worlds[venue], job, state_for(venue, job, "clean", redis=True))
        if not result.converged or result.child.outcome != "finished":
            failures.append(f"{result.describe()} ({result.child.detail})")
    assert not failures, failures
    return points


def test_each_job_reaches_its_sends_on_every_venue(reach: Reach) -> None:
    for (venue, job), points in reach.items():
        expected = {"lock.acquired", "order.create_answered", "fills.committed", "execution.committed"}
        assert expected <= set(points), f"{venue} {job} passed only {points}"
        assert set(points) <= set(CRASH_POINTS[job])


@pytest.mark.parametrize(("venue", "job"), VENUE_JOBS, ids=["/".join(case) for case in VENUE_JOBS])
def test_killed_at_each_chosen_point_reconcile_converges(
    crash_worlds: Worlds, reach: Reach, venue: str, job: str
) -> None:
    kills = [point for v, j, point in suite_kills(reach, VENUES) if (v, j) == (venue, job)]
    failures = []
    for point in kills:
        state = state_for(venue, job, point, redis=True)
        (result,) = sweep_point(crash_worlds[venue], job, point, all_hits=False, state=state)
        if not result.killed:
            failures.append(f"{point}: the clean run passed it, this run did not ({result.child.outcome})")
        elif not result.converged:
            failures.append(f"[{state} state] {result.describe()} ({result.child.detail})")
    assert not failures, "\n".join(failures)


def test_every_point_reached_on_a_venue_is_killed_there(reach: Reach) -> None:
    kills = suite_kills(reach, VENUES)
    for venue in VENUES:
        names = {p for (v, _), points in reach.items() if v == venue for p in points}
        assert {p for v, _, p in kills if v == venue} == names
    assert {(j, p) for _, j, p in kills} == {(j, p) for (_, j), points in reach.items() for p in points}


@pytest.mark.parametrize("venue", VENUES)
def test_killed_while_looking_up_a_lost_answer_reconcile_converges(crash_worlds: Worlds, venue: str) -> None:
    """The look-up points are passed only when an order's answer is lost (no clean run reaches them): the venue
    accepts the open's perp order and drops the connection before answering, the child looks the order up and is
    killed there."""
    endpoint = ORDER_ENDPOINTS[venue][-1]
    lost = {"kind": "drop_connection", "venue": venue, "endpoint": endpoint, "after_accept": True}
    failures = []
    for point in ("order.lookup_sent", "order.lookup_answered"):
        state = state_for(venue, "open", point, redis=True)
        result = run_case(
            crash_worlds[venue],
            "open",
            f"{point}#1",
            state_kind=state,
            venue_faults=[lost],
            client_timeout_ms=PATIENT_TIMEOUT_MS,
        )
        if not result.killed or not result.converged:
            failures.append(f"[{state} state] {result.describe()} ({result.child.detail})")
    assert not failures, "\n".join(failures)


#: points only another world or a fault reaches (see crash_setups), a few per venue so that each venue in turn
#: covers every one: the resting order's cancel on each venue, the rest spread over them
BEYOND_THE_CLEAN_RUN = {
    "binance": (
        ("open", "order.cancel_sent"),
        ("close", "order.cancel_answered"),
        ("close", "prepare.transfer_answered"),
        ("open", "correction.intent_committed"),
    ),
    "okx": (
        ("rebalance_hedge", "order.cancel_sent"),
        ("reduce_leverage", "order.cancel_answered"),
        ("close", "drift.committed"),
        ("rebalance_hedge", "decision.committed"),
    ),
    "bitget": (
        ("reduce_leverage", "order.cancel_sent"),
        ("open", "order.cancel_answered"),
        ("close", "prepare.transfer_committed"),
        ("reduce_leverage", "drift.committed"),
    ),
}


@pytest.mark.parametrize("venue", VENUES)
def test_killed_where_only_another_world_or_fault_leads_reconcile_converges(crash_worlds: Worlds, venue: str) -> None:
    failures = []
    for job, point in BEYOND_THE_CLEAN_RUN[venue]:
        state = state_for(venue, job, point, redis=True)
        (result,) = sweep_point(crash_worlds[venue], job, point, all_hits=False, state=state)
        if not result.killed or not result.converged:
            failures.append(f"[{state} state] {result.describe()} ({result.child.detail})")
    assert not failures, "\n".join(failures)


def test_no_point_is_left_out(reach: Reach) -> None:
    """Every point of every job is passed by a clean run on some venue or has a world or fault that leads there; a
    point a venue cannot pass (a transfer on OKX's unified account) is never passed there."""
    for job, points in CRASH_POINTS.items():
        for point in points:
            clean = any(point in reach[(venue, job)] for venue in VENUES)
            assert clean or case_setup("binance", job, point) != CaseSetup(), f"{job} {point} is reached nowhere"
    for (venue, job), points in reach.items():
        assert not [p for p in points if not_applicable(venue, p)], f"{venue} {job} passed {points}"
    assert not_applicable("okx", "reduce.transfer_sent") and not not_applicable("binance", "reduce.transfer_sent")
