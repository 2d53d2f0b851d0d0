"""The hedge book from fills, on a worked example computed by hand (pure; no venue)."""

from __future__ import annotations

from decimal import Decimal as D

from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Side
from arbx_pipelines.execution.pnl import FillView, hedge_book


def fill(leg: str, side: Side, amount: str, price: str, fee: str, currency: str) -> FillView:
    return FillView(leg, side, D(amount), D(price), D(fee), currency, "DOGE")


FILLS = [
    # open: buy 1000 DOGE spot at 0.10 (fee 1 DOGE), short 1000 perp at 0.101 (fee 0.0505 USDT)
    fill("spot", Side.BUY, "600", "0.10", "0.6", "DOGE"),
    fill("spot", Side.BUY, "400", "0.10", "0.4", "DOGE"),
    fill("perp", Side.SELL, "1000", "0.101", "0.0505", "USDT"),
    # close: sell 999 spot at 0.12 (fee 0.11988 USDT), buy back 1000 perp at 0.1205 (fee 0.06025 USDT)
    fill("spot", Side.SELL, "999", "0.12", "0.11988", "USDT"),
    fill("perp", Side.BUY, "1000", "0.1205", "0.06025", "USDT"),
]


def test_legs_before_the_close() -> None:
    book = hedge_book(FundingDirection.POSITIVE, FILLS[:3])
    assert book.spot_amount == D("999")  # 1000 bought, 1 DOGE paid as fee
    assert book.perp_amount == D("1000")
    assert book.spot_entry_price == D("0.10") and book.perp_entry_price == D("0.101")
    assert book.fees == D("0.1") + D("0.0505")  # the DOGE fee valued at its fill price


def test_realized_pnl_equals_the_account_change() -> None:
    book = hedge_book(FundingDirection.POSITIVE, FILLS)
    funding = D("0.75")
    assert book.spot_amount == 0 and book.perp_amount == 0
    assert book.perp_pnl == D("101") - D("120.5")
    assert book.spot_pnl == D("999") * (D("0.12") - D("0.10"))
    realized = book.realized_pnl(funding)
    # the account: spot USDT -100 + 999 x 0.12 - 0.11988; futures -19.5 - 0.0505 - 0.06025 + funding
    account = D("-100") + D("119.88") - D("0.11988") + D("-19.5") - D("0.0505") - D("0.06025") + funding
    assert realized == account
