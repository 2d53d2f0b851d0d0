"""The data flow as the Dagster UI shows it (headless Chromium): each asset's lineage view lists its direct
upstream assets, and an ``arbx history import`` shows on ``funding_history`` as materialized partitions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from arbx_pipelines.cli.main import main
from tests.support.dagster_ui import chromium_page, dagster_dev

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


@pytest.mark.slow
def test_the_asset_graph_shows_the_data_flow_and_a_history_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with dagster_dev(tmp_path) as ui, chromium_page() as page:
        for asset, upstream in UPSTREAM.items():
            assert _shown_upstream(page, ui.url, asset) == upstream, asset

        monkeypatch.setenv("DAGSTER_HOME", str(ui.home))
        monkeypatch.setenv("ARBX_DATA_DIR", str(tmp_path / "data"))
        assert main(["db", "upgrade"]) == 0
        assert main(["history", "import", str(_history_file(tmp_path / "funding.csv"))]) == 0
        assert "funding_history: 6 partitions (day x venue) recorded as materialized" in capsys.readouterr().out

        page.goto(f"{ui.url}/assets/funding_history?view=partitions", wait_until="networkidle")
        deadline = time.time() + 60
        while time.time() < deadline and page.get_by_text("Materialized (6)").count() == 0:
            page.wait_for_timeout(1000)
        assert page.get_by_text("Materialized (6)").count() == 1, page.inner_text("body")[:2000]
        page.goto(f"{ui.url}/assets/funding_history", wait_until="networkidle")
        page.get_by_text("2024-03-03|okx").first.wait_for(timeout=30_000)  # the latest imported partition
        assert page.get_by_text("Never materialized").count() == 0
