"""The crash-point sweep (issue 10): each job killed (SIGKILL) at a named crash point in a forked child on the
simulated venue, reconcile run at once, then checked from outside: no client order id twice on the venue, spot and
perp hedged within one lot or both flat, records equal to the venue, and a second reconcile changing nothing.

Every point of every job runs on Binance; a fixed 1-in-16 share of the points runs on OKX and Bitget (the same
share every run, chosen by a hash of the names); half the cases use Redis as the state store, half the database.
``arbx bench crash`` runs the whole matrix: every hit of every point, on every venue.
"""

from __future__ import annotations

import pytest

from arbx_pipelines.bench.crash_sweep import Worlds, state_for, suite_cases, sweep_point

FULL_VENUE = "binance"
OTHER_VENUES = ("okx", "bitget")
#: one point in SHARE of each other venue's points runs in the suite (the suite's time budget)
SHARE = 16
CASES = suite_cases(FULL_VENUE, OTHER_VENUES, SHARE)


@pytest.mark.parametrize(("venue", "job", "point"), CASES, ids=["/".join(case) for case in CASES])
def test_killed_at_the_point_reconcile_converges(crash_worlds: Worlds, venue: str, job: str, point: str) -> None:
    state = state_for(venue, job, point, redis=True)
    (result,) = sweep_point(crash_worlds[venue], job, point, all_hits=False, state=state)
    assert result.converged, f"[{state} state] {result.describe()} ({result.child.detail})"
