"""``arbx history import|stats|check`` and ``arbx bench`` end to end through the real CLI entry point."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main

PROJECT = Path(__file__).resolve().parents[2]
CM_EXPORT = "data/aha_hh_btc_eth_binance_bybit_okx/binance_export_BTCUSD_CM_funding_2023-09-11_2024-08-09.csv"
BLZ_JSON = "data/binance_usdm_funding_95_symbols_2025/BLZUSDT_funding.json"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "arbx.yaml"
    path.write_text(f"database:\n  url: sqlite:///{tmp_path / 'arbx.db'}\n")
    assert main(["--config", str(path), "--log-level", "ERROR", "db", "upgrade"]) == 0
    return path


def arbx(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "--log-level", "ERROR", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_reimport_stats_and_check(config: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    export, blz = shared_dir / CM_EXPORT, shared_dir / BLZ_JSON
    code, out, _ = arbx(capsys, config, "history", "import", str(export), str(blz))
    assert code == 0
    assert re.search(rf"^{re.escape(str(export))}: 1000 rows \(inserted 1000, already present 0\)", out, re.M)
    assert re.search(rf"^{re.escape(str(blz))}: 200 rows \(inserted 200, already present 0\)", out, re.M)
    assert "2 of 2 files imported: inserted 1200, already present 0" in out

    code, out, _ = arbx(capsys, config, "history", "import", str(export))
    assert code == 0 and "1000 rows (inserted 0, already present 1000)" in out

    code, out, _ = arbx(capsys, config, "history", "stats")
    assert code == 0 and "funding_rates: 1200 rows" in out
    assert re.search(r"binance\s+BLZ/USDT:USDT\s+4h\s+200\s+2025-05-17 04:00 \.\. 2025-06-19 08:00", out)
    assert re.search(r"binance\s+BTC/USD:BTC\s+8h\s+1000", out)

    code, out, _ = arbx(capsys, config, "history", "check", "--all")
    assert code == 0 and "2 symbols checked, 0 with findings" in out


def test_bad_file_exits_2_with_file_line_reason_and_good_files_still_import(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("venue,symbol,funding_time,rate\nokx,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001\n"
                    "okx,BTC/USDT:USDT,2024-01-02T00:00:00Z,0.0001\n")  # fmt: skip
    bad.write_text("venue,symbol,funding_time,rate\nokx,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001\n"
                   "okx,BTC/USDT:USDT,2024-01-01T08:00:00Z,oops\n")  # fmt: skip
    capsys.readouterr()
    code, out, err = arbx(capsys, config, "history", "import", str(bad), str(good))
    assert code == 2
    assert f"arbx: {bad}:3: rate 'oops' is not a number" in err
    assert f"{good}: 2 rows (inserted 2, already present 0)" in out
    assert "1 of 2 files imported" in out
    # the 8h settlement between the two good rows is reported missing: the bad file's first row was not written
    code, out, _ = arbx(capsys, config, "history", "check")
    assert code == 1 and "okx BTC/USDT:USDT: 2 settlements, 2 missing (first 2024-01-01 08:00)" in out


def test_check_prints_its_summary_first_and_takes_since(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "venue,symbol,funding_time,rate\nokx,BTC/USDT:USDT,2024-01-01T00:00:00Z,0.0001\n"
        "okx,BTC/USDT:USDT,2024-01-02T00:00:00Z,0.0001\n"
        "okx,ETH/USDT:USDT,2024-01-02T00:00:00Z,0.04\n"
    )  # fmt: skip (4 %: beyond OKX's 3 % cap)
    assert arbx(capsys, config, "history", "import", str(rates))[0] == 0
    code, out, _ = arbx(capsys, config, "history", "check")
    lines = out.splitlines()
    assert code == 1
    assert lines[0] == "2 symbols checked, 2 with findings: 2 missing settlements, 1 rates beyond the cap"
    assert lines[1].startswith("okx BTC/USDT:USDT: 2 settlements, 2 missing (first 2024-01-01 08:00)")
    code, out, _ = arbx(capsys, config, "history", "check", "--since", "2024-01-01T12:00")
    assert code == 1 and out.splitlines()[0] == (
        "2 symbols checked since 2024-01-01 12:00, 1 with findings: 1 rates beyond the cap"
    )
    with pytest.raises(SystemExit) as exit_info:
        arbx(capsys, config, "history", "check", "--since", "yesterday")
    assert exit_info.value.code == 2
    assert "--since: 'yesterday' is not a date (YYYY-MM-DD) or ISO time" in capsys.readouterr().err


def test_dry_run_writes_nothing(config: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = arbx(capsys, config, "history", "import", "--dry-run", str(shared_dir / BLZ_JSON))
    assert code == 0 and out.startswith("(dry run) ") and "inserted 200" in out
    code, out, _ = arbx(capsys, config, "history", "stats")
    assert "funding_rates: 0 rows" in out


def test_missing_file_and_unmigrated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "arbx.yaml"
    config.write_text(f"database:\n  url: sqlite:///{tmp_path / 'fresh.db'}\n")
    code, _, err = arbx(capsys, config, "history", "import", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in err
    (tmp_path / "f.csv").write_text("venue,symbol,funding_time,rate\n")
    code, _, err = arbx(capsys, config, "history", "import", str(tmp_path / "f.csv"))
    assert code == 2 and "arbx db upgrade" in err


def test_subprocess_exit_code_and_stderr(config: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-m", "arbx_pipelines.cli.main", "--config", str(config), "--log-level", "ERROR",
         "history", "import", str(empty)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{empty}:1: empty JSON array: no funding records" in done.stderr


def test_bench_dispatch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "arbx.yaml"
    config.write_text("{}\n")
    from arbx_pipelines.cli.bench import BENCHES, bench_module

    for name in [n for n in BENCHES if bench_module(n) is None][:1]:  # other helpers fill the benches in
        code, _, err = arbx(capsys, config, "bench", name)
        assert code == 2 and f"bench {name}: not implemented yet" in err
    code, _, err = arbx(capsys, config, "bench", "ingest", "--rows", "0")
    assert code == 2 and "must be positive" in err


@pytest.mark.postgres
def test_bench_ingest_small_run(pg_admin_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "arbx.yaml"
    config.write_text("{}\n")
    os.environ.setdefault("ARBX_BENCH_PG_URL", pg_admin_url)
    code, out, _ = arbx(capsys, config, "bench", "ingest", "--rows", "3000", "--naive-rows", "60", "--symbols", "7")
    assert code == 0
    assert re.search(r"bulk COPY writer:\s+[\d,]+ rows/s\s+\(3,000 rows", out)
    assert re.search(r"naive per-row ORM:\s+[\d,]+ rows/s\s+\(the first 60 of the same rows", out)
    assert re.search(r"ratio bulk / naive:\s+[\d,.]+ x", out)
    assert re.search(
        r"funding snapshot, every perpetual on binance, bitget, okx: \d{3} perpetuals in [\d.]+ s best", out
    )
