"""OKX balances: the unified trading account (``account/balance``) and the funding account (``asset/balances``).

Trading account, per currency: ``cashBal`` what is held, ``eq`` = ``cashBal`` + unrealized PnL (USDT),
``availEq``/``availBal`` what can still be used (for USDT: the engine's available margin, i.e. after position and
order margin), ``frozenBal`` = ``eq`` - ``availEq``, ``ordFrozen`` what open orders hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arbx_pipelines.venues.sim.accounts import FUNDING, FUTURES, SETTLE_ASSET
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.okx.formats import envelope, ms, num, optional, query_params
from arbx_pipelines.venues.sim.okx.positions import total_upl
from arbx_pipelines.venues.sim.orders import ZERO
from arbx_pipelines.venues.sim.venue_api import SimRequest

USD_PLACES = Decimal("0.00000001")


class OkxBalances:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue

    def usd_price(self, coin: str) -> Decimal:
        if coin == SETTLE_ASSET:
            return Decimal(1)
        symbol = f"{coin}/{SETTLE_ASSET}"
        return self.venue.last_price(symbol) if symbol in self.venue.instruments else ZERO

    def _detail(self, coin: str, now: int) -> dict[str, Any]:
        account = self.venue.account
        balance = account.balance(FUTURES, coin)
        cash = balance.total
        if coin == SETTLE_ASSET:
            upl = total_upl(self.venue)
            equity = cash + upl
            available = account.available_margin(self.venue.mark_price)
            frozen_orders = balance.locked + account.open_order_margin()
        else:
            upl, equity, available, frozen_orders = ZERO, cash, balance.free, balance.locked
        eq_usd = (equity * self.usd_price(coin)).quantize(USD_PLACES)
        return {
            "accAvgPx": "", "availBal": num(available), "availEq": num(available), "borrowFroz": "0",
            "cashBal": num(cash), "ccy": coin, "clSpotInUseAmt": "", "colBorrAutoConversion": "0",
            "collateralEnabled": False, "collateralRestrict": False, "crossLiab": "0", "disEq": num(eq_usd),
            "eq": num(equity), "eqUsd": num(eq_usd), "fixedBal": "0", "frozenBal": num(equity - available),
            "imr": "", "interest": "0", "isoEq": "0", "isoLiab": "0", "isoUpl": "0", "liab": "0", "maxLoan": "0",
            "maxSpotInUse": "", "mgnRatio": "", "mmr": "", "notionalLever": "", "openAvgPx": "",
            "ordFrozen": num(frozen_orders), "rewardBal": "", "smtSyncEq": "0", "spotBal": "",
            "spotCopyTradingEq": "0", "spotInUseAmt": "", "spotIsoBal": "0", "spotUpl": "", "spotUplRatio": "",
            "stgyEq": "0", "totalPnl": "", "totalPnlRatio": "", "twap": "0", "uTime": ms(now), "upl": num(upl),
            "uplLiab": "0",
        }  # fmt: skip

    def trading(self, request: SimRequest) -> Any:
        wanted = optional(query_params(request), "ccy")
        coins = {coin for coin, balance in self.venue.account.wallets[FUTURES].items() if balance.total != 0}
        coins.add(SETTLE_ASSET)
        if wanted is not None:
            coins = {coin for coin in wanted.split(",") if coin}
        now = self.venue.now_ms()
        details = [self._detail(coin, now) for coin in sorted(coins)]
        total = sum((Decimal(d["eqUsd"]) for d in details), ZERO)
        usdt = next((d for d in details if d["ccy"] == SETTLE_ASSET), None)
        available = Decimal(usdt["availEq"]) if usdt else ZERO
        return envelope([{
            "adjEq": num(total), "availEq": num(available), "borrowFroz": "0", "details": details,
            "imr": num(self.venue.account.open_order_margin()), "isoEq": "0", "mgnRatio": "", "mmr": "",
            "notionalUsd": "", "ordFroz": "", "totalEq": num(total), "uTime": ms(now),
            "upl": num(total_upl(self.venue)),
        }])  # fmt: skip

    def funding(self, request: SimRequest) -> Any:
        wanted = optional(query_params(request), "ccy")
        wallet = self.venue.account.wallets[FUNDING]
        coins = sorted(coin for coin, balance in wallet.items() if balance.total != 0)
        if wanted is not None:
            coins = [coin for coin in wanted.split(",") if coin]
        rows = []
        for coin in coins:
            balance = self.venue.account.balance(FUNDING, coin)
            rows.append({"availBal": num(balance.free), "bal": num(balance.total), "ccy": coin,
                         "frozenBal": num(balance.locked)})  # fmt: skip
        return envelope(rows)
