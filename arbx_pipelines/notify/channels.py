"""Notification channels: the Telegram Bot API over HTTP and e-mail over SMTP.

Each channel sends one short text; failures raise :class:`NotifyError` so the dispatcher can record them.
The bot token is a secret: it is registered with the log scrubber and never appears in errors.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from arbx_pipelines.logs import register_secret


class NotifyError(RuntimeError):
    """A notification could not be delivered."""


class Channel(Protocol):
    name: str

    def send(self, subject: str, text: str) -> None: ...


@dataclass
class TelegramChannel:
    """``POST {api_url}/bot<token>/sendMessage`` as the Bot API documents; the answer must say ``ok``."""

    api_url: str
    bot_token: str
    chat_id: str
    timeout: float = 10.0
    name: str = "telegram"

    def __post_init__(self) -> None:
        register_secret(self.bot_token)

    def send(self, subject: str, text: str) -> None:
        body = json.dumps({"chat_id": self.chat_id, "text": f"{subject}\n{text}"[:4096]}).encode()
        request = urllib.request.Request(
            f"{self.api_url.rstrip('/')}/bot{self.bot_token}/sendMessage",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"telegram: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise NotifyError(f"telegram: {type(exc).__name__}") from None
        if not answer.get("ok"):
            raise NotifyError(f"telegram: {answer.get('description', 'not ok')}")


@dataclass
class EmailChannel:
    smtp_host: str
    smtp_port: int
    sender: str
    recipients: list[str]
    timeout: float = 10.0
    name: str = "email"

    def send(self, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = subject
        message.set_content(text)
        try:
            with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout) as smtp:
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"email: {type(exc).__name__}: {exc}") from None
