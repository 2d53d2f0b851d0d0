"""Unit tests of the order protocol's branches, with a scripted client and a fake clock (no venue, no waiting).

The venue-level behaviour (real faults, real ccxt) is covered by test_faults.py; here each branch is pinned down:
what is sent, how often, with which client order id, and what the journal records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from arbx_pipelines.core.models import MarketType, Side, Venue
from arbx_pipelines.core.orders import OrderIntent, client_order_id
from arbx_pipelines.core.venue_data import ACKNOWLEDGED, OrderState
from arbx_pipelines.execution.protocol import REJECTED, UNKNOWN, ProtocolTiming, send_order
from arbx_pipelines.execution.slots import VenueSlots
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.venues.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    VenueUnavailable,
)

CID = client_order_id("exec-1", "spot")
INTENT = OrderIntent("exec-1", "spot", CID, Venue.BINANCE, "DOGE/USDT", MarketType.SPOT, Side.BUY, Decimal(100),
                     Decimal(100), Decimal("0.16"))  # fmt: skip


def state(status: str = "closed", filled: str = "100") -> OrderState:
    return OrderState(Venue.BINANCE, "DOGE/USDT", CID, "42", Side.BUY, "limit", Decimal(100), Decimal(filled),
                      Decimal("0.159"), status)  # fmt: skip


Step = Callable[[], OrderState | None]


def raises(error: Exception) -> Step:
    def step() -> OrderState | None:
        raise error

    return step


def answers(value: OrderState | None) -> Step:
    return lambda: value


@dataclass
class ScriptedClient:
    """Answers each call from its script, in order; records every call with the client order id it carried."""

    creates: list[Step] = field(default_factory=list)
    lookups: list[Step] = field(default_factory=list)
    cancels: list[Step] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def create_order(self, intent: OrderIntent) -> OrderState:
        self.calls.append(("create", intent.client_order_id))
        result = self.creates.pop(0)()
        assert result is not None
        return result

    async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None:
        self.calls.append(("lookup", client_order_id))
        return self.lookups.pop(0)() if self.lookups else None

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderState | None:
        self.calls.append(("cancel", client_order_id))
        return self.cancels.pop(0)()


@dataclass
class MemoryJournal:
    events: list[tuple[str, str]] = field(default_factory=list)

    def mark_sent(self, client_order_id: str) -> None:
        self.events.append(("sent", client_order_id))

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: object = None, at: object = None
    ) -> None:
        self.events.append((f"state:{state.status}", client_order_id))

    def mark_rejected(self, client_order_id: str, error: str) -> None:
        self.events.append(("rejected", client_order_id))

    def mark_unknown(self, client_order_id: str, error: str) -> None:
        self.events.append(("unknown", client_order_id))


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def slots(sqlite_url: str) -> VenueSlots:
    from arbx_pipelines.storage.db import make_engine, upgrade

    upgrade(sqlite_url)
    return VenueSlots(DatabaseState(make_engine(sqlite_url)), 3)


def send(client: ScriptedClient, journal: MemoryJournal, slots: VenueSlots, timeout_s: float = 10.0):  # type: ignore[no-untyped-def]
    time = FakeTime()
    timing = ProtocolTiming(timeout_s=timeout_s, backoff_s=0.5, backoff_max_s=2.0)
    result = asyncio.run(send_order(client, INTENT, journal, slots, timing, sleep=time.sleep, clock=time.clock))
    return result, time


def creates(client: ScriptedClient) -> int:
    return sum(1 for kind, cid in client.calls if kind == "create" and cid == CID)


def test_answered_order_is_sent_once(slots: VenueSlots) -> None:
    client, journal = ScriptedClient(creates=[answers(state())]), MemoryJournal()
    result, _ = send(client, journal, slots)
    assert result.status == "closed" and result.filled == Decimal(100) and creates(client) == 1
    assert journal.events == [("sent", CID), ("state:closed", CID)]


def test_rate_limit_waits_and_resends_the_same_id(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[raises(RateLimited("binance", "429")), raises(RateLimited("binance", "429")),
                                     answers(state())])  # fmt: skip
    result, time = send(client, MemoryJournal(), slots)
    assert result.status == "closed" and creates(client) == 3 and result.sends == 3
    assert time.slept == [0.5, 1.0]
    assert all(cid == CID for _, cid in client.calls)


def test_rejection_is_final(slots: VenueSlots) -> None:
    client, journal = ScriptedClient(creates=[raises(InsufficientBalance("binance", "no money"))]), MemoryJournal()
    result, _ = send(client, journal, slots)
    assert result.status == REJECTED and result.known and creates(client) == 1
    assert journal.events[-1] == ("rejected", CID)


def test_authentication_failure_places_nothing_and_is_final(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[raises(AuthenticationFailed("binance", "bad key"))])
    result, _ = send(client, MemoryJournal(), slots)
    assert result.status == REJECTED and creates(client) == 1 and ("lookup", CID) not in client.calls


@pytest.mark.parametrize("lost", [OutcomeUnknown("binance", "timeout"), VenueUnavailable("binance", "503")])
def test_lost_answer_is_looked_up_and_never_resent_when_found(slots: VenueSlots, lost: Exception) -> None:
    client = ScriptedClient(creates=[raises(lost)], lookups=[answers(state(filled="60", status="expired"))])
    result, _ = send(client, MemoryJournal(), slots)
    assert result.status == "expired" and result.filled == Decimal(60)
    assert client.calls == [("create", CID), ("lookup", CID)]


def test_lost_order_the_venue_never_got_is_resent_with_the_same_id_once_it_cannot_be_in_flight(
    slots: VenueSlots,
) -> None:
    client = ScriptedClient(creates=[raises(OutcomeUnknown("binance", "dropped")), answers(state())],
                            lookups=[answers(None)] * 50)  # fmt: skip
    result, time = send(client, MemoryJournal(), slots, timeout_s=20.0)
    assert result.status == "closed"
    lookups = [call for call in client.calls if call == ("lookup", CID)]
    assert client.calls == [("create", CID), *lookups, ("create", CID)] and len(lookups) >= 2
    assert time.now >= ProtocolTiming().in_flight_s  # never resent while the first request could still arrive


def test_late_arrival_after_two_empty_lookups_is_found_not_resent(slots: VenueSlots) -> None:
    """The first request was still on its way (server-side latency) when the first look-ups ran."""
    client = ScriptedClient(creates=[raises(OutcomeUnknown("binance", "timeout")), answers(state())],
                            lookups=[answers(None), answers(None), answers(None), answers(state())])  # fmt: skip
    result, _ = send(client, MemoryJournal(), slots, timeout_s=20.0)
    assert result.status == "closed" and creates(client) == 1


def test_failing_lookups_until_the_deadline_report_unknown_not_unfilled(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[raises(OutcomeUnknown("binance", "timeout"))],
                            lookups=[raises(VenueUnavailable("binance", "down"))] * 50)  # fmt: skip
    journal = MemoryJournal()
    result, time = send(client, journal, slots, timeout_s=5.0)
    assert result.status == UNKNOWN and not result.known
    assert creates(client) == 1 and time.now <= 5.0
    assert journal.events[-1] == ("unknown", CID)


def test_rate_limited_until_the_deadline_is_rejected_because_nothing_was_placed(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[raises(RateLimited("binance", "429"))] * 50)
    result, time = send(client, MemoryJournal(), slots, timeout_s=4.0)
    assert result.status == REJECTED and time.now <= 4.0 and ("lookup", CID) not in client.calls


def test_duplicate_id_after_a_lost_answer_is_resolved_by_lookup(slots: VenueSlots) -> None:
    """The first send arrived even later than the in-flight window (a venue without a request expiry): the resend
    is refused as a duplicate, and the look-up after it finds the one order."""

    class LateArrival(ScriptedClient):
        async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None:
            self.calls.append(("lookup", client_order_id))
            return state() if creates(self) >= 2 else None  # the first request lands only after the resend

    client = LateArrival(
        creates=[raises(OutcomeUnknown("okx", "timeout")), raises(OrderRejected("okx", "duplicate id"))]
    )
    result, _ = send(client, MemoryJournal(), slots, timeout_s=30.0)
    assert result.status == "closed" and creates(client) == 2


def test_open_answer_is_polled_until_final(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[answers(state(status="open", filled="0"))],
                            lookups=[answers(state(status="open", filled="0")), answers(state())])  # fmt: skip
    result, _ = send(client, MemoryJournal(), slots)
    assert result.status == "closed" and ("cancel", CID) not in client.calls


def test_order_still_open_at_the_deadline_is_cancelled(slots: VenueSlots) -> None:
    client = ScriptedClient(creates=[answers(state(status="open", filled="30"))],
                            lookups=[answers(state(status="open", filled="30"))] * 50,
                            cancels=[answers(state(status="canceled", filled="30"))])  # fmt: skip
    result, _ = send(client, MemoryJournal(), slots, timeout_s=3.0)
    assert result.status == "canceled" and result.filled == Decimal(30) and ("cancel", CID) in client.calls


def test_venue_slots_cap_pending_requests(sqlite_url: str) -> None:
    from arbx_pipelines.storage.db import make_engine, upgrade

    upgrade(sqlite_url)
    slots = VenueSlots(DatabaseState(make_engine(sqlite_url)), 2)

    async def hold() -> None:
        async with slots.pending("binance"):
            await asyncio.sleep(0.05)

    async def many() -> None:
        await asyncio.gather(*(hold() for _ in range(6)))

    asyncio.run(many())
    assert slots.tracker.peak["binance"] == 2 and slots.tracker.current["binance"] == 0


@dataclass
class PlacingScriptedClient(ScriptedClient):
    """A venue whose create answer carries ids only (OKX, Bitget): ``place_order`` answers ``acknowledged``; every
    call notes how many of this process's orders were pending on the venue then."""

    slots: VenueSlots | None = None
    pending_at: list[tuple[str, int]] = field(default_factory=list)

    def _note(self, kind: str) -> None:
        assert self.slots is not None
        self.pending_at.append((kind, self.slots.tracker.current.get(INTENT.venue, 0)))

    async def place_order(self, intent: OrderIntent) -> OrderState:
        self._note("create")
        return await self.create_order(intent)

    async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None:
        self._note("lookup")
        return await super().order_by_client_id(symbol, client_order_id)


