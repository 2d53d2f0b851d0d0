"""Reconcile at start: one reconcile run per start of the code location (its run key carries this process's start),
beside the schedule in :mod:`arbx_pipelines.jobs.schedules`. Runs while halted: reconcile only repairs."""

import os
import time

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, sensor

from arbx_pipelines.jobs.execution import reconcile

PROCESS_START = f"{os.getpid()}-{int(time.time())}"


@sensor(
    name="reconcile_on_start",
    job=reconcile,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Reconciles venues with the database once each time the code location starts.",
)
def reconcile_on_start(context: SensorEvaluationContext) -> RunRequest:
    return RunRequest(run_key=f"reconcile-start:{PROCESS_START}", tags={"arbx/execution": "reconcile"})
