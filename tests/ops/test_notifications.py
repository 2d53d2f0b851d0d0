"""Notification logic: the ``[type] venue-symbol`` / message / UTC time format, low-priority alerts over the rate
limit merged into one digest per window (never dropped) while critical ones go out at once, the daily funding
digest, and chat commands that cannot be parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.notify.events import notify_config_change
from arbx_pipelines.notify.messages import Note, body_of, digest, subject_of
from arbx_pipelines.rpc.commands import answer_command
from arbx_pipelines.storage.alert_log import latest_alerts
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import FundingPayment
from arbx_pipelines.storage.state import DatabaseState

T0 = 1_800_000_000.0  # the start of a 60 s window


@dataclass
class Inbox:
    """A channel that keeps what it is given (the delivery over real HTTP is tested with the Telegram server)."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    name: str = "inbox"

    def send(self, subject: str, text: str) -> None:
        self.sent.append((subject, text))


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


def _engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path}/arbx.db"
    upgrade(url)
    return make_engine(url)


def test_format_is_type_place_message_and_utc_time() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    note = Note("hedge_closed", "hedge 3 closed (exit); realized P&L 1.2 USDT", when, "okx", "DOGE/USDT:USDT")
    assert subject_of(note.kind, note.venue, note.symbol) == "[hedge_closed] okx-DOGE/USDT:USDT"
    assert subject_of("start", None, None) == "[start]"
    assert body_of(note) == "hedge 3 closed (exit); realized P&L 1.2 USDT\n2026-01-02 03:04:05 UTC"


def test_digest_keeps_every_line_even_when_cut() -> None:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    notes = [Note("drift", f"message {i} " + "x" * 80, when + timedelta(seconds=i), "okx", "BTC") for i in range(80)]
    subject, text = digest(notes, when, 60)
    assert subject == "[digest] 80 alerts held back by the rate limit"
    assert len(subject) + 1 + len(text) <= 4096 and text.endswith("(80 in all; see the alerts table)")
    _short_subject, short_text = digest(notes[:2], when, 60)
    assert short_text.splitlines()[1:] == [f"00:00:0{i} [drift] okx-BTC message {i} " + "x" * 80 for i in range(2)]


def test_over_the_limit_is_merged_into_one_digest_never_dropped(tmp_path: Path) -> None:
    engine, clock, inbox = _engine(tmp_path), Clock(), Inbox()
    sink = AlertSink(engine, [inbox], DatabaseState(engine, clock=clock), max_per_minute=2, clock=clock)
    for i in range(5):
        clock.now = T0 + i
        sink.raise_alert("hedge_opened", f"hedge {i} opened", severity="info", venue="binance", symbol="X/USDT:USDT")
    sink.raise_alert("breaker_tripped", "circuit breaker tripped", severity="critical")
    assert [s for s, _ in inbox.sent] == ["[hedge_opened] binance-X/USDT:USDT"] * 2 + ["[breaker_tripped]"]
    assert sink.flush_digest() == 0  # the window is not over yet

    clock.now = T0 + 61
    assert sink.flush_digest() == 3
    subject, text = inbox.sent[-1]
    assert subject == "[digest] 3 alerts held back by the rate limit"
    assert [line.split(" ", 1)[1] for line in text.splitlines()[1:]] == [
        f"[hedge_opened] binance-X/USDT:USDT hedge {i} opened" for i in (2, 3, 4)
    ]
    assert sink.flush_digest() == 0 and len(inbox.sent) == 4  # sent once


