"""A warm interpreter that forks one ``arbx`` CLI process per call: the real CLI code in a process of its own, which
a crash point kills for real (SIGKILL), without paying for a fresh interpreter's imports at every point (issue 10:
"make a crash cheap: a forked child ... never a fresh interpreter per point")."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_SERVER = r"""
import json, os, sys
import arbx_pipelines.cli.main as cli
import arbx_pipelines.cli.engine, arbx_pipelines.cli.reconcile, arbx_pipelines.engine.service  # warm: imported once
from arbx_pipelines.execution import crashpoints

for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.update(job["env"])
        crashpoints.reset_hits()
        code = 70
        try:
            code = cli.main(job["argv"])
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code if isinstance(code, int) else 1)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")
    sys.stdout.flush()
"""


class ForkedCli:
    def __init__(self) -> None:
        self._server = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)  # fmt: skip

    def run(self, argv: Sequence[str], env: Mapping[str, str], log: Path, timeout_s: float) -> int:
        """``arbx <argv>`` in a forked child with ``env`` added; its exit code (``-9``: killed by SIGKILL)."""
        assert self._server.stdin is not None and self._server.stdout is not None
        self._server.stdin.write(json.dumps({"argv": list(argv), "env": dict(env), "log": str(log)}) + "\n")
        self._server.stdin.flush()
        ready, _, _ = select.select([self._server.stdout], [], [], timeout_s)
        if not ready:
            raise TimeoutError(f"arbx {' '.join(argv)} did not end within {timeout_s} s (log: {log})")
        return int(json.loads(self._server.stdout.readline())["exit"])

    def close(self) -> None:
        if self._server.stdin is not None:
            self._server.stdin.close()
        try:
            self._server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait()
