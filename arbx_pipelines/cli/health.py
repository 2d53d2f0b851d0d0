"""``arbx health [--json]``: is the running arbx healthy? Exit 0 when every check passes, 1 when one fails."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.health import CheckResult, failures, run_health_checks
from arbx_pipelines.instance import default_dagster_home

if TYPE_CHECKING:
    from dagster import DagsterInstance


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    health = sub.add_parser("health", help="check the database, Redis, venues, daemon, sensors and snapshot age")
    health.add_argument("--json", action="store_true", help="one JSON object, for scripts")
    health.set_defaults(handler=_health)


def _instance(home: str) -> DagsterInstance | None:
    """The Dagster instance of ``arbx run`` (its DAGSTER_HOME), or None when it was never started here."""
    from pathlib import Path

    from dagster import DagsterInstance

    if not (Path(home) / "dagster.yaml").is_file():
        return None
    return DagsterInstance.from_config(home)


def table(results: list[CheckResult]) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        status = "skip" if r.skipped else ("ok" if r.ok else "FAIL")
        lines.append(f"{r.name:<{width}}  {status:<4}  {r.detail}")
    return "\n".join(lines)


def _health(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    instance = _instance(str(default_dagster_home(loaded.base_dir)))
    try:
        results = run_health_checks(loaded, instance)
    finally:
        if instance is not None:
            instance.dispose()
    failed = failures(results)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [r.as_dict() for r in results]}, indent=1))
    else:
        print(table(results))
        print(f"{len(results) - len(failed)} of {len(results)} checks ok" + ("" if not failed else "; FAILED"))
    return 1 if failed else 0
