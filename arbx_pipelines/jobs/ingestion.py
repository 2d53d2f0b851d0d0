"""Ingestion jobs and their schedules: funding snapshot every 10 minutes, markets daily (quotes: a sensor)."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)

from arbx_pipelines.config.schema import ScheduleConfig

funding_snapshot_job = define_asset_job("funding_snapshot_job", selection=AssetSelection.assets("funding_snapshot"))
markets_job = define_asset_job("markets_job", selection=AssetSelection.assets("markets"))

INGESTION_JOBS = [funding_snapshot_job, markets_job]


def ingestion_schedules(config: ScheduleConfig) -> list[ScheduleDefinition]:
    """Running by default, so `arbx run` ingests from the first minute."""
    every = f"*/{config.funding_snapshot_minutes} * * * *" if config.funding_snapshot_minutes < 60 else "0 * * * *"
    return [
        ScheduleDefinition(
            name="funding_snapshot_schedule", job=funding_snapshot_job, cron_schedule=every,
            default_status=DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
        ),
        ScheduleDefinition(
            name="markets_daily", job=markets_job, cron_schedule="5 0 * * *",
            default_status=DefaultScheduleStatus.RUNNING, execution_timezone="UTC",
        ),
    ]  # fmt: skip
