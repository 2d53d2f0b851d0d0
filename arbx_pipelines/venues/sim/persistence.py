"""The saved world on disk (``<data_dir>/sim/world.json`` for ``arbx sim``): one JSON file, written whole, atomically.

A write goes to a temporary file in the same folder (mode 0600: it holds the simulated accounts), is flushed to disk
and renamed over the old file, so a simulator killed at any moment leaves either the previous world or the new one,
never half of one. Tests and benchmarks keep their worlds in memory (``SimSettings.state_path`` None).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from arbx_pipelines.venues.sim.world import WorldError


def read_world(path: Path) -> dict[str, Any] | None:
    """The saved world, or None when there is none yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WorldError(f"cannot read the saved simulator world {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorldError(f"the saved simulator world {path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise WorldError(f"the saved simulator world {path} is not a JSON object")
    return data


def write_world(path: Path, data: dict[str, Any]) -> None:
    """Replace the saved world atomically (temporary file + fsync + rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, separators=(",", ":"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
