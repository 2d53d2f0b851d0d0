"""The alert sink of a loaded configuration, without Dagster: ``arbx run``'s own process (notifications, Telegram
control) builds it too, and importing Dagster there would cost it about 100 MB for its whole life."""

from __future__ import annotations

from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.secrets import load_secrets
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.notify.channels import Channel, EmailChannel, TelegramChannel
from arbx_pipelines.storage.db import make_engine
from arbx_pipelines.storage.redis_state import RedisState
from arbx_pipelines.storage.state import DatabaseState, StateStore


def alert_sink(loaded: LoadedConfig) -> AlertSink:
    """The sink of an already loaded configuration (e.g. the last good one while an edited file is invalid):
    channels from its ``notify`` section, the Telegram bot token from the secrets file."""
    cfg = loaded.config
    engine = make_engine(loaded.database_url)
    channels: list[Channel] = []
    if cfg.notify.telegram.enabled:
        token = load_secrets(loaded).get("telegram", {}).get("bot_token")
        if token and cfg.notify.telegram.chat_id:
            channels.append(TelegramChannel(cfg.notify.telegram.api_url, token, cfg.notify.telegram.chat_id))
    if cfg.notify.email.enabled and cfg.notify.email.recipients:
        email = cfg.notify.email
        channels.append(EmailChannel(email.smtp_host, email.smtp_port, email.sender, list(email.recipients)))
    state: StateStore = RedisState.from_url(cfg.redis.url, cfg.redis.prefix) if cfg.redis.url else DatabaseState(engine)
    return AlertSink(engine, channels, state, cfg.notify.max_per_minute)
