"""Expected slippage of a hedge's fills, the liquidity part of the user's score (``core.scoring``): one function for
the funding sensor, which reads it from the venues' books (the ``quotes`` the quotes monitor records), and the
backtester, which has no books and states its spread and slippage as parameters.

Per leg, taking ``notional`` (quote) costs, as a fraction of the mid:

    half spread            (ask - bid) / 2 / mid: crossing from the mid to the touch
    + impact               the stated impact when there is one (the backtest's ``slippage_bps``), else
                           one quoted spread x notional / depth visible on the side taken (an order that eats the
                           whole visible depth walks about a spread beyond the touch); 0 when the depth is unknown

and the hedge's expected slippage is the mean over its legs (both legs trade the same notional). A thin or wide
book thus scores lower; an order larger than the visible depth costs more than a spread and, past the score's
``max_slippage``, earns no liquidity points at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from arbx_pipelines.core.money import ZERO

TWO = Decimal(2)
#: the slippage of an order on an empty side: it cannot fill at all (no liquidity points)
NO_FILL = Decimal(1)


@dataclass(frozen=True, slots=True)
class LegLiquidity:
    """What one leg's fill meets: the half spread and either the visible depth or a stated impact."""

    half_spread_rate: Decimal
    depth: Decimal | None = None  # quote notional visible on the side the order takes; None: unknown
    impact_rate: Decimal | None = None  # a stated impact (no book): used instead of the depth estimate

    def __post_init__(self) -> None:
        if self.half_spread_rate < 0 or (self.impact_rate is not None and self.impact_rate < 0):
            raise ValueError(f"spread and impact must not be negative: {self}")
        if self.depth is not None and self.depth < 0:
            raise ValueError(f"depth must not be negative, got {self.depth}")

    @classmethod
    def from_quote(cls, bid: Decimal, ask: Decimal, depth: Decimal | None) -> LegLiquidity:
        """From a book's touch and the depth on the side taken (the ask side to buy, the bid side to sell)."""
        if bid <= 0 or ask < bid:
            raise ValueError(f"a quote needs 0 < bid <= ask, got bid {bid} ask {ask}")
        mid = (bid + ask) / TWO
        return cls((ask - bid) / TWO / mid, depth)

    def slippage_rate(self, notional: Decimal) -> Decimal:
        """Half spread plus impact of taking ``notional`` (quote)."""
        if self.impact_rate is not None:
            return self.half_spread_rate + self.impact_rate
        if self.depth is None:
            return self.half_spread_rate
        if self.depth == 0:
            return NO_FILL if notional > 0 else self.half_spread_rate
        return self.half_spread_rate + TWO * self.half_spread_rate * notional / self.depth


def expected_slippage_rate(legs: Sequence[LegLiquidity], notional: Decimal) -> Decimal:
    """The mean expected slippage of the hedge's legs when each takes ``notional`` (quote)."""
    if not legs:
        raise ValueError("a hedge has at least one leg")
    if notional < 0:
        raise ValueError(f"notional must not be negative, got {notional}")
    return sum((leg.slippage_rate(notional) for leg in legs), ZERO) / len(legs)
