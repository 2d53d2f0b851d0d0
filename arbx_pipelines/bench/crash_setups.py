"""The worlds and faults a crash point needs to be reached at all, and the points a venue cannot reach.

A job's plain world (crash_world) passes most of its points. The rest need more, and each case of such a point is
built with it (``case_setup``), in the sweep and in ``arbx bench crash`` alike:

- an open's collateral transfer (``prepare.transfer_*``): every open starts with all USDT in the spot wallet, so the
  perpetual's margin must be moved over first;
- funding collected before a close or a cut (``funding.*``): the close and reduce_leverage worlds step the simulated
  clock past a funding settlement after the open, so the position has a payment to record;
- a negative-funding close's buy-back (``prepare.transfer_*`` of close): the ``negative_funding`` world opens a hedge
  with spot sold and perp long, then empties the spot wallet's USDT, so the close must move USDT back to buy;
- a look-up by client order id (``order.lookup_*``): the venue accepts one perpetual order request and drops the
  connection before answering, so the protocol looks the order up;
- a leg changed by hand before a close or a cut (``drift.committed``): the ``drifted`` world sells a third of the
  spot leg by hand after the open;
- a rebalance that finds nothing to do (``decision.committed``): the ``balanced`` world leaves the hedge as opened;
- an open's correction (``correction.intent_committed``): the venue fills one perpetual order request only partly;
- an IOC order still open at its deadline (``order.cancel_*``): the simulator's ``rest_unfilled`` fault makes the
  venue acknowledge one order request open and leave it resting unfilled, so the protocol cancels it; the order
  timeout of such a case is short (it only decides when the cancel is sent).

On OKX's unified account no transfer ever happens: its transfer points are not applicable (``not_applicable``), and
the sweep reports them as such instead of counting them as tried.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from arbx_pipelines.bench.crash_world import COIN, SETTINGS
from arbx_pipelines.core.decision_inputs import StrategyParams
from arbx_pipelines.execution.context import ExecutionSettings

if TYPE_CHECKING:
    from arbx_pipelines.bench.crash_world import CrashWorld

NEGATIVE_FUNDING = "negative_funding"
DRIFTED = "drifted"
BALANCED = "balanced"
VARIANTS = ("", NEGATIVE_FUNDING, DRIFTED, BALANCED)
#: the share of an order the partial-fill fault of an open's correction case fills
CORRECTION_FILL_RATIO = 0.3
#: the coins a negative-funding world holds and declares as sellable inventory
INVENTORY_COINS = Decimal(20_000)
#: a step of the stepped clock that crosses at least one settlement on every venue (the longest interval is 8 h)
PAST_SETTLEMENT_MS = 8 * 3_600_000 + 60_000
#: the order timeout of a case with an order left resting: the protocol cancels it this long after sending
RESTING_ORDER_TIMEOUT_S = 2.0
TRANSFER_POINTS = ("prepare.transfer_sent", "prepare.transfer_answered", "prepare.transfer_committed")
REDUCE_TRANSFER_POINTS = ("reduce.transfer_sent", "reduce.transfer_answered", "reduce.transfer_committed")
CANCEL_POINTS = ("order.cancel_sent", "order.cancel_answered")
LOOKUP_POINTS = ("order.lookup_sent", "order.lookup_answered")
#: venues whose account is one unified wallet: no transfer between spot and perpetual wallets exists there
UNIFIED = {"okx": "one unified account: no transfer between spot and perpetual wallets"}
#: the endpoint that places the perpetual order (OKX places both legs through one batch request)
PERP_ORDER_ENDPOINT = {
    "binance": "POST /fapi/v1/order",
    "okx": "POST /api/v5/trade/batch-orders",
    "bitget": "POST /api/v2/mix/order/place-order",
}


@dataclass(frozen=True)
class CaseSetup:
    """What a case of one (venue, job, point) runs in: the world variant, the simulator's faults, the settings."""

    variant: str = ""
    venue_faults: tuple[dict[str, Any], ...] = ()
    settings: ExecutionSettings = field(default=SETTINGS)

    @property
    def describe(self) -> str:
        parts = [self.variant] if self.variant else []
        parts += [f"{rule['kind']} on {rule['endpoint']}" for rule in self.venue_faults]
        return ", ".join(parts)


