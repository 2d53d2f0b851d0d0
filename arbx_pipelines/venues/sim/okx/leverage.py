"""OKX keeps a leverage per instrument *and* margin mode (``account/set-leverage`` with ``mgnMode``), and the margin
mode of a position is chosen per order (``tdMode``). The engine holds one leverage and one margin mode per symbol:
this book remembers the leverage of each mode and applies the one of the mode an order (or the engine) uses.

Limitation of the simulation: one symbol holds one position, so an order whose ``tdMode`` differs from the mode of
an open position (or of open orders) on that symbol is rejected instead of opening a second position.
"""

from __future__ import annotations

from arbx_pipelines.venues.sim.accounts import DEFAULT_LEVERAGE
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError

MARGIN_MODES = ("cross", "isolated")


class LeverageBook:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self._leverage: dict[tuple[str, str], int] = {}

    def saved(self) -> list[list[str | int]]:
        return [[symbol, mode, leverage] for (symbol, mode), leverage in self._leverage.items()]

    def load(self, rows: list[list[str | int]]) -> None:
        self._leverage = {(str(symbol), str(mode)): int(leverage) for symbol, mode, leverage in rows}

    def get(self, symbol: str, mode: str) -> int:
        instrument = self.venue.instrument(symbol)
        return self._leverage.get((symbol, mode), min(DEFAULT_LEVERAGE, instrument.max_leverage))

    def mode(self, symbol: str) -> str:
        return self.venue.account.margin_mode_of(symbol)

    def set(self, symbol: str, mode: str, leverage: int) -> None:
        """``account/set-leverage``: remember it; apply it at once when ``mode`` is (or can become) the engine's."""
        instrument = self.venue.instrument(symbol)
        if not 1 <= leverage <= instrument.max_leverage:
            raise SimError(ErrorKind.LEVERAGE_INVALID, f"leverage {leverage} is not valid", leverage=leverage)
        self._leverage[(symbol, mode)] = leverage
        self.use(symbol, mode, strict=False)

    def use(self, symbol: str, mode: str, strict: bool = True) -> None:
        """Make ``mode`` the engine's margin mode of ``symbol`` with its leverage (an order with this ``tdMode``).

        ``strict``: refuse when a position or open orders pin the other mode; otherwise leave the engine alone.
        """
        if self.mode(symbol) != mode:
            try:
                self.venue.set_margin_mode(symbol, mode)
            except SimError as error:
                if error.kind is not ErrorKind.MARGIN_MODE_LOCKED or strict:
                    raise SimError(ErrorKind.MARGIN_MODE_LOCKED, "Parameter tdMode error", code="51000") from error
                return
        self.venue.set_leverage(symbol, self.get(symbol, mode))
