"""``arbx bench stack``'s pieces: naming the stack's processes, reading PSS and CPU from /proc, the JSON totals."""

from __future__ import annotations

import os
import subprocess
import sys

from arbx_pipelines.bench.stack import ProcessFigure, cpu_seconds, descendants, measure, process_name, summarize


def test_the_stack_processes_are_named_from_their_command_lines() -> None:
    py = "/venv/bin/python"
    assert process_name([py, "-m", "arbx_pipelines.cli.main", "sim", "--port", "8700"]) == "simulator"
    assert process_name([py, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", "3000"]) == "dagster dev"
    assert process_name([py, "-m", "dagster_webserver", "-h", "127.0.0.1"]) == "webserver"
    assert process_name([py, "-m", "dagster._daemon", "run", "-w", "/tmp/grpc_workspace.yaml"]) == "daemon"
    assert process_name([py, "-m", "dagster", "api", "grpc", "--lazy-load-user-code"]) == "code server"
    assert process_name([py, "-m", "dagster", "code-server", "start", "-m", "x"]) == "code server proxy"
    assert process_name([py, "-c", "from multiprocessing.forkserver import main; main(3, 4)"]) == "run server"
    assert process_name([py, "-m", "arbx_pipelines.supervisor", "{}"]) == "arbx run"
    assert process_name([py, "-m", "arbx_pipelines.cli.main", "--log-level", "WARNING", "engine"]) == "spot engine"
    assert process_name([py, "-m", "arbx_pipelines.cli.main", "--config", "/x/arbx.yaml", "run"]) == "arbx run"


def test_measure_sees_a_child_and_its_cpu() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        assert busy.pid in descendants(os.getpid())
        figures = {f.pid: f for f in measure(os.getpid(), 2.0)}
        total = cpu_seconds(busy.pid)
    finally:
        busy.kill()
        busy.wait()
    child = figures[busy.pid]
    assert child.name == "python" and child.pss_mb > 1
    assert total is not None and 0 < child.cpu_percent / 100 * 2.0 <= total  # the window's share of its CPU time
    assert figures[os.getpid()].pss_mb > child.pss_mb  # pytest carries far more than a bare interpreter


def test_the_totals_leave_the_simulator_out() -> None:
    figures = [ProcessFigure("simulator", 1, 170.0, 0.5), ProcessFigure("daemon", 2, 100.0, 2.0),
               ProcessFigure("webserver", 3, 120.5, 0.25)]  # fmt: skip
    summary = summarize(figures, 60.0)
    assert (summary["pss_mb"], summary["cpu_percent"]) == (220.5, 2.25)
    assert summary["processes"][0] == {"name": "simulator", "pss_mb": 170.0, "cpu_percent": 0.5}
    assert summary["runs"] == []


def test_the_spot_engine_is_in_the_totals_and_also_told_apart() -> None:
    figures = [ProcessFigure("simulator", 1, 170.0, 0.5), ProcessFigure("daemon", 2, 100.0, 2.0),
               ProcessFigure("spot engine", 3, 150.0, 4.5)]  # fmt: skip
    summary = summarize(figures, 60.0)
    assert (summary["pss_mb"], summary["cpu_percent"]) == (250.0, 6.5)
    assert summary["without_spot_engine"] == {"pss_mb": 100.0, "cpu_percent": 2.0}
