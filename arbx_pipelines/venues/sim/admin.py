"""Admin HTTP endpoints of the simulator (``/_admin/...``): control faults, time and the market at run time.

All bodies and answers are JSON. ``venue`` may be omitted (or null) where it says "all venues".

===========================================  =======================================================================
``GET /_admin/state``                        simulated time, speed, paused, venues, active fault rules
``GET /_admin/endpoints``                    every served route per venue (method, path, weight, signed)
``GET /_admin/unknown``                      requests that hit no route (how missing endpoints show up)
``GET /_admin/requests[?venue=v]``           the latest requests served (venue, "METHOD /path"), oldest first
``DELETE /_admin/requests``                  forget them
``GET /_admin/faults``                       active fault rules
``POST /_admin/faults``                      add a rule: ``{"kind", "venue", "endpoint", "probability", "times",
                                             "latency_ms", "hang_ms", "reason", "fill_ratio", "weight_limit",
                                             "after_accept"}`` (see ``faults.py``) -> the rule with its ``rule_id``
``DELETE /_admin/faults[?venue=v]``          remove all rules (of one venue)
``DELETE /_admin/faults/{rule_id}``          remove one rule
``POST /_admin/time``                        ``{"advance_ms": n}`` or ``{"advance_hours": h}`` jumps forward and
                                             settles what falls due; ``{"speed": x}``; ``{"pause": true|false}``
``POST /_admin/funding``                     ``{"venue", "symbol" | "coin", "rate", "duration_ms"}``: the next
                                             settlements pay ``rate`` (until cleared or for ``duration_ms``)
``DELETE /_admin/funding[?venue=&coin=]``    end funding overrides now
``POST /_admin/price``                       ``{"venue", "symbol" | "coin", "price" | "factor", "duration_ms"}``:
                                             move a coin's spot and perp prices to ``price`` (perp) or by ``factor``
``DELETE /_admin/price[?venue=&coin=]``      end price overrides now
``GET /_admin/venues/{venue}/account``       wallets, positions (with liquidation price), open orders, ledger size
``POST /_admin/venues/{venue}/balance``      ``{"wallet", "asset", "amount"}``: set a wallet's free balance
===========================================  =======================================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from arbx_pipelines.venues.sim.clock import HOUR_MS
from arbx_pipelines.venues.sim.faults import FaultRule, FaultRuleError
from arbx_pipelines.venues.sim.market import Override
from arbx_pipelines.venues.sim.simulator import Simulator

Json = dict[str, Any]


class AdminError(ValueError):
    """Bad admin input: answered with HTTP 400 and the message."""


def _reply(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=lambda data: json.dumps(data, default=str))


async def _body(request: web.Request) -> Json:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except json.JSONDecodeError as exc:
        raise AdminError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminError("body must be a JSON object")
    return data


def _coin(data: Json) -> str:
    coin = data.get("coin")
    symbol = data.get("symbol")
    if coin:
        return str(coin).upper()
    if symbol:
        return str(symbol).split("/")[0].upper()
    raise AdminError("give 'coin' (e.g. BTC) or 'symbol' (e.g. BTC/USDT:USDT)")


def _number(data: Json, key: str) -> float:
    try:
        return float(Decimal(str(data[key])))
    except (KeyError, InvalidOperation, ValueError) as exc:
        raise AdminError(f"{key!r} must be a number") from exc


def add_admin_routes(app: web.Application, sim: Simulator, unknown: list[dict[str, str]]) -> None:
    def guarded(handler: Callable[[web.Request], Awaitable[web.Response]]) -> Any:
        async def run(request: web.Request) -> web.Response:
            if request.method != "GET":
                sim.dirty = True  # time, overrides and balances are part of the saved world
            try:
                return await handler(request)
            except (AdminError, FaultRuleError, KeyError, ValueError) as exc:
                return _reply({"error": str(exc).strip("'\"")}, status=400)

        return run

    def venue_of(data: Json) -> str | None:
        venue = data.get("venue")
        if venue is not None and venue not in sim.venues:
            raise AdminError(f"unknown venue {venue!r}; served: {sorted(sim.venues)}")
        return venue

    async def state(request: web.Request) -> web.Response:
        return _reply({"time_ms": sim.clock.now_ms(), "speed": sim.clock.speed, "paused": sim.clock.paused,
                       "seed": sim.settings.seed, "venues": sorted(sim.venues),
                       "replayed_series": len(sim.history.series),
                       "faults": [rule.to_dict() for rule in sim.faults.rules]})  # fmt: skip

    async def endpoints(request: web.Request) -> web.Response:
        return _reply({name: [{"method": r.method, "path": r.path, "weight": r.weight, "signed": r.signed}
                              for r in slot.module.routes()] for name, slot in sim.venues.items()})  # fmt: skip

    async def unknown_requests(request: web.Request) -> web.Response:
        return _reply(unknown)

    async def served_requests(request: web.Request) -> web.Response:
        venue = request.query.get("venue")
        return _reply([{"venue": v, "endpoint": e} for v, e in sim.request_log if venue in (None, v)])

    async def forget_requests(request: web.Request) -> web.Response:
        sim.request_log.clear()
        return _reply({"cleared": True})

    async def list_faults(request: web.Request) -> web.Response:
        return _reply([rule.to_dict() for rule in sim.faults.rules])

    async def add_fault(request: web.Request) -> web.Response:
        data = await _body(request)
        if data.get("venue") not in (None, "*"):
            venue_of(data)
        return _reply(sim.faults.add(FaultRule.from_dict(data)).to_dict())

    async def clear_faults(request: web.Request) -> web.Response:
        return _reply({"removed": sim.faults.clear(request.query.get("venue"))})

    async def remove_fault(request: web.Request) -> web.Response:
        removed = sim.faults.remove(int(request.match_info["rule_id"]))
        return _reply({"removed": int(removed)}, status=200 if removed else 404)

    async def time_control(request: web.Request) -> web.Response:
        data = await _body(request)
        sim.sync_all()
        if "advance_ms" in data or "advance_hours" in data:
            jump = _number(data, "advance_ms") if "advance_ms" in data else _number(data, "advance_hours") * HOUR_MS
            sim.clock.advance(jump)
        if "speed" in data:
            sim.clock.set_speed(_number(data, "speed"))
        if "pause" in data:
            sim.clock.pause() if data["pause"] else sim.clock.resume()
        sim.sync_all()
        return _reply({"time_ms": sim.clock.now_ms(), "speed": sim.clock.speed, "paused": sim.clock.paused})

    def _end(overrides: list[Override], request: web.Request) -> int:
        venue, coin = request.query.get("venue"), request.query.get("coin")
        now, ended = sim.clock.now_ms(), 0
        for index, item in enumerate(overrides):
            if (venue and item.venue != venue) or (coin and item.coin != coin.upper()):
                continue
            if item.end_ms is None or item.end_ms > now:
                overrides[index] = Override(item.venue, item.coin, item.start_ms, now, item.value)
                ended += 1
        return ended

    def _window(data: Json) -> tuple[int, int | None]:
        now = sim.clock.now_ms()
        duration = data.get("duration_ms")
        return now, (now + int(_number(data, "duration_ms")) if duration is not None else None)

    async def set_funding(request: web.Request) -> web.Response:
        data = await _body(request)
        venue, coin = venue_of(data), _coin(data)
        rate = _number(data, "rate")
        if not -0.05 <= rate <= 0.05:
            raise AdminError(f"rate {rate} outside [-0.05, 0.05] per settlement")
        sim.sync_all()
        start, end = _window(data)
        sim.market.funding_overrides.append(Override(venue, coin, start, end, rate))
        return _reply({"venue": venue, "coin": coin, "rate": rate, "start_ms": start, "end_ms": end})

    async def end_funding(request: web.Request) -> web.Response:
        sim.sync_all()
        return _reply({"ended": _end(sim.market.funding_overrides, request)})

    async def set_price(request: web.Request) -> web.Response:
        data = await _body(request)
        venue, coin = venue_of(data), _coin(data)
        sim.sync_all()
        if "factor" in data:
            factor = _number(data, "factor")
        else:
            reference_venue = venue or next(iter(sim.venues))
            current = sim.market.perp_price(reference_venue, coin, sim.clock.now_ms())
            factor = _number(data, "price") / current
        if factor <= 0:
            raise AdminError("price and factor must be positive")
        start, end = _window(data)
        sim.market.price_overrides.append(Override(venue, coin, start, end, factor))
        return _reply({"venue": venue, "coin": coin, "factor": factor, "start_ms": start, "end_ms": end})

    async def end_price(request: web.Request) -> web.Response:
        sim.sync_all()
        return _reply({"ended": _end(sim.market.price_overrides, request)})

    async def account(request: web.Request) -> web.Response:
        slot = sim.venue(request.match_info["venue"])
        engine = slot.engine
        engine.sync()
        acct = engine.account
        positions = [
            {"symbol": p.symbol, "qty": p.qty, "entry_price": p.entry_price, "leverage": acct.leverage_of(p.symbol),
             "margin_mode": acct.margin_mode_of(p.symbol), "mark_price": engine.mark_price(p.symbol),
             "liquidation_price": acct.liquidation_price(p, engine.mark_price)}
            for p in acct.open_positions()
        ]  # fmt: skip
        return _reply({
            "time_ms": engine.now_ms(),
            "wallets": {w: {a: {"free": b.free, "locked": b.locked} for a, b in assets.items()}
                        for w, assets in acct.wallets.items()},
            "available_margin": acct.available_margin(engine.mark_price),
            "positions": positions,
            "open_orders": [{"order_id": o.order_id, "client_order_id": o.client_order_id, "symbol": o.symbol,
                             "side": o.side, "amount": o.amount, "filled": o.filled, "price": o.price}
                            for o in engine.trading.open_orders()],
            "orders": len(acct.orders),
            "ledger": len(acct.ledger),
        })  # fmt: skip

    async def set_balance(request: web.Request) -> web.Response:
        slot = sim.venue(request.match_info["venue"])
        data = await _body(request)
        try:
            amount = Decimal(str(data["amount"]))
            wallet, asset = str(data["wallet"]), str(data["asset"]).upper()
        except (KeyError, InvalidOperation) as exc:
            raise AdminError("give 'wallet', 'asset' and a numeric 'amount'") from exc
        if amount < 0:
            raise AdminError("amount must not be negative")
        slot.engine.account.balance(wallet, asset).free = amount
        return _reply({"wallet": wallet, "asset": asset, "free": amount})

    router = app.router
    router.add_get("/_admin/state", guarded(state))
    router.add_get("/_admin/endpoints", guarded(endpoints))
    router.add_get("/_admin/unknown", guarded(unknown_requests))
    router.add_get("/_admin/requests", guarded(served_requests))
    router.add_delete("/_admin/requests", guarded(forget_requests))
    router.add_get("/_admin/faults", guarded(list_faults))
    router.add_post("/_admin/faults", guarded(add_fault))
    router.add_delete("/_admin/faults", guarded(clear_faults))
    router.add_delete("/_admin/faults/{rule_id:\\d+}", guarded(remove_fault))
    router.add_post("/_admin/time", guarded(time_control))
    router.add_post("/_admin/funding", guarded(set_funding))
    router.add_delete("/_admin/funding", guarded(end_funding))
    router.add_post("/_admin/price", guarded(set_price))
    router.add_delete("/_admin/price", guarded(end_price))
    router.add_get("/_admin/venues/{venue}/account", guarded(account))
    router.add_post("/_admin/venues/{venue}/balance", guarded(set_balance))
