"""Every bad input of issue 11 ends in ONE line naming what is wrong and exit code 2, never a traceback."""

from __future__ import annotations

import base64
import json
import os
import socket
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.config.secrets import save_secrets


def _arbx(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("arbx: ")]
    assert len(lines) == 1, err
    return code, lines[0]


def _config(tmp_path: Path, text: str = "") -> str:
    path = tmp_path / "arbx.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n{text}", encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def _no_environment_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARBX_CONFIG", "ARBX_ENV", "ARBX_DATABASE_URL", "ARBX_DATA_DIR", "ARBX_REDIS_URL", "ARBX_MODE",
                 "ARBX_SECRETS_KEY", "ARBX_SECRETS_PASSPHRASE", "ARBX_LIVE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_binary_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "arbx.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, line = _arbx(capsys, "--config", str(path), "config", "check")
    assert code == 2
    assert line == f"arbx: {path}: not a text file (binary content); a config file is UTF-8 YAML text"


def test_yaml_nested_five_thousand_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "arbx.yaml"
    path.write_text("risk: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, line = _arbx(capsys, "--config", str(path), "config", "check")
    assert code == 2 and line == f"arbx: {path}:1: YAML nested deeper than 32 levels"


def test_duplicate_key_names_both_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, "risk:\n  max_trade_usdt: 100\n  max_trade_usdt: 50\n")
    code, line = _arbx(capsys, "--config", path, "config", "check")
    assert code == 2
    assert line == f"arbx: {path}:4: duplicate key 'risk.max_trade_usdt' (first written on line 3)"


def test_number_beyond_its_upper_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, "risk:\n  max_trade_usdt: 1e400\n")
    code, line = _arbx(capsys, "--config", path, "config", "check")
    assert code == 2
    assert line == (
        f"arbx: config error ({path}:3): risk.max_trade_usdt = '1e400': Input should be less than or equal to 1000000"
    )


def test_mysql_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, "database:\n  url: mysql://root:pw@127.0.0.1/arbx\n")
    code, line = _arbx(capsys, "--config", path, "db", "upgrade")
    assert code == 2
    assert line == (
        f"arbx: config error ({path}:3): database.url: 'mysql' is not a supported database; "
        "use sqlite:///path/arbx.db or postgresql+psycopg://user@host:5432/db"
    )
    assert "pw" not in line


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the socket is


def test_postgresql_on_a_closed_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _closed_port()
    path = _config(tmp_path, f"database:\n  url: postgresql://arbx:hunter2@127.0.0.1:{port}/arbx\n")
    code, line = _arbx(capsys, "--config", path, "db", "upgrade")
    assert code == 2
    assert line.startswith(f"arbx: database postgresql+psycopg://arbx:***@127.0.0.1:{port}/arbx is not reachable: ")
    assert "Connection refused" in line and "hunter2" not in line


def test_unwritable_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    path = tmp_path / "arbx.yaml"
    path.write_text(f"data_dir: {tmp_path / 'a-file' / 'data'}\n", encoding="utf-8")
    code, line = _arbx(capsys, "--config", str(path), "config", "check")
    assert code == 2
    assert (
        line == f"arbx: data_dir = '{tmp_path / 'a-file' / 'data'}': not writable (Not a directory); "
        "choose a folder arbx may write"
    )


def _secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARBX_SECRETS_PASSPHRASE", "correct horse")
    path = tmp_path / "secrets.enc"
    save_secrets(path, {"telegram": {"bot_token": "t" * 20}}, "correct horse", environ={})
    return path


def test_secrets_file_with_a_short_nonce(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secrets_file(tmp_path, monkeypatch)
    envelope = json.loads(path.read_bytes())
    envelope["nonce"] = base64.b64encode(b"1234").decode()
    path.write_text(json.dumps(envelope), encoding="utf-8")
    code, line = _arbx(capsys, "--config", _config(tmp_path), "config", "check")
    assert code == 2
    assert line == (
        "arbx: secrets file: nonce of 4 bytes, salt of 16 (an arbx secrets file has a 12-byte nonce and a 16-byte "
        "salt): the file is damaged or not arbx's"
    )


def test_secrets_file_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "secrets.enc").mkdir()
    code, line = _arbx(capsys, "--config", _config(tmp_path), "config", "check")
    assert code == 2
    assert line == f"arbx: secrets.file = '{tmp_path / 'secrets.enc'}': is a directory, not a secrets file"


@pytest.mark.parametrize("key", ["zz" * 32, "not base64 at all!", base64.b64encode(b"short").decode()])
def test_malformed_raw_secrets_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    _secrets_file(tmp_path, monkeypatch)
    monkeypatch.setenv("ARBX_SECRETS_KEY", key)
    code, line = _arbx(capsys, "--config", _config(tmp_path), "config", "check")
    assert code == 2
    assert line.startswith("arbx: $ARBX_SECRETS_KEY: ") and "must be 32 bytes as 64 hex digits or base64" in line


def test_history_row_dated_9999(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path)
    assert main(["--config", config, "db", "upgrade"]) == 0
    capsys.readouterr()
    rows = tmp_path / "rates.csv"
    rows.write_text(
        "venue,symbol,funding_time,rate\nbinance,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001\n"
        "binance,BTC/USDT:USDT,9999-12-31T23:59:59Z,0.0001\n",
        encoding="utf-8",
    )
    code, line = _arbx(capsys, "--config", config, "history", "import", str(rows))
    assert code == 2
    assert line == f"arbx: {rows}:3: funding_time '9999-12-31T23:59:59Z' is outside 2009..2100"


def test_history_backfill_too_many_days(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, line = _arbx(
        capsys, "--config", _config(tmp_path), "history", "backfill", "--days", "100000", "--end", "2025-01-31"
    )
    assert code == 2
    assert line == (
        "arbx: --days 100000 reaches back before 2024-01-01, where funding history starts; "
        "at most 397 days end on 2025-01-31"
    )


def test_exported_arbx_live_does_not_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBX_LIVE", "1")
    path = _config(tmp_path, "mode: live\nlive_trading_confirmed: true\n")
    code, line = _arbx(capsys, "--config", path, "config", "check")
    assert code == 2
    assert line == "arbx: mode = 'live': refusing to start without --live on the command line of this start"
    assert os.environ["ARBX_LIVE"] == "1"
