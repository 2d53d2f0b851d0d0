"""The supervisor on plain processes: a descendant that left its process group is still found and stopped, a
process that ignores SIGINT and SIGTERM is killed within the budget, and a start killed without cleanup (SIGKILL)
leaves groups the next start stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from arbx_pipelines.supervisor import ChildSpec, Supervisor, alive

pytestmark = pytest.mark.isolated  # signals and child processes: alone in a fresh process

STUBBORN = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); signal.signal(signal.SIGTERM, " \
    "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"  # fmt: skip
ESCAPER = (
    "import os, subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); "
    "time.sleep(60)']); print('escaped', p.pid, flush=True); time.sleep(60)"
)


def test_stop_reaches_an_escaped_descendant_and_a_stubborn_child(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import json, sys, time
        from pathlib import Path
        from arbx_pipelines.supervisor import ChildSpec, Supervisor, become_subreaper, descendants
        assert become_subreaper()
        lines = []
        sup = Supervisor(Path({str(tmp_path / "run.json")!r}), dict(), lines.append, owns_all_descendants=True)
        sup.start(ChildSpec("stubborn", [sys.executable, "-c", {STUBBORN!r}]))
        sup.start(ChildSpec("escaper", [sys.executable, "-c", {ESCAPER!r}]))
        while len(lines) < 2:
            time.sleep(0.05)
        pids = descendants(__import__("os").getpid())
        began = time.monotonic()
        survivors = sup.stop(budget=4.0)
        print(json.dumps({{"pids": pids, "lines": lines, "survivors": survivors, "took": time.monotonic() - began}}))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    escaped = int(next(line for line in report["lines"] if line.startswith("escaped")).split()[1])
    assert escaped in report["pids"] and len(report["pids"]) >= 3
    assert report["survivors"] == [] and report["took"] < 4.0
    assert not any(alive(pid) for pid in report["pids"])


def test_next_start_stops_what_a_killed_start_left(tmp_path: Path) -> None:
    state = tmp_path / "run.json"
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], process_group=0)
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_owner.wait()
    state.write_text(json.dumps({"pid": dead_owner.pid, "groups": [orphan.pid]}), encoding="utf-8")
    supervisor = Supervisor(state, dict(os.environ), print)
    assert supervisor.clear_leftovers() == [orphan.pid]
    orphan.wait(timeout=5)
    assert orphan.returncode == -signal.SIGKILL
    assert not state.exists()
    assert supervisor.clear_leftovers() == []  # nothing recorded any more


def test_a_oneshot_task_is_reported_not_a_reason_to_stop(tmp_path: Path) -> None:
    lines: list[str] = []
    supervisor = Supervisor(tmp_path / "run.json", dict(os.environ), lines.append)
    task = supervisor.start(ChildSpec("snapshot", [sys.executable, "-c", "pass"], oneshot=True))
    service = supervisor.start(ChildSpec("service", [sys.executable, "-c", "import time; time.sleep(60)"]))
    task.wait(timeout=30)
    end = time.monotonic() + 5
    while "arbx: snapshot done" not in lines and time.monotonic() < end:
        assert supervisor.exited() is None  # the finished task does not end the start
    assert lines == ["arbx: snapshot done"]
    service.kill()
    service.wait()
    gone = supervisor.exited()
    assert gone is not None and gone.spec.name == "service"
    assert supervisor.stop(budget=3.0) == []


def test_stop_gives_back_the_signal_dispositions_it_ignored_during_cleanup(tmp_path: Path) -> None:
    """Ignored signals are inherited across exec: a stop that left SIGTERM ignored would make every process this one
    starts afterwards deaf to it (what made later tests' children outlive their stop under xdist)."""
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    supervisor = Supervisor(tmp_path / "run.json", dict(os.environ), print)
    supervisor.start(ChildSpec("service", [sys.executable, "-c", "import time; time.sleep(60)"]))
    assert supervisor.stop(budget=3.0) == []
    assert {sig: signal.getsignal(sig) for sig in before} == before


SWALLOWING = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path
    from arbx_pipelines.supervisor import StopRequested, Supervisor
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)  # what a CI job started in the background hands down
    sup = Supervisor(Path(sys.argv[1]), dict(), print)
    sup.install_signal_handlers()
    report = {}
    try:
        try:  # a library's "log and go on" while starting
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
            report["starting"] = "slept on"
        except Exception:
            report["starting"] = "swallowed"
    except StopRequested as stop:
        report["starting"] = f"stopped by {stop}"
    sup = Supervisor(Path(sys.argv[1]), dict(), print)
    sup.install_signal_handlers()
    turns = []

    def tick():
        turns.append(1)
        if len(turns) == 2:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.2)
            except Exception:
                report["tick"] = "swallowed"
        if len(turns) > 50:
            raise SystemExit("the stop was lost")

    report["wait"] = sup.wait(tick=tick, interval=0.05)
    report["turns"] = len(turns)
    print(json.dumps(report))
""")


def test_a_stop_signal_is_never_lost_to_inherited_dispositions_or_a_swallowing_except(tmp_path: Path) -> None:
    """A start under a background shell inherits SIGINT and SIGTERM ignored, and a signal can land inside some
    library's ``except Exception``: the stop must still interrupt the start and end the wait loop."""
    proc = subprocess.run(
        [sys.executable, "-c", SWALLOWING, str(tmp_path / "run.json")], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["starting"] == "stopped by SIGINT"
    assert report["wait"] == "received SIGTERM" and report["turns"] == 2
    assert "tick" not in report  # while waiting, the handler only flags: nothing is raised into the tick
