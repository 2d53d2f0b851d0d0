"""What every execution service needs, built once per run from the config: the application database, the state
store (locks and venue order slots: Redis when configured, else the database), the alert sink, the core's
parameters and the execution settings.

Durable switches (kill switch, circuit breaker) never live in Redis: :mod:`arbx_pipelines.execution.risk_state`
keeps them in the application database, which survives restarts even where Redis keeps nothing on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.config.adapters import allocation_params, risk_limits, strategy_params
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.core.allocation import AllocationParams
from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.models import Venue
from arbx_pipelines.core.risk import RiskLimits
from arbx_pipelines.execution.lock_owner import this_owner
from arbx_pipelines.execution.slots import PendingTracker, VenueSlots
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore


@dataclass(frozen=True)
class ExecutionSettings:
    max_slippage: Decimal = Decimal("0.003")
    leverage: int = 5
    #: per order: look-ups by client order id and safe resends stop after this many seconds
    order_timeout_s: float = 25.0
    #: how long after its last send an order's request may still reach the venue (Binance recvWindow 5 s): an order
    #: the venue does not list is called absent only after this, by the protocol and by reconcile alike
    order_in_flight_s: float = 6.0
    pending_orders_per_venue: int = 3
    correction_rounds: int = 4
    #: HEDGE corrections tried before the leading leg is unwound instead
    hedge_attempts: int = 2
    #: a lock's life without a heartbeat (its owner refreshes it every third of this while it runs)
    lock_ttl_s: float = 30.0
    backoff_s: float = 0.2
    backoff_max_s: float = 2.0
    #: a spot arbitrage's task timeout (``spread.task_timeout_seconds``): past it plus the in-flight window, no live
    #: engine or run still works on an arbitrage, and reconcile may finish it
    spot_task_timeout_s: float = 20.0
    #: base coins the spot engine trades from inventory (``spread.symbols`` while spread is active): their balance
    #: beyond what the hedges and the declaration explain is its working inventory, not unknown exposure
    spot_engine_coins: frozenset[str] = frozenset()


@dataclass
class ExecutionDeps:
    engine: Engine
    state: StateStore
    alerts: AlertSink
    strategy: StrategyParams = field(default_factory=StrategyParams)
    limits: RiskLimits = field(default_factory=RiskLimits)
    allocation: AllocationParams = field(default_factory=AllocationParams)
    settings: ExecutionSettings = field(default_factory=ExecutionSettings)
    venues: tuple[Venue, ...] = (Venue.BINANCE,)
    #: perpetuals the strategy may trade; empty: every listed one
    symbols: tuple[str, ...] = ()
    tracker: PendingTracker = field(default_factory=PendingTracker)
    #: the run holding this process's locks (their owner, with pid and host)
    run_id: str | None = None
    _slots: VenueSlots | None = None

    @property
    def slots(self) -> VenueSlots:
        if self._slots is None:
            self._slots = VenueSlots(
                self.state,
                self.settings.pending_orders_per_venue,
                tracker=self.tracker,
                owner=this_owner(self.run_id),
            )
        return self._slots

    def wants(self, symbol: str) -> bool:
        return not self.symbols or symbol in self.symbols


def settings_from_config(loaded: LoadedConfig) -> ExecutionSettings:
    cfg = loaded.config
    return ExecutionSettings(
        max_slippage=cfg.execution.max_slippage,
        leverage=cfg.strategy.max_leverage,
        order_timeout_s=cfg.execution.order_timeout_seconds,
        order_in_flight_s=cfg.execution.order_in_flight_seconds,
        pending_orders_per_venue=cfg.execution.max_pending_orders_per_venue,
        correction_rounds=cfg.execution.correction_rounds,
        spot_task_timeout_s=cfg.spread.task_timeout_seconds,
        spot_engine_coins=frozenset(s.split("/")[0] for s in cfg.spread.symbols)
        if cfg.spread.active(cfg.mode)
        else frozenset(),
    )


def deps_from_config(
    loaded: LoadedConfig,
    *,
    engine: Engine | None = None,
    state: StateStore | None = None,
    alerts: AlertSink | None = None,
) -> ExecutionDeps:
    """Everything an execution service needs, from the validated config (resources pass their own objects)."""
    cfg = loaded.config
    engine = engine or make_engine(loaded.database_url)
    if state is None:
        state = RedisState.from_url(cfg.redis.url) if cfg.redis.url else DatabaseState(engine)
    return ExecutionDeps(
        engine=engine,
        state=state,
        alerts=alerts or AlertSink(engine),
        strategy=strategy_params(cfg),
        limits=risk_limits(cfg),
        allocation=allocation_params(cfg),
        settings=settings_from_config(loaded),
        venues=tuple(cfg.enabled_venues()),
        symbols=tuple(cfg.strategy.symbols),
    )
