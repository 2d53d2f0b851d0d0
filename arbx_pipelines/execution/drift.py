"""A hedge follows its venue: a leg the venue shows smaller than the database says (a manual trade or withdrawal, a
fee paid in the coin, ADL, a partial liquidation) is booked as an external change with a ``position_drift`` alert,
before anything acts on the position (rebalance, close, reduce).

The external change is booked as a fee-less fill of the missing amount on the leg's closing side, at the venue's
best price on that side when it is noticed (best bid where closing sells, best ask where it buys): what the missing
amount was worth then, without the slippage allowance of an order. A leg the venue shows larger is not ours and is
left to reconcile.
"""

from __future__ import annotations

from decimal import Decimal

from arbx_pipelines.core.hedge import Leg
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.legs import LegMarkets
from arbx_pipelines.execution.positions import PositionRecord, refresh_from_fills
from arbx_pipelines.execution.sending import best_price
from arbx_pipelines.execution.settle import lot
from arbx_pipelines.execution.venue_view import legs_on_venue, venue_view
from arbx_pipelines.storage.orders import record_external_change
from arbx_pipelines.venues.client import VenueClient


async def follow_venue(
    deps: ExecutionDeps, client: VenueClient, position: PositionRecord, markets: LegMarkets
) -> PositionRecord:
    """Book legs the venue shows smaller than recorded (by a lot or more) as external changes."""
    view = await venue_view(deps, client, [position.symbol])
    spot_venue, perp_venue = legs_on_venue(position, view)
    changed = False
    for leg, recorded, seen in (
        (Leg.SPOT, position.spot_amount, spot_venue),
        (Leg.PERP, position.perp_amount, perp_venue),
    ):
        info = markets.of(leg)
        missing = recorded - seen
        if missing < max(lot(info.rules), Decimal("1e-12")):
            continue
        side = position.direction.closing_side(leg)
        price = await best_price(deps, client, info, side)
        ref = record_external_change(
            deps.engine,
            position_id=position.id,
            venue=str(position.venue),
            symbol=info.symbol,
            side=side,
            amount=missing,
            price=price,
            note=f"{leg} leg {recorded} recorded, {seen} on the venue; booked at the best {side} price {price}",
        )
        crash_point("drift.committed")
        deps.alerts.raise_alert(
            "position_drift",
            f"{position.venue} {info.symbol}: {leg} leg is {seen} on the venue, {recorded} recorded",
            severity="warning",
            venue=str(position.venue),
            symbol=position.symbol,
            details={
                "position_id": position.id,
                "leg": str(leg),
                "recorded": str(recorded),
                "venue": str(seen),
                "booked_amount": str(missing),
                "booked_price": str(price),
                "ref": ref,
            },
        )
        changed = True
    return refresh_from_fills(deps.engine, position.id) if changed else position
