"""The deployment files: systemd units accepted by ``systemd-analyze verify``, and the compose file's shape."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT_DIR / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("arbx*.service"))
INSTALL_PREFIX = "/opt/arbx"
ENV_FILE = "/etc/arbx/arbx.env"
ENV_KEYS = {
    "ARBX_ENV", "ARBX_DATABASE_URL", "ARBX_REDIS_URL", "ARBX_SECRETS_PASSPHRASE", "DAGSTER_HOME",
    "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB",
}  # fmt: skip


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def _installed_copies(tmp_path: Path) -> list[Path]:
    """The units as installed from this checkout: prefix and environment file substituted."""
    copies = []
    for unit in [*UNITS, DEPLOY / "systemd" / "arbx.target"]:
        text = unit.read_text().replace(ENV_FILE, str(DEPLOY / "arbx.env.example"))
        copy = tmp_path / unit.name
        copy.write_text(text.replace(INSTALL_PREFIX, str(PROJECT_DIR)))
        copies.append(copy)
    return copies


def test_units_cover_every_service_and_restart_with_the_environment_file() -> None:
    names = {unit.stem for unit in UNITS}
    assert {"arbx-webserver", "arbx-daemon", "arbx-grpc", "arbx-engine"} <= names
    for unit in UNITS:
        service = _unit(unit)["Service"]
        assert service["Restart"] == "on-failure", unit.name
        assert service["EnvironmentFile"] == ENV_FILE, unit.name
        command = service["ExecStart"].split()
        assert command[0].startswith(f"{INSTALL_PREFIX}/.venv/bin/"), unit.name
        hosts = [command[i + 1] for i, arg in enumerate(command) if arg in ("-h", "--host")]
        assert all(host == "127.0.0.1" for host in hosts), unit.name
    grpc = _unit(DEPLOY / "systemd" / "arbx-grpc.service")["Service"]["ExecStart"]
    assert "api grpc -m arbx_pipelines.definitions -h 127.0.0.1 -p 4266" in grpc
    assert "arbx engine" in _unit(DEPLOY / "systemd" / "arbx-engine.service")["Service"]["ExecStart"]


def test_workspace_points_at_the_grpc_code_server() -> None:
    grpc_port = re.search(r"-p (\d+)", _unit(DEPLOY / "systemd" / "arbx-grpc.service")["Service"]["ExecStart"])
    assert grpc_port is not None
    server = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"][0]["grpc_server"]
    assert server == {"host": "127.0.0.1", "port": int(grpc_port.group(1)), "location_name": "arbx"}


def test_environment_example_names_every_setting() -> None:
    lines = [line for line in (DEPLOY / "arbx.env.example").read_text().splitlines() if "=" in line]
    values = dict(line.split("=", 1) for line in lines if not line.startswith("#"))
    assert set(values) >= ENV_KEYS
    assert values["ARBX_ENV"] == "prod"


def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:  # a machine without systemd: the parser test is the check
        test_units_cover_every_service_and_restart_with_the_environment_file()
        return
    copies = _installed_copies(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", *map(str, copies)], capture_output=True, text=True)
    complaints = [line for line in done.stderr.splitlines() if str(tmp_path) in line or "arbx" in line]
    assert done.returncode == 0 and not complaints, done.stderr


def test_systemd_analyze_verify_rejects_a_missing_program(tmp_path: Path) -> None:
    """The verify test can fail: a unit whose program is not installed under the prefix is refused."""
    if shutil.which("systemd-analyze") is None:
        return
    unit = _installed_copies(tmp_path)[0]
    unit.write_text(unit.read_text().replace(f"{PROJECT_DIR}/.venv/bin/", f"{tmp_path}/missing/bin/"))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert done.returncode != 0 and "not executable" in done.stderr


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return data


def test_compose_has_the_services_with_environment_and_volumes() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "grpc", "daemon", "webserver", "engine"} <= set(services)
    for name in ("grpc", "daemon", "webserver", "engine", "metrics"):
        service = services[name]
        env = service["environment"]
        assert env["ARBX_ENV"] == "prod", name
        assert "${ARBX_SECRETS_PASSPHRASE" in env["ARBX_SECRETS_PASSPHRASE"], name  # from the environment
        assert "${DAGSTER_PG_PASSWORD" in env["DAGSTER_PG_PASSWORD"], name
        mounts = {volume.split(":")[1] for volume in service["volumes"]}
        assert {"/var/lib/arbx/data", "/var/lib/arbx/backups"} <= mounts, name
        assert service["restart"] == "on-failure", name
    assert services["grpc"]["command"][:5] == ["dagster", "api", "grpc", "-m", "arbx_pipelines.definitions"]
    assert services["engine"]["command"] == ["arbx", "engine"]
    assert {"postgres-data", "redis-data", "arbx-data", "arbx-backups"} <= set(compose["volumes"])
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published)
    workspace = yaml.safe_load((DEPLOY / "workspace.compose.yaml").read_text())["load_from"][0]["grpc_server"]
    assert workspace["host"] == "grpc" and str(workspace["port"]) in services["grpc"]["command"]
