"""``arbx bench crash``: kill every execution job at every named crash point on every simulated venue, then run N
seeded fault-fuzzer schedules; after each, reconcile runs at once and the invariants are checked from outside.

Prints the crash points x jobs x venues tried, how many converged (no duplicate order, no naked leg, records equal
to the venue, a second reconcile changes nothing), the violations by kind, each violation with its point or seed
(``--seed S --schedules 1 --no-matrix`` replays schedule S), the points no run reached and those a venue cannot
pass (not applicable, e.g. a transfer on OKX's unified account), and the time taken. Exit 1 when anything did not
converge or a point was never reached.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from arbx_pipelines.bench.crash_cases import CaseResult
from arbx_pipelines.bench.crash_fuzz import make_schedule, run_schedule
from arbx_pipelines.bench.crash_sweep import Figures, Worlds, full_cases, inapplicable_cases, registry, run_matrix
from arbx_pipelines.bench.crash_world import JOBS


def run(args: argparse.Namespace) -> int:
    if args.schedules < 0:
        raise ValueError(f"--schedules must be 0 or more, got {args.schedules}")
    venues = list(dict.fromkeys(args.venues))
    points = registry()
    report: dict[str, Any] = {
        "venues": venues,
        "jobs": list(JOBS),
        "points_per_job": {job: len(points[job]) for job in JOBS},
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="arbx-bench-crash-") as tmp:
        worlds = Worlds(Path(tmp), args.redis)
        try:
            if not args.no_matrix:
                cases = full_cases(venues, points)
                report["matrix"] = run_matrix(worlds, cases, all_hits=True, progress=_progress(args)).as_dict()
                report["matrix"]["cases"] = len(cases)
                report["matrix"]["not_applicable"] = inapplicable_cases(venues, points)
            fuzz = Figures()
            fuzz_started = time.perf_counter()
            for seed in range(args.seed, args.seed + args.schedules):
                schedule = make_schedule(seed, venues, points, redis=args.redis is not None)
                result = run_schedule(worlds[schedule.venue], schedule)
                fuzz.add(result, f"{schedule.describe()} -> ")
                _progress(args, f"{schedule.describe()} -> ")(result)
            fuzz.seconds = time.perf_counter() - fuzz_started
            report["fuzzer"] = fuzz.as_dict() | {"schedules": args.schedules, "first_seed": args.seed}
        finally:
            worlds.close()
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    matrix = report.get("matrix", {})
    failed = matrix.get("violations") or matrix.get("never_reached") or report["fuzzer"]["violations"]
    return 1 if failed else 0


def _progress(args: argparse.Namespace, label: str = "") -> Any:
    def show(result: CaseResult) -> None:
        if not args.json and not result.converged:
            print(f"VIOLATION {label}{result.describe()}", flush=True)

    return show


def _line(figures: dict[str, Any]) -> str:
    return (
        f"converged {figures['converged']}/{figures['tried']}; duplicate orders {figures['duplicate_orders']}; "
        f"naked legs {figures['naked_legs']}; record mismatches {figures['record_mismatches']}; "
        f"exceptions escaped after the first order {figures['escaped']} (raised before any order "
        f"{figures['raised_before_sending']}); hung {figures['hung']}; {figures['seconds']} s"
    )


def _print(report: dict[str, Any]) -> None:
    per_job = ", ".join(f"{job} {n}" for job, n in report["points_per_job"].items())
    print(f"crash points per job: {per_job}; venues: {', '.join(report['venues'])}")
    matrix = report.get("matrix")
    if matrix is not None:
        print(
            f"matrix: {matrix['cases']} points x jobs x venues, {matrix['tried']} cases tried "
            f"({matrix['killed']} killed at their point, {matrix['not_reached']} ran to the end past no (further) hit)"
        )
        print(f"matrix: {_line(matrix)}")
        killed = matrix["per_point"]
        converged = sum(1 for counts in killed.values() if counts["converged"] == counts["killed"])
        print(f"matrix: {len(killed)} (venue, job, point) killed at least once, {converged} converged at every hit")
        print(f"matrix: never reached {len(matrix['never_reached'])}: {', '.join(matrix['never_reached']) or '-'}")
        print(f"matrix: not applicable {len(matrix['not_applicable'])}: {'; '.join(matrix['not_applicable']) or '-'}")
    fuzz = report["fuzzer"]
    if fuzz["schedules"]:
        last = fuzz["first_seed"] + fuzz["schedules"] - 1
        print(f"fuzzer: {fuzz['schedules']} schedules (seeds {fuzz['first_seed']}..{last}), {fuzz['killed']} killed")
        print(f"fuzzer: {_line(fuzz)}")
    violations = (matrix or {}).get("violations", []) + fuzz["violations"]
    print(f"violations: {len(violations)}; total time {report['seconds']} s")
    for violation in violations:
        print(f"  {violation}")
