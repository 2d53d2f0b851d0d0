"""The P&L view's days: records a venue dated after our today (its clock ahead of ours) count in today's row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arbx_pipelines.rpc.views import _up_to


def test_days_after_today_fold_into_today_and_earlier_days_stay() -> None:
    today = date(2026, 12, 7)
    totals = {date(2026, 12, 6): Decimal("1.5"), today: Decimal("0.25"), date(2026, 12, 8): Decimal("0.125")}
    assert _up_to(today, totals) == {date(2026, 12, 6): Decimal("1.5"), today: Decimal("0.375")}
    assert _up_to(today, {date(2026, 12, 9): Decimal("2")}) == {today: Decimal("2")}
    assert _up_to(today, {}) == {}
