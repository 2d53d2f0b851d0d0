"""Named crash points: every side-effect boundary of an execution, where a test can kill the process to prove that
reconcile converges from there (issue 10's crash-point sweep).

``crash_point(name)`` is a no-op unless the environment variable ``ARBX_CRASH_AT`` names that point
(``name``, or ``name#k`` for its k-th hit in this process): then the process SIGKILLs itself, as a power cut would.
A process that called ``record()`` also lists every point it passes (``passed()``): one clean run of a job tells
the sweep which points that job reaches on a venue, so only those are killed, and the fuzzer tells an exception
raised before the first order was sent from one that escaped after it.
The names are a contract with the sweep (tests/crash, ``arbx bench crash``): keep them stable.

Points, in the order an execution passes them (``*`` = shared by several jobs; a point may be hit more than once,
e.g. once per leg, hence ``#k``):

- ``lock.acquired`` / ``lock.released``*: the per-symbol lock taken / given back in the state store
- ``capital_lock.acquired`` / ``capital_lock.released``: an open's capital lock in the state store
- ``prepare.leverage_sent`` / ``prepare.leverage_answered``: an open's leverage and margin-mode requests
- ``prepare.transfer_sent`` / ``prepare.transfer_answered`` / ``prepare.transfer_committed``*: a collateral transfer
  (open, and a negative-funding close's buy-back) and its ledger rows
- ``intent.committed``*: the execution (with an open's position and both leg intents) written before any send
- ``close.status_committed``: a full close marks its position ``closing``
- ``funding.request_sent`` / ``funding.request_answered`` / ``funding.committed``: funding collected before a close
- ``drift.committed``: a leg change the venue shows but no order made, booked (close, rebalance)
- ``order.marked_sent``*: the order row says ``sending`` (before the request leaves)
- ``order.slot_acquired`` / ``order.slot_released``*: a venue order slot taken / given back in the state store
- ``order.create_sent`` / ``order.create_answered``*: the create-order request leaves / its answer arrives
- ``order.lookup_sent`` / ``order.lookup_answered``*: a look-up by client order id (lost answers, reconcile)
- ``order.cancel_sent`` / ``order.cancel_answered``*: an IOC order still open cancelled at its deadline
- ``order.state_committed``*: the venue's answer written to the order row
- ``fills.trades_sent`` / ``fills.trades_answered`` / ``fills.committed``*: the order's trades fetched and stored
- ``correction.intent_committed``*: a correction (or further close round) recorded before it is sent
- ``position.committed``*: the position's legs recomputed from the fills, or its status, written
- ``execution.committed``*: the execution's final status written
- ``reduce.transfer_sent`` / ``reduce.transfer_answered`` / ``reduce.transfer_committed``: margin added by
  reduce_leverage and its ledger rows
- ``decision.committed``: a rebalance or reduce_leverage result recorded
"""

from __future__ import annotations

import os
import signal

ENV = "ARBX_CRASH_AT"

_ORDER = (
    "order.marked_sent",
    "order.slot_acquired",
    "order.create_sent",
    "order.create_answered",
    "order.state_committed",
    "order.lookup_sent",
    "order.lookup_answered",
    "order.cancel_sent",
    "order.cancel_answered",
    "order.slot_released",
    "fills.trades_sent",
    "fills.trades_answered",
    "fills.committed",
)
_SETTLE = ("correction.intent_committed", "position.committed", "execution.committed")

#: job -> its crash points in the order it passes them
CRASH_POINTS: dict[str, tuple[str, ...]] = {
    "open": (
        "lock.acquired",
        "prepare.leverage_sent",
        "prepare.leverage_answered",
        "prepare.transfer_sent",
        "prepare.transfer_answered",
        "prepare.transfer_committed",
        "capital_lock.acquired",
        "intent.committed",
        "capital_lock.released",
        *_ORDER,
        *_SETTLE,
        "lock.released",
    ),
    "close": (
        "lock.acquired",
        "intent.committed",
        "close.status_committed",
        "funding.request_sent",
        "funding.request_answered",
        "funding.committed",
        "drift.committed",
        "prepare.transfer_sent",
        "prepare.transfer_answered",
        "prepare.transfer_committed",
        "correction.intent_committed",
        *_ORDER,
        "position.committed",
        "execution.committed",
        "lock.released",
    ),
    "rebalance_hedge": (
        "lock.acquired",
        "drift.committed",
        "intent.committed",
        *_ORDER,
        "position.committed",
        "execution.committed",
        "decision.committed",
        "lock.released",
    ),
    "reduce_leverage": (
        "lock.acquired",
        "reduce.transfer_sent",
        "reduce.transfer_answered",
        "reduce.transfer_committed",
        "intent.committed",
        "funding.request_sent",
        "funding.request_answered",
        "funding.committed",
        "drift.committed",
        "correction.intent_committed",
        *_ORDER,
        "position.committed",
        "execution.committed",
        "decision.committed",
        "lock.released",
    ),
}

ALL_POINTS: frozenset[str] = frozenset(p for points in CRASH_POINTS.values() for p in points)

_hits: dict[str, int] = {}
_passed: list[str] | None = None  # None: not recording (the default: a long-running process keeps no list)


def parse_target(value: str) -> tuple[str, int]:
    """``name`` or ``name#k`` -> (name, k); k counts from 1."""
    name, _, count = value.partition("#")
    return name, int(count) if count else 1


def crash_point(name: str) -> None:
    """SIGKILL this process when ``ARBX_CRASH_AT`` names this point (and hit); otherwise nothing."""
    if _passed is not None:
        _passed.append(name)
    target = os.environ.get(ENV)
    if not target:
        return
    wanted, hit = parse_target(target)
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == hit:
        os.kill(os.getpid(), signal.SIGKILL)


def reset_hits() -> None:
    """Forget the hits counted so far (a forked child starts counting afresh)."""
    _hits.clear()


def record() -> None:
    """From now on list every point this process passes (a forked child of the sweep), starting empty."""
    global _passed
    _passed = []


def passed() -> tuple[str, ...]:
    """The points passed since ``record()``, in order, each hit once (empty when not recording)."""
    return tuple(_passed or ())
