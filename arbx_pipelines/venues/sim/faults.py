"""Fault injection per venue and endpoint, set by config at start and by the admin endpoint at run time.

A rule matches requests by venue (``*`` for all) and endpoint: an ``fnmatch`` pattern over ``"METHOD /path"`` with
the path below the venue prefix, e.g. ``"POST /fapi/v1/order"`` or ``"* */order"``. ``probability`` (seeded, so a run
is repeatable) and ``times`` (how many more requests it may hit; unset: unlimited) limit it.

Kinds and their parameters:

==========================  ============================================================================================
``latency``                 ``latency_ms``: sleep before handling
``timeout_after_accept``    handle the request (the order is accepted and recorded), then hold the connection for
                            ``hang_ms`` and close it without an answer: the client sees a timeout
``reject``                  ``reason``: an engine error kind (``insufficient_balance``, ``min_notional``, ...) rendered
                            in the venue's own error format, the request is not processed
``rate_limit``              ``weight_limit``: HTTP 429 in the venue's format once the weight of the requests it matches
                            exceeds it within a minute counted from the first of them (weights follow the venue's rules;
                            the rule's own minute, so where the wall-clock minute turns never changes an outcome);
                            unset: every matching request gets 429
``partial_fill``            ``fill_ratio``: orders fill at most this share of their amount; the rest expires (market,
                            IOC) or rests without further fills (GTC)
``drop_connection``         close the connection without an answer; ``after_accept`` true: after handling the request
``rest_unfilled``           orders are accepted and acknowledged open (``NEW`` / ``live``), then rest without any fill,
                            even IOC and market ones, until cancelled (the cancel answers in the venue's own format):
                            a venue whose matching lags its acknowledgement, so an IOC order is still open at the
                            client's deadline
==========================  ============================================================================================
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from arbx_pipelines.venues.sim.errors import ErrorKind


class FaultKind(StrEnum):
    LATENCY = "latency"
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    REJECT = "reject"
    RATE_LIMIT = "rate_limit"
    PARTIAL_FILL = "partial_fill"
    DROP_CONNECTION = "drop_connection"
    REST_UNFILLED = "rest_unfilled"


class FaultRuleError(ValueError):
    """A fault rule given by config or the admin endpoint is malformed; the message names the field."""


@dataclass
class FaultRule:
    kind: FaultKind
    venue: str = "*"
    endpoint: str = "*"
    probability: float = 1.0
    times: int | None = None
    latency_ms: float = 0.0
    hang_ms: float = 30_000.0
    reason: str = ErrorKind.INSUFFICIENT_BALANCE.value
    fill_ratio: float = 0.5
    weight_limit: int | None = None
    after_accept: bool = False
    rule_id: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        known = set(cls.__dataclass_fields__) - {"rule_id"}
        unknown = set(data) - known - {"rule_id", "id"}
        if unknown:
            raise FaultRuleError(f"unknown fault rule keys {sorted(unknown)}; allowed: {sorted(known)}")
        values = {key: value for key, value in data.items() if key in known}
        try:
            values["kind"] = FaultKind(str(values.get("kind")))
        except ValueError as exc:
            raise FaultRuleError(
                f"kind must be one of {[k.value for k in FaultKind]}, got {data.get('kind')!r}"
            ) from exc
        rule = cls(**values)
        rule.validate()
        return rule

    def validate(self) -> None:
        if not 0 < self.probability <= 1:
            raise FaultRuleError(f"probability must be in (0, 1], got {self.probability}")
        if self.times is not None and self.times < 1:
            raise FaultRuleError(f"times must be at least 1 when set, got {self.times}")
        if self.latency_ms < 0 or self.hang_ms < 0:
            raise FaultRuleError("latency_ms and hang_ms must not be negative")
        if not 0 <= self.fill_ratio < 1:
            raise FaultRuleError(f"fill_ratio must be in [0, 1), got {self.fill_ratio}")
        if self.kind is FaultKind.REJECT and self.reason not in {k.value for k in ErrorKind}:
            raise FaultRuleError(f"reason must be an error kind {[k.value for k in ErrorKind]}, got {self.reason!r}")
        if self.weight_limit is not None and self.weight_limit < 0:
            raise FaultRuleError(f"weight_limit must not be negative, got {self.weight_limit}")

    def matches(self, venue: str, endpoint: str) -> bool:
        return (self.venue in ("*", venue)) and fnmatchcase(endpoint, self.endpoint)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data


@dataclass
class FaultInjector:
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    _next_id: int = 1
    #: rule id -> (monotonic start of its minute, weight used in it)
    _budgets: dict[int, tuple[float, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def add(self, rule: FaultRule) -> FaultRule:
        rule.rule_id = self._next_id
        self._next_id += 1
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if rule.rule_id != rule_id]
        return len(self.rules) < before

    def clear(self, venue: str | None = None) -> int:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if venue is not None and rule.venue != venue]
        return before - len(self.rules)

    def charge(self, rule: FaultRule, weight: int) -> int:
        """The weight ``rule``'s matching requests used in its current minute, this request included."""
        now = time.monotonic()
        start, used = self._budgets.get(rule.rule_id, (now, 0))
        if now - start >= 60:
            start, used = now, 0
        used += weight
        self._budgets[rule.rule_id] = (start, used)
        return used

    def triggered(self, venue: str, endpoint: str) -> list[FaultRule]:
        """Rules that fire for this request (uses up one of each rule's ``times``)."""
        fired: list[FaultRule] = []
        for rule in list(self.rules):
            if not rule.matches(venue, endpoint):
                continue
            if rule.probability < 1 and self._random.random() >= rule.probability:
                continue
            fired.append(rule)
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
        return fired


class WeightTracker:
    """Request weight used per (venue, limit group) in the current wall-clock minute, as venues count it."""

    def __init__(self) -> None:
        self._minute = 0
        self._used: dict[tuple[str, str], int] = {}

    def add(self, venue: str, group: str, weight: int) -> int:
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used = minute, {}
        key = (venue, group)
        self._used[key] = self._used.get(key, 0) + weight
        return self._used[key]

    def used(self, venue: str, group: str) -> int:
        if int(time.time() // 60) != self._minute:
            return 0
        return self._used.get((venue, group), 0)
