"""``arbx run`` keeps ``arbx engine`` running: restarted with exponential backoff when it exits, the backoff reset
once a start has lasted ``healthy_s``. Every restart is logged; the heartbeat sensor alerts while it stays down."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from arbx_pipelines.logs import get_logger

log = get_logger("arbx.engine.supervisor")


def next_delay(previous_s: float, ran_for_s: float, *, first_s: float = 1.0, max_s: float = 60.0,
               healthy_s: float = 60.0) -> float:  # fmt: skip
    """The pause before the next start: ``first_s`` after a healthy run, else double the previous, capped."""
    if ran_for_s >= healthy_s or previous_s <= 0:
        return first_s
    return min(previous_s * 2, max_s)


class EngineSupervisor:
    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        clock: Callable[[], float] = time.monotonic,
        popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen,
    ) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.clock = clock
        self.popen = popen
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.delay_s = 0.0
        self.next_start = clock()
        self.restarts = 0

    def poll(self) -> None:
        """Start the engine when due; notice an exit and schedule the restart."""
        now = self.clock()
        if self.process is not None and self.process.poll() is not None:
            ran_for = now - self.started_at
            self.delay_s = next_delay(self.delay_s, ran_for)
            self.next_start = now + self.delay_s
            extra = {"code": self.process.returncode, "ran_s": round(ran_for, 1), "in_s": self.delay_s}
            log.warning("spot engine exited; restarting", extra=extra)
            self.process = None
            self.restarts += 1
        if self.process is None and now >= self.next_start:
            self.process = self.popen(self.command, env=self.env)
            self.started_at = now

    def stop(self, timeout_s: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
