"""A failed run becomes an alert record (and a notification), through Dagster's run-failure sensor."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context, job, op

from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.sensors.run_failure import run_failure_alert
from arbx_pipelines.storage.alerts import alerts_in_order
from arbx_pipelines.storage.db import make_engine, upgrade


@op
def explode() -> None:
    raise RuntimeError("venue answered 503")


@job(tags={"arbx/symbol": "BTC/USDT:USDT"})
def doomed() -> None:
    explode()


def test_failed_run_is_recorded_as_alert(tmp_path: Path) -> None:
    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path}\n")
    upgrade(f"sqlite:///{tmp_path / 'arbx.db'}")
    with DagsterInstance.ephemeral() as instance:
        result = doomed.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(
            e for e in instance.all_logs(result.run_id) if e.dagster_event_type == DagsterEventType.RUN_FAILURE
        )
        context = build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=failure.dagster_event,  # type: ignore[arg-type]
        ).for_run_failure()
        run_failure_alert(context, notifier=NotifierResource(config_path=str(config)))
    (alert,) = alerts_in_order(make_engine(f"sqlite:///{tmp_path / 'arbx.db'}"))
    assert alert.kind == "run_failure" and alert.symbol == "BTC/USDT:USDT"
    assert alert.message == f"doomed run {result.run_id[:8]} failed: explode: RuntimeError: venue answered 503"
    assert alert.details == {"run_id": result.run_id, "job": "doomed"}
