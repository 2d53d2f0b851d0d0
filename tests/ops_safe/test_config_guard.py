"""The configuration in force: an invalid edit keeps the last good configuration (in every process), is reported
once, and `arbx config check` shows both; an applied edit is logged with the keys that changed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.config import guard
from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.guard import ConfigEvent, changed_keys, config_in_force, config_status
from arbx_pipelines.config.loader import LoadedConfig


def _write(path: Path, max_trade: str) -> None:
    path.write_text(f"data_dir: {path.parent / 'data'}\nrisk:\n  max_trade_usdt: {max_trade}\n", encoding="utf-8")


def test_changed_keys_old_and_new() -> None:
    old = {"risk": {"max_trade_usdt": "150", "min_trade_usdt": "10"}, "mode": "sim"}
    new = {"risk": {"max_trade_usdt": "120", "min_trade_usdt": "10"}, "mode": "sim", "extra": {"a": 1}}
    assert changed_keys(old, new) == (("extra.a", None, 1), ("risk.max_trade_usdt", "150", "120"))


def test_invalid_edit_keeps_the_last_good_configuration(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "arbx.yaml"
    events: list[ConfigEvent] = []

    def record(event: ConfigEvent, _in_force: LoadedConfig) -> None:
        events.append(event)

    _write(path, "100")
    assert config_in_force(path, env={}, on_change=record).config.risk.max_trade_usdt == 100
    _write(path, "120")
    with caplog.at_level(logging.INFO, logger="arbx.config"):
        assert config_in_force(path, env={}, on_change=record).config.risk.max_trade_usdt == 120
    assert [e.kind for e in events] == ["applied"]
    assert events[0].changes == (("risk.max_trade_usdt", "100", "120"),)
    assert "risk.max_trade_usdt: '100' -> '120'" in caplog.text

    _write(path, "-5")
    for _ in range(3):  # every access keeps the last good value; the change is reported once
        assert config_in_force(path, env={}, on_change=record).config.risk.max_trade_usdt == 120
    assert [e.kind for e in events] == ["applied", "rejected"]
    assert f"({path}:3): risk.max_trade_usdt = -5" in events[1].message

    guard._cache.clear()  # a process started after the edit (a run worker) still has the last good one
    assert config_in_force(path, env={}, on_change=record).config.risk.max_trade_usdt == 120
    assert len(events) == 2

    status = config_status(path, env={})
    assert status.error is not None and "risk.max_trade_usdt = -5" in status.error
    assert status.in_force is not None and status.in_force.config.risk.max_trade_usdt == 120

    _write(path, "130")  # fixed: applied, and nothing rejected any more
    assert config_in_force(path, env={}, on_change=record).config.risk.max_trade_usdt == 130
    assert [e.kind for e in events] == ["applied", "rejected", "applied"]
    assert config_status(path, env={}).error is None


def test_a_change_is_reported_by_the_first_process_that_reports(tmp_path: Path) -> None:
    """The code location reads without reporting; the sensor that reads next reports the rejection."""
    path = tmp_path / "arbx.yaml"
    _write(path, "100")
    config_in_force(path, env={})
    _write(path, "0")
    config_in_force(path, env={})  # no on_change: noticed, not reported
    events: list[ConfigEvent] = []
    config_in_force(path, env={}, on_change=lambda event, _: events.append(event))
    config_in_force(path, env={}, on_change=lambda event, _: events.append(event))
    assert [e.kind for e in events] == ["rejected"]


def test_invalid_without_any_good_configuration_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "arbx.yaml"
    _write(path, "-5")
    with pytest.raises(ConfigError, match=r"risk\.max_trade_usdt = -5"):
        config_in_force(path, env={})


def test_config_check_shows_the_error_and_the_configuration_in_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARBX_CONFIG", "ARBX_ENV", "ARBX_DATABASE_URL", "ARBX_DATA_DIR", "ARBX_MODE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "arbx.yaml"
    _write(path, "100")
    config_in_force(path)
    _write(path, "-5")
    assert main(["--config", str(path), "config", "check"]) == 2
    out, err = capsys.readouterr()
    assert err.strip() == (f"arbx: config error ({path}:3): risk.max_trade_usdt = -5: Input should be greater than 0")
    assert out.splitlines()[0].startswith("in force: the last good configuration, accepted 20")
    assert f"  mode=sim sources={path}" in out.splitlines()
    assert (tmp_path / ".arbx").stat().st_mode & 0o777 == 0o700
    (state,) = (tmp_path / ".arbx").glob("config-*.json")
    assert state.stat().st_mode & 0o777 == 0o600


def test_unwritable_state_folder_keeps_the_last_good_configuration_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "arbx.yaml"
    (tmp_path / ".arbx").write_text("a file where the state folder would be", encoding="utf-8")
    _write(path, "100")
    assert config_in_force(path, env={}).config.risk.max_trade_usdt == 100
    _write(path, "-5")
    assert config_in_force(path, env={}, on_change=lambda *_: None).config.risk.max_trade_usdt == 100
