"""What a person sees: `arbx run` keeps error lines and drops Dagster's chatter; its feed prints one line per hedge
opened or closed and per alert; `arbx scenario` prints its summary (the position after the close) without events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, update

from arbx_pipelines.cli.main import main
from arbx_pipelines.cli.run_console import ActivityFeed, ConsoleLineFilter, problems_only
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Position

DAGSTER_LINES = [
    ("2026-12-07 01:15:34 +0000 - dagster.daemon.SensorDaemon - INFO - Checking for new runs for sensor: x", False),
    ("2026-12-07 01:15:34 +0000 - dagster - DEBUG - job - 1f - RUN_START - Started execution", False),
    ("/x/definitions.py:12: BetaWarning: Parameter `backfill_policy` is currently in beta", False),
    ("  backfill_policy=BackfillPolicy.single_run(),", False),  # the source line under the warning
    ("/x/y.py:3: DeprecationWarning: `foo` will be removed in 2.0", False),
    ("\x1b[32m2026-12-07 01:15:43 +0000\x1b[0m - dagster.code_server - \x1b[34mERROR\x1b[0m - alembic failed", True),
    ("Traceback (most recent call last):", True),
    ('  File "/x/y.py", line 3, in <module>', True),  # a traceback's lines stay
    ("time=2026-12-07T01:10:11Z level=INFO logger=arbx.sim msg=request", False),
    ("time=2026-12-07T01:10:11Z level=ERROR logger=arbx.sim msg=boom", True),
    ("Aborted!", False),
    ("2026-12-07 01:15:34 +0000 - dagster - WARNING - open_funding_position - 83 - op - legs differ", False),
    ("2026-12-07 01:15:49 +0000 - dagster - ERROR - open_funding_position - 6e - 17060 - STEP_FAILURE - x", False),
    ("dagster._core.definitions.events.Failure: open COMP/USDT:USDT ended failed", False),  # its trace, up to the
    ('  File "/x/execution.py", line 82, in open_funding_position_op', False),  # next log line
    ("2026-12-07 01:15:50 +0000 - dagster.daemon.SensorDaemon - ERROR - sensor position_risk failed", True),
]


def test_console_filter_keeps_problems_only() -> None:
    keep = ConsoleLineFilter()
    assert [(line, keep(line)) for line, _ in DAGSTER_LINES] == DAGSTER_LINES


def test_simulator_output_shows_its_errors_only() -> None:
    assert not problems_only("arbx simulated venues on http://127.0.0.1:8700 (seed 42, speed 1.0x)")
    assert not problems_only("arbx: interrupted")
    assert problems_only("arbx: cannot serve on 127.0.0.1:8700: address already in use")
    assert problems_only("time=2026-12-07T01:10:11Z level=WARNING logger=arbx.sim msg=slow")


def _position(engine: Engine, opened_at: datetime) -> int:
    with transaction(engine) as session:
        row = Position(
            venue="binance", symbol="DOGE/USDT:USDT", spot_symbol="DOGE/USDT", direction="positive", status="open",
            perp_amount=Decimal("900"), spot_amount=Decimal("900"), perp_entry_price=Decimal("0.1"), leverage=2,
            opened_at=opened_at, updated_at=opened_at,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return int(row.id)


def test_feed_prints_each_hedge_and_alert_once(migrated_engine: Engine) -> None:
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    _position(migrated_engine, start - timedelta(hours=1))  # opened before this start: not news
    lines: list[str] = []
    feed = ActivityFeed(migrated_engine, lines.append, since=start)
    feed.poll()
    assert lines == []
    pid = _position(migrated_engine, start + timedelta(seconds=5))
    AlertSink(migrated_engine).raise_alert("leg_imbalance", "legs differ", venue="binance", symbol="DOGE/USDT:USDT")
    AlertSink(migrated_engine).raise_alert("hedge_opened", "hedge opened (told by the position line)", severity="info")
    feed.poll()
    feed.poll()
    assert len(lines) == 2
    assert lines[0].endswith("Z  alert warning [leg_imbalance] binance-DOGE/USDT:USDT: legs differ")  # recorded now
    assert lines[1] == (
        f"2026-12-07 01:00:05Z  hedge opened  binance-DOGE/USDT:USDT positive perp 900 @ 0.1 (position {pid})"
    )
    with transaction(migrated_engine) as session:
        session.execute(
            update(Position).where(Position.id == pid).values(
                status="closed", closed_at=start + timedelta(minutes=9), close_reason="rate_below_exit",
                realized_pnl=Decimal("0.7"),
            )
        )  # fmt: skip
    feed.poll()
    feed.poll()
    assert lines[2:] == [
        f"2026-12-07 01:09:00Z  hedge closed  binance-DOGE/USDT:USDT (position {pid}): rate_below_exit, "
        "realized P&L 0.7 USDT"
    ]


def test_a_hedge_that_never_opened_is_one_line(migrated_engine: Engine) -> None:
    start = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    lines: list[str] = []
    feed = ActivityFeed(migrated_engine, lines.append, since=start)
    pid = _position(migrated_engine, start + timedelta(seconds=1))
    with transaction(migrated_engine) as session:
        session.execute(
            update(Position).where(Position.id == pid).values(
                status="closed", closed_at=start + timedelta(seconds=6), close_reason="not_opened",
                realized_pnl=Decimal("-0.3"), perp_amount=Decimal(0),
            )
        )  # fmt: skip
    feed.poll()
    assert lines == [
        f"2026-12-07 01:00:06Z  hedge not opened  binance-DOGE/USDT:USDT (position {pid}): legs unwound, "
        "realized P&L -0.3 USDT"
    ]


def test_scenario_prints_the_summary_and_the_position_after_the_close(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "funding-spike"]) == 0
    out, err = capsys.readouterr()
    assert "DEBUG" not in err and "RUN_START" not in err and " - INFO - " not in err
    lines = out.splitlines()
    assert lines[0].startswith("funding spike on binance DOGE/USDT:USDT: 4 orders")
    (after,) = [line for line in lines if "after the close" in line]
    assert after.startswith("position 1 after the close: closed (rate_below_exit")
