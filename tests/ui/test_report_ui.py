"""The backtest report's charts in the Dagster UI: headless Chromium materializes it and sees the images render on
the materialization's own page (not behind "Show Markdown")."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from arbx_pipelines.history.records import FundingRecord
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.storage.funding_history import write_funding
from tests.analytics.synthetic import ar_rates
from tests.support.dagster_ui import chromium_page, dagster_dev


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


@pytest.mark.slow
def test_backtest_report_charts_render_in_the_ui(tmp_path: Path) -> None:
    _history(tmp_path / "data")
    with dagster_dev(tmp_path) as ui, chromium_page() as page:
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
            page.screenshot(path=str(tmp_path / "not_shown.png"), full_page=True)
        assert images.count() == 4, page.inner_text("body")[:2000]
        assert page.get_by_text("Show Markdown").count() == 0  # nothing of the report hides behind a button
        widths = [images.nth(i).evaluate("img => img.naturalWidth") for i in range(images.count())]
        assert all(width > 100 for width in widths), widths  # decoded and laid out, not broken images
        page.screenshot(path=str(tmp_path / "backtest_report.png"), full_page=True)
    reports = list((tmp_path / "data" / "reports").glob("backtest-*/report.html"))
    assert len(reports) == 1
