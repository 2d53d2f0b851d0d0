"""The plug-in interface of a simulated venue: what a venue module provides to the server.

A venue module (``binance/``, ``okx/``, ``bitget/``) subclasses :class:`VenueModule` and is listed in
``server.VENUE_MODULES``. The server builds one engine (:class:`~arbx_pipelines.venues.sim.engine.SimVenue`) per
venue, instantiates the module with it, and mounts every :class:`Route` under ``/<venue name><route.path>``.

For each request the server (not the module) applies the fault rules, counts the route's weight, calls
:meth:`VenueModule.authenticate` when the route is signed, runs ``SimVenue.sync()``, then the handler. A handler gets
a :class:`SimRequest` and returns a JSON-able payload (or a :class:`Reply` for another status or headers); it raises
:class:`~arbx_pipelines.venues.sim.errors.SimError` to reject, which :meth:`VenueModule.render_error` turns into the
venue's own error answer. Handlers are plain functions: they run on the event loop and must be quick.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from arbx_pipelines.venues.sim.errors import SimError
from arbx_pipelines.venues.sim.history import History
from arbx_pipelines.venues.sim.universe import Instrument, build_instruments, venue_coins

if TYPE_CHECKING:
    from arbx_pipelines.venues.sim.engine import SimVenue
    from arbx_pipelines.venues.sim.settings import SimSettings


@dataclass(frozen=True)
class SimRequest:
    method: str
    #: path below the venue prefix, e.g. ``/fapi/v1/order``
    path: str
    #: the raw query string as sent (signatures are computed over it)
    query_string: str
    query: Mapping[str, str]
    body: str
    headers: Mapping[str, str]
    #: set by the partial-fill fault: orders of this request fill at most this share
    fill_ratio: Decimal | None = None
    #: set by the rest-unfilled fault: orders of this request are acknowledged open and rest unfilled until cancelled
    rest_unfilled: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Reply:
    payload: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[SimRequest], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    #: request weight counted against the venue's per-minute limit (rate_limit fault)
    weight: int = 1
    #: private endpoint: the module's ``authenticate`` runs first
    signed: bool = False
    #: routes sharing a group share one weight budget (Binance spot vs futures, ...)
    limit_group: str = "default"


class VenueModule(ABC):
    """One venue's wire format on top of the venue-neutral engine."""

    name: ClassVar[str]

    def __init__(self, venue: SimVenue, settings: SimSettings) -> None:
        self.venue = venue
        self.settings = settings

    # ---- what the venue lists and holds (class-level: used before the engine exists) --------------------------

    @classmethod
    def instruments(cls, seed: int, history: History) -> dict[str, Instrument]:
        """Unified symbol -> instrument. Override to adjust precision, contract sizes or intervals."""
        return build_instruments(venue_coins(cls.name, seed, history))

    @classmethod
    def initial_wallets(cls, start_usdt: Decimal) -> dict[str, dict[str, Decimal]]:
        """Wallet role -> asset -> amount at start. Default: half in spot, half in futures."""
        half = start_usdt / 2
        return {"spot": {"USDT": half}, "futures": {"USDT": start_usdt - half}, "funding": {}}

    # ---- the wire --------------------------------------------------------------------------------------------

    @abstractmethod
    def routes(self) -> list[Route]:
        """Every endpoint served, relative to the venue prefix."""

    @abstractmethod
    def authenticate(self, request: SimRequest) -> None:
        """Verify key, timestamp and signature like the venue; raise SimError(BAD_SIGNATURE, ...) otherwise."""

    @abstractmethod
    def render_error(self, error: SimError, request: SimRequest) -> Reply:
        """The venue's HTTP status and body for an engine error raised while serving ``request``."""

    def not_found(self, request: SimRequest) -> Reply:
        return Reply({"error": f"no such endpoint: {request.endpoint}"}, status=404)

    def save_state(self) -> dict[str, Any]:
        """What the module itself holds beyond the engine's account (JSON-able), kept across restarts."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:  # noqa: B027 - most modules hold nothing of their own
        """Take back what :meth:`save_state` returned."""

    def weight_headers(self, used: Mapping[str, int]) -> dict[str, str]:
        """Headers reporting weight used per limit group this minute (Binance X-MBX-USED-WEIGHT-1M)."""
        return {}
