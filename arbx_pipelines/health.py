"""Health checks of a running arbx (``arbx health`` and the ``health_check`` schedule): the database, Redis when
configured, each venue (its clock and a signed call), the Dagster daemon's heartbeat, sensors ticking and the age
of the last funding snapshot. Each check is one :class:`CheckResult`; none raises."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.secrets import load_secrets
from arbx_pipelines.core.models import MarketType, Mode, Venue
from arbx_pipelines.logs import scrub
from arbx_pipelines.storage.activity import latest_snapshot_time
from arbx_pipelines.storage.db import DatabaseError, check_reachable, current_revision, make_engine

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from arbx_pipelines.venues.client import VenueClient

#: a sensor whose last tick is older than this is not ticking (the slowest arbx sensor runs every minute)
SENSOR_TICK_TOLERANCE = timedelta(minutes=5)
#: the venue's clock may differ from ours by this much before signed calls are at risk (venues allow 5-30 s)
MAX_CLOCK_SKEW = timedelta(seconds=5)
VENUE_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_database(url: str) -> CheckResult:
    try:
        check_reachable(url)
    except DatabaseError as exc:
        return CheckResult("database", False, str(exc))
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    if revision is None:
        return CheckResult("database", False, "reachable but empty: run `arbx db upgrade`")
    return CheckResult("database", True, f"reachable, revision {revision}")


def check_redis(url: str | None) -> CheckResult:
    if not url:
        return CheckResult("redis", True, "not configured (state lives in the database)", skipped=True)
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return CheckResult("redis", False, f"not reachable: {exc}")
    return CheckResult("redis", True, "reachable")


def venue_client(loaded: LoadedConfig, venue: Venue) -> VenueClient:
    """A client for read-only checks (the clock and balances): never used to send an order."""
    from arbx_pipelines.venues import make_client

    cfg = loaded.config
    credentials: dict[str, str] = {}
    sim_url = None
    if cfg.mode is Mode.SIM:
        sim = cfg.simulator
        credentials = {"api_key": sim.api_key, "secret": sim.secret, "passphrase": sim.passphrase}
        sim_url = f"http://{sim.host}:{sim.port}"
    elif cfg.mode in (Mode.DEMO, Mode.LIVE):
        credentials = load_secrets(loaded).get(venue.value, {})
    return make_client(venue, cfg.mode, credentials=credentials, sim_url=sim_url)


async def _venue_checks(client: VenueClient, venue: Venue) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        venue_ms = await asyncio.wait_for(client.exchange.fetch_time(), VENUE_TIMEOUT_SECONDS)
        skew = timedelta(milliseconds=abs(int(venue_ms) - int(time.time() * 1000)))
        detail = f"clock skew {skew.total_seconds():.1f} s"
        if client.mode is Mode.SIM:  # the simulated venues run their own (replayed, steppable) clock
            results.append(CheckResult(f"venue {venue.value} time", True, f"{detail} (simulated clock)"))
        else:
            results.append(CheckResult(f"venue {venue.value} time", skew <= MAX_CLOCK_SKEW, detail))
    except Exception as exc:  # any failure of a venue is that check's result, never the command's
        results.append(
            CheckResult(f"venue {venue.value} time", False, f"no answer: {type(exc).__name__}: {scrub(str(exc))}")
        )
    try:
        balances = await asyncio.wait_for(client.balances(MarketType.SPOT), VENUE_TIMEOUT_SECONDS)
        results.append(CheckResult(f"venue {venue.value} signed", True, f"spot balances read ({len(balances)} assets)"))
    except Exception as exc:
        results.append(
            CheckResult(f"venue {venue.value} signed", False, f"failed: {type(exc).__name__}: {scrub(str(exc))}")
        )
    return results


def check_venues(loaded: LoadedConfig) -> list[CheckResult]:
    async def run_all() -> list[CheckResult]:
        found: list[CheckResult] = []
        for venue in loaded.config.enabled_venues():
            client = venue_client(loaded, venue)
            try:
                found.extend(await _venue_checks(client, venue))
            finally:
                await client.close()
        return found

    return asyncio.run(run_all())


def check_daemon(instance: DagsterInstance) -> CheckResult:
    statuses = instance.get_daemon_statuses()
    unhealthy = sorted(name for name, status in statuses.items() if status.required and not status.healthy)
    if all(status.last_heartbeat is None for status in statuses.values()):
        return CheckResult("daemon", False, "no daemon heartbeat: is `arbx run` running?")
    if unhealthy:
        return CheckResult("daemon", False, f"no recent heartbeat from {', '.join(unhealthy)}")
    return CheckResult("daemon", True, f"{len(statuses)} daemons beating")


def check_sensors(instance: DagsterInstance, now: datetime) -> CheckResult:
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    running = {InstigatorStatus.RUNNING, InstigatorStatus.DECLARED_IN_CODE}
    states = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR, instigator_statuses=running)
    if not states:
        return CheckResult("sensors", False, "no sensor has ticked yet")
    stale: list[str] = []
    for state in states:
        ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        last = datetime.fromtimestamp(ticks[0].timestamp, UTC) if ticks else None
        if last is None or now - last > SENSOR_TICK_TOLERANCE:
            stale.append(f"{state.instigator_name} (last tick {last:%H:%M:%S}Z)" if last else state.instigator_name)
    if stale:
        return CheckResult("sensors", False, f"not ticking for {SENSOR_TICK_TOLERANCE}: {', '.join(sorted(stale))}")
    return CheckResult("sensors", True, f"{len(states)} sensors ticking")


def check_snapshot_age(loaded: LoadedConfig, now: datetime) -> CheckResult:
    limit = timedelta(minutes=2 * loaded.config.schedules.funding_snapshot_minutes + 5)
    engine = make_engine(loaded.database_url)
    try:
        last = latest_snapshot_time(engine)
    except Exception as exc:  # the database check names the cause
        return CheckResult("funding snapshot", False, f"cannot read: {type(exc).__name__}")
    finally:
        engine.dispose()
    if last is None:
        return CheckResult("funding snapshot", False, "no funding snapshot taken yet")
    age = now - last
    detail = f"last at {last:%Y-%m-%d %H:%M:%S}Z, {int(age.total_seconds() // 60)} min ago (limit {limit})"
    return CheckResult("funding snapshot", age <= limit, detail)


def run_health_checks(
    loaded: LoadedConfig, instance: DagsterInstance | None, now: datetime | None = None
) -> list[CheckResult]:
    """Every check, in a fixed order. ``instance``: the Dagster instance of ``arbx run`` (None: daemon and sensor
    checks fail as not running)."""
    moment = now or datetime.now(UTC)
    results = [check_database(loaded.database_url), check_redis(loaded.config.redis.url)]
    results.extend(check_venues(loaded))
    if instance is None:
        results.append(CheckResult("daemon", False, "no Dagster instance: is `arbx run` running?"))
        results.append(CheckResult("sensors", False, "no Dagster instance"))
    else:
        results.append(check_daemon(instance))
        results.append(check_sensors(instance, moment))
    if results[0].ok:
        results.append(check_snapshot_age(loaded, moment))
    else:
        results.append(CheckResult("funding snapshot", False, "database not reachable"))
    return results


def failures(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]
