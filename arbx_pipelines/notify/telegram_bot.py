"""The Telegram Bot API as the control channel: long polling of ``getUpdates`` and ``sendMessage`` replies.

Only text messages are returned; the token is registered with the log scrubber and never appears in errors.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from arbx_pipelines.logs import register_secret
from arbx_pipelines.notify.channels import NotifyError
from arbx_pipelines.notify.messages import MAX_TEXT


@dataclass(frozen=True)
class IncomingMessage:
    update_id: int
    chat_id: str
    sender: str
    text: str


@dataclass
class TelegramBot:
    api_url: str
    bot_token: str

    def __post_init__(self) -> None:
        register_secret(self.bot_token)

    def _call(self, method: str, payload: dict[str, Any], timeout: float) -> Any:
        request = urllib.request.Request(
            f"{self.api_url.rstrip('/')}/bot{self.bot_token}/{method}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"telegram {method}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise NotifyError(f"telegram {method}: {type(exc).__name__}") from None
        if not answer.get("ok"):
            raise NotifyError(f"telegram {method}: {answer.get('description', 'not ok')}")
        return answer.get("result")

    def updates(self, offset: int | None, poll_seconds: int) -> list[IncomingMessage]:
        """Messages after ``offset`` (the next update id), waiting up to ``poll_seconds`` for the first."""
        payload: dict[str, Any] = {"timeout": poll_seconds, "allowed_updates": ["message"]}
        if offset is not None:
            payload["offset"] = offset
        found = []
        for update in self._call("getUpdates", payload, timeout=poll_seconds + 10) or []:
            message = update.get("message") or {}
            chat = message.get("chat") or {}
            sender = message.get("from") or {}
            found.append(
                IncomingMessage(
                    int(update["update_id"]),
                    str(chat.get("id", "")),
                    str(sender.get("username") or sender.get("id") or "?"),
                    str(message.get("text") or ""),
                )
            )
        return found

    def reply(self, chat_id: str, text: str) -> None:
        self._call("sendMessage", {"chat_id": chat_id, "text": text[:MAX_TEXT]}, timeout=10)
