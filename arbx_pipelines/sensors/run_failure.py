"""Run failure -> alert: every failed arbx run is recorded in ``alerts`` and sent to the configured channels.

The alert carries each failed step's own error (the innermost cause: what the op raised), not only Dagster's
"Execution of run ... failed. Steps failed: [...]".
"""

from typing import Any

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from arbx_pipelines.resources.notifier import NotifierResource


def root_message(error: Any) -> str:
    """The innermost cause of a ``SerializableErrorInfo`` chain, as ``Type: message``."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    cls = getattr(error, "cls_name", None)
    message = str(getattr(error, "message", "")).strip()
    return f"{cls}: {message}" if cls and not message.startswith(f"{cls}:") else message


def failure_text(run_message: str | None, step_errors: list[tuple[str, Any]]) -> str:
    """``step: error`` for every failed step; the run's own message when no step failed (e.g. a launch error)."""
    steps = [f"{step}: {root_message(error)}" for step, error in step_errors if error is not None]
    return "; ".join(steps) if steps else (run_message or "run failed")


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Records an alert (and notifies) for every failed run, with each failed step's error.",
    monitor_all_code_locations=False,
)
def run_failure_alert(context: RunFailureSensorContext, notifier: NotifierResource) -> None:
    run = context.dagster_run
    step_errors = [
        (event.step_key or "run", getattr(event.event_specific_data, "error", None))
        for event in context.get_step_failure_events()
    ]
    error = failure_text(context.failure_event.message, step_errors)
    notifier.sink().raise_alert(
        "run_failure",
        f"{run.job_name} run {run.run_id[:8]} failed: {error}"[:2000],
        severity="critical" if run.tags.get("arbx/execution") else "warning",
        symbol=run.tags.get("arbx/symbol"),
        details={"run_id": run.run_id, "job": run.job_name},
    )
