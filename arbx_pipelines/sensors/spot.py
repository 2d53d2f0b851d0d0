"""The spot path seen from Dagster: the engine's heartbeat (an alert when stale or missing while spread is active),
its finished arbitrages as runless asset events of ``spot_arbitrage_fills`` (a cursor on the execution id), and the
spread sensor over the latest quotes that fires ``execute_spot_arbitrage`` for slower spreads while the engine is down
(a live engine watches the same symbols on live books and takes every spread it can: a run per persisting spread would
only re-validate what the engine already passed on, a run a minute per symbol pair on an idle stack)."""

import itertools
from decimal import Decimal

from dagster import (
    AssetMaterialization,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.engine.liveness import HEARTBEAT_FLAG, STALE_S
from arbx_pipelines.engine.report import heartbeat_age_s, net_coins, quote_flow
from arbx_pipelines.engine.slow_path import top_edge_rate
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.jobs.common import run_tags
from arbx_pipelines.jobs.spot import execute_spot_arbitrage
from arbx_pipelines.resources.database import DatabaseResource, StateResource
from arbx_pipelines.resources.notifier import NotifierResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.executions import FINAL_EXECUTION_STATUSES
from arbx_pipelines.storage.spot_arbitrage import fills_of_execution, spot_executions

ALERT_REPEAT_S = 600
#: the heartbeat is stale after STALE_S (30 s): a look every 30 s alerts within a minute of the engine's last beat
#: (each sensor tick costs the code server and the daemon a round of work: every 15 s was a sizeable share of an
#: idle stack's CPU). The fills (runless events) and the spread screen (over quotes refreshed once a minute) look once
#: a minute.
HEARTBEAT_CHECK_S = 30
FILLS_ASSET = "spot_arbitrage_fills"


@sensor(name="spot_engine_heartbeat", minimum_interval_seconds=HEARTBEAT_CHECK_S,
        default_status=DefaultSensorStatus.RUNNING,
        description="Alerts when the spot engine's heartbeat is stale or missing while spread is active.")  # fmt: skip
def spot_engine_heartbeat(
    context: SensorEvaluationContext, settings: SettingsResource, state: StateResource, notifier: NotifierResource
) -> SkipReason:
    cfg = settings.config
    if not cfg.spread.active(cfg.mode):
        return SkipReason("spread is off")
    age = heartbeat_age_s(state.store.get_flag(HEARTBEAT_FLAG))
    if age is not None and age <= STALE_S:
        return SkipReason(f"engine alive ({age:.1f} s ago)")
    what = "never started" if age is None else f"silent for {age:.0f} s"
    if state.store.claim_idempotency_key("spot-engine-down-alert", ALERT_REPEAT_S):
        notifier.sink().raise_alert("spot_engine_down", f"spot engine heartbeat: {what}", severity="critical",
                                    details={"age_s": None if age is None else round(age, 1)})  # fmt: skip
    return SkipReason(f"engine {what}")


@sensor(name="spot_arbitrage_fills", minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
        description="Reports each finished spot arbitrage as a runless asset event.")  # fmt: skip
def spot_arbitrage_fills(context: SensorEvaluationContext, database: DatabaseResource) -> SensorResult | SkipReason:
    after = int(context.cursor or 0)
    finished = spot_executions(database.engine, SPOT_ARB_KIND, after_id=after, final=FINAL_EXECUTION_STATUSES)[:200]
    if not finished:
        return SkipReason("no finished spot arbitrage since the last tick")
    events = []
    for execution in finished:
        fills = fills_of_execution(database.engine, execution.id)
        events.append(AssetMaterialization(
            asset_key=FILLS_ASSET, partition=None,
            description=f"{execution.key} {execution.symbol} {execution.status}",
            metadata={"execution": execution.key, "symbol": execution.symbol, "status": execution.status,
                      "buy_venue": execution.planned.get("buy_venue", ""),
                      "sell_venue": execution.planned.get("sell_venue", ""),
                      "expected_profit": MetadataValue.float(float(execution.planned.get("expected_profit", 0))),
                      "quote_flow": MetadataValue.float(float(quote_flow(fills))),
                      "net_coins": MetadataValue.float(float(net_coins(fills))), "fills": len(fills)},
        ))  # fmt: skip
    return SensorResult(asset_events=events, cursor=str(finished[-1].id))


@sensor(name="spot_spread", job=execute_spot_arbitrage, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Cross-venue spot spreads in the latest quotes above fees and the min profit rate -> "
                    "execute_spot_arbitrage while the spot engine is down (a live engine takes them).")  # fmt: skip
def spot_spread(
    context: SensorEvaluationContext, settings: SettingsResource, state: StateResource, database: DatabaseResource
) -> SensorResult | SkipReason:
    cfg = settings.config
    if not cfg.spread.active(cfg.mode):
        return SkipReason("spread is off")
    if halted(database.engine) is not None:
        return SkipReason("halted: no new entries")
    age = heartbeat_age_s(state.store.get_flag(HEARTBEAT_FLAG))
    if age is not None and age <= STALE_S:
        return SkipReason(f"the spot engine is alive ({age:.1f} s ago) and takes the spreads itself")
    fees = {venue.value: cfg.venues[venue].spot_taker_fee for venue in cfg.enabled_venues()}
    requests = []
    for symbol in cfg.spread.symbols:
        quotes = {venue: state.store.latest_quote(venue, symbol) for venue in fees}
        books = {v: q for v, q in quotes.items() if q and q.get("bid") and q.get("ask")}
        for buy, sell in itertools.permutations(sorted(books), 2):
            ask, bid = Decimal(books[buy]["ask"]), Decimal(books[sell]["bid"])
            if top_edge_rate(ask, bid, fees[buy], fees[sell]) < cfg.spread.min_profit_rate:
                continue
            key = f"spot:{symbol}:{buy}:{sell}:{books[buy].get('time')}:{books[sell].get('time')}"
            config = {"symbol": symbol, "buy_venue": buy, "sell_venue": sell}
            run_config = {"ops": {"execute_spot_arbitrage_op": {"config": config}}}
            requests.append(RunRequest(run_key=key, tags=run_tags(symbol, SPOT_ARB_KIND, buy), run_config=run_config))
    if not requests:
        return SkipReason("no spread above fees and the min profit rate in the latest quotes")
    return SensorResult(run_requests=requests)
