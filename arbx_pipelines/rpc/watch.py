"""Lifecycle notifications from the records: a hedge opened or closed, the day's funding, the breaker tripping, a
symbol paused by the anomaly screen, a sensor failing 3 ticks in a row. One :meth:`LifecycleWatcher.tick` compares
the records with durable cursors (flags in the application database) and notifies what is new, so nothing in the
execution layer has to know about notifications and a restart neither repeats nor loses one. It also sends the rate
limit's pending digest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from arbx_pipelines.config.adapters import strategy_params
from arbx_pipelines.core.anomaly import DEFAULT_MAX_AGE, MIN_PRICE_HISTORY, PRICE_HISTORY, is_anomalous, z_score
from arbx_pipelines.execution.risk_state import load_risk_state
from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.events import (
    notify_anomaly_pause,
    notify_breaker_tripped,
    notify_funding_digest,
    notify_hedge_closed,
    notify_hedge_opened,
    notify_sensor_failing,
)
from arbx_pipelines.rpc.context import RpcContext
from arbx_pipelines.rpc.views import breaker_status
from arbx_pipelines.storage.pnl_views import funding_by_symbol
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.storage.views import (
    PositionRecord,
    max_position_id,
    opening_plan,
    positions_after,
    positions_closed_since,
    recent_snapshots,
)

log = get_logger("arbx.notify.watch")
OPENED, CLOSED, BREAKER, FUNDING_DAY = "notify:opened", "notify:closed", "notify:breaker", "notify:funding_day"
SENSOR_FAILURES = 3
#: how often the sensors' ticks and the anomaly screen are read (a sensor fails 3 ticks in no less than 45 s, a
#: snapshot comes every few minutes: every 5 s, the screen's query per symbol, is most of an idle ``arbx run``'s CPU)
SLOW_CHECK_EVERY = timedelta(seconds=60)
#: an ``opening`` position older than this no longer holds back the notifications of later ones
OPENING_GRACE = timedelta(minutes=30)
MAX_DIGEST_DAYS = 7
#: execution statuses before its outcome is recorded (the position may already read "open" a moment earlier)
UNFINISHED = ("pending", "sending")


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


class LifecycleWatcher:
    def __init__(self, ctx: RpcContext, dagster_home: Path | None = None) -> None:
        self.ctx = ctx
        self.flags = DatabaseState(ctx.engine)
        self._dagster_home = dagster_home
        self._instance: Any = None
        self._slow_checked: datetime | None = None
        #: the anomaly flags as last read or written (this watcher is their only writer): one read per symbol, once
        self._anomaly_told: dict[str, bool] = {}

    def prime(self, now: datetime | None = None) -> None:
        """Set the cursors a first start lacks (what is already recorded is history, not news); ``tick`` would do
        it too, but a service calls this before it returns so nothing recorded afterwards can be taken for history."""
        now = now or datetime.now(UTC)
        if self.flags.get_flag(OPENED) is None:
            self.flags.set_flag(OPENED, str(max_position_id(self.ctx.engine)))
        if self.flags.get_flag(CLOSED) is None:
            self.flags.set_flag(CLOSED, json.dumps({"since": now.isoformat(), "ids": []}))
        if self.flags.get_flag(FUNDING_DAY) is None:
            self.flags.set_flag(FUNDING_DAY, (now.date() - timedelta(days=1)).isoformat())

    def tick(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self.opened(now)
        self.closed(now)
        self.breaker()
        self.funding_digest(now)
        if self._slow_checked is None or now - self._slow_checked >= SLOW_CHECK_EVERY:
            self._slow_checked = now
            self.anomalies(now)
            if self._dagster_home is not None:
                self.sensors()
        self.ctx.sink.flush_digest()

    def close(self) -> None:
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None

    def opened(self, now: datetime) -> None:
        raw = self.flags.get_flag(OPENED)
        if raw is None:
            self.prime(now)
            return
        last = int(raw)
        for row in positions_after(self.ctx.engine, last):
            plan = opening_plan(self.ctx.engine, row.id)
            unfinished = row.status == "opening" or (plan is not None and plan[0] in UNFINISHED)
            if unfinished and now - row.opened_at < OPENING_GRACE:
                break  # its outcome is not known yet; later ones wait so the cursor stays simple
            if plan is not None and plan[0] == "done":  # not flat or broken (the execution alerted those itself)
                self._announce_open(row, plan[1])
            last = row.id
            self.flags.set_flag(OPENED, str(last))

    def _announce_open(self, row: PositionRecord, planned: dict[str, Any]) -> None:
        size = row.perp_amount if row.perp_amount > 0 else (_decimal(planned.get("base_amount")) or row.perp_amount)
        notify_hedge_opened(
            self.ctx.sink,
            position_id=row.id,
            venue=row.venue,
            symbol=row.symbol,
            size=size,
            notional=_decimal(planned.get("notional")),
            rate=_decimal(planned.get("rate")),
            interval_hours=planned.get("interval_hours"),
            annualized=_decimal(planned.get("annualized")),
        )

    def closed(self, now: datetime) -> None:
        raw = self.flags.get_flag(CLOSED)
        if raw is None:
            self.prime(now)
            return
        cursor = json.loads(raw)
        since, seen = datetime.fromisoformat(cursor["since"]), set(cursor["ids"])
        rows = [r for r in positions_closed_since(self.ctx.engine, since) if r.id not in seen]
        for row in rows:
            if row.close_reason != "not_opened":
                notify_hedge_closed(
                    self.ctx.sink, position_id=row.id, venue=row.venue, symbol=row.symbol,
                    reason=row.close_reason, realized_pnl=row.realized_pnl,
                )  # fmt: skip
        if rows:
            newest = max(r.closed_at for r in rows if r.closed_at is not None)
            ids = [r.id for r in rows if r.closed_at == newest] + ([*seen] if newest == since else [])
            self.flags.set_flag(CLOSED, json.dumps({"since": newest.isoformat(), "ids": sorted(set(ids))}))

    def breaker(self) -> None:
        state = load_risk_state(self.ctx.engine)
        told = self.flags.get_flag(BREAKER) == "1"
        if state.breaker_open and not told:
            status = breaker_status(self.ctx)
            causes = [f"{f['venue']} {f['symbol']} at {f['at'][:19]}: {f['error']}" for f in status["failures"]]
            notify_breaker_tripped(self.ctx.sink, state.consecutive_failures, status["limit"], causes)
            self.flags.set_flag(BREAKER, "1")
        elif not state.breaker_open and told:
            self.flags.set_flag(BREAKER, None)

    def funding_digest(self, now: datetime) -> None:
        yesterday = now.date() - timedelta(days=1)
        raw = self.flags.get_flag(FUNDING_DAY)
        if raw is None:
            self.prime(now)
            return
        day = max(date.fromisoformat(raw), yesterday - timedelta(days=MAX_DIGEST_DAYS)) + timedelta(days=1)
        while day <= yesterday:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            totals = funding_by_symbol(self.ctx.engine, start, start + timedelta(days=1))
            if totals:
                rows = [(t.venue, t.symbol, t.amount, t.settlements) for t in totals]
                notify_funding_digest(self.ctx.sink, day, rows)
            self.flags.set_flag(FUNDING_DAY, day.isoformat())
            day += timedelta(days=1)

    def anomalies(self, now: datetime) -> None:
        """A symbol whose funding crosses the entry threshold but whose price the anomaly screen refuses (the same
        screen and window as :func:`arbx_pipelines.execution.signals.funding_opportunities`): one warning per pause."""
        cfg = self.ctx.loaded.config
        entry = strategy_params(cfg).entry_annualized
        venues = {v.value for v in cfg.enabled_venues()}
        for (venue, symbol), points in recent_snapshots(self.ctx.engine, now - DEFAULT_MAX_AGE).items():
            if venue not in venues or (cfg.strategy.symbols and symbol not in cfg.strategy.symbols):
                continue
            latest, key = points[0], f"notify:anomaly:{venue}:{symbol}"
            prices = [p.mark_price for p in points[1 : PRICE_HISTORY + 1] if p.mark_price is not None]
            paused = (
                abs(latest.annualized) >= entry
                and latest.mark_price is not None
                and len(prices) >= MIN_PRICE_HISTORY
                and is_anomalous(prices, latest.mark_price, cfg.risk.anomaly_z)
            )
            told = self._anomaly_told.get(key)
            if told is None:
                told = self._anomaly_told[key] = self.flags.get_flag(key) is not None
            if paused and not told:
                z = z_score(prices, latest.mark_price) if latest.mark_price is not None else None
                detail = f"|z| {abs(z):.1f}" if z is not None else "a move off a flat history"
                notify_anomaly_pause(self.ctx.sink, venue, symbol, latest.mark_price, detail, cfg.risk.anomaly_z)
                self.flags.set_flag(key, latest.time.isoformat())
                self._anomaly_told[key] = True
            elif not paused and told:
                self.flags.set_flag(key, None)
                self._anomaly_told[key] = False

    def sensors(self) -> None:
        """Every sensor whose last 3 ticks failed: one critical alert per failing streak."""
        from dagster._core.definitions.run_request import InstigatorType
        from dagster._core.scheduler.instigation import TickStatus

        with self._dagster() as instance:
            for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=SENSOR_FAILURES)
                key = f"notify:sensor:{state.instigator_name}"
                failing = len(ticks) == SENSOR_FAILURES and all(t.status == TickStatus.FAILURE for t in ticks)
                told = self.flags.get_flag(key) is not None
                if failing and not told:
                    error = ticks[0].error.message.strip().splitlines()[-1] if ticks[0].error else "unknown error"
                    notify_sensor_failing(self.ctx.sink, state.instigator_name, SENSOR_FAILURES, error)
                    self.flags.set_flag(key, "1")
                elif not failing and told and ticks and ticks[0].status != TickStatus.FAILURE:
                    self.flags.set_flag(key, None)

    @contextmanager
    def _dagster(self) -> Iterator[Any]:
        if self._instance is None:
            from dagster import DagsterInstance

            self._instance = DagsterInstance.from_config(str(self._dagster_home))
        yield self._instance
