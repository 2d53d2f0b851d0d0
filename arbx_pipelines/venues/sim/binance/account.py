"""Binance account endpoints: balances (spot, USD-M, funding), positions, leverage, margin type, income, transfers,
fee rates and leverage brackets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUNDING, FUTURES, SETTLE_ASSET, SPOT, Balance, Position
from arbx_pipelines.venues.sim.binance.formats import (
    Params,
    decimal_param,
    fixed8,
    int_param,
    native_id,
    params_of,
    plain,
    required,
)
from arbx_pipelines.venues.sim.binance.market_data import BinanceMarketData
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.margin import maintenance_margin, unrealized_pnl
from arbx_pipelines.venues.sim.orders import ZERO, LedgerEntry, LedgerKind
from arbx_pipelines.venues.sim.universe import Instrument
from arbx_pipelines.venues.sim.venue_api import SimRequest

#: Binance transfer type -> (from wallet, to wallet)
TRANSFER_TYPES = {
    "MAIN_UMFUTURE": (SPOT, FUTURES),
    "UMFUTURE_MAIN": (FUTURES, SPOT),
    "MAIN_FUNDING": (SPOT, FUNDING),
    "FUNDING_MAIN": (FUNDING, SPOT),
    "FUNDING_UMFUTURE": (FUNDING, FUTURES),
    "UMFUTURE_FUNDING": (FUTURES, FUNDING),
}
INCOME_TYPES = {
    LedgerKind.FUNDING: "FUNDING_FEE",
    LedgerKind.COMMISSION: "COMMISSION",
    LedgerKind.REALIZED_PNL: "REALIZED_PNL",
    LedgerKind.TRANSFER: "TRANSFER",
    LedgerKind.LIQUIDATION: "INSURANCE_CLEAR",
}
INCOME_DEFAULT, INCOME_MAX = 100, 1000
WEEK_MS = 7 * 86_400_000
TRANSACTION_BASE = 9_000_000_000


def _brackets(instrument: Instrument) -> list[dict[str, Any]]:
    """Three maintenance tiers; the first covers a small account entirely (the engine uses tier 1)."""
    mmr = float(instrument.maint_margin_rate)
    cap1 = 50_000 if instrument.max_leverage >= 100 else 10_000
    tiers = [(instrument.max_leverage, 0, cap1, mmr), (max(1, instrument.max_leverage // 2), cap1, cap1 * 5, mmr * 2.5),
             (10, cap1 * 5, cap1 * 50, 0.05)]  # fmt: skip
    rows, cum, previous_mmr = [], 0.0, mmr
    for number, (leverage, floor, cap, ratio) in enumerate(tiers, start=1):
        cum += floor * (ratio - previous_mmr)
        previous_mmr = ratio
        rows.append({"bracket": number, "initialLeverage": leverage, "notionalCap": cap, "notionalFloor": floor,
                     "maintMarginRatio": round(ratio, 6), "cum": round(cum, 6)})  # fmt: skip
    return rows


class BinanceAccount:
    def __init__(self, venue: SimVenue, market_data: BinanceMarketData) -> None:
        self.venue = venue
        self.account = venue.account
        self.market_data = market_data
        self.transfers: list[dict[str, Any]] = []
        #: every coin the spot market lists: Binance's account answer names each one, a zero balance included
        self.spot_coins = sorted({i.base for i in venue.spots()} | {i.quote for i in venue.spots()})

    # ---- balances --------------------------------------------------------------------------------------------

    def spot_account(self, request: SimRequest) -> Any:
        fees = self.venue.fees
        assets = self.account.wallets[SPOT]
        omit_zero = params_of(request).get("omitZeroBalances", "").lower() == "true"
        rows = [(asset, assets.get(asset, Balance())) for asset in sorted(set(self.spot_coins) | set(assets))]
        balances = [
            {"asset": asset, "free": fixed8(balance.free), "locked": fixed8(balance.locked)}
            for asset, balance in rows if not (omit_zero and balance.total == 0)
        ]  # fmt: skip
        return {
            "makerCommission": int(fees.spot_maker * 10000), "takerCommission": int(fees.spot_taker * 10000),
            "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": fixed8(fees.spot_maker), "taker": fixed8(fees.spot_taker),
                                "buyer": fixed8(ZERO), "seller": fixed8(ZERO)},
            "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self.venue.now_ms(),
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868,
        }  # fmt: skip

    def _position_numbers(self, position: Position) -> dict[str, Decimal]:
        mark = self.venue.mark_price(position.symbol)
        notional = position.qty * mark
        leverage = Decimal(self.account.leverage_of(position.symbol))
        pnl = unrealized_pnl(position.qty, position.entry_price, mark)
        isolated = self.account.margin_mode_of(position.symbol) == "isolated"
        return {
            "mark": mark, "notional": notional, "pnl": pnl, "initial": abs(notional) / leverage,
            "maint": maintenance_margin(position.qty, mark, position.instrument.maint_margin_rate),
            "isolated_wallet": position.isolated_margin if isolated else ZERO,
            "isolated_margin": position.isolated_margin + pnl if isolated else ZERO,
            "liquidation": self.account.liquidation_price(position, self.venue.mark_price),
        }  # fmt: skip

    def futures_account(self, request: SimRequest) -> Any:
        """``/fapi/v2|v3/account``: v3 fields plus the v2 ones ccxt also reads."""
        wallet = self.account.wallet_balance()
        positions = self.account.open_positions()
        numbers = {p.symbol: self._position_numbers(p) for p in positions}
        pnl = sum((n["pnl"] for n in numbers.values()), ZERO)
        initial = sum((n["initial"] for n in numbers.values()), ZERO)
        maint = sum((n["maint"] for n in numbers.values()), ZERO)
        orders_margin = self.account.open_order_margin()
        available = self.account.available_margin(self.venue.mark_price)
        now = self.venue.now_ms()
        asset = {
            "asset": SETTLE_ASSET, "walletBalance": fixed8(wallet), "unrealizedProfit": fixed8(pnl),
            "marginBalance": fixed8(wallet + pnl), "maintMargin": fixed8(maint), "initialMargin": fixed8(initial),
            "positionInitialMargin": fixed8(initial), "openOrderInitialMargin": fixed8(orders_margin),
            "crossWalletBalance": fixed8(wallet), "crossUnPnl": fixed8(pnl), "availableBalance": fixed8(available),
            "maxWithdrawAmount": fixed8(available), "marginAvailable": True, "updateTime": now,
        }  # fmt: skip
        return {
            "feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "tradeGroupId": -1,
            "updateTime": 0, "multiAssetsMargin": False,
            "totalInitialMargin": fixed8(initial + orders_margin), "totalMaintMargin": fixed8(maint),
            "totalWalletBalance": fixed8(wallet), "totalUnrealizedProfit": fixed8(pnl),
            "totalMarginBalance": fixed8(wallet + pnl), "totalPositionInitialMargin": fixed8(initial),
            "totalOpenOrderInitialMargin": fixed8(orders_margin), "totalCrossWalletBalance": fixed8(wallet),
            "totalCrossUnPnl": fixed8(pnl), "availableBalance": fixed8(available),
            "maxWithdrawAmount": fixed8(available), "assets": [asset],
            "positions": [
                {"symbol": native_id(p.instrument), "positionSide": "BOTH", "positionAmt": plain(p.qty),
                 "unrealizedProfit": fixed8(numbers[p.symbol]["pnl"]),
                 "isolatedMargin": fixed8(numbers[p.symbol]["isolated_margin"]),
                 "notional": fixed8(numbers[p.symbol]["notional"]),
                 "isolatedWallet": fixed8(numbers[p.symbol]["isolated_wallet"]),
                 "initialMargin": fixed8(numbers[p.symbol]["initial"]),
                 "maintMargin": fixed8(numbers[p.symbol]["maint"]), "updateTime": p.updated_ms}
                for p in positions
            ],
        }  # fmt: skip

    def futures_balance(self, request: SimRequest) -> Any:
        wallet = self.account.wallet_balance()
        available = self.account.available_margin(self.venue.mark_price)
        return [{"accountAlias": "SgsR", "asset": SETTLE_ASSET, "balance": fixed8(wallet),
                 "crossWalletBalance": fixed8(wallet), "crossUnPnl": "0.00000000",
                 "availableBalance": fixed8(available), "maxWithdrawAmount": fixed8(available), "marginAvailable": True,
                 "updateTime": self.venue.now_ms()}]  # fmt: skip

    def funding_wallet(self, request: SimRequest) -> Any:
        return [
            {"asset": asset, "free": fixed8(balance.free), "locked": fixed8(balance.locked), "freeze": "0",
             "withdrawing": "0", "btcValuation": "0"}
            for asset, balance in sorted(self.account.wallets[FUNDING].items()) if balance.total > 0
        ]  # fmt: skip

    # ---- positions and settings ------------------------------------------------------------------------------

    def _risk_row(self, position: Position, v2: bool) -> dict[str, Any]:
        numbers = self._position_numbers(position)
        entry = position.entry_price
        fee = self.venue.fees.swap_taker
        break_even = entry * (1 + fee) if position.qty > 0 else entry * (1 - fee) if position.qty < 0 else ZERO
        row: dict[str, Any] = {
            "symbol": native_id(position.instrument), "positionSide": "BOTH", "positionAmt": plain(position.qty),
            "entryPrice": plain(entry.quantize(Decimal("0.00000001"))), "breakEvenPrice": plain(break_even, 8),
            "markPrice": plain(numbers["mark"], 8), "unRealizedProfit": fixed8(numbers["pnl"]),
            "liquidationPrice": plain(numbers["liquidation"], 8),
            "isolatedMargin": fixed8(numbers["isolated_margin"]), "notional": fixed8(numbers["notional"]),
            "marginAsset": SETTLE_ASSET, "isolatedWallet": fixed8(numbers["isolated_wallet"]),
            "initialMargin": fixed8(numbers["initial"]), "maintMargin": fixed8(numbers["maint"]),
            "positionInitialMargin": fixed8(numbers["initial"]), "openOrderInitialMargin": "0",
            "adl": 1, "bidNotional": "0", "askNotional": "0", "updateTime": position.updated_ms,
        }  # fmt: skip
        if v2:
            row |= {"leverage": str(self.account.leverage_of(position.symbol)),
                    "marginType": self.account.margin_mode_of(position.symbol), "isAutoAddMargin": "false",
                    "maxNotionalValue": str(_brackets(position.instrument)[0]["notionalCap"])}  # fmt: skip
        return row

    def _positions_for(self, params: Params, include_flat: bool) -> list[Position]:
        if params.get("symbol"):
            instrument = self.market_data.swap(params["symbol"])
            return [self.account.position(instrument)]
        if include_flat:
            return [self.account.position(i) for i in self.venue.swaps()]
        return self.account.open_positions()

    def position_risk_v3(self, request: SimRequest) -> Any:
        positions = self._positions_for(params_of(request), include_flat=False)
        return [self._risk_row(p, v2=False) for p in positions if p.qty != 0]

    def position_risk_v2(self, request: SimRequest) -> Any:
        return [self._risk_row(p, v2=True) for p in self._positions_for(params_of(request), include_flat=True)]

    def set_leverage(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        leverage = int_param(params, "leverage")
        if leverage is None:
            raise SimError(ErrorKind.MISSING_PARAMETER, "leverage", parameter="leverage")
        try:
            self.venue.set_leverage(instrument.symbol, leverage)
        except SimError as error:
            error.detail["leverage"] = leverage
            raise
        cap = next(b["notionalCap"] for b in _brackets(instrument) if b["initialLeverage"] >= leverage) if (
            leverage <= instrument.max_leverage) else 0  # fmt: skip
        return {"leverage": leverage, "maxNotionalValue": str(cap), "symbol": native_id(instrument)}

    def set_margin_type(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        kind = required(params, "marginType").upper()
        modes = {"ISOLATED": "isolated", "CROSSED": "cross", "CROSS": "cross"}
        if kind not in modes:
            raise SimError(ErrorKind.BAD_PARAMETER, "marginType", parameter="marginType")
        self.venue.set_margin_mode(instrument.symbol, modes[kind])
        return {"code": 200, "msg": "success"}

    def symbol_config(self, request: SimRequest) -> Any:
        params = params_of(request)
        instruments = [self.market_data.swap(params["symbol"])] if params.get("symbol") else self.venue.swaps()
        return [
            {"symbol": native_id(i), "marginType": "ISOLATED" if self.account.margin_mode_of(i.symbol) == "isolated"
             else "CROSSED", "isAutoAddMargin": "false", "leverage": self.account.leverage_of(i.symbol),
             "maxNotionalValue": str(_brackets(i)[0]["notionalCap"])}
            for i in instruments
        ]  # fmt: skip

    def leverage_brackets(self, request: SimRequest) -> Any:
        params = params_of(request)
        if params.get("symbol"):
            instrument = self.market_data.swap(params["symbol"])
            return [{"symbol": native_id(instrument), "notionalCoef": 1.0, "brackets": _brackets(instrument)}]
        return [{"symbol": native_id(i), "notionalCoef": 1.0, "brackets": _brackets(i)} for i in self.venue.swaps()]

    def position_mode(self, request: SimRequest) -> Any:
        return {"dualSidePosition": False}

    def multi_assets_mode(self, request: SimRequest) -> Any:
        return {"multiAssetsMargin": False}

    # ---- income, transfers, fees -----------------------------------------------------------------------------

    def _income_row(self, entry: LedgerEntry) -> dict[str, Any]:
        symbol = native_id(self.venue.instrument(entry.symbol)) if entry.symbol else ""
        kind = INCOME_TYPES[entry.kind]
        return {"symbol": symbol, "incomeType": kind, "income": plain(entry.amount, 8), "asset": entry.asset,
                "info": kind, "time": entry.time_ms, "tranId": TRANSACTION_BASE + entry.entry_id,
                "tradeId": str(entry.trade_id) if entry.trade_id is not None else ""}  # fmt: skip

    def income(self, request: SimRequest) -> Any:
        """``/fapi/v1/income``: oldest first; from ``startTime`` when given, else the last 7 days' latest ``limit``."""
        params = params_of(request)
        limit = int_param(params, "limit", INCOME_DEFAULT) or INCOME_DEFAULT
        if not 1 <= limit <= INCOME_MAX:
            raise SimError(ErrorKind.BAD_PARAMETER, "limit", parameter="limit")
        end = int_param(params, "endTime") or self.venue.now_ms()
        start = int_param(params, "startTime")
        symbol = self.market_data.swap(params["symbol"]).symbol if params.get("symbol") else None
        kind = params.get("incomeType")
        if kind is not None and kind not in INCOME_TYPES.values():
            raise SimError(ErrorKind.BAD_PARAMETER, "incomeType", parameter="incomeType")
        rows = [
            entry for entry in self.account.ledger
            if (start if start is not None else end - WEEK_MS) <= entry.time_ms <= end
            and (entry.kind is not LedgerKind.TRANSFER or entry.info == FUTURES)
            and (symbol is None or entry.symbol == symbol) and (kind is None or INCOME_TYPES[entry.kind] == kind)
        ]  # fmt: skip
        rows.sort(key=lambda entry: (entry.time_ms, entry.entry_id))
        page = int_param(params, "page", 1) or 1
        chosen = rows[(page - 1) * limit : page * limit] if start is not None else rows[-limit:]
        return [self._income_row(entry) for entry in chosen]

    def transfer(self, request: SimRequest) -> Any:
        params = params_of(request)
        kind = required(params, "type").upper()
        if kind not in TRANSFER_TYPES:
            raise SimError(ErrorKind.BAD_PARAMETER, f"transfer type {kind} is not simulated", parameter="type")
        asset = required(params, "asset").upper()
        amount = decimal_param(params, "amount")
        assert amount is not None
        source, target = TRANSFER_TYPES[kind]
        transfer_id = TRANSACTION_BASE + self.venue.transfer(asset, amount, source, target)
        self.transfers.append({"asset": asset, "amount": plain(amount), "type": kind, "status": "CONFIRMED",
                               "tranId": transfer_id, "timestamp": self.venue.now_ms()})  # fmt: skip
        return {"tranId": transfer_id}

    def transfer_history(self, request: SimRequest) -> Any:
        params = params_of(request)
        kind = required(params, "type").upper()
        rows = [row for row in self.transfers if row["type"] == kind]
        return {"total": len(rows), "rows": list(reversed(rows))}

    def spot_trade_fee(self, request: SimRequest) -> Any:
        params = params_of(request)
        fees = self.venue.fees
        instruments = [self.market_data.spot(params["symbol"])] if params.get("symbol") else self.venue.spots()
        return [{"symbol": native_id(i), "makerCommission": plain(fees.spot_maker),
                 "takerCommission": plain(fees.spot_taker)} for i in instruments]  # fmt: skip

    def futures_account_config(self, request: SimRequest) -> Any:
        """``/fapi/v1/accountConfig`` (ccxt's linear ``fetchTradingFees`` reads the fee tier from it)."""
        available = self.account.available_margin(self.venue.mark_price)
        return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "dualSidePosition": False,
                "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1,
                "availableBalance": fixed8(available)}  # fmt: skip

    def futures_commission_rate(self, request: SimRequest) -> Any:
        params = params_of(request)
        instrument = self.market_data.swap(required(params, "symbol"))
        fees = self.venue.fees
        return {"symbol": native_id(instrument), "makerCommissionRate": plain(fees.swap_maker),
                "takerCommissionRate": plain(fees.swap_taker)}  # fmt: skip
