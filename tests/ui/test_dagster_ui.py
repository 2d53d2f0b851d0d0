"""The Dagster UI as the user drives it: headless Chromium clicks "Materialize" and reads the result."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from arbx_pipelines.storage.db import alembic_config
from tests.support.dagster_ui import chromium_page, dagster_dev


@pytest.mark.slow
def test_materialize_from_the_ui_shows_its_metadata(tmp_path: Path) -> None:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with dagster_dev(tmp_path) as ui, chromium_page() as page:
        page.goto(f"{ui.url}/assets/database_schema", wait_until="networkidle")
        page.get_by_role("button", name="Materialize").first.click()
        deadline = time.time() + 90
        text = ""
        while time.time() < deadline:
            time.sleep(3)
            page.reload(wait_until="networkidle")
            text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
            if "previous_revision" in text:
                break
        assert "revision" in text and str(head) in text, text[:2000]
    assert (tmp_path / "data" / "arbx.db").exists()
