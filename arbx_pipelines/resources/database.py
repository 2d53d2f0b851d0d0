"""Database and shared-state resources, injected into assets, sensors and ops."""

from __future__ import annotations

from functools import cached_property

from dagster import ConfigurableResource
from sqlalchemy import Engine

from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore


class DatabaseResource(ConfigurableResource):
    """The application database (SQLite file by default, PostgreSQL via ``postgresql+psycopg://``)."""

    url: str

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.url)


class StateResource(ConfigurableResource):
    """Locks, idempotency keys, quote cache and flags: on Redis when ``redis_url`` is set, else the database."""

    database_url: str
    redis_url: str | None = None
    prefix: str = ""

    @cached_property
    def store(self) -> StateStore:
        if self.redis_url:
            return RedisState.from_url(self.redis_url, prefix=self.prefix)
        return DatabaseState(make_engine(self.database_url))
