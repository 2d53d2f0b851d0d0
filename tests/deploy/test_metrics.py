"""The Prometheus endpoint over real HTTP on a real PostgreSQL database: the figures follow the records."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from arbx_pipelines.cli.main import main
from arbx_pipelines.config.loader import load_config
from arbx_pipelines.execution.risk_state import BREAKER, FAILURES, halt
from arbx_pipelines.ops_deploy.metrics import MetricsServer, start_configured_metrics, start_metrics_server
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import Execution, FundingPayment, Opportunity, Order, Position
from arbx_pipelines.storage.state import DatabaseState

PROJECT_DIR = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    upgrade(pg_url)
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def _scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _position(venue: str, symbol: str, status: str, perp: str, spot: str, realized: str | None = None) -> Position:
    return Position(venue=venue, symbol=symbol, spot_symbol=symbol.split(":")[0], direction="positive", status=status,
                    perp_amount=Decimal(perp), spot_amount=Decimal(spot), leverage=2, realized_pnl=
                    None if realized is None else Decimal(realized), opened_at=NOW, updated_at=NOW)  # fmt: skip


def _execution(key: str, status: str, position: Position | None = None) -> Execution:
    return Execution(execution_key=key, kind="open_funding", venue="okx", symbol="DOGE/USDT:USDT", status=status,
                     position_id=None if position is None else position.id, created_at=NOW, updated_at=NOW)  # fmt: skip


def _order(execution: Execution, leg: str, ack_ms: int) -> Order:
    return Order(client_order_id=f"{execution.execution_key}-{leg}", execution_id=execution.id, leg=leg, venue="okx",
                 symbol="DOGE/USDT:USDT", side="sell", order_type="limit", amount=Decimal(500), status="closed",
                 created_at=NOW, updated_at=NOW, sent_at=NOW,
                 acknowledged_at=NOW + timedelta(milliseconds=ack_ms))  # fmt: skip


def _record_trading(engine: Engine) -> None:
    """One hedge open and a little off (500 perp vs 490 spot), one closed with profit, three finished opens."""
    with transaction(engine) as session:
        hedge = _position("okx", "DOGE/USDT:USDT", "open", "500", "490")
        closed = _position("binance", "BTC/USDT:USDT", "closed", "0.001", "0.001", realized="1.25")
        session.add_all([hedge, closed])
        session.flush()
        session.add(Opportunity(signal_key="open:okx:DOGE", kind="funding", venue="okx", symbol="DOGE/USDT:USDT",
                                detected_at=NOW))  # fmt: skip
        done = _execution("open:okx:DOGE", "done", hedge)
        session.add_all([done, _execution("open:okx:ETH", "done"), _execution("open:okx:SOL", "failed")])
        session.add(_execution("open:okx:XRP", "pending"))
        session.flush()
        session.add_all([_order(done, "perp", 250), _order(done, "spot", 750)])
        for hours, amount in ((0, "0.30"), (8, "0.20")):
            session.add(FundingPayment(position_id=hedge.id, venue="okx", symbol="DOGE/USDT:USDT",
                                       funding_time=NOW + timedelta(hours=hours), amount=Decimal(amount)))  # fmt: skip
    halt(engine, "metrics test")
    DatabaseState(engine).set_flag(BREAKER, "1")
    DatabaseState(engine).set_flag(FAILURES, "3")


def test_scrape_shows_the_recorded_business_figures_and_process_figures(engine: Engine) -> None:
    server = start_metrics_server(engine, 0)
    try:
        empty = _scrape(server.url)
        _record_trading(engine)
        samples = _scrape(server.url)
    finally:
        server.close()
    assert server.host == "127.0.0.1"
    assert empty[("arbx_database_up", ())] == 1
    assert (
        empty[("arbx_kill_switch", ())] == 0 and ("arbx_funding_received_usdt_total", (("venue", "okx"),)) not in empty
    )
    okx = (("venue", "okx"),)
    kind = (("kind", "open_funding"),)
    assert samples[("arbx_opportunities_seen_total", (("kind", "funding"),))] == 1
    assert samples[("arbx_opportunities_taken_total", kind)] == 3  # the pending one sent nothing yet
    assert samples[("arbx_executions_total", (("kind", "open_funding"), ("status", "failed")))] == 1
    assert samples[("arbx_execution_success_ratio", kind)] == pytest.approx(2 / 3)
    assert samples[("arbx_order_latency_seconds_count", okx)] == 2
    assert samples[("arbx_order_latency_seconds_sum", okx)] == pytest.approx(1.0)
    assert samples[("arbx_order_latency_max_seconds", okx)] == pytest.approx(0.75)
    assert samples[("arbx_open_positions", (("status", "open"), ("venue", "okx")))] == 1
    deviation = [v for (name, labels), v in samples.items() if name == "arbx_hedge_deviation_ratio"]
    assert deviation == [pytest.approx(0.02)]
    assert samples[("arbx_funding_received_usdt_total", okx)] == pytest.approx(0.5)
    assert samples[("arbx_realized_pnl_usdt", (("venue", "binance"),))] == pytest.approx(1.25)
    assert samples[("arbx_kill_switch", ())] == 1
    assert samples[("arbx_breaker_open", ())] == 1
    assert samples[("arbx_consecutive_failures", ())] == 3
    assert samples[("process_resident_memory_bytes", ())] > 0
    assert any(name.startswith("python_gc_") for name, _ in samples)
    dashboard = json.loads((PROJECT_DIR / "deploy" / "grafana" / "arbx.json").read_text())
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b(?:arbx|process)_[a-z_]+", target["expr"])}  # fmt: skip
    assert queried and queried <= {name for name, _ in samples}, queried - {name for name, _ in samples}


def test_run_starts_the_endpoint_only_when_metrics_port_is_set(engine: Engine, pg_url: str) -> None:
    env = {"ARBX_DATABASE_URL": pg_url}
    assert start_configured_metrics(load_config(PROJECT_DIR / "arbx.yaml", env=env)) is None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = start_configured_metrics(load_config(PROJECT_DIR / "arbx.yaml", env=env, overrides={"metrics.port": port}))
    assert server is not None
    try:
        assert (server.host, server.port) == ("127.0.0.1", port)
        assert _scrape(server.url)[("arbx_database_up", ())] == 1
    finally:
        server.close()


def test_an_unreadable_database_is_reported_not_raised(pg_url: str) -> None:
    """No migrations applied: the tables are missing, yet the scrape answers with ``arbx_database_up 0``."""
    engine = make_engine(pg_url)
    server = start_metrics_server(engine, 0)
    try:
        samples = _scrape(server.url)
    finally:
        server.close()
        engine.dispose()
    assert samples[("arbx_database_up", ())] == 0
    assert ("arbx_kill_switch", ()) not in samples
    assert samples[("process_resident_memory_bytes", ())] > 0


def test_metrics_serve_command_answers_and_stops_on_sigterm(
    engine: Engine, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command in this process: a helper thread scrapes the server it started, then sends SIGTERM."""
    from arbx_pipelines.cli import metrics as command

    _record_trading(engine)
    monkeypatch.setenv("ARBX_DATABASE_URL", pg_url)
    monkeypatch.setenv("ARBX_CONFIG", str(tmp_path / "arbx.yaml"))
    (tmp_path / "arbx.yaml").write_text("metrics:\n  port: 9108\n")
    started: list[MetricsServer] = []
    listening = threading.Event()

    def start_and_tell(engine: Engine, port: int, host: str = "127.0.0.1") -> MetricsServer:
        started.append(start_metrics_server(engine, port, host))
        listening.set()
        return started[0]

    monkeypatch.setattr(command, "start_metrics_server", start_and_tell)
    scraped: list[float] = []

    def scrape_then_stop() -> None:
        try:
            if listening.wait(timeout=20):
                scraped.append(_scrape(started[0].url)[("arbx_kill_switch", ())])
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=scrape_then_stop)
    helper.start()
    assert main(["metrics", "serve", "--port", "0"]) == 0
    helper.join(timeout=10)
    assert scraped == [1]
    assert capsys.readouterr().out.strip() == f"metrics on http://127.0.0.1:{started[0].port}/metrics"


def test_metrics_serve_on_a_taken_port_is_one_line_and_exit_2(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARBX_DATABASE_URL", pg_url)
    monkeypatch.setenv("ARBX_CONFIG", str(tmp_path / "arbx.yaml"))
    (tmp_path / "arbx.yaml").write_text("mode: sim\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        assert main(["metrics", "serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err == f"arbx: metrics: cannot serve on 127.0.0.1:{port}: Address already in use\n"
