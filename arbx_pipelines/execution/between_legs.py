"""When the price moves between an open's legs (issue 10, item 7): completing the hedge at the new price locks the
move in as a loss; unwinding the filled leg realizes about the same move. Above ``risk.max_single_loss_usdt`` the
open ends whichever way loses less (pure: the caller reads the prices, records and alerts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.hedge import FundingDirection, Leg
from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import CorrectionPolicy


@dataclass(frozen=True)
class LegMoveVerdict:
    policy: CorrectionPolicy
    hedge_loss: Decimal  # USDT locked in by completing the hedge at the current price
    flat_loss: Decimal  # USDT realized by unwinding the filled leg at the current price
    over_limit: bool


def judge_move(
    direction: FundingDirection,
    lagging: Leg,
    amount: Decimal,
    filled_entry: Decimal,
    lagging_price: Decimal,
    filled_exit_price: Decimal,
    max_single_loss: Decimal,
) -> LegMoveVerdict:
    """``amount`` coins of the ``lagging`` leg are missing; the other leg filled at ``filled_entry``. Completing the
    hedge trades the lagging leg at ``lagging_price``; going flat trades the filled leg back at
    ``filled_exit_price``. Within the limit: hedge; above it: the cheaper of the two."""
    spot, perp = (lagging_price, filled_entry) if lagging is Leg.SPOT else (filled_entry, lagging_price)
    # a short-perp hedge (long spot) keeps perp - spot per coin; a long-perp one keeps spot - perp
    hedge_loss = amount * ((spot - perp) if direction.short_perp else (perp - spot))
    filled_bought = (lagging is Leg.PERP) == direction.short_perp  # short perp: spot bought; long perp: perp bought
    move = (filled_entry - filled_exit_price) if filled_bought else (filled_exit_price - filled_entry)
    flat_loss = amount * move
    hedge_loss, flat_loss = max(hedge_loss, ZERO), max(flat_loss, ZERO)
    if hedge_loss <= max_single_loss:
        return LegMoveVerdict(CorrectionPolicy.HEDGE, hedge_loss, flat_loss, False)
    policy = CorrectionPolicy.UNWIND if flat_loss < hedge_loss else CorrectionPolicy.HEDGE
    return LegMoveVerdict(policy, hedge_loss, flat_loss, True)
