"""A history read that timed out is asked again (a read changes nothing); an error a retry cannot mend is reported
at once; a symbol that keeps failing is reported with its attempts, never silently dropped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from arbx_pipelines.core.models import Venue
from arbx_pipelines.marketdata import history_fetch
from arbx_pipelines.marketdata.history_fetch import fetch_venue_history
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.errors import AuthenticationFailed, VenueUnavailable


class FlakyHistory:
    """Answers ``funding_history`` from a script of errors per symbol, then with no settlements."""

    def __init__(self, script: dict[str, list[Exception]]) -> None:
        self.script = script
        self.calls: dict[str, int] = {}

    async def funding_history(self, symbol: str, start: datetime, end: datetime) -> list[Any]:
        self.calls[symbol] = self.calls.get(symbol, 0) + 1
        if self.script[symbol]:
            raise self.script[symbol].pop(0)
        return []


def test_timeouts_are_retried_and_lasting_failures_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_fetch, "READ_RETRY_PAUSES_S", (0.0, 0.0))
    timeout = VenueUnavailable(Venue.BINANCE, "RequestTimeout")
    client = FlakyHistory({
        "ONCE/USDT:USDT": [timeout],
        "AUTH/USDT:USDT": [AuthenticationFailed(Venue.BINANCE, "bad key")],
        "DOWN/USDT:USDT": [timeout, timeout, timeout],
    })  # fmt: skip
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    _, failures = asyncio.run(fetch_venue_history(cast(VenueClient, client), start, end, symbols=list(client.script)))
    assert client.calls == {"ONCE/USDT:USDT": 2, "AUTH/USDT:USDT": 1, "DOWN/USDT:USDT": 3}
    assert set(failures) == {"AUTH/USDT:USDT", "DOWN/USDT:USDT"}
    assert failures["AUTH/USDT:USDT"] == "binance: bad key"
    assert failures["DOWN/USDT:USDT"] == "binance: RequestTimeout (after 3 attempts)"