def test_ids_only_answer_is_read_at_once_after_its_slot_is_released(slots: VenueSlots) -> None:
    client = PlacingScriptedClient(creates=[answers(state(status=ACKNOWLEDGED, filled="0"))],
                                   lookups=[answers(state(status="closed", filled="100"))], slots=slots)  # fmt: skip
    journal = MemoryJournal()
    result, time = send(client, journal, slots)
    assert result.status == "closed" and result.filled == Decimal(100) and creates(client) == 1
    assert client.pending_at == [("create", 1), ("lookup", 0)]  # the create held a slot, the read none
    assert time.slept == []  # read at once, not after a poll's backoff
    assert journal.events == [("sent", CID), ("state:closed", CID)]


def test_ids_only_answer_whose_read_fails_is_polled_like_an_open_order(slots: VenueSlots) -> None:
    client = PlacingScriptedClient(creates=[answers(state(status=ACKNOWLEDGED, filled="0"))],
                                   lookups=[raises(VenueUnavailable("okx", "503")), answers(state())],
                                   slots=slots)  # fmt: skip
    journal = MemoryJournal()
    result, time = send(client, journal, slots)
    assert result.status == "closed" and creates(client) == 1 and time.slept == [0.5]
    assert client.pending_at == [("create", 1), ("lookup", 0), ("lookup", 1)]  # the poll holds its slot as before
    assert journal.events == [("sent", CID), (f"state:{ACKNOWLEDGED}", CID), ("state:closed", CID)]
