"""The analytics and report assets materialized on a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from dagster import materialize
from sqlalchemy import Engine

from arbx_pipelines.assets.analytics import capital_allocation, funding_forecasts, opportunity_ranking
from arbx_pipelines.assets.reports import backtest_report, daily_pnl, performance_report
from arbx_pipelines.engine.executor import SPOT_ARB_KIND
from arbx_pipelines.history.records import FundingRecord, PriceRecord
from arbx_pipelines.resources.database import DatabaseResource
from arbx_pipelines.resources.settings import SettingsResource
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.funding_history import write_funding, write_prices
from arbx_pipelines.storage.models import Execution, Fill, FundingPayment, Order, Position
from tests.analytics.synthetic import ar_rates

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LEVELS = {"HOT": 0.0012, "WARM": 0.0007, "COLD": 0.00005}
SETTLEMENTS = 400


@pytest.fixture
def resources(migrated_engine: Engine, tmp_path: Path) -> dict[str, object]:
    url = migrated_engine.url.render_as_string(hide_password=False)
    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ndatabase:\n  url: '{url}'\n")
    return {"database": DatabaseResource(url=url), "settings": SettingsResource(config_path=str(config))}


def _history(engine: Engine, last: datetime | None = None) -> None:
    last = last or datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    first = last - timedelta(hours=8 * (SETTLEMENTS - 1))
    funding, closes = [], []
    rng = np.random.default_rng(9)
    for i, (coin, level) in enumerate(LEVELS.items()):
        rates = ar_rates(SETTLEMENTS, seed=70 + i, mean=level, phi=0.9, noise=0.00004)
        path = 10 * np.exp(np.cumsum(rng.normal(0, 0.01, SETTLEMENTS)))
        for k in range(SETTLEMENTS):
            when = first + timedelta(hours=8 * k)
            symbol = f"{coin}/USDT:USDT"
            funding.append(FundingRecord("binance", symbol, when, Decimal(repr(rates[k])), 8))
            closes.append(PriceRecord("binance", symbol, when, Decimal(repr(float(path[k])))))
    with engine.begin() as conn:
        write_funding(conn, funding, source="test")
        write_prices(conn, closes, source="test")


def _images(markdown: str) -> list[bytes]:
    parts = markdown.split("data:image/png;base64,")[1:]
    return [base64.b64decode(part.split(")", 1)[0]) for part in parts]


def test_forecast_ranking_allocation_and_backtest_report(
    migrated_engine: Engine, resources: dict[str, object], tmp_path: Path
) -> None:
    _history(migrated_engine)
    result = materialize(
        [funding_forecasts, opportunity_ranking, capital_allocation, backtest_report], resources=resources
    )
    assert result.success
    forecasts = result.output_for_node("funding_forecasts")
    assert {o.symbol for o in forecasts["outlooks"]} == {f"{c}/USDT:USDT" for c in LEVELS}
    assert set(forecasts["accuracy"]["by_symbol"]) == {f"binance:{c}/USDT:USDT" for c in LEVELS}
    ranking = result.output_for_node("opportunity_ranking")
    assert ranking[0].outlook.symbol == "HOT/USDT:USDT" and ranking[0].outlook.eligible
    assert not next(r for r in ranking if r.outlook.symbol == "COLD/USDT:USDT").outlook.eligible
    allocation = result.output_for_node("capital_allocation")
    assert [a["symbol"] for a in allocation["allocations"]][:1] == ["HOT/USDT:USDT"]
    assert Decimal(allocation["allocated"]) <= Decimal(500) * Decimal("0.75")

    events = result.asset_materializations_for_node("backtest_report")
    metadata = events[0].metadata
    images = _images(events[0].description or "")  # the charts are in the materialization's own page
    assert len(images) == 4 and all(img.startswith(PNG_MAGIC) for img in images)
    outlook = (events[0].description or "").split("## Forecast outlook (funding_forecasts of ", 1)[1]
    assert "| binance:HOT/USDT:USDT |" in outlook and "| binance:COLD/USDT:USDT |" in outlook
    html = Path(metadata["html"].value)  # type: ignore[arg-type]
    assert html.is_file() and html.parent.parent == tmp_path / "data" / "reports"
    pngs = sorted(html.parent.glob("*.png"))
    assert len(pngs) == 4 and all(p.read_bytes().startswith(PNG_MAGIC) for p in pngs)
    assert "equity-curve.png" in (html.parent / "report.md").read_text()
    assert html.read_text().count("data:image/png;base64,") == 4
    assert metadata["round_trips"].value > 0  # type: ignore[operator]


def test_backtest_report_defaults_to_the_history_that_exists(
    migrated_engine: Engine, resources: dict[str, object]
) -> None:
    """History that ended two years ago (an import of older data): the default lookback counts back from its end."""
    _history(migrated_engine, last=datetime(2024, 6, 1, tzinfo=UTC))
    result = materialize([backtest_report], resources=resources)
    assert result.success
    (event,) = result.asset_materializations_for_node("backtest_report")
    assert event.metadata["history_until"].value == "2024-06-01T00:00:00+00:00"
    assert event.metadata["round_trips"].value > 0  # type: ignore[operator]
    assert "annualized_return" in event.metadata  # 133 days of history: long enough to annualize
    assert "no funding_forecasts materialized yet" in (event.description or "")


def _trading_day(engine: Engine, day: date) -> None:
    """One hedge opened and closed on ``day``, with its fills and two funding payments."""
    at = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)
    with transaction(engine) as session:
        position = Position(
            venue="binance", symbol="BTC/USDT:USDT", spot_symbol="BTC/USDT", direction="short_perp",
            status="closed", perp_amount=Decimal("0.001"), spot_amount=Decimal("0.001"),
            perp_entry_price=Decimal(50000), spot_entry_price=Decimal(50010), leverage=2,
            fees_paid=Decimal("0.15"), funding_received=Decimal("0.08"), realized_pnl=Decimal("-0.02"),
            opened_at=at, closed_at=at + timedelta(hours=20), updated_at=at,
        )  # fmt: skip
        session.add(position)
        execution = Execution(
            execution_key="e1", kind="open_funding", venue="binance", symbol="BTC/USDT:USDT",
            status="done", created_at=at, updated_at=at,
        )  # fmt: skip
        session.add(execution)
        session.flush()
        for i, (symbol, side, fee, currency) in enumerate(
            [("BTC/USDT", "buy", Decimal("0.000001"), "BTC"), ("BTC/USDT:USDT", "sell", Decimal("0.1"), "USDT")]
        ):
            order = Order(
                client_order_id=f"c{i}", execution_id=execution.id, leg="spot" if i == 0 else "perp",
                venue="binance", symbol=symbol, side=side, order_type="market", amount=Decimal("0.001"),
                status="closed", created_at=at, updated_at=at,
            )  # fmt: skip
            session.add(order)
            session.flush()
            session.add(
                Fill(order_id=order.id, venue="binance", trade_id=f"t{i}", symbol=symbol, side=side,
                     amount=Decimal("0.001"), price=Decimal(50000), fee=fee, fee_currency=currency, time=at)
            )  # fmt: skip
        for hours, amount in ((7, Decimal("0.05")), (15, Decimal("0.03"))):
            session.add(
                FundingPayment(position_id=position.id, venue="binance", symbol="BTC/USDT:USDT",
                               funding_time=at + timedelta(hours=hours), rate=Decimal("0.001"), amount=amount)
            )  # fmt: skip


def test_daily_pnl_and_performance_report(migrated_engine: Engine, resources: dict[str, object]) -> None:
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    _trading_day(migrated_engine, day)
    result = materialize([daily_pnl], resources=resources, partition_key=day.isoformat())
    assert result.success
    metadata = result.asset_materializations_for_node("daily_pnl")[0].metadata
    fees = 0.000001 * 50000 + 0.1  # the spot fee was paid in BTC and is valued at its fill price
    price_pnl = -0.02 - 0.08 + 0.15  # realized P&L without the funding and fees booked on their own days
    assert metadata["funding"].value == pytest.approx(0.08)
    assert metadata["fees"].value == pytest.approx(fees)
    assert metadata["price_pnl"].value == pytest.approx(price_pnl)
    assert metadata["net"].value == pytest.approx(0.08 - fees + price_pnl)
    empty = materialize([daily_pnl], resources=resources, partition_key=(day - timedelta(days=1)).isoformat())
    assert empty.asset_materializations_for_node("daily_pnl")[0].metadata["net"].value == 0

    report = materialize([performance_report], resources=resources)
    assert report.success
    meta = report.asset_materializations_for_node("performance_report")[0].metadata
    assert meta["days_with_activity"].value == 1
    description = report.asset_materializations_for_node("performance_report")[0].description or ""
    assert len(_images(description)) == 4
    assert "| annualized return | n/a (less than 7 days) |" in description  # one day is no basis for a year
    assert Path(meta["html"].value).is_file()  # type: ignore[arg-type]


def _spot_arbitrage(engine: Engine, at: datetime) -> None:
    """One spot arbitrage of 0.01 ETH: bought at 3000 on Binance, sold at 3030 on OKX, 0.03 USDT fee on each leg."""
    with transaction(engine) as session:
        execution = Execution(
            execution_key="spot-t-1", kind=SPOT_ARB_KIND, venue="cross", symbol="ETH/USDT", status="done",
            planned={"expected_profit": "0.25", "buy_venue": "binance", "sell_venue": "okx"},
            created_at=at, updated_at=at,
        )  # fmt: skip
        session.add(execution)
        session.flush()
        for leg, venue, side, price in (("buy", "binance", "buy", 3000), ("sell", "okx", "sell", 3030)):
            order = Order(
                client_order_id=f"spot-t-1-{leg}", execution_id=execution.id, leg=leg, venue=venue,
                symbol="ETH/USDT", side=side, order_type="limit", amount=Decimal("0.01"), status="closed",
                created_at=at, updated_at=at,
            )  # fmt: skip
            session.add(order)
            session.flush()
            session.add(
                Fill(order_id=order.id, venue=venue, trade_id=f"t-{leg}", symbol="ETH/USDT", side=side,
                     amount=Decimal("0.01"), price=Decimal(price), fee=Decimal("0.03"), fee_currency="USDT", time=at)
            )  # fmt: skip


def test_performance_report_includes_the_spot_arbitrages(migrated_engine: Engine, resources: dict[str, object]) -> None:
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    _spot_arbitrage(migrated_engine, datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
    report = materialize([performance_report], resources=resources)
    assert report.success
    description = report.asset_materializations_for_node("performance_report")[0].description or ""
    assert "| spot arbitrages (both legs as planned) | 1 (1, 100%) |" in description
    # realized: 30.30 received - 30.00 paid - 0.06 fees
    assert "| spot arbitrage P&L expected / realized | 0.2500 / 0.2400 USDT |" in description
    assert f"| {day.isoformat()} | 1 | 1 | 0.2500 | 0.2400 |" in description
