"""Funding opportunity -> open_funding_position: reads the latest funding snapshots and asks for one run per
(venue, symbol, settlement), best score first, with the leverage the user's algorithm decided. The run key makes a
repeated signal a no-op; the kill switch makes the sensor skip. Selection lives in
:mod:`arbx_pipelines.execution.signals`; the op re-validates on live data.

Typed anomalies are recorded in the alerts table and alerted once per symbol and hour (the cursor remembers them);
suspected manipulation engages the kill switch (pause all new entries until ``arbx resume``)."""

import json
from datetime import UTC, datetime

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SkipReason, sensor
from sqlalchemy import Engine

from arbx_pipelines.config.adapters import scoring_params, strategy_params
from arbx_pipelines.core.anomaly import RESPONSES
from arbx_pipelines.execution.risk_state import halt, halted
from arbx_pipelines.execution.signals import FundingScan, Opportunity, scan_funding
from arbx_pipelines.jobs.common import run_tags
from arbx_pipelines.jobs.execution import open_funding_position
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.notifier import NotifierResource
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
    context: SensorEvaluationContext,
    settings: SettingsResource,
    database: DatabaseResource,
    notifier: NotifierResource,
) -> list[RunRequest] | SkipReason:
    cfg = settings.loaded().config
    reason = halted(database.engine)
    if reason is not None:
        return SkipReason(f"kill switch engaged: {reason}")
    scan = scan_funding(
        database.engine,
        strategy_params(cfg),
        venues=cfg.enabled_venues(),
        symbols=cfg.strategy.symbols,
        now=datetime.now(UTC),
        anomaly_z=cfg.risk.anomaly_z,
        scoring=scoring_params(cfg),
        notional=cfg.risk.max_trade_usdt,
    )
    seen_anomalies, requested = read_cursor(context.cursor)
    anomalies = record_anomalies(database.engine, notifier.sink(), scan, seen_anomalies)
    current = {item.run_key for item in scan.opportunities}
    fresh = [] if scan.pause_all else [item for item in scan.opportunities if item.run_key not in requested]
    context.update_cursor(write_cursor(anomalies, (requested & current) | {item.run_key for item in fresh}))
    if scan.pause_all:
        return SkipReason("suspected manipulation: every new entry paused (kill switch engaged)")
    if not scan.opportunities:
        return SkipReason("no funding opportunity in the latest snapshots")
    if not fresh:
        return SkipReason(f"{len(current)} funding opportunity(ies) already requested")
    return [run_request(item) for item in fresh]


def read_cursor(cursor: str | None) -> tuple[str | None, set[str]]:
    """The anomaly keys already alerted (as :func:`record_anomalies` keeps them) and the run keys already requested.
    A run key is requested once while its opportunity lasts: asking again would be a no-op for Dagster too, but the
    daemon pays a run-storage query per repeated key on every tick. An earlier cursor (a bare list) holds anomalies."""
    if not cursor:
        return None, set()
    state = json.loads(cursor)
    if isinstance(state, list):
        return json.dumps(state), set()
    return json.dumps(state.get("anomalies", [])), set(state.get("requested", []))


def write_cursor(anomalies: str, requested: set[str]) -> str:
    return json.dumps({"anomalies": json.loads(anomalies), "requested": sorted(requested)})


def run_request(item: Opportunity) -> RunRequest:
    config = {
        "venue": str(item.venue),
        "symbol": item.symbol,
        "signal_key": item.run_key,
        "signal_time": item.observed_at.isoformat(),
        "leverage": item.leverage or 0,
    }
    return RunRequest(
        run_key=item.run_key,
        run_config={"ops": {"open_funding_position_op": {"config": config}}},
        tags=run_tags(item.symbol, "open", item.venue),
    )


def record_anomalies(engine: Engine, alerts: AlertSink, scan: FundingScan, cursor: str | None) -> str:
    """Record and alert each anomaly not alerted yet (keys kept in the cursor); engage the kill switch on suspected
    manipulation. Returns the new cursor."""
    seen = set(json.loads(cursor)) if cursor else set()
    current = {a.key for a in scan.anomalies}
    for anomaly in scan.anomalies:
        response = RESPONSES[anomaly.kind]
        if anomaly.key in seen or not response.alert:
            continue
        handling = "every new entry paused" if response.pause_all else "new entries on the symbol paused"
        alerts.raise_alert(
            str(anomaly.kind),
            f"{anomaly.venue} {anomaly.symbol}: {anomaly.kind} ({anomaly.detail}); {handling}",
            severity=response.severity,
            venue=anomaly.venue,
            symbol=anomaly.symbol,
            details={"handling": handling, "check_seconds": response.check_seconds},
        )
        if response.pause_all:
            halt(engine, f"{anomaly.kind} on {anomaly.venue} {anomaly.symbol}")
    return json.dumps(sorted(current))
