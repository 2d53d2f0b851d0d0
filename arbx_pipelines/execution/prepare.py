"""Before an open sends: the smallest hedge both legs accept, and the venue made ready (leverage, cross margin,
collateral in the wallet each leg trades from)."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from arbx_pipelines.core.models import MarketType
from arbx_pipelines.core.money import CENT, ZERO
from arbx_pipelines.core.sizing import MarketRules, common_step
from arbx_pipelines.execution.capital import VenueWallets
from arbx_pipelines.execution.context import ExecutionDeps
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.storage.ledger import ledger_once
from arbx_pipelines.storage.orders import utcnow
from arbx_pipelines.venues.client import VenueClient

#: perp margin kept in the perpetual wallet per unit of initial margin (cross margin: more is safer)
MARGIN_BUFFER = Decimal(2)


def minimum_hedge_base(spot: MarketRules, perp: MarketRules, spot_price: Decimal, perp_price: Decimal) -> Decimal:
    """The smallest 1:1 base amount both legs accept (lot steps, minimum amounts and minimum notionals)."""
    steps = [s for s in (spot.base_step, perp.base_step) if s is not None]
    step = (common_step(steps[0], steps[1]) if len(steps) == 2 else steps[0]) if steps else Decimal("1e-8")
    needs = [step]
    for rules, price in ((spot, spot_price), (perp, perp_price)):
        if rules.min_amount is not None:
            needs.append(rules.min_amount * rules.contract_size)
        if rules.min_notional is not None:
            needs.append(rules.min_notional / price)
    need = max(needs)
    return (need / step).to_integral_value(rounding=ROUND_CEILING) * step


async def prepare_venue(
    deps: ExecutionDeps,
    client: VenueClient,
    symbol: str,
    wallets: VenueWallets,
    notional: Decimal,
    short_perp: bool,
    key: str,
) -> None:
    """Leverage (the configured maximum), cross margin, and the collateral each leg needs."""
    crash_point("prepare.leverage_sent")
    await client.set_leverage(symbol, deps.settings.leverage)
    await client.set_margin_mode(symbol, "cross")
    crash_point("prepare.leverage_answered")
    spot_need = notional * (1 + deps.settings.max_slippage) if short_perp else ZERO
    margin_need = notional / deps.settings.leverage * MARGIN_BUFFER
    await ensure_collateral(deps, client, wallets, spot_need, margin_need, key)


async def ensure_collateral(
    deps: ExecutionDeps, client: VenueClient, wallets: VenueWallets, spot_need: Decimal, margin_need: Decimal, key: str
) -> Decimal:
    """Move USDT between the spot and perpetual wallets so each holds what its leg needs (no-op on OKX's unified
    account); returns the amount moved (positive: spot -> perp)."""
    if wallets.unified:
        return ZERO
    spot_short = spot_need - wallets.spot_free
    swap_short = margin_need - wallets.swap_free
    moved = ZERO
    if spot_short > 0 and wallets.swap_free - margin_need >= spot_short:
        moved = -(spot_short / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
    elif swap_short > 0 and wallets.spot_free - spot_need >= swap_short:
        moved = (swap_short / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT
    if moved == 0:
        return ZERO
    source, target = (MarketType.SPOT, MarketType.SWAP) if moved > 0 else (MarketType.SWAP, MarketType.SPOT)
    crash_point("prepare.transfer_sent")
    await client.transfer("USDT", abs(moved), source, target)
    crash_point("prepare.transfer_answered")
    now = utcnow()
    for account, amount in ((source, -abs(moved)), (target, abs(moved))):
        ledger_once(
            deps.engine,
            f"transfer:{key}:{account}",
            venue=str(client.venue),
            account=account.value,
            currency="USDT",
            amount=amount,
            kind="transfer",
            position_id=None,
            time=now,
            note=f"collateral for {key}",
        )
    crash_point("prepare.transfer_committed")
    return moved
