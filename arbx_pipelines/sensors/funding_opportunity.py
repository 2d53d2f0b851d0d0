"""Funding opportunity -> open_funding_position: reads the latest funding snapshots and asks for one run per
(venue, symbol, settlement). The run key makes a repeated signal a no-op; the kill switch makes the sensor skip.
Selection lives in :mod:`arbx_pipelines.execution.signals`; the op re-validates on live data."""

from datetime import UTC, datetime

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor

from arbx_pipelines.config.adapters import strategy_params
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.execution.signals import funding_opportunities
from arbx_pipelines.jobs.common import run_tags
from arbx_pipelines.jobs.execution import open_funding_position
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.settings import SettingsResource

#: it only reads the database; short, because the time to the first order starts here
SENSOR_SECONDS = 2


@sensor(
    name="funding_opportunity",
    job=open_funding_position,
    minimum_interval_seconds=SENSOR_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Opens a funding hedge when a fresh snapshot crosses the entry threshold (skips while halted).",
)
def funding_opportunity(
    context: SensorEvaluationContext, settings: SettingsResource, database: DatabaseResource
) -> list[RunRequest] | SkipReason:
    cfg = settings.loaded().config
    reason = halted(database.engine)
    if reason is not None:
        return SkipReason(f"kill switch engaged: {reason}")
    found = funding_opportunities(
        database.engine,
        strategy_params(cfg),
        venues=cfg.enabled_venues(),
        symbols=cfg.strategy.symbols,
        now=datetime.now(UTC),
        anomaly_z=cfg.risk.anomaly_z,
    )
    if not found:
        return SkipReason("no funding opportunity in the latest snapshots")
    return [
        RunRequest(
            run_key=item.run_key,
            run_config={
                "ops": {
                    "open_funding_position_op": {
                        "config": {
                            "venue": str(item.venue),
                            "symbol": item.symbol,
                            "signal_key": item.run_key,
                            "signal_time": item.observed_at.isoformat(),
                        }
                    }
                }
            },
            tags=run_tags(item.symbol, "open", item.venue),
        )
        for item in found
    ]
