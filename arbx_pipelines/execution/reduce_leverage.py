"""Move a hedge away from liquidation (tier reduce_leverage): add collateral to the perpetual wallet from the spot
wallet's spare USDT where the venue keeps them apart; if the distance is still in the tier, cut the hedge in half
(both legs, through the close path). On OKX's unified account only the cut applies.

The collateral wanted is estimated from the cross-margin liquidation formula: raising the collateral by C moves
the liquidation price by about C / size, so C = (target distance - distance) x mark x size.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.money import CENT, ZERO
from arbx_pipelines.core.position_risk import liquidation_distance
from arbx_pipelines.execution.capital import venue_wallets
from arbx_pipelines.execution.close_hedge import close_locked, next_key
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.locks import symbol_lock
from arbx_pipelines.execution.monitor import REDUCE_LEVERAGE_KIND
from arbx_pipelines.execution.positions import PositionRecord, get_position
from arbx_pipelines.execution.venue_view import venue_view
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.executions import record_decision
from arbx_pipelines.storage.ledger import ledger_once
from arbx_pipelines.storage.orders import utcnow
from arbx_pipelines.venues.client import VenueClient

HALF = Decimal("0.5")
log = get_logger("arbx.execution.reduce_leverage")


@dataclass(frozen=True)
class ReduceOutcome:
    status: str  # added_margin | reduced | noop | failed
    position_id: int
    detail: str
    transferred: Decimal
    execution_key: str


async def _distance(deps: ExecutionDeps, client: VenueClient, symbol: str) -> Decimal | None:
    info = (await venue_view(deps, client, [symbol])).perps.get(symbol)
    if info is None or not info.liquidation_price or not info.mark_price:
        return None
    return liquidation_distance(info.mark_price, info.liquidation_price)


async def reduce_leverage(
    deps: ExecutionDeps, client: VenueClient, position_id: int, *, run_id: str | None = None, wait_s: float = 120.0
) -> ReduceOutcome:
    position = get_position(deps.engine, position_id)
    params = deps.strategy.position_risk
    async with symbol_lock(deps, position.venue, position.symbol, wait_s=wait_s):
        key = next_key(deps, REDUCE_LEVERAGE_KIND, position_id)
        before = await _distance(deps, client, position.symbol)
        transferred = ZERO
        cut_tried = False  # from the cut on, orders may be on the venue: nothing may escape
        status, detail = "noop", f"distance {before} is not below {params.reduce_leverage}"
        if position.status == "open" and before is not None and before < params.reduce_leverage:
            view = await venue_view(deps, client, [position.symbol])
            mark = view.perps[position.symbol].mark_price or ZERO
            wanted = (params.medium - before) * mark * position.perp_amount
            if client.separate_wallets and wanted > 0:
                wallets = await venue_wallets(client)
                spare = wallets.spot_free - deps.limits.reserve(position.venue)
                transferred = min(wanted, spare)
                transferred = (transferred / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
                if transferred > 0:
                    crash_point("reduce.transfer_sent")
                    await client.transfer("USDT", transferred, MarketType.SPOT, MarketType.SWAP)
                    crash_point("reduce.transfer_answered")
                    now = utcnow()
                    for account, amount in (("spot", -transferred), ("swap", transferred)):
                        ledger_once(
                            deps.engine,
                            f"transfer:{key}:{account}",
                            venue=str(position.venue),
                            account=account,
                            currency="USDT",
                            amount=amount,
                            kind="transfer",
                            position_id=position_id,
                            time=now,
                            note="margin added",
                        )
                    crash_point("reduce.transfer_committed")
                else:
                    transferred = ZERO
            after = await _distance(deps, client, position.symbol)
            status, detail = "added_margin", f"distance {before} -> {after}"
            if after is not None and after < params.reduce_leverage:
                cut_tried = True
                cut = await close_locked(deps, client, position_id, "reduce leverage", HALF, run_id)
                status, detail = ("reduced" if cut.status == "reduced" else "failed"), f"{detail}; cut: {cut.status}"
        try:
            _record(deps, position, key, status, detail, before, transferred, run_id)
        except Exception as exc:
            if not cut_tried:
                raise  # nothing traded: the caller sees the failure and may run again
            # the cut's own execution is the durable marker (close_locked ended it, ``broken`` if interrupted)
            log.error("reduce_leverage not recorded after its cut", extra={"key": key, "error": str(exc)})
            return ReduceOutcome("failed", position_id, f"{detail}; not recorded: {exc}"[:200], transferred, key)
        return ReduceOutcome(status, position_id, detail, transferred, key)


def _record(
    deps: ExecutionDeps,
    position: PositionRecord,
    key: str,
    status: str,
    detail: str,
    before: Decimal | None,
    transferred: Decimal,
    run_id: str | None,
) -> None:
    """The decision, and an alert when the job acted."""
    record_decision(
        deps.engine,
        key=key,
        kind=REDUCE_LEVERAGE_KIND,
        venue=str(position.venue),
        symbol=position.symbol,
        status="failed" if status == "failed" else "done",
        planned={"before": str(before), "transferred": str(transferred), "detail": detail},
        position_id=position.id,
        run_id=run_id,
    )
    crash_point("decision.committed")
    if status != "noop":
        deps.alerts.raise_alert(
            "leverage_reduced",
            f"{position.venue} {position.symbol}: {detail}",
            severity="warning",
            venue=str(position.venue),
            symbol=position.symbol,
            details={"position_id": position.id, "transferred": str(transferred)},
        )
