"""Throw-away PostgreSQL schemas for benchmarks (empty, or with every migration applied); dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from arbx_pipelines.storage.db import normalize_url, upgrade

DEFAULT_BENCH_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def bench_pg_url() -> str:
    return normalize_url(os.environ.get("ARBX_BENCH_PG_URL", DEFAULT_BENCH_PG_URL))


@contextmanager
def empty_schema(base_url: str, *, prefix: str = "bench", id_length: int = 12) -> Iterator[str]:
    """Yield a SQLAlchemy URL whose search_path is a new, empty schema; the schema is dropped on exit."""
    plain = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"{prefix}_{uuid.uuid4().hex[:id_length]}"
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def temporary_schema(base_url: str, *, prefix: str = "bench") -> Iterator[str]:
    """Yield a SQLAlchemy URL whose search_path is a new, migrated schema; the schema is dropped on exit."""
    with empty_schema(base_url, prefix=prefix) as url:
        upgrade(url)
        yield url
