"""One venue's world for the crash sweep and the fault fuzzer: a simulated venue started fresh for every case, an
SQLite database reset to empty for every case, and the preconditions a job needs (an open hedge, a drifted hedge,
a hedge near liquidation).

A case must be cheap, so what does not change between cases is built once in the parent and inherited by the
forked child: the engine (its compiled-statement cache stays warm: the file under it is replaced, never the engine)
and the venue clients (ccxt's constructor and market load cost more than a whole execution). Each job's
precondition is built once per world by the real execution path and kept as a starting point: a copy of the
simulator's state (taken on its own thread) and a copy of the database file. Every case starts a new simulator from
a fresh copy of that state and a fresh copy of that file, in a few tens of milliseconds: no case sees another case's
orders, and none pays for an open it does not test.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import redis

from arbx_pipelines.core.decision_inputs import StrategyParams
from arbx_pipelines.core.models import Mode, Venue
from arbx_pipelines.execution.context import ExecutionDeps, ExecutionSettings
from arbx_pipelines.execution.open_hedge import OpenRequest, OpenStatus, open_hedge
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.db import make_engine, skip_sqlite_fsync, upgrade
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore
from arbx_pipelines.storage.venue_audit import AuditPosition, records_of
from arbx_pipelines.venues import make_client
from arbx_pipelines.venues.client import VenueClient
from arbx_pipelines.venues.sim.ccxt_wiring import wire
from arbx_pipelines.venues.sim.server import SimServer
from arbx_pipelines.venues.sim.settings import (
    DEFAULT_API_KEY,
    DEFAULT_PASSPHRASE,
    DEFAULT_SECRET,
    REPRODUCIBLE_MARKET_START_MS,
    SimSettings,
)

PERP, SPOT = "DOGE/USDT:USDT", "DOGE/USDT"
COIN = "DOGE"
SPIKE = 0.003
SIM_SEED = 7
CREDENTIALS = {"api_key": DEFAULT_API_KEY, "secret": DEFAULT_SECRET, "passphrase": DEFAULT_PASSPHRASE}
#: the client's request timeout: short, so a "timeout after accept" fault shows within a second
CLIENT_TIMEOUT_MS = 1000
#: the timeout of a case without venue faults (the crash sweep): no request hangs there, and a loaded machine must not
#: turn a slow answer into a failure the case did not ask for
PATIENT_TIMEOUT_MS = 10_000
#: the simulator delays a request at most 600 ms before handling it (its latency fault): a request older than this
#: can no longer arrive, so look-ups may call its order absent (production keeps the venue's window, e.g. 6 s)
IN_FLIGHT_S = 2.0
#: the execution settings of every case: quick back-off so faults cost little time, the rest as configured
SETTINGS = ExecutionSettings(
    order_timeout_s=8.0, backoff_s=0.05, backoff_max_s=0.3, leverage=5, order_in_flight_s=IN_FLIGHT_S
)
#: liquidation distance a reduce_leverage case starts from: below the 20 % tier, so the job acts
REDUCE_DISTANCE = Decimal("0.12")
#: USDT left spare in the spot wallet of a reduce_leverage case: the margin it can add is too little, so it also cuts
REDUCE_SPARE_USDT = Decimal("1")
JOBS = ("open", "close", "rebalance_hedge", "reduce_leverage")


def _rebased(urls: Any, old: str, new: str) -> Any:
    """ccxt's ``urls['api']`` (nested dicts of strings) moved from one simulator's base URL to another's."""
    if isinstance(urls, dict):
        return {key: _rebased(value, old, new) for key, value in urls.items()}
    return urls.replace(old, new, 1) if isinstance(urls, str) else urls


