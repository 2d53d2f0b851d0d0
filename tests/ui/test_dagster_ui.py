"""The Dagster UI as the user drives it, in headless Chromium: "Materialize" and the result's metadata; the data flow
(each asset's lineage view lists its direct upstream assets) and an ``arbx history import`` shown on
``funding_history`` as materialized partitions; the backtest report's charts rendered on the materialization's own
page (not behind "Show Markdown").

One Dagster stack and one browser serve the module (each start costs seconds of CPU on a 2-core machine). The tests
run in the order written and each works on assets the others leave alone: the schema first (before another test
writes to the database), then the report on the history it writes, then the lineage (its import adds history the
report must not see). Each also passes alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from arbx_pipelines.cli.main import main
from arbx_pipelines.history.records import FundingRecord
from arbx_pipelines.storage.db import alembic_config, make_engine, upgrade
from arbx_pipelines.storage.funding_history import write_funding
from tests.analytics.synthetic import ar_rates
from tests.support.dagster_ui import DagsterUI, chromium_page, dagster_dev

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stack's folder: DAGSTER_HOME ``dagster_home``, the arbx data folder ``data`` (its database, reports)."""
    return tmp_path_factory.mktemp("dagster_ui")


@pytest.fixture(scope="module")
def ui(root: Path) -> Iterator[DagsterUI]:
    with dagster_dev(root) as started:
        yield started


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium_page() as opened:
        yield opened


def test_materialize_from_the_ui_shows_its_metadata(ui: DagsterUI, page: Any, root: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    page.goto(f"{ui.url}/assets/database_schema", wait_until="networkidle")
    page.get_by_role("button", name="Materialize").first.click()
    deadline = time.time() + 90
    text = ""
    while time.time() < deadline:
        time.sleep(1)
        page.reload(wait_until="networkidle")
        text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
        if "previous_revision" in text:
            break
    assert "revision" in text and str(head) in text, text[:2000]
    assert (root / "data" / "arbx.db").exists()


def _history(data_dir: Path) -> None:
    url = f"sqlite:///{data_dir / 'arbx.db'}"
    upgrade(url)
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    records = []
    for i, (coin, level) in enumerate({"HOT": 0.0009, "WARM": 0.0004}.items()):
        rates = ar_rates(300, seed=80 + i, mean=level, phi=0.9, noise=0.0003)
        for k, rate in enumerate(rates):
            when = last - timedelta(hours=8 * (300 - k))
            records.append(FundingRecord("binance", f"{coin}/USDT:USDT", when, Decimal(repr(rate)), 8))
    engine = make_engine(url)
    with engine.begin() as conn:
        write_funding(conn, records, source="test")
    engine.dispose()


def test_backtest_report_charts_render_in_the_ui(ui: DagsterUI, page: Any, root: Path) -> None:
    _history(root / "data")
    page.goto(f"{ui.url}/assets/backtest_report", wait_until="networkidle")
    page.get_by_role("button", name="Materialize").first.click()
    page.wait_for_timeout(1500)
    confirm = page.get_by_role("button", name="Confirm")  # the UI asks when an upstream was never materialized
    if confirm.count():
        confirm.first.click()
    images = page.locator("img[src^='data:image/png;base64,']")
    deadline = time.time() + 150
    while time.time() < deadline and images.count() < 4:
        time.sleep(3)
        page.goto(f"{ui.url}/assets/backtest_report?view=events", wait_until="networkidle")
    if images.count() < 4:
        page.screenshot(path=str(root / "not_shown.png"), full_page=True)
    assert images.count() == 4, page.inner_text("body")[:2000]
    assert page.get_by_text("Show Markdown").count() == 0  # nothing of the report hides behind a button
    widths = [images.nth(i).evaluate("img => img.naturalWidth") for i in range(images.count())]
    assert all(width > 100 for width in widths), widths  # decoded and laid out, not broken images
    page.screenshot(path=str(root / "backtest_report.png"), full_page=True)
    reports = list((root / "data" / "reports").glob("backtest-*/report.html"))
    assert len(reports) == 1


#: downstream asset -> its direct upstream assets (markets -> funding_snapshot -> opportunity_ranking ->
#: capital_allocation; funding_history -> stats, forecasts -> reports; positions, funding_payments -> daily_pnl)
UPSTREAM = {
    "funding_snapshot": {"markets"},
    "opportunity_ranking": {"funding_snapshot", "funding_forecasts"},
    "capital_allocation": {"opportunity_ranking"},
    "symbol_funding_stats": {"funding_history"},
    "funding_forecasts": {"funding_history"},
    "backtest_report": {"funding_history", "funding_forecasts"},
    "daily_pnl": {"positions", "funding_payments"},
    "performance_report": {"daily_pnl", "spot_arbitrage"},
}
ALL_ASSETS = {"markets", "funding_snapshot", "quotes", "funding_history", "symbol_funding_stats", "funding_forecasts",
              "opportunity_ranking", "capital_allocation", "daily_pnl", "performance_report", "backtest_report",
              "funding_payments", "positions", "database_schema", "spot_arbitrage"}  # fmt: skip


def _shown_upstream(page: Any, base: str, asset: str) -> set[str]:
    """Names of the assets drawn in ``asset``'s lineage graph, one level upstream (itself excluded)."""
    page.goto(f"{base}/assets/{asset}?view=lineage&lineageScope=upstream&lineageDepth=1", wait_until="networkidle")
    deadline = time.time() + 60
    shown: set[str] = set()
    while time.time() < deadline:
        lines = {line.strip() for line in page.inner_text("body").splitlines()}
        shown = (lines & ALL_ASSETS) - {asset}
        if shown >= UPSTREAM[asset]:
            break
        page.wait_for_timeout(1000)
    return shown


def _history_file(path: Path) -> Path:
    rows = ["venue,symbol,funding_time,rate,interval_hours"]
    for day in (1, 2, 3):
        for hour in (0, 8, 16):
            rows.append(f"binance,BTC/USDT:USDT,2024-03-0{day}T{hour:02d}:00:00+00:00,0.0001,8")
            rows.append(f"okx,ETH/USDT:USDT,2024-03-0{day}T{hour:02d}:00:00+00:00,0.0002,8")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_asset_graph_shows_the_data_flow_and_a_history_import(
    ui: DagsterUI, page: Any, root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for asset, upstream in UPSTREAM.items():
        assert _shown_upstream(page, ui.url, asset) == upstream, asset

    monkeypatch.setenv("DAGSTER_HOME", str(ui.home))
    monkeypatch.setenv("ARBX_DATA_DIR", str(root / "data"))
    assert main(["db", "upgrade"]) == 0
    assert main(["history", "import", str(_history_file(root / "funding.csv"))]) == 0
    assert "funding_history: 6 partitions (day x venue) recorded as materialized" in capsys.readouterr().out

    page.goto(f"{ui.url}/assets/funding_history?view=partitions", wait_until="networkidle")
    deadline = time.time() + 60
    while time.time() < deadline and page.get_by_text("Materialized (6)").count() == 0:
        page.wait_for_timeout(1000)
    assert page.get_by_text("Materialized (6)").count() == 1, page.inner_text("body")[:2000]
    page.goto(f"{ui.url}/assets/funding_history", wait_until="networkidle")
    page.get_by_text("2024-03-03|okx").first.wait_for(timeout=30_000)  # the latest imported partition
    assert page.get_by_text("Never materialized").count() == 0
