"""Comparing ccxt's parse of a simulated venue's answer with its parse of the real venue's recorded answer.

``../shared/fixtures/ccxt-static/response/<venue>.json`` holds, per ccxt method, real recorded answers and what ccxt
made of them (``parsedResponse``). A simulated answer is complete enough when every unified field ccxt filled from the
real answer is filled from the simulated one too: ``non_null_paths(recorded) - non_null_paths(ours)`` is empty.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from sim_http_support import SHARED_DIR

CCXT_STATIC = SHARED_DIR / "fixtures" / "ccxt-static"


@cache
def recorded_methods(kind: str, venue: str) -> dict[str, list[dict[str, Any]]]:
    """``{method: [recorded call, ...]}`` of ``ccxt-static/<kind>/<venue>.json`` (kind: response or request)."""
    path: Path = CCXT_STATIC / kind / f"{venue}.json"
    return dict(json.loads(path.read_text())["methods"])


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
