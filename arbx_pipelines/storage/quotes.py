"""The ``quotes`` table: best bid/ask and top-of-book depth as the quotes monitor saw them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert

from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import QuoteRow


def record_quotes(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Store one row per book (keys: the ``quotes`` columns), in one transaction."""
    if rows:
        with transaction(engine) as session:
            session.execute(insert(QuoteRow), list(rows))
    return len(rows)
