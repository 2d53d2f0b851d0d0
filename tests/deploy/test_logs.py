"""Logs under systemd (JSON lines on stdout for journald) and by hand (a size-rotated 0600 file in the data dir)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from arbx_pipelines.logs import add_file_log, configure_logging, get_logger, register_secret

SYSTEMD = {"INVOCATION_ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"}


@pytest.mark.parametrize("environ", [SYSTEMD, {"JOURNAL_STREAM": "8:12345"}])
def test_under_systemd_records_are_json_lines_on_stdout(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "kv", environ=environ)
    get_logger("arbx.deploy.test").info("hedge opened", extra={"position": 7})
    out, err = capsys.readouterr()
    record = json.loads(out.strip())
    assert (record["level"], record["logger"], record["msg"], record["position"]) == (
        "INFO", "arbx.deploy.test", "hedge opened", 7,
    )  # fmt: skip
    assert err == ""


def test_by_hand_the_console_keeps_key_value_lines_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "kv", environ={})
    get_logger("arbx.deploy.test").info("hedge opened", extra={"position": 7})
    out, err = capsys.readouterr()
    assert out == ""
    assert "level=INFO logger=arbx.deploy.test" in err and "position=7" in err


def test_under_systemd_no_log_file_is_written(tmp_path: Path) -> None:
    assert add_file_log(tmp_path / "logs", SYSTEMD) is None
    assert not (tmp_path / "logs").exists()


def test_by_hand_the_file_log_rotates_by_size_and_stays_private(tmp_path: Path) -> None:
    path = add_file_log(tmp_path / "logs", {}, max_bytes=2000, backups=2)
    assert path == tmp_path / "logs" / "arbx.log"
    register_secret("s3cr3t-api-key-value")
    log = get_logger("arbx.deploy.test")
    log.setLevel("INFO")
    for n in range(60):  # ~100 bytes a line: several rollovers
        log.info("order sent", extra={"n": n, "note": "api key s3cr3t-api-key-value"})
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["arbx.log", "arbx.log.1", "arbx.log.2"]  # two backups kept, older ones dropped
    for name in files:
        file = path.parent / name
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, name
        assert file.stat().st_size <= 2000, name
        assert "s3cr3t" not in file.read_text()
    assert "n=59" in path.read_text()  # the newest record is in the current file
    assert "n=0 " not in "".join((path.parent / name).read_text() for name in files)  # the oldest rotated out


def test_an_existing_wider_log_file_is_made_private(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "arbx.log").write_text("")
    (tmp_path / "logs" / "arbx.log").chmod(0o644)
    path = add_file_log(tmp_path / "logs", {})
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