def test_funding_digest_once_a_day(tmp_path: Path) -> None:
    from arbx_pipelines.rpc.context import RpcContext
    from arbx_pipelines.rpc.watch import LifecycleWatcher

    engine, inbox = _engine(tmp_path), Inbox()
    ctx = RpcContext(loaded=None, config_path=None, engine=engine, sink=AlertSink(engine, [inbox]))  # type: ignore[arg-type]
    watcher = LifecycleWatcher(ctx)
    day = datetime(2026, 3, 1, tzinfo=UTC)
    watcher.funding_digest(day)  # first start: earlier days are history, not news
    with transaction(engine) as session:
        for hours, amount in ((0, "0.5"), (8, "0.25"), (16, "-0.05")):
            session.add(FundingPayment(venue="okx", symbol="DOGE/USDT:USDT", funding_time=day + timedelta(hours=hours),
                                       amount=Decimal(amount), rate=None, currency="USDT"))  # fmt: skip
    watcher.funding_digest(day + timedelta(hours=23))
    assert inbox.sent == []
    watcher.funding_digest(day + timedelta(days=1, minutes=1))
    watcher.funding_digest(day + timedelta(days=1, minutes=2))
    ((subject, text),) = inbox.sent
    assert subject == "[funding_digest]"
    assert text.splitlines()[:2] == [
        "funding of 2026-03-01: 0.70 USDT over 3 settlements",
        "okx-DOGE/USDT:USDT: 0.70 USDT (3)",
    ]


def test_config_change_applied_lists_keys_and_rejected_is_critical(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    sink = AlertSink(engine)
    notify_config_change(sink, applied=True, source="arbx.yaml", changes={"risk.max_trade_usdt": (150, 100)})
    notify_config_change(sink, applied=False, source="arbx.yaml", error="line 12: max_trade_usdt: -5 must be > 0")
    rejected, applied = latest_alerts(engine, ["config_applied", "config_rejected"])
    assert applied.message == "arbx.yaml: change applied: risk.max_trade_usdt: 150 -> 100"
    assert rejected.severity == "critical" and "line 12: max_trade_usdt: -5" in rejected.message


def test_commands_that_cannot_be_parsed_get_one_line() -> None:
    ctx = None  # these answers never reach the service layer
    assert answer_command(ctx, "/close abc") == "/close: usage: /close ID (the id /positions shows)"  # type: ignore[arg-type]
    assert answer_command(ctx, "/pnl 0") == "/pnl: days must be a whole number from 1 to 90, got '0'"  # type: ignore[arg-type]
    assert answer_command(ctx, "/sell everything").startswith("unknown command '/sell'\narbx commands:")  # type: ignore[arg-type]


def test_hedge_opened_waits_for_the_open_to_finish(tmp_path: Path) -> None:
    """The position row reads ``open`` a moment before its execution is ``done``: that moment is not an outcome."""
    from arbx_pipelines.rpc.context import RpcContext
    from arbx_pipelines.rpc.watch import LifecycleWatcher
    from arbx_pipelines.storage.models import Execution, Position

    engine, inbox = _engine(tmp_path), Inbox()
    ctx = RpcContext(loaded=None, config_path=None, engine=engine, sink=AlertSink(engine, [inbox]))  # type: ignore[arg-type]
    watcher = LifecycleWatcher(ctx)
    now = datetime.now(UTC)
    watcher.prime(now)
    planned = {"notional": "100", "base_amount": "500", "rate": "0.001", "interval_hours": 4, "annualized": "2.19"}
    with transaction(engine) as session:
        position = Position(venue="okx", symbol="DOGE/USDT:USDT", spot_symbol="DOGE/USDT", direction="positive",
                            status="open", perp_amount=Decimal(500), spot_amount=Decimal(500), leverage=3,
                            opened_at=now, updated_at=now)  # fmt: skip
        session.add(position)
        session.flush()
        execution = Execution(execution_key="open:x", kind="open_funding", venue="okx", symbol="DOGE/USDT:USDT",
                              status="sending", position_id=position.id, planned=planned, created_at=now,
                              updated_at=now)  # fmt: skip
        session.add(execution)
    watcher.opened(now)
    assert inbox.sent == []
    with transaction(engine) as session:
        session.get(Execution, execution.id).status = "done"  # type: ignore[union-attr]
    watcher.opened(now)
    watcher.opened(now)
    ((subject, text),) = inbox.sent
    assert subject == "[hedge_opened] okx-DOGE/USDT:USDT"
    assert text.startswith(
        "hedge 1 opened: 500 coins (100.00 USDT); funding rate 0.100% per 4h; expected yield 219.0% a year"
    )


def test_a_sensor_failing_three_ticks_in_a_row_alerts_once_per_streak(tmp_path: Path) -> None:
    from dagster import DagsterInstance
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteInstigatorOrigin, RemoteRepositoryOrigin
    from dagster._core.scheduler.instigation import InstigatorState, InstigatorStatus, TickData, TickStatus
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._utils.error import SerializableErrorInfo

    from arbx_pipelines.rpc.context import RpcContext
    from arbx_pipelines.rpc.watch import LifecycleWatcher

    engine, home = _engine(tmp_path), tmp_path / "dagster_home"
    home.mkdir()
    ctx = RpcContext(loaded=None, config_path=None, engine=engine, sink=AlertSink(engine))  # type: ignore[arg-type]
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="arbx_pipelines.definitions"), "arbx")
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"), "position_risk")
    state = InstigatorState(origin, InstigatorType.SENSOR, InstigatorStatus.RUNNING)
    watcher = LifecycleWatcher(ctx, home)
    with DagsterInstance.from_config(str(home)) as instance:
        instance.add_instigator_state(state)

        def tick(status: TickStatus, at: float) -> None:
            error = SerializableErrorInfo("ConfigError: risk.max_trade_usdt: -5\n", [], "ConfigError")
            failed = error if status is TickStatus.FAILURE else None
            data = TickData(state.instigator_origin_id, "position_risk", InstigatorType.SENSOR, status, at,
                            run_ids=[], error=failed, selector_id=state.selector_id)  # fmt: skip
            instance.create_tick(data)

        for at in (1.0, 2.0):
            tick(TickStatus.FAILURE, at)
        watcher.sensors()
        assert latest_alerts(engine, ["sensor_failing"]) == []
        tick(TickStatus.FAILURE, 3.0)
        watcher.sensors()
        watcher.sensors()
        (alert,) = latest_alerts(engine, ["sensor_failing"])
        assert alert.severity == "critical"
        assert (
            alert.message
            == "sensor position_risk failed 3 ticks in a row; last error: ConfigError: risk.max_trade_usdt: -5"
        )
        tick(TickStatus.SUCCESS, 4.0)
        watcher.sensors()
        for at in (5.0, 6.0, 7.0):
            tick(TickStatus.FAILURE, at)
        watcher.sensors()
        assert len(latest_alerts(engine, ["sensor_failing"])) == 2
    watcher.close()


