"""The reconcile schedule: every ``schedules.reconcile_minutes`` (the ingestion schedules live with ingestion)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, JobDefinition, ScheduleDefinition


def every_minutes_cron(minutes: int) -> str:
    """Cron for "every N minutes": */N below an hour, whole hours above (rounded), daily at 1440."""
    if minutes < 1:
        raise ValueError(f"minutes must be at least 1, got {minutes}")
    if minutes < 60:
        return f"*/{minutes} * * * *"
    hours = max(1, round(minutes / 60))
    return "0 0 * * *" if hours >= 24 else f"0 */{hours} * * *"


def reconcile_schedule(job: JobDefinition, minutes: int) -> ScheduleDefinition:
    return ScheduleDefinition(
        name="reconcile_schedule",
        job=job,
        cron_schedule=every_minutes_cron(minutes),
        default_status=DefaultScheduleStatus.RUNNING,
        execution_timezone="UTC",
        tags={"arbx/execution": "reconcile"},
    )
