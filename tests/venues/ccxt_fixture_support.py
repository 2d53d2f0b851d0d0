"""Compare ccxt's parse of a simulator answer with ccxt's parse of the venue's recorded real answer.

ccxt's static fixtures (``../shared/fixtures/ccxt-static/response/<venue>.json``) hold, per unified method, the
venue's recorded HTTP answer and what ccxt parsed out of it (``parsedResponse``). A simulated venue answers in the
venue's format when ccxt's parse of *its* answer has a value wherever the recorded parse has one: the same unified
keys non-null. Values differ (other prices, other times), presence must not.

Venue-neutral: the per-venue test decides which recorded entries are in scope and how to replay each against the
simulator; :func:`non_null_paths` / :func:`missing_paths` do the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sim_http_support import SHARED_DIR

CCXT_STATIC = SHARED_DIR / "fixtures" / "ccxt-static"


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


def non_null_paths(value: Any, prefix: str = "", currencies: frozenset[str] = frozenset()) -> set[str]:
    """Dotted paths of non-null leaves; list items collapse to ``*``, currency keys of balances to ``<code>``."""
    if isinstance(value, dict):
        if isinstance(value.get("total"), dict) and "free" in value:
            currencies = frozenset(value["total"])
        paths: set[str] = set()
        for key, item in value.items():
            if key == "info":
                continue
            name = "<code>" if key in currencies else key
            paths |= non_null_paths(item, f"{prefix}.{name}" if prefix else name, currencies)
        return paths
    if isinstance(value, list):
        paths = {f"{prefix}[]"} if value else set()
        for item in value:
            paths |= non_null_paths(item, f"{prefix}[*]", currencies)
        return paths
    return set() if value is None else {prefix or "."}


def missing_paths(recorded: Any, ours: Any, ignore: Collection[str] = ()) -> list[str]:
    """Non-null paths of the recorded parse that are null or absent in ours; paths whose last key is in ``ignore``
    are not compared (``info`` never is)."""
    expected = {path for path in non_null_paths(recorded) if path.split(".")[-1] not in ignore}
    return sorted(expected - non_null_paths(ours))


@cache
def recorded_methods(kind: str, venue: str) -> dict[str, list[dict[str, Any]]]:
    """``{method: [recorded call, ...]}`` of ``ccxt-static/<kind>/<venue>.json`` (kind: response or request)."""
    path: Path = CCXT_STATIC / kind / f"{venue}.json"
    return dict(json.loads(path.read_text())["methods"])
