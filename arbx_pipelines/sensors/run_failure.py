"""Run failure -> alert: every failed arbx run is recorded in ``alerts`` and sent to the configured channels."""

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from arbx_pipelines.resources.notifier import NotifierResource


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Records an alert (and notifies) for every failed run.",
    monitor_all_code_locations=False,
)
def run_failure_alert(context: RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    error = context.failure_event.message or "run failed"
    notifier.sink().raise_alert(
        "run_failure",
        f"{run.job_name} run {run.run_id[:8]} failed: {error}"[:2000],
        severity="critical" if run.tags.get("arbx/execution") else "warning",
        symbol=run.tags.get("arbx/symbol"),
        details={"run_id": run.run_id, "job": run.job_name},
    )
