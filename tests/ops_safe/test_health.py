"""Health: every check against the simulated venues over real HTTP; a failing check makes `arbx health` exit 1 and
the health_check job raise one alert (not one per run)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from arbx_pipelines.cli.main import main
from arbx_pipelines.health import check_redis, run_health_checks
from arbx_pipelines.scenarios.harness import Harness, sim_harness
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with sim_harness(venues=["binance", "okx"]) as harness:
        yield harness


def _by_name(harness: Harness) -> dict[str, tuple[bool, str]]:
    results = run_health_checks(harness.loaded, harness.instance, datetime.now(UTC))
    return {r.name: (r.ok, r.detail) for r in results}


def test_checks_against_the_simulated_venues(harness: Harness) -> None:
    checks = _by_name(harness)
    assert checks["database"][0] and checks["database"][1].startswith("reachable, revision ")
    for venue in ("binance", "okx"):
        assert checks[f"venue {venue} time"][0], checks[f"venue {venue} time"]
        assert checks[f"venue {venue} signed"][0], checks[f"venue {venue} signed"]
    assert "venue bitget time" not in checks  # not enabled
    assert checks["daemon"] == (False, "no daemon heartbeat: is `arbx run` running?")
    assert checks["sensors"] == (False, "no sensor has ticked yet")
    assert checks["funding snapshot"] == (False, "no funding snapshot taken yet")
    harness.materialize("funding_snapshot")
    ok, detail = _by_name(harness)["funding snapshot"]
    assert ok and "0 min ago (limit 0:25:00)" in detail


def test_redis_checked_only_when_configured(redis_url: str) -> None:
    assert check_redis(None).skipped
    assert check_redis(redis_url).ok
    closed = check_redis("redis://127.0.0.1:1/0")
    assert not closed.ok and closed.detail.startswith("not reachable")


def test_cli_exit_code_and_json(harness: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(harness.config_path), "health", "--json"]) == 1  # no daemon in a harness
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    failing = {c["name"] for c in report["checks"] if not c["ok"]}
    assert "daemon" in failing and "database" not in failing


def test_health_check_job_alerts_once_per_new_failure(harness: Harness) -> None:
    job = harness.defs.resolve_job_def("health_check")
    for _ in range(2):
        assert not job.execute_in_process(instance=harness.instance, raise_on_error=False).success
    with transaction(harness.engine()) as session:
        alerts = list(session.execute(select(Alert).where(Alert.kind == "health_check_failed")).scalars())
    assert len(alerts) == 1
    assert alerts[0].severity == "critical" and "daemon: " in alerts[0].message
