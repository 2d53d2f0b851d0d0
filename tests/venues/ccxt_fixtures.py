"""Compare ccxt's parse of a simulated venue's answer with ccxt's parse of the real venue's recorded answer.

``ccxt-static/response/<venue>.json`` holds, per ccxt method, real recorded venue answers and what ccxt made of them
(``parsedResponse``). A simulated answer is good enough for a unified key when ccxt fills that key (not None) from it
wherever it did from the real answer. ``missing_unified_keys`` lists the keys (dotted paths) where it does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

#: keys never compared: the raw venue payload, and keys whose presence depends on the order/position content
SKIPPED = frozenset({"info"})
#: ccxt's balance structure keys that are not currency codes
BALANCE_KEYS = frozenset({"info", "free", "used", "total", "timestamp", "datetime", "debt"})


@cache
def _load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def recorded(fixtures_dir: Path, venue: str, method: str) -> list[dict[str, Any]]:
    """The recorded calls of ``method`` (``description``, ``input``, ``httpResponse``, ``parsedResponse``)."""
    methods = _load(fixtures_dir / "response" / f"{venue}.json")["methods"]
    return list(methods.get(method, []))


def recorded_methods(fixtures_dir: Path, venue: str) -> set[str]:
    return set(_load(fixtures_dir / "response" / f"{venue}.json")["methods"])


def _paths(recorded_value: Any, actual: Any, path: str) -> Iterator[str]:
    if isinstance(recorded_value, Mapping):
        if not isinstance(actual, Mapping):
            yield path or "<root>"
            return
        for key, value in recorded_value.items():
            if key in SKIPPED or value is None:
                continue
            where = f"{path}.{key}" if path else str(key)
            if actual.get(key) is None:
                yield where
            else:
                yield from _paths(value, actual[key], where)
    elif isinstance(recorded_value, list) and recorded_value:
        if not isinstance(actual, list) or not actual:
            yield path or "<root>"
        elif isinstance(recorded_value[0], (Mapping, list)):
            yield from _paths(recorded_value[0], actual[0], f"{path}[0]")


def missing_unified_keys(recorded_parse: Any, actual_parse: Any) -> list[str]:
    """Dotted paths that are non-null in the recorded parse but null or absent in the actual one (lists: first
    element against first element; ``info`` skipped)."""
    return sorted(set(_paths(recorded_parse, actual_parse, "")))


def collapse_currencies(balance: Mapping[str, Any]) -> dict[str, Any]:
    """A ccxt balance with every currency code replaced by ``*`` (first currency wins), so balances holding
    different coins compare by structure."""

    def collapse(part: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in part.items():
            name = key if key in BALANCE_KEYS else "*"
            out.setdefault(name, value)
        return out

    result = collapse(balance)
    for key in ("free", "used", "total", "debt"):
        if isinstance(result.get(key), Mapping):
            result[key] = collapse(result[key])
    return result
