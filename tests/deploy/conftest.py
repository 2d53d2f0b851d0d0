"""Every deploy test leaves the ``arbx`` logger as it found it (commands add console and file handlers); two real
Celery workers on the local RabbitMQ for the scale-out tests."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("ARBX_TEST_AMQP_URL", "pyamqp://guest:guest@127.0.0.1:5672//")
WORKERS = ("arbx-grid-1", "arbx-grid-2")


@pytest.fixture(autouse=True)
def _restore_arbx_logger() -> Iterator[None]:
    logger = logging.getLogger("arbx")
    handlers, level = list(logger.handlers), logger.level
    yield
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in logger.handlers:
            logger.addHandler(handler)
    logger.setLevel(level)


def _celery_app() -> Any:
    from dagster_celery.make_app import make_app

    return make_app({"broker": BROKER, "backend": "rpc://"})


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """More environment for the workers (a test module overrides it, e.g. with the arbx config they read)."""
    return {}


@pytest.fixture
def celery_workers(tmp_path: Path, celery_worker_env: dict[str, str]) -> Iterator[list[str]]:
    """Two workers on the ``dagster`` queue, each one process (solo pool), DAGSTER_HOME the test's ``tmp_path``;
    the queue emptied first. Yields their pids."""
    from kombu.exceptions import OperationalError

    app = _celery_app()
    try:
        app.control.purge()
    except OperationalError as exc:
        pytest.fail(f"RabbitMQ at {BROKER} is not reachable: {exc}")
    env = {**os.environ, "DAGSTER_CELERY_BROKER_HOST": "127.0.0.1", "DAGSTER_HOME": str(tmp_path)}
    env.update(celery_worker_env)
    worker = [sys.executable, "-m", "celery", "-A", "dagster_celery.app", "worker", "-Q", "dagster", "--pool=solo"]
    worker += ["--without-gossip", "--without-mingle", "--prefetch-multiplier=1", "-l", "WARNING"]
    procs = [subprocess.Popen([*worker, "-n", f"{name}@%h"], cwd=PROJECT_DIR, env=env) for name in WORKERS]
    try:
        deadline = time.monotonic() + 90
        answered: set[str] = set()
        while len(answered) < len(WORKERS):  # each ping waits up to a second for the workers' answers
            assert time.monotonic() < deadline, f"celery workers did not answer: {answered}"
            assert all(proc.poll() is None for proc in procs), "a celery worker exited"
            answered |= {name.split("@")[0] for reply in app.control.ping(timeout=1.0) for name in reply}
        yield [str(proc.pid) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()  # idle by now (the run finished or failed): nothing to lose, and no 5 s warm shutdown
            proc.wait()
