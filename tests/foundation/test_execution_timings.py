"""What ``arbx bench execution`` reads back: first-leg acknowledgements, order spans, executions still sending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.venue_data import OrderState
from arbx_pipelines.storage.execution_timings import round_timings
from arbx_pipelines.storage.executions import any_execution_sending, record_intent, set_execution_status
from arbx_pipelines.storage.orders import DbOrderJournal, all_orders

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _intent(key: str, leg: str, symbol: str) -> OrderIntent:
    market = MarketType.SWAP if ":" in symbol else MarketType.SPOT
    return OrderIntent(key, leg, f"{key}-{leg}", Venue.BINANCE, symbol, market, Side.BUY, Decimal(1), Decimal(1),
                       Decimal("0.1"))  # fmt: skip


def _answer(journal: DbOrderJournal, intent: OrderIntent, sent: datetime, answered: datetime) -> None:
    state = OrderState(Venue.BINANCE, intent.symbol, intent.client_order_id, f"v-{intent.client_order_id}", Side.BUY,
                       "limit", Decimal(1), Decimal(1), Decimal("0.1"), "closed", Decimal("0.001"), "USDT")  # fmt: skip
    journal.record_state(intent.client_order_id, state, sent_at=sent, at=answered)


def test_round_timings_read_first_legs_and_answered_orders(migrated_engine: Engine) -> None:
    spot, perp, unwind = (_intent("k1", "spot", "DOGE/USDT"), _intent("k1", "perp", "DOGE/USDT:USDT"),
                          _intent("k1", "unwind", "DOGE/USDT"))  # fmt: skip
    execution = record_intent(migrated_engine, key="k1", kind="open_funding", venue="binance", symbol=perp.symbol,
                              planned={}, intents=[spot, perp, unwind])  # fmt: skip
    other = _intent("k2", "spot", "XRP/USDT")
    second = record_intent(migrated_engine, key="k2", kind="open_funding", venue="binance", symbol="XRP/USDT:USDT",
                  planned={}, intents=[other])  # fmt: skip
    journal = DbOrderJournal(migrated_engine)
    _answer(journal, spot, T0 + timedelta(seconds=1), T0 + timedelta(seconds=2))
    _answer(journal, perp, T0 + timedelta(seconds=1), T0 + timedelta(seconds=3))
    _answer(journal, unwind, T0 + timedelta(seconds=4), T0 + timedelta(seconds=5))
    _answer(journal, other, T0 - timedelta(seconds=9), T0 - timedelta(seconds=8))  # sent before the round

    timings = round_timings(migrated_engine, ["k1"], "binance", T0)

    assert [(e.symbol, sorted(e.first_legs_acknowledged)) for e in timings.executions] == [
        (perp.symbol, [T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)])
    ]
    assert sorted(timings.order_spans) == [(T0 + timedelta(seconds=s), T0 + timedelta(seconds=s + a))
                                           for s, a in ((1, 1), (1, 2), (4, 1))]  # fmt: skip
    assert [(o.client_order_id, o.average_price) for o in all_orders(migrated_engine)] == [
        (i.client_order_id, Decimal("0.1")) for i in (spot, perp, unwind, other)
    ]

    assert any_execution_sending(migrated_engine)
    set_execution_status(migrated_engine, execution.id, "done")
    assert any_execution_sending(migrated_engine)  # k2 still sends
    set_execution_status(migrated_engine, second.id, "failed")
    assert not any_execution_sending(migrated_engine)
