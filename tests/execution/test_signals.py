"""The funding signal filter lets a negative rate through only where it can be traded: with margin borrowing enabled,
or when both the declared inventory of the coin on that venue (less what active negative hedges sold) and a recent
record of its free spot inventory there cover the smallest hedge the venue accepts. Positive rates need nothing.
Inventory held by positive-funding hedges is not free; coins not declared are never inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from arbx_pipelines.core.decision import StrategyParams
from arbx_pipelines.core.funding import annualize
from arbx_pipelines.core.hedge import FundingDirection
from arbx_pipelines.core.models import Venue
from arbx_pipelines.execution.inventory import record_inventory, recorded_inventory
from arbx_pipelines.execution.positions import PositionRecord
from arbx_pipelines.execution.signals import funding_opportunities
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import FundingSnapshotRow, Market, Position
from tests.execution.simkit import make_deps

NOW = datetime.now(UTC).replace(microsecond=0)
DOGE, XRP = "DOGE/USDT:USDT", "XRP/USDT:USDT"
PRICE = Decimal("0.15")
#: lot 1 and min notional 5 USDT on both legs: the smallest hedge at 0.15 is ceil(5 / 0.15) = 34 DOGE
SMALLEST = Decimal(34)


@pytest.fixture
def engine(db_url: str) -> Engine:
    engine = make_deps(db_url).engine
    with transaction(engine) as session:
        for symbol, kind in ((DOGE, "swap"), ("DOGE/USDT", "spot")):
            session.add(
                Market(venue="binance", symbol=symbol, market_type=kind, base="DOGE", quote="USDT",
                       venue_symbol=symbol.replace("/", "").split(":")[0], amount_step=Decimal(1),
                       price_step=Decimal("0.00001"), min_amount=Decimal(1), min_notional=Decimal(5),
                       contract_size=Decimal(1), updated_at=NOW)
            )  # fmt: skip
        for symbol, rate in ((DOGE, Decimal("-0.003")), (XRP, Decimal("0.002"))):
            session.add(
                FundingSnapshotRow(venue="binance", symbol=symbol, time=NOW - timedelta(minutes=1), rate=rate,
                                   interval_hours=8, annualized=annualize(rate, 8),
                                   next_funding_time=NOW + timedelta(hours=2), mark_price=PRICE)
            )  # fmt: skip
    return engine


def declared(doge: Decimal = Decimal(1000)) -> StrategyParams:
    """The strategy with ``doge`` DOGE declared as inventory on Binance."""
    return StrategyParams(spot_inventory={Venue.BINANCE: {"DOGE": doge}})


DECLARED = declared()


def found(engine: Engine, strategy: StrategyParams = DECLARED) -> set[str]:
    return {o.symbol for o in funding_opportunities(engine, strategy, venues=[Venue.BINANCE], now=NOW)}


def test_negative_rate_needs_recorded_inventory_of_at_least_the_smallest_hedge(engine: Engine) -> None:
    assert found(engine) == {XRP}  # nothing recorded: only the positive rate
    record_inventory(engine, "binance", {"DOGE": SMALLEST - 1}, [], NOW)
    assert found(engine) == {XRP}  # below the venue's minimum
    record_inventory(engine, "binance", {"DOGE": SMALLEST}, [], NOW)
    (doge,) = [o for o in funding_opportunities(engine, DECLARED, venues=[Venue.BINANCE], now=NOW)
               if o.symbol == DOGE]  # fmt: skip
    assert doge.rate < 0 and doge.run_key.startswith("open:binance:DOGE/USDT:USDT:")
    record_inventory(engine, "binance", {}, [], NOW)  # sold meanwhile: a coin no longer shown is recorded as zero
    assert recorded_inventory(engine, NOW)[("binance", "DOGE")] == 0
    assert found(engine) == {XRP}


def test_stale_inventory_record_is_not_trusted(engine: Engine) -> None:
    record_inventory(engine, "binance", {"DOGE": Decimal(1000)}, [], NOW - timedelta(days=2))
    assert found(engine) == {XRP}


def test_margin_borrowing_lets_negative_rates_through_without_inventory(engine: Engine) -> None:
    assert found(engine, StrategyParams(allow_margin_borrow=True)) == {XRP, DOGE}


def test_coins_in_the_wallet_but_not_declared_are_not_inventory(engine: Engine) -> None:
    record_inventory(engine, "binance", {"DOGE": Decimal(1000)}, [], NOW)
    assert found(engine, StrategyParams()) == {XRP}  # nothing declared
    assert found(engine, StrategyParams(spot_inventory={Venue.OKX: {"DOGE": Decimal(1000)}})) == {XRP}  # elsewhere
    assert found(engine, declared(SMALLEST - 1)) == {XRP}  # declared less than the smallest hedge
    assert found(engine, declared(SMALLEST)) == {XRP, DOGE}


def test_declared_inventory_already_sold_by_an_active_hedge_is_not_inventory(engine: Engine) -> None:
    """A negative hedge of DOGE on another perpetual (a USDC-margined one, say) sold 980 of the 1000 declared: 20 are
    left, below the smallest hedge, though the wallet still shows plenty of DOGE (the user's own)."""
    record_inventory(engine, "binance", {"DOGE": Decimal(5000)}, [], NOW)
    assert found(engine) == {XRP, DOGE}
    with transaction(engine) as session:
        session.add(
            Position(venue="binance", symbol="DOGE/USDC:USDC", spot_symbol="DOGE/USDC", direction="negative",
                     status="open", perp_amount=Decimal(980), spot_amount=Decimal(980), leverage=5, opened_at=NOW,
                     updated_at=NOW)
        )  # fmt: skip
    assert found(engine) == {XRP}
    assert found(engine, declared(980 + SMALLEST)) == {XRP, DOGE}  # the smallest hedge is left of that declaration


def test_coins_a_positive_hedge_holds_are_not_inventory(engine: Engine) -> None:
    held = PositionRecord(
        id=1, venue=Venue.BINANCE, symbol=DOGE, spot_symbol="DOGE/USDT", direction=FundingDirection.POSITIVE,
        status="open", perp_amount=Decimal(500), spot_amount=Decimal(500), perp_entry_price=PRICE,
        spot_entry_price=PRICE, leverage=5, liquidation_price=None, fees_paid=Decimal(0),
        funding_received=Decimal(0), realized_pnl=None, close_reason=None, opened_at=NOW, closed_at=None,
    )  # fmt: skip
    free = record_inventory(engine, "binance", {"DOGE": Decimal(520), "XRP": Decimal(3)}, [held], NOW)
    assert free == {"DOGE": Decimal(20), "XRP": Decimal(3)}
    assert found(engine) == {XRP}  # 20 free DOGE are below the smallest hedge
