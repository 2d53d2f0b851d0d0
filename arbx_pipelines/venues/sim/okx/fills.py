"""OKX transaction details (fills): ``trade/fills`` (last 3 days) and ``trade/fills-history`` (last 3 months).

One row per engine fill, newest first; ``fillSz`` in contracts for swaps; ``fee`` negative when charged.
Cursors ``after``/``before`` are bill ids (here the trade id), ``begin``/``end`` are fill times in ms.
"""

from __future__ import annotations

from typing import Any

from arbx_pipelines.venues.sim.engine import SimVenue
from arbx_pipelines.venues.sim.okx.formats import (
    contracts,
    envelope,
    inst_id,
    inst_type,
    int_param,
    limit_param,
    ms,
    num,
    optional,
    query_params,
    required,
)
from arbx_pipelines.venues.sim.orders import Fill
from arbx_pipelines.venues.sim.venue_api import SimRequest

DAY_MS = 86_400_000


class OkxFills:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue

    def _payload(self, fill: Fill) -> dict[str, Any]:
        instrument = self.venue.instrument(fill.symbol)
        order = self.venue.account.orders.get(fill.order_id)
        rate = self.venue.fees.rate(instrument.is_swap, fill.is_maker)
        return {
            "billId": str(fill.trade_id), "clOrdId": order.client_order_id if order else "",
            "execType": "M" if fill.is_maker else "T", "fee": num(-fill.fee), "feeCcy": fill.fee_asset,
            "feeRate": num(-rate), "fillFwdPx": "", "fillIdxPx": "", "fillMarkPx": "", "fillMarkVol": "",
            "fillPnl": num(fill.realized_pnl), "fillPx": num(fill.price), "fillPxUsd": "", "fillPxVol": "",
            "fillSz": num(contracts(instrument, fill.qty)), "fillTime": ms(fill.time_ms),
            "instId": inst_id(instrument), "instType": inst_type(instrument), "ordId": str(fill.order_id),
            "posSide": "net", "side": fill.side, "subType": "1" if fill.side == "buy" else "2",
            "tag": str(order.extra.get("tag", "")) if order else "", "tradeId": str(fill.trade_id),
            "ts": ms(fill.time_ms),
        }  # fmt: skip

    def _list(self, params: dict[str, Any], days: int) -> Any:
        kind, wanted, order_id = optional(params, "instType"), optional(params, "instId"), optional(params, "ordId")
        after, before = int_param(params, "after"), int_param(params, "before")
        begin, end = int_param(params, "begin"), int_param(params, "end")
        limit = limit_param(params)
        oldest = self.venue.now_ms() - days * DAY_MS
        rows = []
        for fill in reversed(self.venue.trading.trades):
            if fill.time_ms < oldest or (begin is not None and fill.time_ms < begin):
                continue
            if (end is not None and fill.time_ms > end) or (after is not None and fill.trade_id >= after):
                continue
            if before is not None and fill.trade_id <= before:
                continue
            row = self._payload(fill)
            if (kind and row["instType"] != kind.upper()) or (wanted and row["instId"] != wanted):
                continue
            if order_id and row["ordId"] != order_id:
                continue
            rows.append(row)
        return envelope(rows[-limit:] if before is not None and after is None else rows[:limit])

    def recent(self, request: SimRequest) -> Any:
        return self._list(query_params(request), 3)

    def history(self, request: SimRequest) -> Any:
        params = query_params(request)
        required(params, "instType")
        return self._list(params, 92)
