"""On PYTHONPATH of a test's Dagster stack (``tests/ui/test_backfill_from_ui.py``): the backfill daemon looks
for new backfills every ``ARBX_TEST_BACKFILL_TICK_S`` seconds instead of Dagster's fixed 30. A backfill test then
waits for the daemon's work, not for its sleep; what the daemon does on a tick is unchanged.

Python imports the first ``sitecustomize`` on its path, so this one also runs the one it shadows (Debian's)."""

from __future__ import annotations

import importlib
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _run_shadowed() -> None:
    """Import the ``sitecustomize`` this one hides, if there is one, as Python would have without this folder."""
    path = sys.path[:]
    ours = sys.modules.pop("sitecustomize", None)
    try:
        sys.path[:] = [p for p in path if os.path.abspath(p or ".") != _HERE]
        importlib.import_module("sitecustomize")
    except ImportError:
        pass
    finally:
        sys.path[:] = path
        if ours is not None:
            sys.modules["sitecustomize"] = ours


def _shorten_backfill_tick() -> None:
    tick = os.environ.get("ARBX_TEST_BACKFILL_TICK_S")
    if not tick or not any("daemon" in arg for arg in sys.orig_argv):  # the daemon's process only
        return
    # read by dagster._daemon.backfill.execute_backfill_iteration_loop each time the loop starts
    from dagster._daemon import controller

    controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(tick)  # type: ignore[assignment]


_run_shadowed()
_shorten_backfill_tick()
