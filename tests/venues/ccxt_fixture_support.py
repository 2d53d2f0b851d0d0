"""Compare ccxt's parse of a simulator answer with ccxt's parse of the venue's recorded real answer.

ccxt's static fixtures (``../shared/fixtures/ccxt-static/response/<venue>.json``) hold, per unified method, the
venue's recorded HTTP answer and what ccxt parsed out of it (``parsedResponse``). A simulated venue answers in the
venue's format when ccxt's parse of *its* answer has a value wherever the recorded parse has one: the same unified
keys non-null. Values differ (other prices, other times), presence must not.

Venue-neutral: the per-venue test decides which recorded entries are in scope and how to replay each against the
simulator; :func:`missing_values` does the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RecordedCall:
    """One recorded fixture entry: ``exchange.<method>(*args)`` answered ``parsed``."""

    method: str
    description: str
    args: tuple[Any, ...]
    parsed: Any

    @property
    def snake_method(self) -> str:
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in self.method)

    @property
    def params(self) -> dict[str, Any]:
        """The trailing params dict of the call, when it has one."""
        return dict(self.args[-1]) if self.args and isinstance(self.args[-1], dict) else {}

    @property
    def label(self) -> str:
        return f"{self.method}: {self.description}"


def recorded_calls(fixtures_dir: Path, venue: str, methods: Collection[str]) -> Iterator[RecordedCall]:
    """The recorded entries of ``methods`` in ``response/<venue>.json``, in file order."""
    data = json.loads((fixtures_dir / "response" / f"{venue}.json").read_text())
    for method, entries in data["methods"].items():
        if method not in methods:
            continue
        for entry in entries:
            yield RecordedCall(method, entry["description"], tuple(entry["input"]), entry.get("parsedResponse"))


def missing_values(recorded: Any, ours: Any, keyed: Collection[str] = (), path: str = "") -> list[str]:
    """Paths (``fee.cost``, ``[0].symbol``, ``USDT.free``) where ``recorded`` has a value and ``ours`` has none.

    ``info`` (the raw answer) is not compared. A list compares its first element (a non-empty recorded list needs a
    non-empty one of ours). Dicts at the ``keyed`` paths are keyed by data (currencies, symbols): only keys both
    sides have are compared, and there must be one when the recorded dict is not empty.
    """
    if recorded is None:
        return []
    if ours is None:
        return [path or "<root>"]
    if isinstance(recorded, dict):
        if not isinstance(ours, dict):
            return [path or "<root>"]
        keys = [k for k in recorded if k != "info" and recorded[k] is not None]
        if path in keyed:
            common = [k for k in keys if k in ours]
            if keys and not common:
                return [f"{path}{{keys}}"]
            keys = common
        missing: list[str] = []
        for key in keys:
            missing += missing_values(recorded[key], ours.get(key), keyed, f"{path}.{key}" if path else key)
        return missing
    if isinstance(recorded, list):
        if not isinstance(ours, list):
            return [path or "<root>"]
        if not recorded:
            return []
        if not ours:
            return [f"{path}[]"]
        return missing_values(recorded[0], ours[0], keyed, f"{path}[0]")
    return []
