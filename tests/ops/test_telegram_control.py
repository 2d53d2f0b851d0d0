"""The owner's Telegram chat steers arbx through a Bot API server on loopback (real HTTP, long polling): every
command answers (also after the API failed twice), a stranger's chat is ignored, and the life of a hedge arrives as
notifications (start, opened, closed with its P&L, breaker tripped, stop) formatted ``[type] venue-symbol``,
message, time in UTC."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from arbx_pipelines.config.secrets import save_secrets
from arbx_pipelines.execution.risk_state import halted
from arbx_pipelines.rpc.runtime import OpsService, Supervised
from arbx_pipelines.scenarios.harness import sim_harness
from tests.ops.scenario import BREAKER_FAILURES, HARNESS_KEYS, PERP, open_position, trip_breaker
from tests.support.loopback import Recorded, telegram_api

TOKEN = "123456:ops-test-bot-token"
OWNER, STRANGER = 42, 666
UTC_LINE = re.compile(r"\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
ANSWER_S = 10.0


@pytest.fixture
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = {"ARBX_SECRETS_KEY": "11" * 32}
    monkeypatch.setenv("ARBX_SECRETS_KEY", env["ARBX_SECRETS_KEY"])
    yield env


def _notified(telegram: Recorded, head: str, timeout: float = ANSWER_S) -> str:
    message = telegram.wait_for_message(lambda m: m["text"].startswith(head), timeout)
    assert UTC_LINE.search(message["text"]), message["text"]
    return str(message["text"])


def _ask(telegram: Recorded, text: str, timeout: float = ANSWER_S) -> str:
    """What the bot answers the owner (an answer is the first message after the question not starting with '[')."""
    before = len(telegram.messages)
    telegram.push(OWNER, text)
    answer = telegram.wait_for_message(lambda m: not m["text"].startswith("["), timeout, after=before)
    return str(answer["text"])


def test_owner_steers_arbx_from_telegram(secrets_key: dict[str, str], pg_url: str) -> None:
    """On PostgreSQL (the CLI test runs on SQLite: the views work on both)."""
    with telegram_api(TOKEN) as (api_url, telegram):
        keys: dict[str, Any] = {
            **HARNESS_KEYS,
            "database.url": pg_url,
            "notify.telegram.enabled": True,
            "notify.telegram.api_url": api_url,
            "notify.telegram.chat_id": str(OWNER),
            "notify.telegram.poll_seconds": 1,
        }
        with sim_harness(keys, venues=["binance"]) as harness:
            save_secrets(harness.workdir / "secrets.enc", {"telegram": {"bot_token": TOKEN}}, None, secrets_key)
            service = OpsService(str(harness.config_path), watch_seconds=0.2).start()
            try:
                assert "arbx started in sim mode" in _notified(telegram, "[start]")
                position_id = open_position(harness)
                opened = _notified(telegram, f"[hedge_opened] binance-{PERP}\n")
                assert f"hedge {position_id} opened" in opened and "expected yield" in opened

                telegram.fail_updates = 2  # a Bot API outage: the poller backs off and comes back
                telegram.push(STRANGER, "/halt from a stranger", username="mallory")
                with telegram.changed:
                    assert telegram.changed.wait_for(lambda: telegram.fail_updates == 0, ANSWER_S)
                status = _ask(telegram, "/status")
                assert service.threads[1].failures == 2
                assert "open positions: 1" in status and "kill switch: off" in status
                assert halted(harness.engine()) is None
                assert {m["chat_id"] for m in telegram.messages} == {str(OWNER)}  # nothing went to the stranger

                assert PERP in _ask(telegram, "/positions")
                assert "open_funding binance" in _ask(telegram, "/trades")
                assert _ask(telegram, "/halt maintenance") == "halted: maintenance"
                assert halted(harness.engine()) == "maintenance"
                assert _ask(telegram, "/resume") == "resumed (was halted: maintenance)"

                closed = _ask(telegram, f"/close {position_id}", timeout=30)
                assert closed.startswith(f"position {position_id}: closed, realized P&L")
                assert "realized P&L" in _notified(telegram, f"[hedge_closed] binance-{PERP}\n")
                assert "total" in _ask(telegram, "/pnl 2")

                trip_breaker(harness, failures=BREAKER_FAILURES)
                tripped = _notified(telegram, "[breaker_tripped]")
                assert f"after {BREAKER_FAILURES} consecutive failed opens" in tripped
                assert tripped.count(PERP) == BREAKER_FAILURES
                reset = f"circuit breaker reset (was open, {BREAKER_FAILURES} failures)"
                assert _ask(telegram, "/breaker_reset") == reset
                assert "/close ID" in _ask(telegram, "/help")
                assert _ask(telegram, "/close 99999").startswith("/close: no position 99999")
            finally:
                service.stop()
            _notified(telegram, "[stop]")


def test_a_failing_step_is_restarted() -> None:
    stop, done = threading.Event(), threading.Event()
    calls: list[int] = []

    def step() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("telegram unreachable")
        done.set()

    worker = Supervised("flaky", step, stop, pause=0.0)
    worker.start()
    try:
        assert done.wait(10) and worker.failures == 1
    finally:
        stop.set()
        worker.join(5)
