"""The production topology end to end: the gRPC code server, the daemon and the webserver as separate processes
(the systemd units' command lines), Dagster's storage on a fresh PostgreSQL database (the repository's
``dagster.yaml``), arbx on the ``prod`` overlay (PostgreSQL and Redis). The funding-spike path runs through them
against the simulated Binance: a run launched from the webserver writes the spike's snapshot, the daemon's sensor
opens the hedge in a run of its own. The daemon is then killed (its whole group, as systemd does) while a run is in
flight, and started again: the run it took down is marked failed by run monitoring, a snapshot launched while it was
down waits in the queue and runs after the restart, and the restarted sensor does not open the hedge twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter
from dagster_postgres import PostgresRunStorage

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.execution.context import deps_from_config
from arbx_pipelines.execution.positions import positions_with_status
from arbx_pipelines.scenarios.funding_spike import SPIKE_RATE
from arbx_pipelines.scenarios.harness import SimAdmin
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.orders import all_orders
from arbx_pipelines.venues.sim.server import SimServer
from tests.execution.crashkit import assert_records_equal_venue, venue_legs
from tests.support.prod_stack import LOCATION, ProdStack, prod_stack, write_config
from tests.support.sim import sim_settings

VENUE, SYMBOL, SPOT = "binance", "DOGE/USDT:USDT", "DOGE/USDT"
OPEN_JOB = "open_funding_position"
SNAPSHOT_JOB = "funding_snapshot_job"
FUNDING_ENDPOINT = "GET /fapi/v1/premiumIndex"  # what the snapshot asks the simulated Binance


@pytest.fixture
def pg_databases(pg_admin_url: str) -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases, as a deployment has them: arbx's (URL) and Dagster's (name)."""
    plain = pg_admin_url.replace("+psycopg", "")
    name = f"arbx_topo_{uuid.uuid4().hex[:10]}"
    names = (f"{name}_app", f"{name}_dagster")
    with psycopg.connect(plain, autocommit=True) as conn:
        for db in names:
            conn.execute(f'CREATE DATABASE "{db}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{names[0]}", names[1]
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            for db in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """The test's own Redis keys (the state store is shared with other tests); deleted afterwards."""
    import redis

    prefix = f"test:topo:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def sensor_ticks(stack: ProdStack, sensor: str) -> list[dict[str, object]]:
    query = """query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
        ... on Sensor { sensorState { ticks(limit: 20) { timestamp status runIds } } } } }"""
    found = stack.graphql(query, {"selector": {**LOCATION, "sensorName": sensor}})["sensorOrError"]
    return list(found["sensorState"]["ticks"])


def runs_of(stack: ProdStack, job: str) -> list[str]:
    with stack.instance() as instance:
        return [run.run_id for run in instance.get_runs(RunsFilter(job_name=job))]


def step_started(stack: ProdStack, run_id: str) -> bool:
    with stack.instance() as instance:
        return bool(instance.all_logs(run_id, of_type=DagsterEventType.STEP_START))


def all_finished(stack: ProdStack) -> bool:
    return all(status in (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)
               for status in stack.statuses().values())  # fmt: skip


def test_funding_spike_through_the_production_services_survives_a_daemon_restart(
    tmp_path: Path, pg_databases: tuple[str, str], redis_url: str, redis_prefix: str
) -> None:
    app_url, dagster_db = pg_databases
    settings = {
        "venues": {name: {"enabled": name == VENUE} for name in ("binance", "okx", "bitget")},
        "strategy": {"symbols": [SYMBOL]},
        "redis": {"prefix": redis_prefix},
    }
    env = {"ARBX_DATABASE_URL": app_url, "ARBX_REDIS_URL": redis_url}
    with SimServer(sim_settings(venues=(VENUE,), history_dir=None)) as sim:
        config = write_config(tmp_path, sim.port, settings)
        loaded = load_config(config, env={**env, "ARBX_ENV": "prod"})
        assert loaded.database_url == app_url and loaded.config.redis.url == redis_url
        upgrade(app_url)  # `arbx db upgrade`, a deployment step before the services start
        engine = make_engine(app_url)
        admin = SimAdmin(sim.base_url)
        admin.set_funding(VENUE, SYMBOL, SPIKE_RATE)
        with prod_stack(tmp_path, config, dagster_db, env) as stack:
            # the spike's snapshot from the webserver; the daemon's sensor opens the hedge in a run of its own
            first = stack.finished_run(stack.launch(SNAPSHOT_JOB))
            assert first.dagster_run.status == DagsterRunStatus.SUCCESS
            (open_run,) = stack.wait("the open run", lambda: runs_of(stack, OPEN_JOB))
            assert stack.finished_run(open_run).dagster_run.status == DagsterRunStatus.SUCCESS
            (opened,) = positions_with_status(engine, ("open",))
            orders = all_orders(engine)

            stack.wait("every run launched so far to finish", lambda: all_finished(stack))
            # a run in flight when the daemon dies with its group: its snapshot waits on a slow venue answer
            admin.add_fault(venue=VENUE, endpoint=FUNDING_ENDPOINT, kind="latency", latency_ms=30_000)
            cut = stack.launch(SNAPSHOT_JOB)
            stack.wait("the cut run's step to start", lambda: step_started(stack, cut))
            stack.services["daemon"].kill()
            admin.clear_faults()
            admin.advance_hours(8)  # the next settlement: a new signal key while the spike holds
            queued = stack.launch(SNAPSHOT_JOB)
            statuses = stack.statuses()  # no daemon: one run left STARTED, one waiting in PostgreSQL's queue
            assert (statuses[cut], statuses[queued]) == (DagsterRunStatus.STARTED, DagsterRunStatus.QUEUED)
            stack.services["daemon"].start()
            second = stack.finished_run(queued)
            assert second.dagster_run.status == DagsterRunStatus.SUCCESS
            marked = stack.finished_run(cut)  # by the new daemon's run monitoring: its process is gone
            assert marked.dagster_run.status == DagsterRunStatus.FAILURE
            with stack.instance() as instance:
                messages = [entry.message for entry in instance.all_logs(cut) if entry.message]
            assert any("is gone" in message for message in messages), messages[-3:]
            assert second.end_time is not None
            seen_at = second.end_time

            def tick_after_restart() -> list[dict[str, object]]:
                ticks = sensor_ticks(stack, "funding_opportunity")
                return [t for t in ticks if float(str(t["timestamp"])) > seen_at and t["status"] != "STARTED"]

            (tick, *_) = stack.wait("a funding_opportunity tick on the new snapshot", tick_after_restart)
            assert tick["runIds"] == []  # the open hedge keeps the symbol busy: no second open
            stack.wait("every run to finish", lambda: all_finished(stack))

            with stack.instance() as instance:
                assert isinstance(instance.run_storage, PostgresRunStorage)
                runs = instance.get_runs()
            query = "{ runsOrError(limit: 200) { ... on Runs { results { runId status jobName } } } }"
            seen = stack.graphql(query)["runsOrError"]["results"]

        assert {r["runId"]: r["status"] for r in seen} == {r.run_id: r.status.value for r in runs}
        assert {run.run_id for run in runs if run.job_name == OPEN_JOB} == {open_run}
        snapshots = {first.dagster_run.run_id, queued}
        assert [r.status for r in runs if r.run_id in snapshots] == [DagsterRunStatus.SUCCESS] * 2
        assert all(run.is_finished for run in runs)
        # the hedge: both legs on the simulated venue, as recorded; every venue order recorded once
        (position,) = positions_with_status(engine, ("open",))
        assert position.id == opened.id and position.venue == VENUE and position.symbol == SYMBOL
        assert all_orders(engine) == orders and {o.leg for o in orders} >= {"spot", "perp"}
        spot_held, perp_short = venue_legs(sim, VENUE, SPOT, SYMBOL)
        assert spot_held == position.spot_amount > Decimal(0)
        assert perp_short == position.perp_amount
        assert_records_equal_venue(sim, deps_from_config(loaded, engine=engine), VENUE, [SPOT, SYMBOL])
        engine.dispose()
