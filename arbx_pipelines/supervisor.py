"""What ``arbx run`` becomes once its preparation is done: a bare Python that starts the stack's processes and
waits, so the process that stays up the whole time carries no imports (``arbx run`` itself loads the CLI, config,
SQLAlchemy and Alembic: about 150 MB that an idle stack would keep for nothing).

``python -m arbx_pipelines.supervisor '<json>'``: ``{"cwd": [...], "commands": [[...], ...]}``. Every command
starts in order; when one exits, or on SIGINT/SIGTERM, the others are terminated in reverse order (killed after
20 s). The exit code is the highest of the children's. Standard library only, on purpose.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from types import FrameType


class _Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def supervise(commands: list[list[str]], cwds: list[str | None]) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for command, cwd in zip(commands, cwds, strict=True):
            children.append(subprocess.Popen(command, cwd=cwd))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return max((child.returncode or 0 for child in children), default=0)


def main(argv: list[str]) -> int:
    plan = json.loads(argv[0])
    return supervise(plan["commands"], plan["cwds"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
