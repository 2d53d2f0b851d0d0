"""OKX account endpoints: positions, leverage and margin mode, account configuration, fee rates, currencies and
transfers.

OKX has one unified trading account (``18``) for spot and swaps, plus a funding account (``6``); transfers move coins
between those two. A transfer from the trading account to itself (ccxt's ``spot`` -> ``swap``) is refused: there is
nothing to move, which is why arbx never transfers on OKX.
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.accounts import FUNDING, FUTURES
from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.errors import ErrorKind, SimError
from arbx_pipelines.venues.sim.okx.formats import (
    body_object,
    decimal_param,
    envelope,
    inst_id,
    num,
    optional,
    query_params,
    required,
)
from arbx_pipelines.venues.sim.okx.leverage import MARGIN_MODES, LeverageBook
from arbx_pipelines.venues.sim.okx.market_data import OkxMarketData
from arbx_pipelines.venues.sim.okx.positions import position_payload
from arbx_pipelines.venues.sim.okx.reference import OkxReference
from arbx_pipelines.venues.sim.venue_api import SimRequest

ACCOUNTS = {"6": FUNDING, "18": FUTURES}
SIM_UID = "44705892343619584"
MAX_POSITION_IDS = 10


class OkxAccount:
    def __init__(self, venue: SimVenue, market_data: OkxMarketData, reference: OkxReference,
                 leverage: LeverageBook) -> None:  # fmt: skip
        self.venue = venue
        self.market_data = market_data
        self.reference = reference
        self.leverage = leverage

    # ---- positions -------------------------------------------------------------------------------------------

    def positions(self, request: SimRequest) -> Any:
        params = query_params(request)
        kind = optional(params, "instType")
        if kind is not None and kind.upper() not in ("MARGIN", "SWAP", "FUTURES", "OPTION"):
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter instType error", parameter="instType")
        wanted = [name for name in (optional(params, "instId") or "").split(",") if name]
        if len(wanted) > MAX_POSITION_IDS:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter instId error", parameter="instId")
        symbols = {self.market_data.instrument(name).symbol for name in wanted}
        rows = [position_payload(self.venue, p) for p in self.venue.account.open_positions()
                if (not symbols or p.symbol in symbols) and kind in (None, "SWAP", "swap")]  # fmt: skip
        position_id = optional(params, "posId")
        return envelope([row for row in rows if position_id is None or row["posId"] in position_id.split(",")])

    # ---- leverage and margin mode ------------------------------------------------------------------------------

    def _margin_mode(self, value: str | None) -> str:
        if value not in MARGIN_MODES:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter mgnMode error", parameter="mgnMode")
        return str(value)

    def set_leverage(self, request: SimRequest) -> Any:
        params = body_object(request)
        mode = self._margin_mode(optional(params, "mgnMode"))
        instrument = self.market_data.swap(required(params, "instId"))
        lever = decimal_param(params, "lever")
        if lever != lever.to_integral_value() or lever < 1:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter lever error", parameter="lever")
        if optional(params, "posSide") not in (None, "net"):
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter posSide error", parameter="posSide")
        self.leverage.set(instrument.symbol, mode, int(lever))
        return envelope([{"instId": inst_id(instrument), "lever": str(int(lever)), "mgnMode": mode,
                          "posSide": "net"}])  # fmt: skip

    def leverage_info(self, request: SimRequest) -> Any:
        params = query_params(request)
        mode = self._margin_mode(optional(params, "mgnMode"))
        names = [name for name in required(params, "instId").split(",") if name]
        rows = []
        for name in names:
            instrument = self.market_data.instrument(name)
            lever = self.leverage.get(instrument.symbol, mode) if instrument.is_swap else 1  # no spot margin here
            rows.append({"instId": name, "lever": str(lever), "mgnMode": mode, "posSide": "net"})
        return envelope(rows)

    def config(self, request: SimRequest) -> Any:
        return envelope([{
            "acctLv": "2", "acctStpMode": "cancel_maker", "autoLoan": False, "ctIsoMode": "automatic",
            "enableSpotBorrow": False, "greeksType": "PA", "ip": "", "kycLv": "3", "label": "arbx-sim",
            "level": "Lv1", "levelTmp": "", "liquidationGear": "-1", "mainUid": SIM_UID, "mgnIsoMode": "automatic",
            "opAuth": "0", "perm": "read_only,trade", "posMode": "net_mode", "roleType": "0",
            "spotBorrowAutoRepay": False, "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [],
            "traderInsts": [], "type": "0", "uid": SIM_UID,
        }])  # fmt: skip

    def trade_fee(self, request: SimRequest) -> Any:
        """``account/trade-fee``: the account's fee rates for an instrument type, written negative (OKX's sign for a
        fee charged); ``maker``/``taker`` are the USDT pairs' rates for SPOT and the crypto-margined ones for SWAP,
        ``makerU``/``takerU`` the USDT-margined swaps' (empty for SPOT), ``makerUSDC``/``takerUSDC`` the USDC ones."""
        params = query_params(request)
        kind = required(params, "instType").upper()
        fees = self.venue.fees
        if kind == "SPOT":
            if optional(params, "instId") is not None:
                self.market_data.instrument(required(params, "instId"))
            maker, taker, maker_u, taker_u = num(-fees.spot_maker), num(-fees.spot_taker), "", ""
        elif kind == "SWAP":
            family = optional(params, "instFamily") or optional(params, "uly")
            if family is not None:
                self.market_data.swap(f"{family}-SWAP")
            maker, taker = num(-fees.swap_maker), num(-fees.swap_taker)
            maker_u, taker_u = maker, taker
        else:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter instType error", parameter="instType")
        return envelope([{
            "category": "1", "delivery": "", "exercise": "", "fiat": [], "instType": kind, "level": "Lv1",
            "maker": maker, "makerU": maker_u, "makerUSDC": maker, "ruleType": "normal", "taker": taker,
            "takerU": taker_u, "takerUSDC": taker, "ts": str(self.venue.now_ms()),
        }])  # fmt: skip

    # ---- funding account -------------------------------------------------------------------------------------

    def currencies(self, request: SimRequest) -> Any:
        wanted = optional(query_params(request), "ccy")
        rows = self.reference.currencies
        if wanted is not None:
            names = set(wanted.split(","))
            rows = [row for row in rows if row["ccy"] in names]
        return envelope(rows)

    def transfer(self, request: SimRequest) -> Any:
        params = body_object(request)
        coin = required(params, "ccy").upper()
        amount = decimal_param(params, "amt")
        if optional(params, "type") not in (None, "0"):
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter type error", parameter="type")
        source, target = required(params, "from"), required(params, "to")
        if source not in ACCOUNTS:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter from error", parameter="from")
        if target not in ACCOUNTS or target == source:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter to error", parameter="to")
        if amount <= 0:
            raise SimError(ErrorKind.BAD_PARAMETER, "Parameter amt error", parameter="amt")
        try:
            transfer_id = self.venue.transfer(coin, amount, ACCOUNTS[source], ACCOUNTS[target])
        except SimError as error:
            if error.kind is ErrorKind.INSUFFICIENT_BALANCE:
                raise SimError(ErrorKind.INSUFFICIENT_BALANCE, "Insufficient balance", code="58350") from error
            raise
        return envelope([{"amt": num(amount), "ccy": coin, "clientId": optional(params, "clientId") or "",
                          "from": source, "to": target, "transId": str(transfer_id)}])  # fmt: skip
