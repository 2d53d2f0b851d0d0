"""Configuration: the documented example is the defaults, overlays and environment apply in order, and every
kind of bad input stops the start with one line naming the key, the value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from arbx_pipelines.config.loader import ConfigError, load_config
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.config.secrets import save_secrets
from arbx_pipelines.config.startup import load_settings
from arbx_pipelines.core.models import Venue

PROJECT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str, name: str = "arbx.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(str(path), env=env or {})
    message = str(info.value)
    assert "\n" not in message, "config errors are one line"
    return message


def test_documented_example_equals_the_defaults() -> None:
    loaded = load_config(PROJECT / "arbx.yaml", env={})
    assert loaded.config == ArbxConfig()


def test_overlay_and_environment_precedence(tmp_path: Path) -> None:
    base = _write(tmp_path, "risk:\n  max_trade_usdt: 100\nsimulator:\n  port: 9000\n")
    _write(tmp_path, "risk:\n  max_trade_usdt: 120\n", name="arbx.prod.yaml")
    env = {"ARBX_ENV": "prod", "ARBX_SIM_PORT": "9100", "ARBX_DATABASE_URL": "sqlite:////tmp/x.db"}
    loaded = load_config(base, env=env)
    assert loaded.config.risk.max_trade_usdt == 120  # overlay beats base
    assert loaded.config.simulator.port == 9100  # environment beats both
    assert loaded.database_url == "sqlite:////tmp/x.db"
    assert loaded.sources == (str(base), str(tmp_path / "arbx.prod.yaml"), "$ARBX_DATABASE_URL", "$ARBX_SIM_PORT")


def test_redis_url_from_environment(tmp_path: Path) -> None:
    loaded = load_config(_write(tmp_path, ""), env={"ARBX_REDIS_URL": "redis://127.0.0.1:6379/3"})
    assert loaded.config.redis.url == "redis://127.0.0.1:6379/3"


def test_default_database_is_sqlite_under_project_data(tmp_path: Path) -> None:
    loaded = load_config(_write(tmp_path, "data_dir: state\n"), env={})
    assert loaded.database_url == f"sqlite:///{tmp_path / 'state' / 'arbx.db'}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus: 1\n", "unknown key 'bogus'"),
        ("risk:\n  max_trade_usd: 5\n", "unknown key 'risk.max_trade_usd'"),
        ("risk:\n  max_trade_usdt: -5\n", "risk.max_trade_usdt = -5: Input should be greater than 0"),
        ("risk:\n  daily_trade_count: many\n", "risk.daily_trade_count = 'many': Input should be a valid integer"),
        (
            "strategy:\n  entry_annualized: 0.05\n  exit_annualized: 0.1\n",
            "strategy: exit_annualized (0.1) must be below entry_annualized (0.05)",
        ),
        ("strategy:\n  max_leverage: 20\n", "strategy.max_leverage = 20: Input should be less than or equal to 5"),
        ("strategy:\n  min_leverage: 4\n  max_leverage: 3\n", "min_leverage (4) must not exceed max_leverage (3)"),
        ("venues:\n  kraken:\n    enabled: true\n", "unknown venue 'kraken'; allowed: binance, okx, bitget"),
        ("mode: yolo\n", "mode = 'yolo': Input should be 'sim', 'paper', 'demo' or 'live'"),
        ("simulator:\n  port: 70000\n", "simulator.port = 70000: Input should be less than or equal to 65535"),
        ("venues:\n  binance:\n    swap_taker_fee: 0.5\n", "venues.binance.swap_taker_fee = 0.5: Input should be less"),
        ("risk:\n  min_trade_usdt: 200\n", "risk: min_trade_usdt (200) must not exceed max_trade_usdt (150)"),
        ("risk: [1, 2]\n", "risk = [1, 2]: Input should be a valid dictionary"),
        ("- just\n- a list\n", "the top level must be a mapping of keys, got list"),
        ("risk:\n  max_trade_usdt: 10\n    oops: [\n", "malformed YAML"),
        (
            "venues:\n  binance: {enabled: false}\n  okx: {enabled: false}\n  bitget: {enabled: false}\n",
            "at least one venue must be enabled",
        ),
        ("logging:\n  level: LOUD\n", "logging.level = 'LOUD': Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        (
            "strategy:\n  spot_inventory:\n    kraken: {DOGE: 1000}\n",
            "strategy.spot_inventory: unknown venue 'kraken'; allowed: binance, okx, bitget",
        ),
        (
            "strategy:\n  spot_inventory:\n    binance: {DOGE: -5}\n",
            "strategy.spot_inventory.binance.DOGE = -5: Input should be greater than or equal to 0",
        ),
        (
            "strategy:\n  spot_inventory:\n    binance: {DOGE: lots}\n",
            "strategy.spot_inventory.binance.DOGE = 'lots': Input should be a valid decimal",
        ),
        (
            "strategy:\n  spot_inventory:\n    binance: {DOGE: .nan}\n",
            "strategy.spot_inventory.binance.DOGE = nan: Input should be a finite number",
        ),
        (
            "strategy:\n  spot_inventory:\n    okx: {DOGE/USDT: 5}\n",
            "strategy.spot_inventory: okx: 'DOGE/USDT' is not an asset symbol (letters and digits, e.g. DOGE)",
        ),
        (
            "strategy:\n  spot_inventory:\n    okx: {doge: 5, DOGE: 6}\n",
            "strategy.spot_inventory: okx: DOGE is declared twice",
        ),
        (
            "strategy:\n  spot_inventory:\n    bitget: {USDT: 100}\n",
            "strategy.spot_inventory: bitget: USDT is the quote currency, not a coin to sell",
        ),
        (
            "strategy:\n  spot_inventory:\n    binance: 1000\n",
            "strategy.spot_inventory: binance must map coins to amounts, e.g. {DOGE: 1000}; got 1000",
        ),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, expected: str) -> None:
    message = _error(tmp_path, text)
    assert expected in message
    assert message.startswith(("config error", str(tmp_path)))


def test_spot_inventory_is_per_venue_and_coins_are_upper_cased(tmp_path: Path) -> None:
    text = "strategy:\n  spot_inventory:\n    binance: {doge: '1000', XRP: 0.5}\n    okx:\n"
    inventory = load_config(_write(tmp_path, text), env={}).config.strategy.spot_inventory
    assert inventory == {Venue.BINANCE: {"DOGE": Decimal("1000"), "XRP": Decimal("0.5")}, Venue.OKX: {}}
    assert load_config(_write(tmp_path, ""), env={}).config.strategy.spot_inventory == {}  # default: none declared


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    message = _error(tmp_path, "risk:\n  max_trade_usdt: 10\n    oops: [\n")
    assert message.startswith(f"{tmp_path / 'arbx.yaml'}:3: malformed YAML")


def test_bad_environment_value_names_the_variable_source(tmp_path: Path) -> None:
    message = _error(tmp_path, "", env={"ARBX_SIM_PORT": "eighty"})
    assert "simulator.port = 'eighty'" in message and "$ARBX_SIM_PORT" in message


def test_unknown_environment_name(tmp_path: Path) -> None:
    assert _error(tmp_path, "", env={"ARBX_ENV": "staging"}) == "ARBX_ENV = 'staging': allowed: dev, test, prod"


def test_missing_config_file_named_explicitly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", env={})


def test_missing_secret_for_demo_mode(tmp_path: Path) -> None:
    message = _error(tmp_path, "mode: demo\n")
    assert message.startswith("secrets: binance.api_key is missing; mode 'demo' needs it for enabled venue binance")


def test_secret_present_but_incomplete(tmp_path: Path) -> None:
    env = {"ARBX_SECRETS_PASSPHRASE": "correct horse"}
    save_secrets(tmp_path / "secrets.enc", {"binance": {"api_key": "k" * 16, "secret": "s" * 16}}, "correct horse")
    path = _write(tmp_path, "mode: demo\nvenues:\n  binance: {enabled: true}\n  okx: {enabled: true}\n")
    with pytest.raises(ConfigError, match=r"secrets: okx.api_key is missing"):
        load_settings(str(path), env=env)


def test_live_mode_needs_both_opt_ins(tmp_path: Path) -> None:
    assert "needs live_trading_confirmed: true" in _error(tmp_path, "mode: live\n")
    message = _error(tmp_path, "mode: live\nlive_trading_confirmed: true\n")
    assert "refusing to start without --live" in message


def test_cli_prints_the_error_and_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "risk:\n  max_trade_usdt: -5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "arbx_pipelines.cli.main", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"arbx: config error ({path}): risk.max_trade_usdt = -5: Input should be greater than 0"
    )
