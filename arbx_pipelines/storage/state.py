"""Small shared-state interface: locks with owner tokens, idempotency keys, latest-quote cache,
rate-limit counters and flags (the kill switch). Redis implements it when configured
(:mod:`arbx_pipelines.storage.redis_state`); otherwise :class:`DatabaseState` runs the same contract
on the application database, so one process or many behave the same without Redis.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, Integer, String, cast, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import StateEntry


class StateStore(Protocol):
    def acquire_lock(self, name: str, ttl_seconds: float, token: str | None = None) -> str | None:
        """Take the lock for ``ttl_seconds``; return the owner token, or None when someone else holds it."""

    def release_lock(self, name: str, token: str) -> bool:
        """Release only when ``token`` still owns the lock; return whether it was released."""

    def lock_holder(self, name: str) -> str | None:
        """The token holding the lock now, or None when it is free."""

    def replace_lock(self, name: str, old_token: str, new_token: str, ttl_seconds: float) -> bool:
        """Hand the lock from ``old_token`` (an owner found gone) to ``new_token``, only if ``old_token`` still holds
        it; return whether it was taken over."""

    def refresh_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        """The owner's heartbeat: extend the lock to ``ttl_seconds`` from now while ``token`` holds it."""

    def claim_idempotency_key(self, key: str, ttl_seconds: float) -> bool:
        """True the first time ``key`` is claimed within its TTL, False on every repeat."""

    def put_quote(self, venue: str, symbol: str, quote: dict[str, Any], ttl_seconds: float = 120) -> None: ...

    def latest_quote(self, venue: str, symbol: str) -> dict[str, Any] | None: ...

    def hit(self, name: str, window_seconds: int) -> int:
        """Count one event in the current fixed window and return the window's count so far."""

    def set_flag(self, name: str, value: str | None) -> None:
        """Set a persistent flag (``None`` clears it)."""

    def get_flag(self, name: str) -> str | None: ...


def new_token(owner: str = "") -> str:
    """A lock token; ``owner`` (run id, pid, host: see :func:`lock_token`) lets others tell when its holder died."""
    return f"{owner}|{secrets.token_hex(8)}" if owner else secrets.token_hex(16)


@dataclass(frozen=True)
class LockOwner:
    run_id: str
    pid: int
    host: str


def lock_token(owner: LockOwner) -> str:
    """A token that names its owner: ``run id|pid|host|random``."""
    return new_token(f"{owner.run_id.replace('|', '_') or '-'}|{owner.pid}|{owner.host.replace('|', '_')}")


def owner_of(token: str) -> LockOwner | None:
    """The owner a token names, or None for a token without one."""
    parts = token.split("|")
    if len(parts) != 4 or not parts[1].isdigit():
        return None
    return LockOwner(parts[0], int(parts[1]), parts[2])


def _quote_key(venue: str, symbol: str) -> str:
    return f"arbx:quote:{venue}:{symbol}"


class DatabaseState:
    """The state contract on the application database (SQLite or PostgreSQL) via ``state_entries``."""

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        self._engine = engine
        self._clock = clock

    @property
    def engine(self) -> Engine:
        return self._engine

    def _insert_if_free(self, key: str, value: str, ttl_seconds: float | None) -> bool:
        now = self._clock()
        expires = None if ttl_seconds is None else now + ttl_seconds
        try:
            with transaction(self._engine) as session:
                session.execute(
                    delete(StateEntry).where(
                        StateEntry.key == key,
                        StateEntry.expires_at.is_not(None),
                        StateEntry.expires_at <= now,
                    )
                )
                session.execute(insert(StateEntry).values(key=key, value=value, expires_at=expires))
        except IntegrityError:
            return False
        return True

    def _get(self, key: str) -> str | None:
        with transaction(self._engine) as session:
            row = session.execute(select(StateEntry.value, StateEntry.expires_at).where(StateEntry.key == key)).first()
        if row is None or (row.expires_at is not None and row.expires_at <= self._clock()):
            return None
        return str(row.value)

    def _put(self, key: str, value: str, ttl_seconds: float | None) -> None:
        expires = None if ttl_seconds is None else self._clock() + ttl_seconds
        with transaction(self._engine) as session:
            changed = session.execute(
                update(StateEntry)
                .where(StateEntry.key == key)
                .values(value=value, expires_at=expires)
                .returning(StateEntry.key)
            ).first()
            if changed is None:
                session.execute(insert(StateEntry).values(key=key, value=value, expires_at=expires))

    def acquire_lock(self, name: str, ttl_seconds: float, token: str | None = None) -> str | None:
        token = token or new_token()
        return token if self._insert_if_free(f"arbx:lock:{name}", token, ttl_seconds) else None

    def release_lock(self, name: str, token: str) -> bool:
        with transaction(self._engine) as session:
            deleted = session.execute(
                delete(StateEntry)
                .where(StateEntry.key == f"arbx:lock:{name}", StateEntry.value == token)
                .returning(StateEntry.key)
            ).first()
        return deleted is not None

    def lock_holder(self, name: str) -> str | None:
        return self._get(f"arbx:lock:{name}")

    def replace_lock(self, name: str, old_token: str, new_token: str, ttl_seconds: float) -> bool:
        return self._swap(f"arbx:lock:{name}", old_token, new_token, ttl_seconds)

    def refresh_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        return self._swap(f"arbx:lock:{name}", token, token, ttl_seconds)

    def _swap(self, key: str, old: str, new: str, ttl_seconds: float) -> bool:
        with transaction(self._engine) as session:
            changed = session.execute(
                update(StateEntry)
                .where(StateEntry.key == key, StateEntry.value == old)
                .values(value=new, expires_at=self._clock() + ttl_seconds)
                .returning(StateEntry.key)
            ).first()
        return changed is not None

    def claim_idempotency_key(self, key: str, ttl_seconds: float) -> bool:
        return self._insert_if_free(f"arbx:idem:{key}", "1", ttl_seconds)

    def put_quote(self, venue: str, symbol: str, quote: dict[str, Any], ttl_seconds: float = 120) -> None:
        self._put(_quote_key(venue, symbol), json.dumps(quote, default=str), ttl_seconds)

    def latest_quote(self, venue: str, symbol: str) -> dict[str, Any] | None:
        raw = self._get(_quote_key(venue, symbol))
        return None if raw is None else dict(json.loads(raw))

    def hit(self, name: str, window_seconds: int) -> int:
        window = int(self._clock() // window_seconds)
        key = f"arbx:rate:{name}:{window}"
        if self._insert_if_free(key, "1", window_seconds * 2):
            return 1
        with transaction(self._engine) as session:
            count = session.execute(
                update(StateEntry)
                .where(StateEntry.key == key)
                .values(value=cast(cast(StateEntry.value, Integer) + 1, String))
                .returning(StateEntry.value)
            ).scalar_one()
        return int(count)

    def set_flag(self, name: str, value: str | None) -> None:
        key = f"arbx:flag:{name}"
        if value is None:
            with transaction(self._engine) as session:
                session.execute(delete(StateEntry).where(StateEntry.key == key))
        else:
            self._put(key, value, None)

    def get_flag(self, name: str) -> str | None:
        return self._get(f"arbx:flag:{name}")
