"""Funding actually received, recorded per settlement: the venue's funding income for a position's perpetual,
each settlement once (unique per venue, symbol, time and position), with its ledger row, then the position's
``funding_received`` recomputed from the recorded payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from arbx_pipelines.core.venue_data import FundingIncome
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.positions import PositionRecord, get_position, refresh_from_fills
from arbx_pipelines.execution.sending import read_with_retry
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.ledger import ledger_once
from arbx_pipelines.storage.positions import record_funding_payment
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import VenueError

log = get_logger("arbx.execution.funding")
#: a settlement this close after the close still belongs to the position (venue and local clocks differ a little)
CLOCK_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class FundingCollected:
    position_id: int
    new_payments: int
    funding_received: Decimal


def _belongs(position: PositionRecord, income: FundingIncome) -> bool:
    if income.symbol != position.symbol or income.time < position.opened_at - CLOCK_SLACK:
        return False
    return position.closed_at is None or income.time <= position.closed_at + CLOCK_SLACK


async def _rates(client: VenueClient, position: PositionRecord, incomes: list[FundingIncome]) -> dict[int, Decimal]:
    """Settled rates by time (ms), to store beside each payment; empty when the venue cannot say."""
    if not incomes:
        return {}
    start = min(i.time for i in incomes) - timedelta(minutes=1)
    end = max(i.time for i in incomes) + timedelta(minutes=1)
    try:
        history = await client.funding_history(position.symbol, start, end)
    except VenueError:
        return {}
    return {int(h.funding_time.timestamp() * 1000): h.rate for h in history}


async def collect_funding(deps: ExecutionDeps, client: VenueClient, position_id: int) -> FundingCollected:
    position = get_position(deps.engine, position_id)
    since = position.opened_at - timedelta(minutes=1)
    crash_point("funding.request_sent")
    incomes = await read_with_retry(deps, "funding_income", lambda: client.funding_income(position.symbol, since))
    crash_point("funding.request_answered")
    mine = [income for income in incomes if _belongs(position, income)]
    rates = await _rates(client, position, mine)
    added = 0
    for income in mine:
        time_ms = int(income.time.timestamp() * 1000)
        if not record_funding_payment(
            deps.engine,
            position_id=position.id,
            venue=str(position.venue),
            symbol=position.symbol,
            time=income.time,
            rate=rates.get(time_ms),
            amount=income.amount,
            currency=income.currency,
            venue_ref=income.venue_ref,
        ):
            continue
        ledger_once(
            deps.engine,
            f"funding:{position.venue}:{position.symbol}:{time_ms}:{position.id}",
            venue=str(position.venue),
            account="swap",
            currency=income.currency,
            amount=income.amount,
            kind="funding",
            position_id=position.id,
            time=income.time,
            note=f"rate {rates.get(time_ms)}",
        )
        crash_point("funding.committed")
        added += 1
    refreshed = refresh_from_fills(deps.engine, position_id) if added else position
    if added:
        log.info(
            "funding recorded", extra={"position": position_id, "new": added, "total": str(refreshed.funding_received)}
        )
    return FundingCollected(position_id, added, refreshed.funding_received if added else position.funding_received)
