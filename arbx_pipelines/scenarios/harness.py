"""A whole arbx on loopback for scenarios and benchmarks: the simulated venues on a free port, a temporary
``arbx.yaml`` pointing at them, a fresh SQLite database, a temporary Dagster instance and the Definitions the code
location would load, with helpers to materialize assets, tick sensors and run jobs in process."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from dagster import (
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    RunRequest,
    build_sensor_context,
    materialize,
)

from arbx_pipelines.config.loader import ENV_OVERRIDES, LoadedConfig, load_config
from arbx_pipelines.definitions import build_definitions, build_resources
from arbx_pipelines.storage.db import make_engine, upgrade
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import REPRODUCIBLE_MARKET_START_MS, SimSettings


class SimAdmin:
    """The simulator's ``/_admin`` endpoints over HTTP (documented in venues/sim/admin.py)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_admin{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def set_funding(self, venue: str, symbol: str, rate: float) -> None:
        self.call("POST", "/funding", {"venue": venue, "symbol": symbol, "rate": rate})

    def advance_hours(self, hours: float) -> int:
        return int(self.call("POST", "/time", {"advance_hours": hours})["time_ms"])

    def time_ms(self) -> int:
        return int(self.call("GET", "/state")["time_ms"])

    def account(self, venue: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/venues/{venue}/account"))

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/faults", rule))

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")


def write_config(workdir: Path, port: int, venues: Sequence[str], overrides: Mapping[str, Any]) -> Path:
    data: dict[str, Any] = {
        "mode": "sim",
        "data_dir": str(workdir / "data"),
        "simulator": {"port": port},
        "venues": {name: {"enabled": name in venues} for name in ("binance", "okx", "bitget")},
    }
    for dotted, value in overrides.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    path = workdir / "arbx.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Harness:
    server: SimServer
    workdir: Path
    config_path: Path
    loaded: LoadedConfig
    defs: Definitions
    instance: DagsterInstance
    admin: SimAdmin
    #: level of Dagster's console log in runs the harness starts (WARNING: no per-event lines)
    log_level: str = "DEBUG"

    def _run_config(self, run_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        loggers = {"loggers": {"console": {"config": {"log_level": self.log_level}}}}
        return {**(run_config or {}), **loggers}

    @property
    def venues(self) -> list[str]:
        return list(self.server.simulator.venues)

    def resources(self) -> dict[str, object]:
        return build_resources(self.loaded, str(self.config_path))

    def engine(self) -> Any:
        return make_engine(self.loaded.database_url)

    def materialize(self, *names: str) -> None:
        assets = [self.defs.resolve_assets_def(name) for name in names]
        # resolved assets carry their resources
        result = materialize(assets, instance=self.instance, run_config=self._run_config())
        if not result.success:
            raise RuntimeError(f"materializing {names} failed")

    def tick(self, sensor_name: str) -> list[RunRequest]:
        return self.evaluate(sensor_name).run_requests

    def evaluate(self, sensor_name: str, cursor: str | None = None) -> SensorTick:
        """One tick as the daemon runs it (``evaluate_tick``; direct calls mishandle required_resource_keys), from
        ``cursor``."""
        sensor = self.defs.resolve_sensor_def(sensor_name)
        context = build_sensor_context(instance=self.instance, resources=self.resources(), definitions=self.defs,
                                       cursor=cursor)  # fmt: skip
        data = sensor.evaluate_tick(context)
        return SensorTick(list(data.run_requests or []), data.skip_message, data.cursor)

    def run(self, request: RunRequest, default_job: str) -> ExecuteInProcessResult:
        """Execute the run a sensor requested, tagged with its run key as the daemon tags it."""
        job = self.defs.resolve_job_def(request.job_name or default_job)
        tags = {**request.tags, **({"dagster/run_key": request.run_key} if request.run_key else {})}
        return job.execute_in_process(
            run_config=self._run_config(request.run_config), instance=self.instance, tags=tags, raise_on_error=False
        )


@dataclass(frozen=True)
class SensorTick:
    run_requests: list[RunRequest]
    skip_message: str | None
    cursor: str | None


@contextmanager
def isolated_environment() -> Iterator[None]:
    """Hide the environment's config overrides (ARBX_DATABASE_URL, ARBX_MODE, ...) while the harness runs, so a
    scenario never writes to the database or venues a shell is configured for; restored afterwards."""
    names = [*ENV_OVERRIDES, "ARBX_ENV", "ARBX_CONFIG"]
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


@contextmanager
def sim_harness(
    overrides: Mapping[str, Any] | None = None,
    *,
    seed: int = 7,
    workdir: Path | None = None,
    sim_settings: Mapping[str, Any] | None = None,
    configure: Callable[[SimServer], Mapping[str, Any]] | None = None,
    venues: Sequence[str] | None = None,
    log_level: str = "DEBUG",
) -> Iterator[Harness]:
    """``overrides``: dotted config keys; ``sim_settings``: SimSettings fields (e.g. start_balance_usdt);
    ``configure``: more config keys chosen once the simulator runs (e.g. symbols it lists); ``venues``: the venues
    to simulate and enable (default: every simulated venue); ``log_level``: Dagster's console log in runs."""
    with tempfile.TemporaryDirectory(prefix="arbx-harness-", ignore_cleanup_errors=True) as tmp, isolated_environment():
        root = workdir or Path(tmp)
        settings = {
            "port": 0,
            "seed": seed,
            "history_dir": None,
            "venues": tuple(venues or ()),
            # the same market on every run: a fixed market start, a clock that moves only when the scenario says
            "market_start_ms": REPRODUCIBLE_MARKET_START_MS,
            "clock_running": False,
            **(sim_settings or {}),
        }
        server = SimServer(SimSettings(**settings)).start()
        try:
            keys = {**(overrides or {}), **(configure(server) if configure else {})}
            config_path = write_config(root, server.port, list(server.simulator.venues), keys)
            loaded = load_config(config_path, env={})
            upgrade(loaded.database_url)
            home = root / "dagster_home"
            home.mkdir(parents=True, exist_ok=True)
            instance = DagsterInstance.local_temp(tempdir=str(home))
            try:
                defs = build_definitions(loaded, str(config_path))
                admin = SimAdmin(server.base_url)
                yield Harness(server, root, config_path, loaded, defs, instance, admin, log_level)
            finally:
                instance.dispose()
        finally:
            server.stop()
