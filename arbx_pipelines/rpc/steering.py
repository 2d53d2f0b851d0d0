"""What the operator changes: the kill switch, the circuit breaker, closing positions.

A close goes through the ``close_position`` job: submitted to the running ``arbx run`` (its daemon launches it, with
the per-symbol concurrency limit) when one is up, else executed here in process, so both paths run the same op.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from arbx_pipelines.execution.risk_state import halt, halted, reset_breaker, resume
from arbx_pipelines.rpc.context import RpcContext
from arbx_pipelines.rpc.daemon import running_ui_url
from arbx_pipelines.rpc.views import breaker_status
from arbx_pipelines.storage.views import PositionRecord, position_for_view, positions_for_view

CLOSABLE = ("open", "broken")
LOCATION = "arbx"
UI_TIMEOUT_S = 3.0


class RpcError(ValueError):
    """A request that cannot be done as asked; the message is one line for the user."""


def halt_trading(ctx: RpcContext, reason: str) -> dict[str, Any]:
    halt(ctx.engine, reason or "manual halt")
    ctx.sink.raise_alert("halt", f"kill switch engaged: {reason or 'manual halt'}", severity="warning")
    return {"halted": True, "reason": halted(ctx.engine)}


def resume_trading(ctx: RpcContext) -> dict[str, Any]:
    was = halted(ctx.engine)
    resume(ctx.engine)
    if was is not None:
        ctx.sink.raise_alert("resume", f"kill switch released (was: {was})", severity="info")
    return {"halted": False, "was": was}


def reset_circuit_breaker(ctx: RpcContext) -> dict[str, Any]:
    """Close the breaker and zero its failure count (a human decision, recorded as an alert)."""
    before = breaker_status(ctx)
    reset_breaker(ctx.engine)
    if before["open"] or before["consecutive_failures"]:
        ctx.sink.raise_alert(
            "breaker_reset",
            f"circuit breaker reset (was {'open' if before['open'] else 'closed'}, "
            f"{before['consecutive_failures']} consecutive failures)",
            severity="info",
        )
    return {"was": before, "now": breaker_status(ctx)}


def closable_position(ctx: RpcContext, position_id: int) -> PositionRecord:
    row = position_for_view(ctx.engine, position_id)
    if row is None:
        raise RpcError(f"no position {position_id}")
    if row.status not in CLOSABLE:
        raise RpcError(f"position {position_id} is {row.status}: only open or broken positions can be closed")
    return row


def open_positions(ctx: RpcContext) -> list[PositionRecord]:
    return [row for row in positions_for_view(ctx.engine) if row.status == "open"]


def _run_config(position_id: int, reason: str) -> dict[str, Any]:
    return {"ops": {"close_position_op": {"config": {"position_id": position_id, "reason": reason}}}}


def _tags(row: PositionRecord) -> dict[str, str]:
    from arbx_pipelines.jobs.common import run_tags

    return run_tags(row.symbol, "close", row.venue)


def _submit(ui_url: str, row: PositionRecord, reason: str) -> str:
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    parts = urlsplit(ui_url)
    client = DagsterGraphQLClient(parts.hostname or "127.0.0.1", port_number=parts.port, timeout=10)
    try:
        return client.submit_job_execution(
            "close_position",
            repository_location_name=LOCATION,
            run_config=_run_config(row.id, reason),
            tags=_tags(row),
        )
    except DagsterGraphQLClientError as exc:
        raise RpcError(f"the running arbx at {ui_url} refused the close of position {row.id}: {exc}") from exc


def _answers(ui_url: str) -> bool:
    """Whether the Dagster webserver of the running ``arbx run`` answers (its heartbeat may outlive a killed run)."""
    try:
        with urllib.request.urlopen(f"{ui_url.rstrip('/')}/server_info", timeout=UI_TIMEOUT_S):
            return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _in_process(ctx: RpcContext, row: PositionRecord, reason: str) -> str:
    from dagster import DagsterInstance

    from arbx_pipelines.definitions import build_definitions

    job = build_definitions(ctx.loaded, ctx.config_path).resolve_job_def("close_position")
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            run_config=_run_config(row.id, reason), instance=instance, tags=_tags(row), raise_on_error=False
        )
    return result.run_id


def close_position(ctx: RpcContext, position_id: int, reason: str = "") -> dict[str, Any]:
    """Close one position: through the running daemon (returns once submitted) or in process (returns the outcome)."""
    row = closable_position(ctx, position_id)
    reason = reason or "manual close"
    ui_url = running_ui_url(ctx.engine)
    if ui_url is not None and _answers(ui_url):
        return {"position_id": row.id, "via": "daemon", "run_id": _submit(ui_url, row, reason), "status": "submitted"}
    run_id = _in_process(ctx, row, reason)
    after = position_for_view(ctx.engine, row.id)
    assert after is not None
    return {
        "position_id": row.id,
        "via": "in_process",
        "run_id": run_id,
        "status": after.status,
        "realized_pnl": None if after.realized_pnl is None else str(after.realized_pnl),
        "close_reason": after.close_reason,
    }