def test_anomaly_pause_is_told_once_per_pause(tmp_path: Path) -> None:
    from arbx_pipelines.config.loader import LoadedConfig
    from arbx_pipelines.config.schema import ArbxConfig
    from arbx_pipelines.rpc.context import RpcContext
    from arbx_pipelines.rpc.watch import LifecycleWatcher
    from arbx_pipelines.storage.models import FundingSnapshotRow

    engine = _engine(tmp_path)
    loaded = LoadedConfig(ArbxConfig(), tmp_path, ())
    watcher = LifecycleWatcher(RpcContext(loaded, None, engine, AlertSink(engine)))
    start = datetime.now(UTC) - timedelta(minutes=20)

    def snapshot(minute: int, price: str) -> None:
        with transaction(engine) as session:
            at = start + timedelta(minutes=minute)
            session.add(
                FundingSnapshotRow(
                    venue="bitget",
                    symbol="DOGE/USDT:USDT",
                    time=at,
                    rate=Decimal("0.003"),
                    interval_hours=8,
                    annualized=Decimal("3.285"),
                    mark_price=Decimal(price),
                )
            )

    for minute in range(12):
        snapshot(minute, "0.150" if minute % 2 else "0.151")
    watcher.anomalies(start + timedelta(minutes=12))
    assert latest_alerts(engine, ["anomaly_pause"]) == []
    snapshot(12, "0.200")  # a third up at once: far off the recent history
    watcher.anomalies(start + timedelta(minutes=13))
    watcher.anomalies(start + timedelta(minutes=13))
    (alert,) = latest_alerts(engine, ["anomaly_pause"])
    assert (alert.venue, alert.symbol, alert.severity) == ("bitget", "DOGE/USDT:USDT", "warning")
    assert alert.message == "new entries paused: price 0.2 is anomalous (|z| 94.8, threshold 3.0)"
