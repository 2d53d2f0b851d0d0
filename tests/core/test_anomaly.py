"""Anomaly screen on funding rates and prices."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbx_pipelines.core.anomaly import is_anomalous, z_score

# mean 0.0002, sample standard deviation 0.0001 (deviations -1, 0, +1 x 1e-4 over n - 1 = 2)
HISTORY = [D("0.0001"), D("0.0002"), D("0.0003")]


def test_z_score_by_hand() -> None:
    assert z_score(HISTORY, D("0.0005")) == pytest.approx(3.0)
    assert z_score(HISTORY, D("0.0002")) == pytest.approx(0.0)
    assert z_score(HISTORY[:1], D("1")) is None


def test_threshold_is_strict() -> None:
    assert not is_anomalous(HISTORY, D("0.00049"))  # 2.9
    assert is_anomalous(HISTORY, D("0.00051"))  # 3.1
    assert is_anomalous(HISTORY, D("-0.00011"))  # -3.1
    assert not is_anomalous(HISTORY[:1], D("1"))
    assert is_anomalous([D("0.0001")] * 5, D("0.0002")) and not is_anomalous([D("0.0001")] * 5, D("0.0001"))
