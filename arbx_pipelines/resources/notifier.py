"""The alert resource: records alerts in the database and sends them to Telegram and/or e-mail."""

from __future__ import annotations

from dagster import ConfigurableResource

from arbx_pipelines.config.guard import config_in_force
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.notify.configured import alert_sink

__all__ = ["NotifierResource", "alert_sink"]


class NotifierResource(ConfigurableResource):
    """Channels come from the config's ``notify`` section; the Telegram bot token from the secrets file."""

    config_path: str | None = None

    def sink(self) -> AlertSink:
        return alert_sink(config_in_force(self.config_path))
