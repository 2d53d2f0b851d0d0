"""Pure parts of the simulated streams: exact diffs, the OKX/Bitget checksum, and the seeded dislocations."""

from __future__ import annotations

import zlib
from decimal import Decimal

from arbx_pipelines.venues.sim.streams.dislocations import DislocationGenerator, DislocationSettings
from arbx_pipelines.venues.sim.streams.frames import Frame, book_checksum, crc32_signed, diff

D = Decimal


def _apply(levels: dict[Decimal, Decimal], changes: tuple[tuple[Decimal, Decimal], ...]) -> dict[Decimal, Decimal]:
    result = dict(levels)
    for price, qty in changes:
        if qty == 0:
            result.pop(price, None)
        else:
            result[price] = qty
    return result


def test_diff_turns_the_old_frame_into_the_new_one() -> None:
    old = Frame(1, 250, ((D(10), D(1)), (D(9), D(2)), (D(8), D(3))), ((D(11), D(1)), (D(12), D(2))))
    new = Frame(2, 500, ((D(10), D(5)), (D(8), D(3)), (D(7), D(1))), ((D(12), D(2)), (D(13), D(4))))
    change = diff(old, new)
    assert _apply(dict(old.bids), change.bids) == dict(new.bids)
    assert _apply(dict(old.asks), change.asks) == dict(new.asks)
    assert (D(8), D(3)) not in change.bids  # unchanged levels are not resent


def test_checksum_interleaves_bids_and_asks_and_is_signed() -> None:
    frame = Frame(1, 0, ((D("3366.1"), D("7")), (D("3366"), D("6"))), ((D("3366.8"), D("9")),))
    payload = "3366.1:7:3366.8:9:3366:6"
    expected = zlib.crc32(payload.encode())
    expected = expected - (1 << 32) if expected >= 1 << 31 else expected
    assert book_checksum(frame, lambda value: format(value.normalize(), "f")) == expected
    assert crc32_signed("") == 0
    assert -(1 << 31) <= crc32_signed("abc" * 50) < 1 << 31


def test_dislocations_are_seeded_short_and_of_the_configured_size() -> None:
    settings = DislocationSettings(enabled=True, coins=("BTC",), every_ms=10_000, min_bps=30, max_bps=50,
                                   min_ms=500, max_ms=1_500)  # fmt: skip
    first = DislocationGenerator(5, ("binance", "okx", "bitget"), settings)
    again = DislocationGenerator(5, ("binance", "okx", "bitget"), settings)
    events = [first.event("BTC", slot) for slot in range(200)]
    assert events == [again.event("BTC", slot) for slot in range(200)]
    assert {e.venue for e in events if e} == {"binance", "okx", "bitget"}
    for slot, event in enumerate(events):
        assert event is not None
        assert slot * 10_000 <= event.start_ms and event.end_ms <= (slot + 1) * 10_000
        assert 500 <= event.end_ms - event.start_ms <= 1_500
        assert 30 <= abs(event.factor - 1) * 1e4 <= 50
        inside = (event.start_ms + event.end_ms) // 2
        assert first.factor(event.venue, "BTC", inside) == event.factor
        assert first.factor(event.venue, "BTC", event.end_ms) == 1.0
        assert first.factor(event.venue, "ETH", inside) == 1.0
    assert DislocationGenerator(5, ("okx",), DislocationSettings()).factor("okx", "BTC", 1) == 1.0
