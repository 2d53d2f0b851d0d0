"""``arbx deploy check`` against real PostgreSQL and Redis: all ok, then failing findings, then bad input."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbx_pipelines.cli.main import main
from arbx_pipelines.storage.db import upgrade

ENV_VARS = ("ARBX_ENV", "ARBX_MODE", "ARBX_DATA_DIR", "ARBX_DATABASE_URL", "ARBX_REDIS_URL", "ARBX_SECRETS_KEY")


@pytest.fixture
def deploy_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file of its own and an environment with nothing of the caller's deployment in it."""
    for name in (*ENV_VARS, "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "arbx.yaml"
    config.write_text("mode: sim\n")
    monkeypatch.setenv("ARBX_CONFIG", str(config))
    return config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def held_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str]]:
    code = main(["deploy", "check", "--webserver-port", str(_free_port()), *args])
    lines = capsys.readouterr().out.splitlines()
    findings = {line.split(":", 1)[0].split(None, 1)[1]: line for line in lines[:-1]}
    assert lines[-1].startswith("deploy check: ")
    return code, findings


def test_a_ready_deployment_passes_every_check(
    deploy_env: Path, pg_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(pg_url)
    monkeypatch.setenv("ARBX_DATABASE_URL", pg_url)
    monkeypatch.setenv("ARBX_REDIS_URL", redis_url)
    for name, value in {"HOST": "127.0.0.1", "PORT": "5432", "USER": "postgres", "DB": "test"}.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    code, findings = _run(capsys, "--grpc-port", str(_free_port()))
    assert code == 0, findings
    assert set(findings) >= {"database", "migrations", "redis", "secrets", "dagster storage"}
    assert all(line.startswith("ok  ") for line in findings.values()), findings
    assert "at head revision" in findings["migrations"]


def test_failing_findings_are_named_one_per_line(
    deploy_env: Path,
    pg_url: str,
    held_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_env.write_text("mode: demo\n")  # demo sends real orders: needs every enabled venue's keys
    monkeypatch.setenv("ARBX_DATABASE_URL", pg_url)  # reachable, never migrated
    monkeypatch.setenv("ARBX_REDIS_URL", f"redis://127.0.0.1:{_free_port()}/0")  # nothing listens there
    code, findings = _run(capsys, "--grpc-port", str(held_port))
    assert code == 1
    assert findings["database"].startswith("ok  ")
    assert findings["migrations"].startswith("FAIL") and "run `arbx db upgrade`" in findings["migrations"]
    assert findings["redis"].startswith("FAIL") and "not reachable" in findings["redis"]
    assert findings["secrets"].startswith("FAIL") and "binance.api_key is missing" in findings["secrets"]
    assert findings[f"port {held_port}"].startswith("FAIL") and "in use" in findings[f"port {held_port}"]


def test_dagster_storage_in_the_application_database_fails(
    deploy_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both Dagster and arbx keep an alembic_version table: one database for both breaks the services' start."""
    monkeypatch.setenv("ARBX_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    for name, value in {"HOST": "127.0.0.1", "PORT": "5432", "USER": "postgres", "DB": "test"}.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    code, findings = _run(capsys)
    assert code == 1
    assert (
        findings["dagster storage"].startswith("FAIL") and "is the application database" in findings["dagster storage"]
    )


def test_an_unreachable_database_fails_without_creating_anything(
    deploy_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBX_DATABASE_URL", f"postgresql+psycopg://arbx:pw@127.0.0.1:{_free_port()}/arbx")
    code, findings = _run(capsys)
    assert code == 1
    assert findings["database"].startswith("FAIL") and "not reachable" in findings["database"]
    assert "pw" not in findings["database"]  # the password is never printed
    sqlite_file = tmp_path / "absent" / "arbx.db"
    monkeypatch.setenv("ARBX_DATABASE_URL", f"sqlite:///{sqlite_file}")
    code, findings = _run(capsys)
    assert code == 1 and "does not exist" in findings["database"]
    assert not sqlite_file.parent.exists()


def test_bad_input_exits_2_with_one_line(
    deploy_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["deploy", "check", "--grpc-port", "70000"])
    assert info.value.code == 2
    assert "70000 is not a port number" in capsys.readouterr().err
    monkeypatch.setenv("ARBX_ENV", "staging")
    assert main(["deploy", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ARBX_ENV = 'staging'" in err
