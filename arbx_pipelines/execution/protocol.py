"""Sending one order so that a retry never doubles it (DESIGN, "Execution protocol").

The intent must already be recorded. :func:`send_order` then:

- sends it with its deterministic client order id;
- on a lost answer (timeout, dropped connection, 5xx: ``OutcomeUnknown`` / ``VenueUnavailable``) looks the order up
  by client order id with backoff, and resends the SAME id only after two look-ups a pause apart both say the venue
  does not have it;
- on ``RateLimited`` (refused before acting) waits and resends the same id;
- on ``OrderRejected`` stops: the answer is final;
- waits for a non-final answer (an order still open) to become final, and cancels it when the time is up.

All of it is bounded by ``order_timeout_s``; an answer still missing then is reported as ``unknown`` (never as
"not filled"), for reconcile to settle. Every step is written to the :class:`OrderJournal` as it happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from arbx_pipelines.core.money import ZERO
from arbx_pipelines.core.orders import OrderIntent
from arbx_pipelines.core.venue_data import ACKNOWLEDGED, OrderState
from arbx_pipelines.execution.crashpoints import crash_point
from arbx_pipelines.execution.slots import VenueSlots
from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.errors import OrderRejected, RateLimited, VenueError

log = get_logger("arbx.execution.protocol")

REJECTED = "rejected"
UNKNOWN = "unknown"


class OrderClient(Protocol):
    """The part of :class:`arbx_pipelines.venues.client.VenueClient` the protocol uses."""

    async def create_order(self, intent: OrderIntent) -> OrderState: ...

    async def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderState | None: ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> OrderState | None: ...


@runtime_checkable
class PlacingClient(OrderClient, Protocol):
    """A client whose create answer may carry the order's ids only (status ``acknowledged``): its outcome is then
    read after the venue slot is released (the slot bounds orders being placed; the read places nothing)."""

    async def place_order(self, intent: OrderIntent) -> OrderState: ...


class OrderJournal(Protocol):
    def mark_sent(self, client_order_id: str) -> None: ...

    def record_state(
        self, client_order_id: str, state: OrderState, *, sent_at: datetime | None = None, at: datetime | None = None
    ) -> None:
        """``sent_at`` / ``at``: when the answering request left and came back (while holding its venue slot)."""

    def mark_rejected(self, client_order_id: str, error: str) -> None: ...

    def mark_unknown(self, client_order_id: str, error: str) -> None: ...


@dataclass(frozen=True)
class ProtocolTiming:
    timeout_s: float = 25.0
    backoff_s: float = 0.2
    backoff_max_s: float = 2.0
    #: how long after it was sent a request whose answer was lost may still be accepted by the venue: an order
    #: is called absent (and its id resent) only after this. Binance refuses requests older than recvWindow,
    #: which arbx sets to 5 s; OKX and Bitget accept for up to 30 s, so for them this is a bound on server-side
    #: delay rather than a guarantee.
    in_flight_s: float = 6.0


@dataclass(frozen=True)
class SentOrder:
    """How one order ended: ``status`` is the venue's (closed, canceled, expired, open) or rejected / unknown."""

    intent: OrderIntent
    status: str
    state: OrderState | None = None
    error: str | None = None
    sends: int = 0

    @property
    def known(self) -> bool:
        return self.status != UNKNOWN

    @property
    def filled(self) -> Decimal:
        """Base amount filled as the venue reported it (0 when rejected; unknown counts as 0 but is not known)."""
        return self.state.filled if self.state is not None else ZERO


Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class _Absent:
    pass


ABSENT = _Absent()


