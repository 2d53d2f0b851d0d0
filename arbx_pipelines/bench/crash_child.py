"""Run one job in a forked child that may die: SIGKILLed at a named crash point (``ARBX_CRASH_AT``), or faulted
from inside (the database or the state store failing from the k-th call on, the venue moved or taken away at the
k-th database statement).

Forking from a parent that has imported everything, started the simulator and warmed the engine makes a crash
cost a fraction of a second; a fresh interpreter per point would cost seconds. The child never returns: it ends
with ``os._exit`` (or a signal), and the parent reads its fate from ``waitpid``.
"""

from __future__ import annotations

import json
import os
import signal
import sysconfig
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import redis
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from arbx_pipelines.execution.crashpoints import ENV, passed, record, reset_hits
from arbx_pipelines.storage.state import StateStore

KILLED, FINISHED, RAISED, HUNG = "killed", "finished", "raised", "hung"
MESSAGE_LIMIT = 4000
#: the crash point passed just before an order request may leave: from it on nothing may escape the job
FIRST_ORDER = "order.marked_sent"


@dataclass(frozen=True)
class ChildResult:
    outcome: str  # killed | finished | raised | hung
    detail: str
    #: the crash points the child passed, in order (unknown for a killed or hung child: it could not tell)
    passed: tuple[str, ...] = ()

    @property
    def escaped(self) -> bool:
        """An exception ended the job after its first order may have left (what must never happen)."""
        return self.outcome == RAISED and FIRST_ORDER in self.passed


def _where(exc: BaseException) -> str:
    """The innermost frames of our own code (not a library's) an exception passed: where it came from."""
    stdlib = sysconfig.get_paths()["stdlib"]
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in f.filename and not f.filename.startswith(stdlib)
    ]
    return " <- ".join(f"{Path(f.filename).stem}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))


def run_forked(work: Callable[[], str], *, crash_at: str | None, timeout_s: float, quiet: bool = True) -> ChildResult:
    """Run ``work`` in a forked child with ``ARBX_CRASH_AT=crash_at``; a child still running after ``timeout_s`` is
    ended by SIGALRM (``hung``). ``work`` returns a one-line outcome; an exception it raises is ``raised`` (its detail
    says where it came from). The child records the crash points it passes."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code, message = 0, ""
        try:
            if quiet:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the parent's handler (a test timeout) is not the child's
            signal.alarm(max(1, round(timeout_s)))
            if crash_at:
                os.environ[ENV] = crash_at
            else:
                os.environ.pop(ENV, None)
            reset_hits()
            record()
            message = work()
        except BaseException as exc:  # whatever escapes the job is the finding
            code, message = 1, f"{type(exc).__name__}: {exc} [at {_where(exc)}]"
        finally:
            payload = json.dumps({"detail": message[:MESSAGE_LIMIT], "passed": passed()})
            data = payload.encode(errors="replace")
            while data:
                data = data[os.write(write_end, data) :]
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:  # read before waiting: a payload larger than the pipe's buffer
        written = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGKILL:
            return ChildResult(KILLED, crash_at or "killed")
        if sig == signal.SIGALRM:
            return ChildResult(HUNG, f"still running after {timeout_s:.0f} s")
        return ChildResult(RAISED, f"died of signal {sig}")
    try:
        payload = json.loads(written)
    except ValueError:  # the child died while writing: what arrived is all there is
        return ChildResult(RAISED, written[:MESSAGE_LIMIT] or "no answer")
    outcome = FINISHED if os.WEXITSTATUS(status) == 0 else RAISED
    return ChildResult(outcome, str(payload["detail"]), tuple(payload["passed"]))


class StatementHooks:
    """Actions fired inside the child at the k-th SQL statement it executes: ``fail_from`` makes every statement from
    that one on fail as a lost database connection does; ``at`` runs a callable once (a price jump, the venue going
    away) at its statement."""

    def __init__(
        self, engine: Engine, *, fail_from: int | None = None, at: Sequence[tuple[int, Callable[[], Any]]] = ()
    ):
        self.count = 0
        self.fail_from = fail_from
        self.pending = sorted(at, key=lambda item: item[0])
        event.listen(engine, "before_cursor_execute", self._before)

    def _before(self, *_args: Any) -> None:
        self.count += 1
        while self.pending and self.pending[0][0] <= self.count:
            _, action = self.pending.pop(0)
            action()
        if self.fail_from is not None and self.count >= self.fail_from:
            raise OperationalError("statement", None, ConnectionError("the database went away (fault injected)"))


class FailingState:
    """A state store that works for its first ``works_for`` calls and then fails every call, as Redis does when it
    goes away (``redis.ConnectionError``)."""

    def __init__(self, inner: StateStore, works_for: int) -> None:
        self._inner = inner
        self._left = works_for

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._left <= 0:
                raise redis.ConnectionError("the state store went away (fault injected)")
            self._left -= 1
            return attribute(*args, **kwargs)

        return call


def failing_state(inner: StateStore, works_for: int) -> StateStore:
    return cast(StateStore, FailingState(inner, works_for))
