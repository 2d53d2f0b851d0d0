"""Venue-neutral error kinds raised by the engine; each venue module renders them in its own format.

The engine says *what* went wrong (``ErrorKind``); ``VenueModule.render_error`` turns it into the venue's HTTP status,
code and message (Binance ``{"code": -2019, "msg": "Margin is insufficient."}``, OKX ``{"code": "51008", ...}``).
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    BAD_API_KEY = "bad_api_key"
    BAD_PASSPHRASE = "bad_passphrase"
    BAD_TIMESTAMP = "bad_timestamp"
    MISSING_PARAMETER = "missing_parameter"
    BAD_PARAMETER = "bad_parameter"
    BAD_SYMBOL = "bad_symbol"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    MIN_NOTIONAL = "min_notional"
    LOT_SIZE = "lot_size"
    PRICE_FILTER = "price_filter"
    REDUCE_ONLY_REJECTED = "reduce_only_rejected"
    POST_ONLY_REJECTED = "post_only_rejected"
    UNKNOWN_ORDER = "unknown_order"
    CANCEL_UNKNOWN_ORDER = "cancel_unknown_order"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate_client_order_id"
    LEVERAGE_INVALID = "leverage_invalid"
    MARGIN_MODE_UNCHANGED = "margin_mode_unchanged"
    MARGIN_MODE_LOCKED = "margin_mode_locked"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"


class SimError(Exception):
    """An engine-level rejection; ``detail`` carries values a venue message may quote (e.g. a min notional)."""

    def __init__(self, kind: ErrorKind, message: str = "", **detail: object) -> None:
        super().__init__(message or kind.value)
        self.kind = kind
        self.message = message or kind.value
        self.detail = detail
