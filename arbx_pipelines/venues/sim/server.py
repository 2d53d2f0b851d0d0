"""The aiohttp server of the simulated venues: ``/<venue>/...`` per venue plus ``/_admin/...``.

``build_app(settings)`` makes the application; ``SimServer`` runs it on a background thread (tests, benchmarks:
port 0 picks a free port) and ``serve_forever`` runs it in the foreground (``arbx sim``).

Each venue route goes through one wrapper that applies fault rules (``faults.py``), counts request weight,
authenticates signed routes via the venue module, syncs the engine to the current simulated time and renders engine
errors in the venue's format. Unknown paths under a venue prefix answer the venue's 404 and are remembered
(``GET /_admin/unknown``), which is how missing endpoints show up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

from aiohttp import web

from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.sim.admin import add_admin_routes
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.faults import FaultKind, FaultRule
from arbx_pipelines.venues.sim.persistence import write_world
from arbx_pipelines.venues.sim.settings import SimSettings
from arbx_pipelines.venues.sim.simulator import Simulator, VenueSlot
from arbx_pipelines.venues.sim.streams import add_stream_routes
from arbx_pipelines.venues.sim.streams.rest_tape import tape_routes
from arbx_pipelines.venues.sim.venue_api import Reply, Route, SimRequest

log = get_logger("arbx.sim.server")

SIMULATOR_KEY = web.AppKey("simulator", Simulator)
UNKNOWN_KEY = web.AppKey("unknown_requests", list)
SYNC_INTERVAL_S = 0.5
#: how often a changed world is written to ``SimSettings.state_path`` (and once more on stop)
SAVE_INTERVAL_S = 1.0
MAX_UNKNOWN = 500


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), default=_json_default)


def _to_response(reply: Reply) -> web.Response:
    return web.Response(
        text=dumps(reply.payload), status=reply.status, headers=reply.headers, content_type="application/json"
    )


async def _sim_request(request: web.Request, prefix: str) -> SimRequest:
    body = await request.text() if request.can_read_body else ""
    return SimRequest(
        method=request.method,
        path=request.path[len(prefix) :] or "/",
        query_string=request.raw_path.partition("?")[2],  # as sent: signatures cover the encoded form
        query={key: value for key, value in request.query.items()},
        body=body,
        headers=request.headers,
    )


def _drop(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    raise web.HTTPServiceUnavailable()


def make_handler(simulator: Simulator, slot: VenueSlot, route: Route) -> Callable[[web.Request], Awaitable[Any]]:
    venue_name = slot.module.name
    prefix = f"/{venue_name}"

    async def handle(request: web.Request) -> web.StreamResponse:
        sim_request = await _sim_request(request, prefix)
        endpoint = f"{request.method} {route.path}"
        simulator.request_log.append((venue_name, endpoint))
        fired = simulator.faults.triggered(venue_name, endpoint)
        used = simulator.weights.add(venue_name, route.limit_group, route.weight)
        headers = slot.module.weight_headers({route.limit_group: used})
        after: list[FaultRule] = []
        for rule in fired:
            if rule.kind is FaultKind.LATENCY:
                await asyncio.sleep(rule.latency_ms / 1000)
            elif rule.kind is FaultKind.DROP_CONNECTION and not rule.after_accept:
                return _drop(request)
            elif rule.kind is FaultKind.RATE_LIMIT and (
                rule.weight_limit is None or simulator.faults.charge(rule, route.weight) > rule.weight_limit
            ):
                limited = SimError(ErrorKind.RATE_LIMITED, "rate limited", used=used)
                reply = slot.module.render_error(limited, sim_request)
                reply.headers.update(headers)
                return _to_response(reply)
            elif rule.kind is FaultKind.REJECT:
                error = SimError(ErrorKind(rule.reason), f"injected {rule.reason}")
                return _to_response(slot.module.render_error(error, sim_request))
            elif rule.kind is FaultKind.PARTIAL_FILL:
                sim_request = replace(sim_request, fill_ratio=Decimal(repr(rule.fill_ratio)))
            elif rule.kind is FaultKind.REST_UNFILLED:
                sim_request = replace(sim_request, rest_unfilled=True)
            elif rule.kind in (FaultKind.TIMEOUT_AFTER_ACCEPT, FaultKind.DROP_CONNECTION):
                after.append(rule)
        try:
            if route.signed:
                simulator.dirty = True  # a private request may change the account: the world is saved soon
                slot.module.authenticate(sim_request)
            slot.engine.sync()
            result = route.handler(sim_request)
            reply = result if isinstance(result, Reply) else Reply(result)
        except SimError as error:
            reply = slot.module.render_error(error, sim_request)
        for rule in after:
            if rule.kind is FaultKind.TIMEOUT_AFTER_ACCEPT:
                await asyncio.sleep(rule.hang_ms / 1000)
            return _drop(request)
        reply.headers.update(headers)
        return _to_response(reply)

    return handle


def make_not_found(slot: VenueSlot, unknown: list[dict[str, str]]) -> Callable[[web.Request], Awaitable[Any]]:
    prefix = f"/{slot.module.name}"

    async def not_found(request: web.Request) -> web.StreamResponse:
        sim_request = await _sim_request(request, prefix)
        if len(unknown) < MAX_UNKNOWN:
            unknown.append({"venue": slot.module.name, "method": request.method, "path": sim_request.path,
                            "query": request.query_string[:300]})  # fmt: skip
        log.warning("unknown simulated endpoint", extra={"venue": slot.module.name, "endpoint": sim_request.endpoint})
        return _to_response(slot.module.not_found(sim_request))

    return not_found


async def _background_sync(app: web.Application) -> AsyncIterator[None]:
    """Settle funding and fill resting orders even while no request arrives."""
    simulator = app[SIMULATOR_KEY]

    async def loop() -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            try:
                simulator.sync_all()
            except Exception:  # keep the loop alive; the next request reports the problem
                log.exception("background sync failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _keep_world(app: web.Application) -> AsyncIterator[None]:
    """Save the world about once a second while it changes, and on stop (state built on this loop, written beside)."""
    simulator = app[SIMULATOR_KEY]
    path = simulator.settings.state_path
    writing: list[asyncio.Future[None]] = []

    async def loop() -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL_S)
            try:
                world = simulator.unsaved()
                if world is not None and path is not None:
                    writing[:] = [asyncio.get_running_loop().run_in_executor(None, write_world, path, world)]
                    await asyncio.shield(writing[0])
            except Exception as exc:  # keep serving; the next change or the stop tries again
                simulator.dirty = True
                log.error("saving the simulator world failed", extra={"path": str(path), "error": str(exc)})

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for in_flight in writing:  # an older world still being written must land before the last one
        with contextlib.suppress(Exception):
            await in_flight
    try:
        simulator.save()
    except OSError as exc:
        log.error("saving the simulator world at stop failed", extra={"path": str(path), "error": str(exc)})


def build_app(settings: SimSettings | None = None, simulator: Simulator | None = None) -> web.Application:
    simulator = simulator or Simulator(settings or SimSettings())
    app = web.Application(client_max_size=1 << 20)
    app[SIMULATOR_KEY] = simulator
    unknown: list[dict[str, str]] = []
    app[UNKNOWN_KEY] = unknown
    add_stream_routes(app, simulator)  # before the venues' catch-all routes
    for slot in simulator.venues.values():
        name = slot.module.name
        for route in [*slot.module.routes(), *tape_routes(slot)]:
            app.router.add_route(route.method, f"/{name}{route.path}", make_handler(simulator, slot, route))
        app.router.add_route("*", f"/{name}/{{tail:.*}}", make_not_found(slot, unknown))
    add_admin_routes(app, simulator, unknown)
    app.cleanup_ctx.append(_background_sync)
    if simulator.settings.state_path is not None:
        app.cleanup_ctx.append(_keep_world)
    return app


class SimServer:
    """The simulator on a background thread with its own event loop (tests, benchmarks, embedding)."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        self.settings = settings or SimSettings(port=0)
        self.simulator = Simulator(self.settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="arbx-sim", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def url(self, venue: str) -> str:
        return f"{self.base_url}/{venue}"

    def start(self) -> SimServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=60)
        return self

    async def _start(self) -> None:
        app = build_app(simulator=self.simulator)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on the server's loop thread (engine state is only touched there)."""

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(self._runner), self._loop).result(timeout=30)
            self._runner = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @staticmethod
    async def _shutdown(runner: web.AppRunner) -> None:
        """Stop serving, then cancel what is still running (e.g. a request held by a timeout fault)."""
        await runner.cleanup()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # ``arbx run`` stops its children with SIGTERM: stop as on Ctrl+C (the world is saved)


def serve_forever(settings: SimSettings, on_ready: Callable[[SimServer], None] | None = None) -> None:
    """Run in the foreground until interrupted (``arbx sim``); SIGTERM stops it as Ctrl+C does."""
    server = SimServer(settings).start()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if on_ready is not None:
            on_ready(server)
        threading.Event().wait()
    finally:
        server.stop()
