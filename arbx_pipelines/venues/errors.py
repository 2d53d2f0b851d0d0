"""arbx's venue errors: each says whether repeating the call is safe, so callers never guess.

``outcome_unknown`` marks a write whose result we could not see (timeout, dropped connection, 5xx): the order
may exist. The only safe next step is to look it up by client order id, never to send it again blindly.
"""

from __future__ import annotations

import ccxt

from arbx_pipelines.core.models import Venue


class VenueError(Exception):
    retry_safe: bool = False
    outcome_unknown: bool = False

    def __init__(self, venue: Venue | str, message: str) -> None:
        super().__init__(f"{venue}: {message}")
        self.venue = str(venue)


class RateLimited(VenueError):
    """The venue refused the request before acting on it: retry after a pause."""

    retry_safe = True


class VenueUnavailable(VenueError):
    """Network error, timeout or 5xx: a read may be retried; a write's outcome is unknown."""

    retry_safe = True


class OutcomeUnknown(VenueError):
    """A write was sent but its answer was lost: look it up by client order id before anything else."""

    outcome_unknown = True


class OrderRejected(VenueError):
    """The venue refused the order; sending it again would be refused again."""


class InsufficientBalance(OrderRejected):
    pass


class BelowMinimum(OrderRejected):
    """Amount or notional below the market's minimum (checked locally before sending, or by the venue)."""


class OrderNotFound(VenueError):
    pass


class AuthenticationFailed(VenueError):
    pass


class UnknownSymbol(VenueError):
    pass


def map_ccxt_error(exc: Exception, venue: Venue | str, *, write: bool) -> VenueError:
    """Translate a ccxt exception; ``write`` says whether the call could have changed state on the venue."""
    text = f"{type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return RateLimited(venue, text)
    if isinstance(exc, ccxt.InsufficientFunds):
        return InsufficientBalance(venue, text)
    if isinstance(exc, ccxt.OrderNotFound):
        return OrderNotFound(venue, text)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
        return AuthenticationFailed(venue, text)
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(venue, text)
    if isinstance(exc, ccxt.InvalidOrder):
        lowered = text.lower()
        if "notional" in lowered or "minimum" in lowered or "min " in lowered:
            return BelowMinimum(venue, text)
        return OrderRejected(venue, text)
    if isinstance(exc, ccxt.NetworkError):  # RequestTimeout, ExchangeNotAvailable, connection drops
        return OutcomeUnknown(venue, text) if write else VenueUnavailable(venue, text)
    if isinstance(exc, ccxt.ExchangeError):
        return OrderRejected(venue, text) if write else VenueError(venue, text)
    return OutcomeUnknown(venue, text) if write else VenueError(venue, text)
