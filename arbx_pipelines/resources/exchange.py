"""Exchange resources: one per venue, over ccxt's async client, in the configured mode.

``sim`` uses the simulated venues' URL and credentials; ``demo`` and ``live`` read API keys from the encrypted
secrets file (never from run config, so they never reach Dagster's run metadata); ``paper`` needs none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from dagster import ConfigurableResource

from arbx_pipelines.config.guard import config_in_force
from arbx_pipelines.config.secrets import load_secrets
from arbx_pipelines.config.startup import require_live_opt_in
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient

T = TypeVar("T")


def simulator_url(host: str, port: int) -> str:
    return f"http://{host}:{port}"


class ExchangeResource(ConfigurableResource):
    """Opens a fresh :class:`VenueClient` per call of :meth:`client` (use it as ``async with``)."""

    venue: str
    mode: str = "sim"
    sim_url: str | None = None
    config_path: str | None = None
    live_opt_in: bool = False
    rate_limit_ms: int | None = None

    def client(self) -> VenueClient:
        venue, mode = Venue(self.venue), Mode(self.mode)
        loaded = config_in_force(self.config_path)
        credentials: dict[str, str] = {}
        if mode is Mode.SIM:
            sim = loaded.config.simulator
            credentials = {"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}
        elif mode in (Mode.DEMO, Mode.LIVE):
            if mode is Mode.LIVE:
                require_live_opt_in(loaded, self.live_opt_in)
            credentials = load_secrets(loaded).get(venue.value, {})
        return make_client(venue, mode, credentials=credentials, sim_url=self.sim_url, rate_limit_ms=self.rate_limit_ms)


class ExchangesResource(ConfigurableResource):
    """Every enabled venue in one resource, for assets and ops that work across venues."""

    venues: list[str]
    mode: str = "sim"
    sim_url: str | None = None
    config_path: str | None = None
    live_opt_in: bool = False
    rate_limit_ms: int | None = None

    def client(self, venue: Venue | str) -> VenueClient:
        name = Venue(venue).value
        if name not in self.venues:
            raise ValueError(f"venue {name!r} is not enabled; enabled: {', '.join(self.venues)}")
        return ExchangeResource(
            venue=name,
            mode=self.mode,
            sim_url=self.sim_url,
            config_path=self.config_path,
            live_opt_in=self.live_opt_in,
            rate_limit_ms=self.rate_limit_ms,
        ).client()

    def clients(self) -> dict[Venue, VenueClient]:
        """A fresh client per enabled venue; close them (``await client.close()``) when done."""
        return {Venue(name): self.client(name) for name in self.venues}

    def run(self, work: Callable[[dict[Venue, VenueClient]], Awaitable[T]]) -> T:
        """Run async ``work`` with a client per enabled venue, closing every client afterwards."""

        async def main() -> T:
            clients = self.clients()
            try:
                return await work(clients)
            finally:
                await asyncio.gather(*(client.close() for client in clients.values()), return_exceptions=True)

        return asyncio.run(main())
