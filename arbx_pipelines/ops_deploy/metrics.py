"""The Prometheus endpoint: business figures read from the application database at each scrape, plus the
process figures of ``prometheus_client``'s default collectors (CPU, memory, open files, GC, Python).

Reading at scrape time keeps one truth (the database) and works for every process that writes it: the Dagster
runs, the engine and the CLI. The server binds 127.0.0.1 unless told otherwise (the compose file publishes it on
the host's loopback only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.core.position_risk import hedge_deviation
from arbx_pipelines.execution.risk_state import BREAKER, FAILURES, halted
from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage import metrics as figures
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.state import DatabaseState
from arbx_pipelines.storage.views import ACTIVE_STATUSES

log = get_logger("arbx.metrics")
DEFAULT_PORT = 9108
#: execution kinds that open exposure: an opportunity taken
OPENING_KINDS = ("open_funding", "spot_arb")
#: final outcomes of an execution (pending and sending are still in flight)
SUCCESS_STATUSES = ("done",)
FINAL_STATUSES = ("done", "failed", "repaired")


class ArbxCollector(Collector):
    """Yields the business figures; a database that cannot be read gives ``arbx_database_up 0``, never an error."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("arbx_database_up", "1 when the application database answered this scrape")
        try:
            families = list(self._business())
        except Exception as exc:  # a scrape must answer; the reason goes to the log
            log.warning("metrics: database not readable", extra={"error": str(exc).splitlines()[0]})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _business(self) -> Iterator[Any]:
        engine = self._engine
        seen = CounterMetricFamily("arbx_opportunities_seen", "Opportunities recorded", labels=["kind"])
        for kind, count in sorted(figures.opportunity_counts(engine).items()):
            seen.add_metric([kind], count)
        yield seen

        executions = figures.execution_counts(engine)
        taken = CounterMetricFamily("arbx_opportunities_taken", "Opening executions that sent orders", labels=["kind"])
        outcome = CounterMetricFamily("arbx_executions", "Executions by kind and outcome", labels=["kind", "status"])
        for (kind, status), count in sorted(executions.items()):
            outcome.add_metric([kind, status], count)
        for kind in OPENING_KINDS:
            sent = sum(n for (k, s), n in executions.items() if k == kind and s != "pending")
            if sent:
                taken.add_metric([kind], sent)
        yield taken
        yield outcome
        yield _success_ratio(executions)

        latency = SummaryMetricFamily(
            "arbx_order_latency_seconds", "Order send to venue acknowledgement", labels=["venue"]
        )
        slowest = GaugeMetricFamily("arbx_order_latency_max_seconds", "Slowest acknowledgement", labels=["venue"])
        for venue, totals in sorted(figures.order_latency_by_venue(engine).items()):
            latency.add_metric([venue], count_value=totals.count, sum_value=totals.sum_seconds)
            slowest.add_metric([venue], totals.max_seconds)
        yield latency
        yield slowest

        yield from _positions(engine)

        funding = CounterMetricFamily("arbx_funding_received_usdt", "Funding booked (received > 0)", labels=["venue"])
        for venue, amount in sorted(figures.funding_received_by_venue(engine).items()):
            funding.add_metric([venue], float(amount))
        yield funding
        realized = GaugeMetricFamily("arbx_realized_pnl_usdt", "Realized P&L of closed positions", labels=["venue"])
        for venue, amount in sorted(figures.realized_pnl_by_venue(engine).items()):
            realized.add_metric([venue], float(amount))
        yield realized

        flags = DatabaseState(engine)
        yield GaugeMetricFamily("arbx_kill_switch", "1 while arbx is halted", value=int(halted(engine) is not None))
        yield GaugeMetricFamily("arbx_breaker_open", "1 while the circuit breaker is open",
                                value=int(flags.get_flag(BREAKER) == "1"))  # fmt: skip
        yield GaugeMetricFamily("arbx_consecutive_failures", "Failed opens since the last success",
                                value=int(flags.get_flag(FAILURES) or 0))  # fmt: skip


def _success_ratio(executions: dict[tuple[str, str], int]) -> GaugeMetricFamily:
    ratio = GaugeMetricFamily("arbx_execution_success_ratio", "Done / finished executions", labels=["kind"])
    for kind in sorted({k for k, _ in executions}):
        finished = sum(n for (k, s), n in executions.items() if k == kind and s in FINAL_STATUSES)
        if finished:
            done = sum(n for (k, s), n in executions.items() if k == kind and s in SUCCESS_STATUSES)
            ratio.add_metric([kind], done / finished)
    return ratio


def _positions(engine: Engine) -> Iterator[GaugeMetricFamily]:
    open_positions = GaugeMetricFamily("arbx_open_positions", "Positions holding exposure", labels=["venue", "status"])
    deviation = GaugeMetricFamily(
        "arbx_hedge_deviation_ratio", "|perp - spot| / perp per active position", labels=["position", "venue", "symbol"]
    )
    counts: dict[tuple[str, str], int] = {}
    for pid, venue, symbol, status, perp, spot in figures.position_amounts(engine, ACTIVE_STATUSES):
        counts[(venue, status)] = counts.get((venue, status), 0) + 1
        if perp > 0:
            deviation.add_metric([str(pid), venue, symbol], float(hedge_deviation(perp, spot)))
    for (venue, status), count in sorted(counts.items()):
        open_positions.add_metric([venue, status], count)
    yield open_positions
    yield deviation


def metrics_registry(engine: Engine) -> CollectorRegistry:
    """A registry of its own: the arbx figures plus process, platform and GC figures."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    registry.register(ArbxCollector(engine))
    return registry


@dataclass
class MetricsServer:
    host: str
    port: int
    _server: Any
    _thread: Any

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(engine: Engine, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Serve ``/metrics`` in a daemon thread; ``port`` 0 picks a free one (tests)."""
    server, thread = start_http_server(port, addr=host, registry=metrics_registry(engine))
    bound = int(server.server_address[1])
    log.info("metrics serving", extra={"url": f"http://{host}:{bound}/metrics"})
    return MetricsServer(host, bound, server, thread)


def start_configured_metrics(loaded: LoadedConfig) -> MetricsServer | None:
    """What ``arbx run`` calls: the endpoint on 127.0.0.1:``metrics.port`` when that key is set, else nothing."""
    port = loaded.config.metrics.port
    return None if port is None else start_metrics_server(make_engine(loaded.database_url), port)
