"""Bitget classic-account endpoints: spot assets, USDT-M futures account, wallet transfer, leverage and margin mode.

The simulated account is a *classic* account: spot and USDT-M futures are separate wallets (``spot`` and
``usdt_futures`` in transfers). The unified-account (UTA, v3) probe ``GET /api/v3/account/settings`` answers 40084
as Bitget does for classic accounts, so ccxt keeps to the v2 endpoints.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUTURES, SETTLE_ASSET, SPOT
from arbx_pipelines.venues.sim.bitget.formats import (
    BILL_ID_BASE,
    decimal_param,
    int_param,
    native_id,
    params_of,
    required,
    string_param,
    text,
)
from arbx_pipelines.venues.sim.bitget.market_data import BitgetMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.margin import maintenance_margin, unrealized_pnl
from arbx_pipelines.venues.sim.orders import ZERO
from arbx_pipelines.venues.sim.venue_api import SimRequest

#: Bitget account type (transfer ``fromType`` / ``toType``) -> engine wallet
WALLET_OF_TYPE = {"spot": SPOT, "usdt_futures": FUTURES}
CLASSIC_ACCOUNT_MESSAGE = "You are in Classic Account mode, and the Unified Account API is not supported at this time"
EQUITY_PLACES = Decimal("0.00000001")


class BitgetAccount:
    def __init__(self, venue: SimVenue, market_data: BitgetMarketData) -> None:
        self.venue = venue
        self.data = market_data
        self.account = venue.account

    def uta_settings(self, request: SimRequest) -> Any:
        raise SimError(ErrorKind.BAD_PARAMETER, CLASSIC_ACCOUNT_MESSAGE, code="40084")

    # ---- spot ----------------------------------------------------------------------------------------------------

    def spot_assets(self, request: SimRequest) -> Any:
        """Spot wallet; ``assetType=hold_only`` (default) lists coins with a balance, ``all`` every coin held once."""
        params = params_of(request)
        coin = string_param(params, "coin")
        hold_only = (string_param(params, "assetType") or "hold_only") == "hold_only"
        now = str(self.venue.now_ms())
        rows = []
        for asset, balance in sorted(self.account.wallets[SPOT].items()):
            if (coin is not None and asset != coin.upper()) or (hold_only and balance.total == 0 and coin is None):
                continue
            rows.append({"coin": asset, "available": text(balance.free), "frozen": text(balance.locked),
                         "locked": "0", "limitAvailable": "0", "uTime": now})  # fmt: skip
        return self.data.ok(rows)

    # ---- futures ------------------------------------------------------------------------------------------------

    def _futures_figures(self) -> dict[str, Decimal]:
        account, mark = self.account, self.venue.mark_price
        upnl = {"crossed": ZERO, "isolated": ZERO}
        maintenance = ZERO
        for position in account.open_positions():
            price = mark(position.symbol)
            mode = "isolated" if account.margin_mode_of(position.symbol) == "isolated" else "crossed"
            upnl[mode] += unrealized_pnl(position.qty, position.entry_price, price)
            maintenance += maintenance_margin(position.qty, price, position.instrument.maint_margin_rate)
        wallet = account.wallet_balance()
        equity = wallet + upnl["crossed"] + upnl["isolated"]
        return {"wallet": wallet, "equity": equity, "available": account.available_margin(mark),
                "locked": account.open_order_margin(), "crossed_upnl": upnl["crossed"],
                "isolated_upnl": upnl["isolated"], "risk": maintenance / equity if equity > 0 else ZERO}  # fmt: skip

    def _futures_account(self) -> dict[str, Any]:
        figures = self._futures_figures()
        equity, available = figures["equity"], figures["available"]
        btc_price = self.venue.index_price("BTC/USDT:USDT") if "BTC/USDT:USDT" in self.venue.instruments else None
        return {
            "marginCoin": SETTLE_ASSET, "locked": text(figures["locked"]), "available": text(available),
            "crossedMaxAvailable": text(available), "isolatedMaxAvailable": text(available),
            "maxTransferOut": text(available), "accountEquity": text(equity.quantize(EQUITY_PLACES)),
            "usdtEquity": text(equity.quantize(EQUITY_PLACES)),
            "btcEquity": text((equity / btc_price).quantize(EQUITY_PLACES)) if btc_price else "0",
            "crossedRiskRate": text(figures["risk"].quantize(EQUITY_PLACES)),
            "unrealizedPL": text(figures["crossed_upnl"] + figures["isolated_upnl"]), "coupon": "0",
            "crossedUnrealizedPL": text(figures["crossed_upnl"]),
            "isolatedUnrealizedPL": text(figures["isolated_upnl"]), "grant": "", "assetMode": "single",
        }  # fmt: skip

    def mix_accounts(self, request: SimRequest) -> Any:
        product = self.data.product_type(params_of(request))
        return self.data.ok([self._futures_account()] if product == "USDT-FUTURES" else [])

    def mix_account(self, request: SimRequest) -> Any:
        """One symbol's futures account view: balances plus that symbol's leverage, margin and position mode."""
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        leverage = self.account.leverage_of(instrument.symbol)
        mode = self.account.margin_mode_of(instrument.symbol)
        return self.data.ok(self._futures_account() | {
            "crossedMarginLeverage": leverage, "isolatedLongLever": leverage, "isolatedShortLever": leverage,
            "marginMode": "crossed" if mode == "cross" else "isolated", "posMode": "one_way_mode",
        })  # fmt: skip

    def _leverage_answer(self, instrument_symbol: str, native: str) -> dict[str, Any]:
        leverage = str(self.account.leverage_of(instrument_symbol))
        mode = self.account.margin_mode_of(instrument_symbol)
        return {
            "symbol": native,
            "marginCoin": SETTLE_ASSET,
            "longLeverage": leverage,
            "shortLeverage": leverage,
            "crossMarginLeverage": leverage,
            "marginMode": "crossed" if mode == "cross" else "isolated",
        }

    def set_leverage(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        leverage = int_param(params, "leverage")
        if leverage is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "leverage", parameter="leverage")
        self.venue.set_leverage(instrument.symbol, leverage)
        return self.data.ok(self._leverage_answer(instrument.symbol, native_id(instrument)))

    def set_margin_mode(self, request: SimRequest) -> Any:
        """``crossed`` or ``isolated``; asking for the current mode succeeds (Bitget does not complain)."""
        params = params_of(request)
        instrument = self.data.swap(required(params, "symbol"))
        self.data.product_type(params)
        wanted = required(params, "marginMode").lower()
        if wanted not in ("crossed", "isolated"):
            raise SimError(ErrorKind.BAD_PARAMETER, "marginMode", parameter="marginMode")
        mode = "cross" if wanted == "crossed" else "isolated"
        if self.account.margin_mode_of(instrument.symbol) != mode:
            self.venue.set_margin_mode(instrument.symbol, mode)
        answer = self._leverage_answer(instrument.symbol, native_id(instrument))
        answer.pop("crossMarginLeverage")
        return self.data.ok(answer)

    # ---- transfers ----------------------------------------------------------------------------------------------

    def transfer(self, request: SimRequest) -> Any:
        """Between the spot and USDT-M futures wallets; futures hold USDT only."""
        params = params_of(request)
        source, target = required(params, "fromType").lower(), required(params, "toType").lower()
        for name, value in (("fromType", source), ("toType", target)):
            if value not in WALLET_OF_TYPE:
                raise SimError(ErrorKind.BAD_PARAMETER, name, parameter=name)
        if source == target:
            raise SimError(ErrorKind.BAD_PARAMETER, "toType", parameter="toType")
        coin = required(params, "coin").upper()
        if FUTURES in (WALLET_OF_TYPE[source], WALLET_OF_TYPE[target]) and coin != SETTLE_ASSET:
            raise SimError(ErrorKind.BAD_PARAMETER, "Transfer coin not support or invalid coin", code="43129")
        amount = decimal_param(params, "amount")
        if amount is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "amount", parameter="amount")
        entry_id = self.venue.transfer(coin, amount, WALLET_OF_TYPE[source], WALLET_OF_TYPE[target])
        return self.data.ok({"transferId": str(BILL_ID_BASE + entry_id),
                             "clientOid": string_param(params, "clientOid")})  # fmt: skip
