"""One supervisor for every process ``arbx run`` starts (simulator, Dagster UI, daemon, code server, run workers,
and anything added later): each child leads a process group of its own, so a signal reaches everything it spawned.

Stopping (on SIGTERM, SIGINT or SIGHUP to ``arbx run``, or when a child dies) goes through the children in reverse
start order: SIGINT to the group (what Ctrl-C does, which Dagster shuts down cleanly on), then SIGTERM, then
SIGKILL, all within :data:`STOP_SECONDS`. ``arbx run`` is made a child subreaper, so a descendant whose parent died
(or which left its group) is re-parented to it and is found and killed by the final sweep. A state file records the
groups of a start, so the next start kills what a crashed (SIGKILLed) one left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from arbx_pipelines.logs import get_logger

log = get_logger("arbx.run")
STOP_SECONDS = 10.0
#: beside the database: the process groups of the running ``arbx run`` (data_dir/arbx-run.json)
RUN_STATE_FILE = "arbx-run.json"
_PR_SET_CHILD_SUBREAPER = 36
#: kept from the stop budget for the final sweep and this process's own exit
_FINAL_RESERVE = 1.5
#: how long a SIGKILLed group is given to disappear
_KILL_WAIT = 0.3

LineFilter = Callable[[str], bool]


class StopRequested(BaseException):
    """A stop signal arrived while starting; carries its name. A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way (a library's "log and go on") swallows the stop."""


@dataclass
class ChildSpec:
    """A process to supervise: ``show`` decides which of its output lines reach the console (None: all)."""

    name: str
    command: Sequence[str]
    show: LineFilter | None = None
    cwd: str | None = None
    #: a task that ends by itself (its end is reported, not a reason to stop)
    oneshot: bool = False
    #: its share of the stop budget relative to the others (Dagster's services need the longest to wind down)
    stop_weight: float = 1.0
    #: children started one after another with the same name here are stopped together (their shares added up):
    #: Dagster's webserver, daemon and code server wind down at the same time, not one after the other
    stop_together: str | None = None


@dataclass
class _Child:
    spec: ChildSpec
    process: subprocess.Popen[str]


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process instead of init (Linux); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Every live descendant pid of ``root`` (from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    queue = list(children.get(root, []))
    while queue:
        pid = queue.pop(0)
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def direct_children() -> list[int]:
    """This process's own children (orphans re-parented to a subreaper are among them): from
    ``/proc/self/task/*/children``, a few small reads, where the kernel offers it; else from a scan of /proc."""
    found: list[int] = []
    try:
        for task in Path("/proc/self/task").iterdir():
            found += [int(pid) for pid in (task / "children").read_text().split()]
    except OSError:
        me = os.getpid()
        return [pid for pid in descendants(me) if _parent(pid) == me]
    return found


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return any(alive(pid) and os.getpgid(pid) == pgid for pid in _pids_in_group(pgid))


def _pids_in_group(pgid: int) -> list[int]:
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return pids


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap() -> None:
    """Collect exited children (orphans re-parented here included), so none stays a zombie."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Supervisor:
    """Start children, watch them, stop them all (see the module docstring)."""

    def __init__(
        self, state_file: Path, env: dict[str, str], echo: Callable[[str], None], *, owns_all_descendants: bool = False
    ) -> None:
        """``owns_all_descendants``: every descendant of this process is the supervisor's (true for ``arbx run``, a
        subreaper that starts nothing else), so the final sweep also kills orphans re-parented here."""
        self._owns_all = owns_all_descendants
        self._state_file = state_file
        self._env = env
        self._echo = echo
        self._children: list[_Child] = []
        self._stopping = threading.Event()
        self._stop_signal: str | None = None  # the first stop signal's name, once one arrived
        self._raise_on_stop = True  # while starting, a stop interrupts; from wait() on, the loop looks at the flag
        self._reported: set[int] = set()

    # -- start ---------------------------------------------------------------------------------------------------
    def clear_leftovers(self) -> list[int]:
        """Kill the process groups a previous start recorded and left running (it was killed without cleanup).
        Refuses when that start's own process still runs."""
        try:
            state = json.loads(self._state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        owner = running_owner(self._state_file)
        if owner is not None and owner != os.getpid():
            raise RuntimeError(f"arbx run is already running (pid {owner}); stop it first")
        killed = [int(pgid) for pgid in state.get("groups", []) if _group_alive(int(pgid))]
        for pgid in killed:
            _signal_group(pgid, signal.SIGKILL)
        self._state_file.unlink(missing_ok=True)
        return killed

    def start(self, spec: ChildSpec) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            list(spec.command), env=self._env, cwd=spec.cwd, process_group=0, text=True, bufsize=1,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        child = _Child(spec, process)
        assert process.stdout is not None
        threading.Thread(target=self._pump, args=(spec, process.stdout), name=f"out-{spec.name}", daemon=True).start()
        self._children.append(child)
        self._record()
        log.debug(f"{spec.name} started", extra={"pid": process.pid})
        return process

    def _pump(self, spec: ChildSpec, stream: IO[str]) -> None:
        """Echo the child's lines its filter keeps; once stopping, nothing (interrupted runs' traces are expected)."""
        for line in stream:
            text = line.rstrip("\n")
            if not self._stopping.is_set() and (spec.show is None or spec.show(text)):
                self._echo(text)

    def _record(self) -> None:
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        groups = [c.process.pid for c in self._children]
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "groups": groups}), encoding="utf-8")
        os.replace(tmp, self._state_file)

    # -- run -----------------------------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """TERM, INT and HUP stop the start, whatever dispositions this process inherited (a shell's background job
        starts with SIGINT ignored). The first one is remembered, so a stop can never be lost: while starting it
        interrupts, and :meth:`wait` looks at it on every turn, even when something on the way swallowed it."""

        def handler(signum: int, _frame: object) -> None:
            if self._stop_signal is None:
                self._stop_signal = signal.Signals(signum).name
                self._stopping.set()
                if self._raise_on_stop:
                    raise StopRequested(self._stop_signal)

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, handler)

    def exited(self) -> _Child | None:
        """The first service (not a one-shot task) that exited, if any; one-shot tasks that ended are reported."""
        for child in self._children:
            if child.process.poll() is None:
                continue
            if not child.spec.oneshot:
                return child
            if child.process.pid not in self._reported:
                self._reported.add(child.process.pid)
                code = child.process.returncode
                self._echo(f"arbx: {child.spec.name} " + ("done" if code == 0 else f"failed (exit code {code})"))
        return None

    def wait(self, tick: Callable[[], None] | None = None, interval: float = 0.5) -> str:
        """Block until a stop signal or a child's exit; ``tick`` runs every ``interval``. Returns why it ended.
        Signals no longer raise here: the flag is read on every turn, so no ``tick`` can swallow a stop."""
        self._raise_on_stop = False
        while True:
            if self._stop_signal is not None:
                return f"received {self._stop_signal}"
            gone = self.exited()
            if gone is not None:
                return f"{gone.spec.name} exited with code {gone.process.returncode}"
            if tick is not None:
                tick()
            if self._owns_all:
                self._reap_orphans()
            self._stopping.wait(interval)

    # -- stop ----------------------------------------------------------------------------------------------------
    def stop(self, budget: float = STOP_SECONDS) -> list[int]:
        """Stop every child (reverse start order), then kill any descendant left. Returns pids that survived."""
        self._stopping.set()
        # a second signal must not interrupt the cleanup; the dispositions come back after it, since an ignored
        # signal would be inherited by every process this one starts later (exec keeps SIG_IGN)
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            return self._stop_all(budget)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_all(self, budget: float) -> list[int]:
        started = time.monotonic()
        deadline = started + budget - _FINAL_RESERVE
        tree = {pid for c in self._children for pid in (c.process.pid, *descendants(c.process.pid))}
        pending = list(reversed(self._children))
        while pending:
            batch = [pending.pop(0)]
            while (
                pending and batch[0].spec.stop_together and pending[0].spec.stop_together == batch[0].spec.stop_together
            ):
                batch.append(pending.pop(0))
            share = sum(c.spec.stop_weight for c in batch)
            self._stop_children(
                batch, (deadline - time.monotonic()) * share / (share + sum(c.spec.stop_weight for c in pending))
            )
        for pid in self._swept(tree):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # SIGKILL lands asynchronously: a process killed a moment ago may still run; wait for it before calling it a
        # survivor (the check right after the kill failed now and then on a loaded machine)
        settle_end = time.monotonic() + _KILL_WAIT
        while True:
            if self._owns_all:
                _reap()
            survivors = self._swept(tree)
            if not survivors or time.monotonic() >= settle_end:
                break
            time.sleep(0.02)
        self._state_file.unlink(missing_ok=True)
        log.debug("every child stopped", extra={"seconds": round(time.monotonic() - started, 2)})
        return survivors

    def _stop_children(self, children: list[_Child], seconds: float) -> None:
        """SIGINT, then SIGTERM, then SIGKILL to the children's groups (all at once), within ``seconds`` (the last
        step always runs)."""
        end = time.monotonic() + max(seconds, 0.0)
        for sig, until in ((signal.SIGINT, 0.75), (signal.SIGTERM, 1.0), (signal.SIGKILL, None)):
            running = [child for child in children if self._running(child)]
            if not running:
                break
            for child in running:
                _signal_group(child.process.pid, sig)
            step_end = time.monotonic() + _KILL_WAIT if until is None else end - (1 - until) * max(seconds, 0.0)
            while time.monotonic() < step_end and any(self._running(child) for child in running):
                if self._owns_all:
                    _reap()
                time.sleep(0.05)
        for child in children:
            log.debug(f"{child.spec.name} stopped", extra={"pid": child.process.pid, "code": child.process.returncode})

    def _reap_orphans(self) -> None:
        """Collect orphans re-parented here that exited (never a child's own Popen, whose exit code it reads)."""
        ours = {c.process.pid for c in self._children}
        for pid in direct_children():
            if pid not in ours and not alive(pid):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)

    def _swept(self, tree: set[int]) -> list[int]:
        """The live processes the final sweep is for: the children's trees, plus orphans when all are ours."""
        pids = set(tree) | (set(descendants(os.getpid())) if self._owns_all else set())
        return sorted(pid for pid in pids if alive(pid))

    @staticmethod
    def _running(child: _Child) -> bool:
        return child.process.poll() is None or _group_alive(child.process.pid)


def running_owner(state_file: Path) -> int | None:
    """The pid of the ``arbx run`` that recorded ``state_file``, while it runs (None otherwise)."""
    try:
        owner = int(json.loads(state_file.read_text(encoding="utf-8")).get("pid", 0))
    except (OSError, ValueError, AttributeError):
        return None
    return owner if owner and alive(owner) and _is_arbx(owner) else None


def _is_arbx(pid: int) -> bool:
    try:
        return b"arbx" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