class SimAdmin:
    """The simulator's ``/_admin`` endpoints over HTTP (documented in venues/sim/admin.py)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_admin{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def add_fault(self, **rule: Any) -> None:
        self.call("POST", "/faults", rule)

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def set_funding(self, venue: str, symbol: str, rate: float) -> None:
        self.call("POST", "/funding", {"venue": venue, "symbol": symbol, "rate": rate})

    def move_price(self, venue: str, symbol: str, factor: float) -> None:
        """Move the coin's prices by ``factor``, then step the clock a second: on the stepped clock the order books
        follow a price override only when time moves (until then the ticker alone shows the new price)."""
        self.call("POST", "/price", {"venue": venue, "symbol": symbol, "factor": factor})
        self.call("POST", "/time", {"advance_ms": 1000})

    def account(self, venue: str) -> dict[str, Any]:
        return dict(self.call("GET", f"/venues/{venue}/account"))


class PreconditionFailed(RuntimeError):
    """A case could not be set up (e.g. the hedge to close did not open): a harness problem, not a verdict."""


@dataclass(frozen=True)
class Lots:
    spot: Decimal
    perp: Decimal

    @property
    def largest(self) -> Decimal:
        return max(self.spot, self.perp)


@dataclass(frozen=True)
class StartingPoint:
    """A job's precondition, kept to start each case from: the simulator's state, the database file, the coins held
    before it (the venue's start balance), the trades the harness made by hand, and the position the job acts on."""

    simulator: Any
    db_file: Path
    spot_at_start: Decimal
    hand_orders: frozenset[str]
    position_id: int | None
    #: the venue's holdings once the precondition is in place (spot relative to ``spot_at_start``)
    spot: Decimal
    perp: Decimal
    positions: tuple[AuditPosition, ...]
    #: the strategy of the world (a negative-funding one declares the spot inventory it may sell)
    strategy: StrategyParams = field(default_factory=StrategyParams)


def spot_held(exchange: Any) -> Decimal:
    """The coins the account holds, from a plain ccxt client."""
    return Decimal(str(exchange.fetch_balance()["total"].get(COIN) or 0))


def perp_held(exchange: Any) -> Decimal:
    """The perpetual position in coins, signed (< 0 short), from a plain ccxt client (OKX counts contracts)."""
    size = Decimal(str(exchange.market(PERP).get("contractSize") or 1))
    held = Decimal(0)
    for position in exchange.fetch_positions([PERP]):
        contracts = Decimal(str(position.get("contracts") or 0)) * size
        held += -contracts if position.get("side") == "short" else contracts
    return held


class CrashWorld:
    """The venue, database and state store of one case at a time, on one venue. ``state`` is ``database`` or
    ``redis`` (the ``prod`` overlay's state store; ``redis_url`` then names it, each case uses its own key prefix)."""

    def __init__(self, venue: str, workdir: Path, *, redis_url: str | None = None) -> None:
        self.venue = Venue(venue)
        self.workdir = workdir
        self.redis_url = redis_url
        workdir.mkdir(parents=True, exist_ok=True)
        self.empty_db = workdir / "empty.db"
        upgrade(f"sqlite:///{self.empty_db}")
        self.db_path = workdir / "case.db"
        self._replace_db(self.empty_db)
        self.engine = make_engine(f"sqlite:///{self.db_path}")
        # a SIGKILL loses nothing the OS already holds: fsync on every commit would only slow the sweep down
        skip_sqlite_fsync(self.engine)
        self.server: SimServer | None = None
        self.redis_prefix = ""
        self._client: tuple[VenueClient, Any] | None = None
        self._plain: tuple[Any, Any] | None = None
        self.lots = Lots(Decimal(0), Decimal(0))
        #: venue order ids of trades the harness made by hand (a drift): not the execution's, never recorded
        self.hand_orders: set[str] = set()
        self._starting_points: dict[str, StartingPoint] = {}
        #: the venue client's request timeout and the execution settings, set per case (run_case)
        self.client_timeout_ms = CLIENT_TIMEOUT_MS
        self.settings = SETTINGS
        self.strategy = StrategyParams()

    # ----- per case --------------------------------------------------------------------------------------
    def start_case(self, job: str, variant: str = "") -> StartingPoint:
        """A new simulator and database in the state ``job`` (in world ``variant``, see crash_setups) starts from
        (built by the real path the first time)."""
        key = f"{job}/{variant}"
        if key not in self._starting_points:
            self._starting_points[key] = self._build_starting_point(job, variant)
        point = self._starting_points[key]
        self._restart(point.simulator, point.db_file)
        self.hand_orders, self.strategy = set(point.hand_orders), point.strategy
        return point

    def _restart(self, simulator: Any, db_file: Path) -> None:
        self.stop()
        settings = SimSettings(
            port=0,
            seed=SIM_SEED,
            history_dir=None,
            venues=(self.venue.value,),
            market_start_ms=REPRODUCIBLE_MARKET_START_MS,
            clock_running=False,  # prices never depend on how fast the machine is: a schedule replays the same
        )
        server = SimServer(settings)
        if simulator is not None:
            server.simulator = copy.deepcopy(simulator)
        self.server = server.start()
        self.engine.dispose()
        self._replace_db(db_file)
        self.redis_prefix = f"arbx-crash-{uuid.uuid4().hex[:10]}:"
        self.hand_orders = set()
        if self._client is None:
            asyncio.run(self._load_markets())

    def _build_starting_point(self, job: str, variant: str) -> StartingPoint:
        from arbx_pipelines.bench.crash_setups import prepare_world, stock_inventory  # they build on this module

        self._restart(None, self.empty_db)
        self.strategy = stock_inventory(self, variant)
        spot_at_start = spot_held(self.plain_client())
        position_id = prepare_world(self, job, variant)
        server = self.server
        if server is None:
            raise PreconditionFailed("the simulator stopped while the precondition was built")
        simulator = server.call(lambda: copy.deepcopy(server.simulator))
        exchange = self.plain_client()
        spot, perp = spot_held(exchange) - spot_at_start, perp_held(exchange)
        positions = records_of(self.engine, self.venue.value, (SPOT, PERP)).positions
        self.engine.dispose()
        db_file = self.workdir / f"start-{job}-{variant or 'plain'}.db"  # one file per starting point
        shutil.copyfile(self.db_path, db_file)
        hand = frozenset(self.hand_orders)
        return StartingPoint(simulator, db_file, spot_at_start, hand, position_id, spot, perp, positions, self.strategy)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.redis_url and self.redis_prefix:
            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"{self.redis_prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()

    def close(self) -> None:
        self.stop()
        self.engine.dispose()

    def _replace_db(self, source: Path) -> None:
        """The case database becomes a copy of ``source`` (the engine's connections are closed first)."""
        for suffix in ("-wal", "-shm"):
            Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, self.db_path)

    @property
    def base_url(self) -> str:
        if self.server is None:
            raise RuntimeError("no simulated venue: call start_case() first")
        return self.server.base_url

    @property
    def admin(self) -> SimAdmin:
        return SimAdmin(self.base_url)

    # ----- what the execution code and the checks use ---------------------------------------------------
    def state_store(self, kind: str = "database") -> StateStore:
        if kind == "redis":
            if not self.redis_url:
                raise ValueError("the redis state store needs a Redis URL")
            return RedisState.from_url(self.redis_url, prefix=self.redis_prefix)
        return DatabaseState(self.engine)

    def deps(self, state: StateStore | None = None) -> ExecutionDeps:
        return ExecutionDeps(
            engine=self.engine,
            state=state or DatabaseState(self.engine),
            alerts=AlertSink(self.engine),
            settings=self.settings,
            strategy=self.strategy,
            venues=(self.venue,),
        )

    @asynccontextmanager
    async def client(self) -> AsyncIterator[VenueClient]:
        """The venue client the execution layer uses. One per world, pointed at each case's simulator and closed
        after each use (its HTTP session belongs to one event loop): ccxt's constructor and the market load cost
        more than a case's whole execution."""
        if self._client is None:
            client = make_client(self.venue, Mode.SIM, credentials=CREDENTIALS, sim_url=self.base_url)
            client.exchange.enableRateLimit = False
            # ccxt sleeps this long on close for TLS connections to wind down: none on the plain-HTTP simulator, and a
            # case closes the client three times (the job, two reconciles)
            client.exchange.timeout_on_exit = 0
            self._client = (client, self.base_url)
        client, wired_to = self._client
        client.exchange.timeout = self.client_timeout_ms
        client.exchange.urls["api"] = _rebased(client.exchange.urls["api"], wired_to, self.base_url)
        self._client = (client, self.base_url)
        # reopened in this event loop: ccxt binds a client to the loop it first ran in and refuses one it closed
        client.exchange.asyncio_loop = None
        client.exchange.closed_by_user = False
        try:
            yield client
        finally:
            await client.close()

    def plain_client(self) -> Any:
        """A plain synchronous ccxt client on the simulator: how the checks look at the venue from outside. Built
        once (ccxt's constructor is slow) and pointed at each case's simulator."""
        if self._plain is None:
            exchange = wire(getattr(ccxt, self.venue.value)({"enableRateLimit": False}), self.base_url)
            exchange.load_markets()
            self._plain = (exchange, self.base_url)
        exchange, wired_to = self._plain
        exchange.urls["api"] = _rebased(exchange.urls["api"], wired_to, self.base_url)
        self._plain = (exchange, self.base_url)
        return exchange

    async def _load_markets(self) -> None:
        async with self.client() as client:
            await client.markets()
            spot, perp = await client.market(SPOT), await client.market(PERP)
        if spot.rules.base_step is None or perp.rules.base_step is None:
            raise PreconditionFailed(f"{self.venue}: no lot size for {SPOT} or {PERP}")
        self.lots = Lots(spot.rules.base_step, perp.rules.base_step)

    # ----- preconditions ---------------------------------------------------------------------------------
    def spike_funding(self, sign: int = 1) -> None:
        self.admin.set_funding(self.venue.value, PERP, SPIKE * sign)

    def open_position(self, sign: int = 1) -> int:
        """An open hedge made by the real open path (no faults, no crash point): the start of close, rebalance and
        reduce_leverage cases (``sign`` -1: a negative-funding hedge, spot sold and perp long)."""
        self.spike_funding(sign)

        async def run() -> int:
            async with self.client() as client:
                outcome = await open_hedge(self.deps(), client, OpenRequest(self.venue, PERP, "crash:precondition"))
            if outcome.status is not OpenStatus.OPENED or outcome.position_id is None:
                raise PreconditionFailed(
                    f"{self.venue}: the precondition open ended {outcome.status}: {outcome.reason}"
                )
            return outcome.position_id

        return asyncio.run(run())

    def drift_position(self) -> None:
        """A hand trade on the venue sells a third of the spot leg: the hedge drifts past the rebalance threshold."""
        exchange = self.plain_client()
        held = Decimal(str(exchange.fetch_balance()["total"].get(COIN) or 0))
        amount = exchange.amount_to_precision(SPOT, str(held / 3))
        order = exchange.create_order(SPOT, "market", "sell", float(amount))
        self.hand_orders.add(str(order["id"]))

    def near_liquidation(self) -> None:
        """Move the short's liquidation price to ``REDUCE_DISTANCE`` above the mark by setting the perpetual's
        collateral (liquidation is linear in it: two readings solve for the amount) and leave little spare USDT in a
        separate spot wallet, so reduce_leverage adds what margin it can and then cuts the hedge."""
        wallet = "futures"
        collateral = self.free_usdt(wallet)
        first = self._liquidation(wallet, collateral)
        second = self._liquidation(wallet, collateral / 2)
        slope = (first[0] - second[0]) / (collateral / 2)
        target = first[1] * (1 + REDUCE_DISTANCE)
        needed = collateral + (target - first[0]) / slope
        self.set_usdt(wallet, needed.quantize(Decimal("0.01")))
        if self.separate_wallets:
            self.set_usdt("spot", self.deps().limits.reserve(self.venue) + REDUCE_SPARE_USDT)

    @property
    def separate_wallets(self) -> bool:
        """The venue keeps spot and perpetual wallets apart (OKX's unified account does not)."""
        return self._client is not None and self._client[0].separate_wallets

    def free_usdt(self, wallet: str) -> Decimal:
        wallets = self.admin.account(self.venue.value)["wallets"]
        return Decimal(str(wallets[wallet].get("USDT", {"free": "0"})["free"]))

    def set_usdt(self, wallet: str, amount: Decimal) -> None:
        body = {"wallet": wallet, "asset": "USDT", "amount": str(amount)}
        self.admin.call("POST", f"/venues/{self.venue.value}/balance", body)

    def _liquidation(self, wallet: str, collateral: Decimal) -> tuple[Decimal, Decimal]:
        """(liquidation price, mark price) of the position with ``collateral`` USDT in ``wallet``."""
        self.set_usdt(wallet, collateral)
        (position,) = self.admin.account(self.venue.value)["positions"]
        return Decimal(str(position["liquidation_price"])), Decimal(str(position["mark_price"]))