async def send_order(
    client: OrderClient,
    intent: OrderIntent,
    journal: OrderJournal,
    slots: VenueSlots,
    timing: ProtocolTiming = ProtocolTiming(),
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> SentOrder:
    """Place ``intent`` exactly once (see the module docstring); never raises for venue errors."""
    cid = intent.client_order_id
    deadline = clock() + timing.timeout_s
    delay = timing.backoff_s
    sends = 0
    place = client.place_order if isinstance(client, PlacingClient) else client.create_order
    journal.mark_sent(cid)
    crash_point("order.marked_sent")
    last_error = ""
    accepted_maybe = False  # the last send's answer was lost: the order may exist
    ever_lost = False  # some send's answer was lost: a later "duplicate" rejection may mean it arrived after all
    while True:
        sends += 1
        if sends > 1:  # a resend: its request may be in flight from now on (reconcile reads this)
            journal.mark_sent(cid)
        try:
            async with slots.pending(intent.venue):
                crash_point("order.slot_acquired")
                sent_at = datetime.now(UTC)
                send_started = clock()
                crash_point("order.create_sent")
                state = await place(intent)
                crash_point("order.create_answered")
                answered_at = datetime.now(UTC)
        except RateLimited as exc:
            last_error = str(exc)
        except OrderRejected as exc:
            if ever_lost:  # e.g. "duplicate client order id": an earlier send did arrive
                found = await _look_up(client, intent, slots, timing, deadline, sleep, clock)
                if isinstance(found, OrderState):
                    return await _settle(client, intent, found, journal, slots, timing, deadline, sleep, clock, sends)
            journal.mark_rejected(cid, str(exc))
            return SentOrder(intent, REJECTED, error=str(exc), sends=sends)
        except VenueError as exc:
            if not (exc.outcome_unknown or exc.retry_safe):  # authentication, unknown symbol: nothing was placed
                journal.mark_rejected(cid, str(exc))
                return SentOrder(intent, REJECTED, error=str(exc), sends=sends)
            last_error = str(exc)
            accepted_maybe = ever_lost = True
            log.warning("order answer lost; looking it up", extra={"client_order_id": cid, "error": last_error})
            in_flight_until = send_started + timing.in_flight_s
            found = await _look_up(client, intent, slots, timing, deadline, sleep, clock, absent_after=in_flight_until)
            if isinstance(found, OrderState):
                return await _settle(client, intent, found, journal, slots, timing, deadline, sleep, clock, sends)
            if found is None:  # the look-ups themselves ran out of time
                journal.mark_unknown(cid, last_error)
                return SentOrder(intent, UNKNOWN, error=last_error, sends=sends)
            accepted_maybe = False  # the venue definitely does not have it: resending the same id is safe
        else:
            if state.status == ACKNOWLEDGED:
                state = await _read_acknowledged(client, intent, state)
            times = (sent_at, answered_at)
            return await _settle(client, intent, state, journal, slots, timing, deadline, sleep, clock, sends, times)
        if clock() + delay > deadline:
            break
        await sleep(delay)
        delay = min(delay * 2, timing.backoff_max_s)
    if accepted_maybe:
        journal.mark_unknown(cid, last_error)
        return SentOrder(intent, UNKNOWN, error=last_error, sends=sends)
    # every send was refused before the venue acted (rate limits): nothing exists on the venue
    journal.mark_rejected(cid, f"not placed before the deadline: {last_error}")
    return SentOrder(intent, REJECTED, error=last_error, sends=sends)


async def resume_order(
    client: OrderClient,
    intent: OrderIntent,
    journal: OrderJournal,
    slots: VenueSlots,
    timing: ProtocolTiming = ProtocolTiming(),
    *,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.monotonic,
) -> SentOrder:
    """An intent an earlier run may have sent (its row is past ``intent``): the venue's order under its client order
    id when there is one (settled like an answer), else :func:`send_order`. Never a second order under one id."""
    deadline = clock() + timing.timeout_s
    found = await _look_up(client, intent, slots, timing, deadline, sleep, clock)
    if isinstance(found, OrderState):
        return await _settle(client, intent, found, journal, slots, timing, deadline, sleep, clock, 0)
    if found is None:
        journal.mark_unknown(intent.client_order_id, "look-up before resending ran out of time")
        return SentOrder(intent, UNKNOWN, error="look-up before resending ran out of time")
    return await send_order(client, intent, journal, slots, timing, sleep=sleep, clock=clock)


async def _look_up(
    client: OrderClient,
    intent: OrderIntent,
    slots: VenueSlots,
    timing: ProtocolTiming,
    deadline: float,
    sleep: Sleep,
    clock: Clock,
    *,
    absent_after: float = 0.0,
) -> OrderState | _Absent | None:
    """The order's state; ABSENT once two look-ups a pause apart found nothing and no request of it can still be
    in flight (``absent_after``, on ``clock``); None when time ran out."""
    delay = timing.backoff_s
    absent_seen = 0
    while True:
        try:
            async with slots.pending(intent.venue):
                crash_point("order.lookup_sent")
                state = await client.order_by_client_id(intent.symbol, intent.client_order_id)
                crash_point("order.lookup_answered")
        except VenueError as exc:
            log.warning("order look-up failed", extra={"client_order_id": intent.client_order_id, "error": str(exc)})
        else:
            if state is not None:
                return state
            absent_seen += 1
            if absent_seen >= 2 and clock() >= absent_after:
                return ABSENT
        if clock() + delay > deadline:
            return None
        await sleep(delay)
        delay = min(delay * 2, timing.backoff_max_s)


async def _read_acknowledged(client: OrderClient, intent: OrderIntent, acknowledged: OrderState) -> OrderState:
    """The outcome of an order whose create answer carried its ids only, read at once and without a venue slot;
    the acknowledged state itself when the read fails (it is then polled, with slots, like an open order)."""
    try:
        state = await client.order_by_client_id(intent.symbol, intent.client_order_id)
    except VenueError as exc:
        log.warning("order state read failed", extra={"client_order_id": intent.client_order_id, "error": str(exc)})
        return acknowledged
    return acknowledged if state is None else state


async def _settle(
    client: OrderClient,
    intent: OrderIntent,
    state: OrderState,
    journal: OrderJournal,
    slots: VenueSlots,
    timing: ProtocolTiming,
    deadline: float,
    sleep: Sleep,
    clock: Clock,
    sends: int,
    times: tuple[datetime, datetime] | None = None,
) -> SentOrder:
    """Record the answer; an IOC order still open is polled until final and cancelled when time is up."""
    sent_at, answered_at = times or (None, None)
    journal.record_state(intent.client_order_id, state, sent_at=sent_at, at=answered_at)
    crash_point("order.state_committed")
    delay = timing.backoff_s
    while not state.is_final and clock() + delay <= deadline:
        await sleep(delay)
        delay = min(delay * 2, timing.backoff_max_s)
        try:
            async with slots.pending(intent.venue):
                crash_point("order.lookup_sent")
                refreshed = await client.order_by_client_id(intent.symbol, intent.client_order_id)
                crash_point("order.lookup_answered")
        except VenueError:
            continue
        if refreshed is not None:
            state = refreshed
            journal.record_state(intent.client_order_id, state)
            crash_point("order.state_committed")
    if not state.is_final:
        try:
            async with slots.pending(intent.venue):
                crash_point("order.cancel_sent")
                cancelled = await client.cancel_order(intent.symbol, intent.client_order_id)
                crash_point("order.cancel_answered")
        except VenueError as exc:
            journal.mark_unknown(intent.client_order_id, f"still open, cancel failed: {exc}")
            return SentOrder(intent, UNKNOWN, state, str(exc), sends)
        if cancelled is not None:
            state = cancelled
            journal.record_state(intent.client_order_id, state)
            crash_point("order.state_committed")
    return SentOrder(intent, state.status, state, None, sends)
