"""OKX positions (``account/positions``): net mode, ``pos`` signed in contracts, margins and PnL in USDT.

``cTime`` is when the current position was opened: the last fill that took the position away from zero (a
liquidation resets it). ``realizedPnl`` sums the trading PnL, fees and funding since then, as OKX does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import Position
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.margin import maintenance_margin, unrealized_pnl
from arbx_pipelines.venues.sim.okx.formats import contracts, inst_id, ms, num
from arbx_pipelines.venues.sim.orders import ZERO, LedgerKind

RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Lifetime:
    """What happened to the current position since it was opened."""

    opened_ms: int
    first_trade_id: int
    last_trade_id: int
    pnl: Decimal
    fees: Decimal
    funding: Decimal


def lifetime(venue: SimVenue, position: Position) -> Lifetime:
    symbol = position.symbol
    events: list[tuple[int, int, str, Any]] = [(f.time_ms, 0, "fill", f) for f in venue.trading.trades
                                               if f.symbol == symbol]  # fmt: skip
    events += [(e.time_ms, 1, e.kind.value, e) for e in venue.account.ledger
               if e.symbol == symbol and e.kind in (LedgerKind.LIQUIDATION, LedgerKind.FUNDING)]  # fmt: skip
    events.sort(key=lambda event: (event[0], event[1]))
    qty = ZERO
    opened, first, last = position.updated_ms, 0, 0
    pnl = fees = funding = ZERO
    for time_ms, _, kind, item in events:
        if kind == LedgerKind.LIQUIDATION.value:
            qty = ZERO
            continue
        if kind == LedgerKind.FUNDING.value:
            funding += item.amount
            continue
        before = qty
        qty += item.qty if item.side == "buy" else -item.qty
        if before == 0 or (before > 0) != (qty > 0):
            opened, first = time_ms, item.trade_id
            pnl, fees, funding = ZERO, ZERO, ZERO
        last = item.trade_id
        pnl += item.realized_pnl
        fees += item.fee
    return Lifetime(opened, first, last, pnl, fees, funding)


def position_payload(venue: SimVenue, position: Position) -> dict[str, Any]:
    account = venue.account
    instrument = position.instrument
    symbol = position.symbol
    mark = venue.mark_price(symbol)
    lever = account.leverage_of(symbol)
    isolated = account.margin_mode_of(symbol) == "isolated"
    size = abs(position.qty)
    upl = unrealized_pnl(position.qty, position.entry_price, mark)
    notional = size * mark
    mmr = maintenance_margin(position.qty, mark, instrument.maint_margin_rate)
    initial = size * position.entry_price / lever
    collateral = position.isolated_margin + upl if isolated else account.wallet_balance() + _cross_upl(venue)
    liquidation = account.liquidation_price(position, venue.mark_price)
    life = lifetime(venue, position)
    realized = life.pnl - life.fees + life.funding
    tick = instrument.tick_size
    return {
        "adl": "1", "availPos": "", "avgPx": num(position.entry_price), "baseBal": "", "baseBorrowed": "",
        "baseInterest": "", "bePx": num(position.entry_price), "bizRefId": "", "bizRefType": "",
        "cTime": ms(life.opened_ms), "ccy": instrument.quote, "closeOrderAlgo": [], "deltaBS": "", "deltaPA": "",
        "fee": num(-life.fees), "fundingFee": num(life.funding), "gammaBS": "", "gammaPA": "",
        "idxPx": num(venue.index_price(symbol)), "imr": "" if isolated else num(notional / lever),
        "instId": inst_id(instrument), "instType": "SWAP", "interest": "", "last": num(venue.last_price(symbol)),
        "lever": str(lever), "liab": "", "liabCcy": "", "liqPenalty": "0",
        "liqPx": num(liquidation.quantize(tick)) if liquidation > 0 else "",
        "margin": num(position.isolated_margin) if isolated else "", "markPx": num(mark),
        "mgnMode": "isolated" if isolated else "cross",
        "mgnRatio": num((collateral / mmr).quantize(RATIO)) if mmr > 0 else "", "mmr": num(mmr),
        "notionalUsd": num(notional), "optVal": "", "pendingCloseOrdLiabVal": "", "pnl": num(life.pnl),
        "pos": num(contracts(instrument, position.qty)), "posCcy": "", "posId": str(life.first_trade_id),
        "posSide": "net", "quoteBal": "", "quoteBorrowed": "", "quoteInterest": "", "realizedPnl": num(realized),
        "spotInUseAmt": "", "spotInUseCcy": "", "thetaBS": "", "thetaPA": "", "tradeId": str(life.last_trade_id),
        "uTime": ms(position.updated_ms), "upl": num(upl), "uplLastPx": num(upl),
        "uplRatio": num((upl / initial).quantize(RATIO)) if initial > 0 else "0", "uplRatioLastPx": "",
        "usdPx": "", "vegaBS": "", "vegaPA": "",
    }  # fmt: skip


def _cross_upl(venue: SimVenue) -> Decimal:
    account = venue.account
    return sum(
        (unrealized_pnl(p.qty, p.entry_price, venue.mark_price(p.symbol)) for p in account.open_positions()
         if account.margin_mode_of(p.symbol) != "isolated"),
        ZERO,
    )  # fmt: skip


def total_upl(venue: SimVenue) -> Decimal:
    return sum(
        (unrealized_pnl(p.qty, p.entry_price, venue.mark_price(p.symbol)) for p in venue.account.open_positions()),
        ZERO,
    )
