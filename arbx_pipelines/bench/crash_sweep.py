"""The crash-point matrix: which (venue, job, point) cases run, running them, and the figures they add up to.

A point may be passed more than once in a run (once per leg, once per close round): the full matrix kills at its
first hit, then its second, and so on until a run passes the point no more (``max_hits`` bounds it); the suite kills
at the first hit only. A point a job never passes on a venue ends the child normally: it counts as ``not reached``
and its run is checked all the same.

The suite kills only where a kill can land: one clean run of each job on each venue lists the points it passes
(``reached``), and ``suite_kills`` picks from them every point name once per venue and every (job, point) on at least
one venue; a kill at a point the clean run never passes would only repeat the clean run.

A point that needs more than the job's plain world (a transfer, a funding settlement, an order left resting: see
crash_setups) runs in the world and with the faults it needs; a point a venue cannot pass (a transfer on OKX's
unified account) is reported as not applicable there, never tried. A point whose first hit no run reaches is
listed as never reached: a hole in the sweep, not a pass.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arbx_pipelines.bench.crash_cases import CaseResult, run_case
from arbx_pipelines.bench.crash_setups import case_setup, not_applicable
from arbx_pipelines.bench.crash_world import JOBS, PATIENT_TIMEOUT_MS, CrashWorld
from arbx_pipelines.execution.crashpoints import CRASH_POINTS

MAX_HITS = 6


def points_of(job: str) -> tuple[str, ...]:
    return CRASH_POINTS[job]


def registry() -> dict[str, tuple[str, ...]]:
    return {job: points_of(job) for job in JOBS}


def reached(world: CrashWorld, job: str, state: str, variant: str = "") -> tuple[CaseResult, tuple[str, ...]]:
    """One clean run of ``job`` (no kill, no fault) in world ``variant``, checked like any case, and the points it
    passed, in order."""
    result = run_case(world, job, None, state_kind=state, client_timeout_ms=PATIENT_TIMEOUT_MS, variant=variant)
    names = tuple(dict.fromkeys(p for p in result.child.passed if p in CRASH_POINTS[job]))
    return result, names


def suite_kills(reach: Mapping[tuple[str, str], Sequence[str]], venues: Sequence[str]) -> list[tuple[str, str, str]]:
    """(venue, job, point) to kill in the suite, from the points each job reaches on each venue: every point name a
    venue reaches is killed there once (in one of the jobs reaching it, chosen by the venue's turn, so the venues
    spread over the jobs), and every (job, point) reached anywhere is killed on at least one venue."""
    chosen: set[tuple[str, str, str]] = set()
    for turn, venue in enumerate(venues):
        names = dict.fromkeys(p for job in JOBS for p in reach.get((venue, job), ()))
        for name in names:
            jobs = [job for job in JOBS if name in reach.get((venue, job), ())]
            chosen.add((venue, jobs[(turn + zlib.crc32(name.encode())) % len(jobs)], name))
    covered = {(job, name) for _, job, name in chosen}
    for job in JOBS:
        for name in CRASH_POINTS[job]:
            where = [venue for venue in venues if name in reach.get((venue, job), ())]
            if (job, name) not in covered and where:
                chosen.add((where[zlib.crc32(f"{job}/{name}".encode()) % len(where)], job, name))
    order = {
        (venue, job, point): (venues.index(venue), JOBS.index(job), CRASH_POINTS[job].index(point))
        for venue, job, point in chosen
    }
    return sorted(chosen, key=order.__getitem__)


def state_for(venue: str, job: str, point: str, redis: bool) -> str:
    """The state store of a case: with Redis available, a fixed half of the cases run on it (the prod overlay's
    store), the other half on the database."""
    return "redis" if redis and zlib.crc32(f"state/{venue}/{job}/{point}".encode()) % 2 else "database"


def sweep_point(world: CrashWorld, job: str, point: str, *, all_hits: bool, state: str) -> Iterator[CaseResult]:
    """Kill ``job`` at ``point`` (its first hit; with ``all_hits`` every hit in turn) and check each case, in the
    world and with the faults the point needs (``case_setup``)."""
    setup = case_setup(world.venue.value, job, point)
    hit = 1
    while True:
        result = run_case(
            world,
            job,
            f"{point}#{hit}",
            state_kind=state,
            client_timeout_ms=PATIENT_TIMEOUT_MS,
            variant=setup.variant,
            venue_faults=setup.venue_faults,
            settings=setup.settings,
        )
        yield result
        if not result.killed or not all_hits or hit >= MAX_HITS:
            return
        hit += 1


@dataclass
class Figures:
    """What a sweep or fuzz run adds up to."""

    tried: int = 0
    killed: int = 0
    not_reached: int = 0
    converged: int = 0
    duplicate_orders: int = 0
    naked_legs: int = 0
    record_mismatches: int = 0
    escaped: int = 0  # the job raised after its first order may have left, instead of ending hedged, flat or broken
    #: the job raised before any order left (the state store, database or venue failing first): nothing to repair
    raised_before_sending: int = 0
    hung: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    #: "venue job point" whose first hit no run reached (a hole in the sweep)
    never_reached: list[str] = field(default_factory=list)
    #: "venue job point: why" of points the venue cannot pass, not tried
    not_applicable: list[str] = field(default_factory=list)
    #: "venue job point" -> [cases killed there, of them converged]
    per_point: dict[str, list[int]] = field(default_factory=dict)

    def add(self, result: CaseResult, label: str = "") -> None:
        self.tried += 1
        self.killed += result.killed
        self.not_reached += result.child.outcome == "finished" and result.crash_at is not None
        self.converged += result.converged
        self.duplicate_orders += bool(result.verdict.duplicate_orders)
        self.naked_legs += bool(result.verdict.naked)
        self.record_mismatches += bool(result.verdict.mismatches)
        self.escaped += result.child.escaped
        self.raised_before_sending += result.child.outcome == "raised" and not result.child.escaped
        self.hung += result.child.outcome == "hung"
        self.seconds += result.seconds
        if not result.converged:
            self.violations.append(f"{label}{result.describe()}")
        if result.crash_at is not None:
            point, _, hit = result.crash_at.partition("#")
            name = f"{result.venue} {result.job} {point}"
            if result.killed:
                counts = self.per_point.setdefault(name, [0, 0])
                counts[0] += 1
                counts[1] += result.converged
            elif hit in ("", "1"):
                self.never_reached.append(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tried": self.tried,
            "killed": self.killed,
            "not_reached": self.not_reached,
            "converged": self.converged,
            "duplicate_orders": self.duplicate_orders,
            "naked_legs": self.naked_legs,
            "record_mismatches": self.record_mismatches,
            "escaped": self.escaped,
            "raised_before_sending": self.raised_before_sending,
            "hung": self.hung,
            "seconds": round(self.seconds, 1),
            "violations": list(self.violations),
            "never_reached": list(self.never_reached),
            "not_applicable": list(self.not_applicable),
            "per_point": {name: {"killed": k, "converged": c} for name, (k, c) in self.per_point.items()},
        }


class Worlds:
    """One world per venue, built on first use under ``workdir``; closed together."""

    def __init__(self, workdir: Path, redis_url: str | None) -> None:
        self.workdir = workdir
        self.redis_url = redis_url
        self._worlds: dict[str, CrashWorld] = {}

    def __getitem__(self, venue: str) -> CrashWorld:
        if venue not in self._worlds:
            self._worlds[venue] = CrashWorld(venue, self.workdir / venue, redis_url=self.redis_url)
        return self._worlds[venue]

    def close(self) -> None:
        for world in self._worlds.values():
            world.close()


def run_matrix(
    worlds: Worlds, cases: Sequence[tuple[str, str, str]], *, all_hits: bool, progress: Any = None
) -> Figures:
    figures = Figures()
    started = time.perf_counter()
    for venue, job, point in cases:
        state = state_for(venue, job, point, worlds.redis_url is not None)
        for result in sweep_point(worlds[venue], job, point, all_hits=all_hits, state=state):
            figures.add(result, f"[{state} state] ")
            if progress is not None:
                progress(result)
    figures.seconds = time.perf_counter() - started
    return figures


def full_cases(venues: Sequence[str], points: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """Every (venue, job, point) a venue can pass (``inapplicable_cases`` lists the rest)."""
    return [(v, job, point) for v in venues for job in JOBS for point in points[job] if not not_applicable(v, point)]


def inapplicable_cases(venues: Sequence[str], points: Mapping[str, Sequence[str]]) -> list[str]:
    """ "venue job point: why" of every point a venue cannot pass."""
    return [
        f"{venue} {job} {point}: {why}"
        for venue in venues
        for job in JOBS
        for point in points[job]
        if (why := not_applicable(venue, point))
    ]
