"""Funding opportunity -> open_funding_position: reads the latest funding snapshots and asks for one run per
(venue, symbol, settlement). The run key makes a repeated signal a no-op; the kill switch makes the sensor skip.
Selection lives in :mod:`arbx_pipelines.execution.signals`; the op re-validates on live data."""

from datetime import UTC, datetime

from dagster import (
    DefaultSensorStatus,
    JobDefinition,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from arbx_pipelines.config.adapters import strategy_params
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.execution.signals import funding_opportunities
from arbx_pipelines.jobs.common import run_tags

#: it only reads the database; short, because the time to the first order starts here
SENSOR_SECONDS = 2


def build_funding_opportunity_sensor(open_job: JobDefinition) -> SensorDefinition:
    @sensor(
        name="funding_opportunity",
        job=open_job,
        minimum_interval_seconds=SENSOR_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        required_resource_keys={"settings", "database"},
        description="Opens a funding hedge when a fresh snapshot crosses the entry threshold (skips while halted).",
    )
    def funding_opportunity(context: SensorEvaluationContext) -> list[RunRequest] | SkipReason:
        cfg = context.resources.settings.loaded().config
        engine = context.resources.database.engine
        reason = halted(engine)
        if reason is not None:
            return SkipReason(f"kill switch engaged: {reason}")
        found = funding_opportunities(
            engine,
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

    return funding_opportunity
