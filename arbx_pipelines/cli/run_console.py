"""What ``arbx run`` prints: one line per hedge opened or closed and per alert, and only the Dagster lines that
need a person (errors); Dagster's deprecation/beta warnings and the daemon's polling chatter are dropped."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine

from arbx_pipelines.storage.activity import AlertLine, HedgeLine, alerts_after, hedges_changed_since, last_alert_id

#: Python warnings Dagster raises about its own APIs, and lines that are routine polling
_NOISE = re.compile(
    r"(Deprecation|Beta|Preview|Supersession|Experimental|User)Warning|Checking for new runs|"
    r"is currently in (beta|preview)|will be removed in|No run requests returned|Sensor .* skipped|^Aborted!$"
)
#: routine levels in Dagster's format (``... - dagster.daemon - INFO - ...``) and arbx's (kv and json)
_ROUTINE = re.compile(r" - (DEBUG|INFO) - |\blevel=(DEBUG|INFO)\b|\"level\": \"(DEBUG|INFO)\"")
#: a run's own warnings and errors (``... - dagster - ERROR - <job> - ...``) with the stack trace under them: what
#: matters in them is an alert (the run-failure sensor, the ops' own alerts), printed as one line
_RUN_EVENT = re.compile(r" - dagster - (WARNING|ERROR|CRITICAL) - ")
_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")

#: notifications the console already shows as its own lines (hedges from the positions table; the start and stop)
TOLD_OTHERWISE = frozenset({"hedge_opened", "hedge_closed", "start", "stop"})
#: the close reason of a position whose legs were unwound before it was ever hedged
NOT_OPENED = "not_opened"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|Traceback|Error)\b")


def problems_only(line: str) -> bool:
    """For the simulator: its banner and request log are not for the console, its problems are (its own one-line
    errors included; being interrupted at the stop is not one)."""
    text = _ANSI.sub("", line)
    if text.startswith("arbx: "):
        return text != "arbx: interrupted"
    return bool(_PROBLEM.search(text))


class ConsoleLineFilter:
    """For every child of ``arbx run``: keeps warning and error lines and tracebacks; drops routine levels,
    warnings about Dagster's APIs and the source line Python prints under each warning."""

    def __init__(self) -> None:
        self._skip_source_line = False
        self._in_run_event = False

    def __call__(self, line: str) -> bool:
        line = _ANSI.sub("", line)
        if self._in_run_event and not _LOG_LINE.match(line):
            return False  # the stack trace under a run's event
        self._in_run_event = bool(_RUN_EVENT.search(line))
        if self._in_run_event:
            return False
        if self._skip_source_line:
            self._skip_source_line = False
            if line.startswith((" ", "\t")):
                return False
        if _NOISE.search(line):
            self._skip_source_line = "Warning:" in line
            return False
        return not _ROUTINE.search(line) and bool(line.strip())


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def alert_line(alert: AlertLine) -> str:
    where = (
        f" {alert.venue}-{alert.symbol}" if alert.venue and alert.symbol else (f" {alert.venue}" if alert.venue else "")
    )
    return f"{_stamp(alert.time)}  alert {alert.severity} [{alert.kind}]{where}: {alert.message}"


def hedge_opened_line(hedge: HedgeLine) -> str:
    entry = f" @ {hedge.perp_entry_price}" if hedge.perp_entry_price is not None else ""
    return (
        f"{_stamp(hedge.opened_at)}  hedge opened  {hedge.venue}-{hedge.symbol} {hedge.direction} "
        f"perp {hedge.perp_amount}{entry} (position {hedge.position_id})"
    )


def hedge_closed_line(hedge: HedgeLine) -> str:
    pnl = f"realized P&L {hedge.realized_pnl} USDT" if hedge.realized_pnl is not None else "realized P&L unknown"
    closed = hedge.closed_at or hedge.opened_at
    if hedge.close_reason == NOT_OPENED:
        return (
            f"{_stamp(closed)}  hedge not opened  {hedge.venue}-{hedge.symbol} (position {hedge.position_id}): "
            f"legs unwound, {pnl}"
        )
    return (
        f"{_stamp(closed)}  hedge closed  {hedge.venue}-{hedge.symbol} (position {hedge.position_id}): "
        f"{hedge.close_reason or 'no reason recorded'}, {pnl}"
    )


class ActivityFeed:
    """Tails the alerts and positions tables from the start of ``arbx run``; :meth:`poll` echoes what is new."""

    def __init__(self, engine: Engine, echo: Callable[[str], None], since: datetime) -> None:
        self._engine = engine
        self._echo = echo
        self._since = since
        self._alert_id = last_alert_id(engine)
        self._printed: set[tuple[int, str]] = set()

    def poll(self) -> None:
        for alert in alerts_after(self._engine, self._alert_id):
            self._alert_id = alert.id
            if alert.kind not in TOLD_OTHERWISE:
                self._echo(alert_line(alert))
        for hedge in hedges_changed_since(self._engine, self._since):
            opened = hedge.opened_at >= self._since and hedge.close_reason != NOT_OPENED
            if opened and (hedge.position_id, "opened") not in self._printed:
                self._printed.add((hedge.position_id, "opened"))
                self._echo(hedge_opened_line(hedge))
            if hedge.status == "closed" and (hedge.position_id, "closed") not in self._printed:
                self._printed.add((hedge.position_id, "closed"))
                self._echo(hedge_closed_line(hedge))
