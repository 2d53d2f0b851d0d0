"""Alerts are recorded first, then delivered over a real Telegram Bot API endpoint and a real SMTP server."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.notify.channels import EmailChannel, TelegramChannel
from arbx_pipelines.storage.db import transaction
from arbx_pipelines.storage.models import Alert
from arbx_pipelines.storage.state import DatabaseState
from tests.support.loopback import smtp_server, telegram_api

TOKEN = "123456:test-bot-token-abcdef"


def _alerts(engine: Engine) -> list[Alert]:
    with transaction(engine) as session:
        return list(session.execute(select(Alert).order_by(Alert.id)).scalars())


def test_alert_goes_to_telegram_and_email(migrated_engine: Engine) -> None:
    with telegram_api(TOKEN) as (api_url, telegram), smtp_server() as (port, mails):
        sink = AlertSink(
            migrated_engine,
            [TelegramChannel(api_url, TOKEN, "42"), EmailChannel("127.0.0.1", port, "arbx@localhost", ["me@x.test"])],
        )
        sink.raise_alert("leg_imbalance", "perp filled 0.01, spot 0", severity="critical", venue="okx")
    ((message,),) = [telegram.messages]
    assert message["chat_id"] == "42"
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"
    assert re.fullmatch(r"\[leg_imbalance\] okx\nperp filled 0\.01, spot 0\n" + stamp, message["text"])
    assert len(mails) == 1 and "Subject: [leg_imbalance] okx" in mails[0]
    (alert,) = _alerts(migrated_engine)
    assert alert.notified and alert.venue == "okx" and alert.severity == "critical"


def test_alert_is_recorded_even_when_every_channel_fails(migrated_engine: Engine) -> None:
    with telegram_api(TOKEN) as (api_url, telegram):
        telegram.fail_next = 1
        AlertSink(migrated_engine, [TelegramChannel(api_url, TOKEN, "42")]).raise_alert("x", "first")
    closed_port = EmailChannel("127.0.0.1", 1, "a@b", ["c@d"], timeout=1)
    AlertSink(migrated_engine, [closed_port]).raise_alert("y", "second")
    assert [(a.message, a.notified) for a in _alerts(migrated_engine)] == [("first", False), ("second", False)]


def test_rate_limit_holds_back_all_but_critical(migrated_engine: Engine) -> None:
    clock = [1_800_000_000.0]  # fixed, so all five alerts fall in one rate-limit window

    def now() -> float:
        return clock[0]

    with telegram_api(TOKEN) as (api_url, telegram):
        channel = TelegramChannel(api_url, TOKEN, "42")
        sink = AlertSink(migrated_engine, [channel], DatabaseState(migrated_engine, clock=now), 2, clock=now)
        for i in range(4):
            sink.raise_alert("spam", f"warning {i}")
        sink.raise_alert("kill", "critical one", severity="critical")
        assert [m["text"].split("\n")[1] for m in telegram.messages] == ["warning 0", "warning 1", "critical one"]
        clock[0] += 60
        assert sink.flush_digest() == 2  # held back, then merged into one message: never dropped
    assert telegram.messages[-1]["text"].startswith("[digest] 2 alerts held back by the rate limit\n")
    assert len(_alerts(migrated_engine)) == 5  # every alert is recorded, sent or not


def test_wrong_token_is_an_error_without_the_token(migrated_engine: Engine) -> None:
    with telegram_api(TOKEN) as (api_url, _):
        channel = TelegramChannel(api_url, "999:wrong-token-zzzz", "42")
        try:
            channel.send("s", "t")
        except Exception as exc:
            assert "wrong-token" not in str(exc) and "401" in str(exc)
        else:
            raise AssertionError("an unauthorized bot must fail")