def not_applicable(venue: str, point: str) -> str | None:
    """Why ``point`` cannot be passed on ``venue`` (None: it can)."""
    if point in TRANSFER_POINTS + REDUCE_TRANSFER_POINTS:
        return UNIFIED.get(venue)
    return None


def case_setup(venue: str, job: str, point: str) -> CaseSetup:
    if point in LOOKUP_POINTS:
        lost = {"kind": "drop_connection", "venue": venue, "endpoint": PERP_ORDER_ENDPOINT[venue]}
        return CaseSetup(venue_faults=(lost | {"after_accept": True, "times": 1},))
    if point in CANCEL_POINTS:
        resting = {"kind": "rest_unfilled", "venue": venue, "endpoint": PERP_ORDER_ENDPOINT[venue], "times": 1}
        settings = dataclasses.replace(SETTINGS, order_timeout_s=RESTING_ORDER_TIMEOUT_S)
        return CaseSetup(venue_faults=(resting,), settings=settings)
    if job == "close" and point in TRANSFER_POINTS:
        return CaseSetup(variant=NEGATIVE_FUNDING)
    if job in ("close", "reduce_leverage") and point == "drift.committed":
        return CaseSetup(variant=DRIFTED)
    if job == "rebalance_hedge" and point == "decision.committed":
        return CaseSetup(variant=BALANCED)
    if job == "open" and point == "correction.intent_committed":
        partial = {"kind": "partial_fill", "venue": venue, "endpoint": PERP_ORDER_ENDPOINT[venue], "times": 1}
        return CaseSetup(venue_faults=(partial | {"fill_ratio": CORRECTION_FILL_RATIO},))
    return CaseSetup()


def stock_inventory(world: CrashWorld, variant: str) -> StrategyParams:
    """The strategy of the world: a negative-funding one holds coins in the spot wallet and declares them as the
    inventory a hedge may sell (set before the world's start balance is read: they are the user's, not a leg)."""
    if variant != NEGATIVE_FUNDING:
        return StrategyParams()
    body = {"wallet": "spot", "asset": COIN, "amount": str(INVENTORY_COINS)}
    world.admin.call("POST", f"/venues/{world.venue.value}/balance", body)
    return StrategyParams(spot_inventory={world.venue: {COIN: INVENTORY_COINS}})


def prepare_world(world: CrashWorld, job: str, variant: str) -> int | None:
    """Build ``job``'s precondition in ``world`` by the real paths; returns the position the job acts on."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown world variant {variant!r}")
    sign = -1 if variant == NEGATIVE_FUNDING else 1
    world.spike_funding(sign)
    if job == "open":
        if world.separate_wallets:
            _move_usdt(world, "futures", "spot")
        return None
    position_id = world.open_position(sign)
    if job == "rebalance_hedge":
        if variant != BALANCED:
            world.drift_position()
        return position_id
    if variant == DRIFTED:
        world.drift_position()
    world.admin.call("POST", "/time", {"advance_ms": PAST_SETTLEMENT_MS})
    if job == "reduce_leverage":
        world.near_liquidation()
    if variant == NEGATIVE_FUNDING and world.separate_wallets:
        _move_usdt(world, "spot", "futures")
    return position_id


def _move_usdt(world: CrashWorld, source: str, target: str) -> None:
    """All free USDT of the ``source`` wallet into ``target`` (set by the admin endpoint: no ledger, a precondition)."""
    moved = world.free_usdt(source)
    world.set_usdt(target, world.free_usdt(target) + moved)
    world.set_usdt(source, Decimal(0))
