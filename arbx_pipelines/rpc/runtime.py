"""The ops service ``arbx run`` starts beside Dagster: the lifecycle notifications (:mod:`.watch`) and, when Telegram
is configured, the owner's chat as a control channel (long polling of ``getUpdates``). Each runs in a supervised
thread: an error is logged and the loop restarts after a backoff (1 s doubling to 60 s), so neither a network
failure nor a bug in one command stops it."""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from arbx_pipelines.config.secrets import load_secrets
from arbx_pipelines.logs import get_logger
from arbx_pipelines.notify.events import notify_lifecycle
from arbx_pipelines.notify.telegram_bot import TelegramBot
from arbx_pipelines.rpc.commands import answer_command
from arbx_pipelines.rpc.context import RpcContext, rpc_context
from arbx_pipelines.rpc.daemon import clear_run, record_run
from arbx_pipelines.rpc.watch import LifecycleWatcher
from arbx_pipelines.storage.state import DatabaseState

log = get_logger("arbx.ops")
OFFSET_FLAG = "telegram:offset"
MAX_BACKOFF_S = 60.0


class Supervised(threading.Thread):
    """Calls ``step`` until stopped, ``pause`` seconds apart; a failing step is logged and retried after a backoff."""

    def __init__(self, name: str, step: Callable[[], None], stop: threading.Event, pause: float) -> None:
        super().__init__(name=name, daemon=True)
        self._step, self._stopping, self._pause = step, stop, pause
        self.failures = 0

    def run(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception as exc:  # supervised: whatever one step raises, the loop goes on
                self.failures += 1
                log.warning(f"{self.name} failed; restarting in {backoff:.0f}s", extra={"error": repr(exc)[:300]})
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 1.0
            self._stopping.wait(self._pause)


class TelegramControl:
    """Answers the owner's chat; a message from any other chat is ignored and logged."""

    def __init__(self, ctx: RpcContext, bot: TelegramBot, owner_chat_id: str, poll_seconds: int) -> None:
        self.ctx, self.bot, self.owner, self.poll_seconds = ctx, bot, owner_chat_id, poll_seconds
        self.flags = DatabaseState(ctx.engine)
        raw = self.flags.get_flag(OFFSET_FLAG)
        self.offset = int(raw) if raw else None

    def step(self) -> None:
        for message in self.bot.updates(self.offset, self.poll_seconds):
            self.offset = message.update_id + 1  # before answering: a command is never run twice
            self.flags.set_flag(OFFSET_FLAG, str(self.offset))
            if message.chat_id != self.owner:
                log.warning(
                    "telegram message from a chat that is not the owner's ignored",
                    extra={"chat": message.chat_id, "sender": message.sender, "text": message.text[:40]},
                )
                continue
            try:
                answer = answer_command(self.ctx, message.text)
            except Exception as exc:  # the owner gets the failure as the answer
                log.warning("telegram command failed", extra={"text": message.text[:40], "error": repr(exc)[:300]})
                answer = f"{message.text.split(' ', 1)[0]} failed: {type(exc).__name__}: {exc}"
            self.bot.reply(self.owner, answer)


def telegram_control(ctx: RpcContext) -> TelegramControl | None:
    """The control channel when Telegram is enabled with a bot token and an owner chat, else None."""
    telegram = ctx.loaded.config.notify.telegram
    owner = telegram.owner_chat_id or telegram.chat_id
    if not telegram.enabled or not owner:
        return None
    token = load_secrets(ctx.loaded).get("telegram", {}).get("bot_token")
    if not token:
        return None
    return TelegramControl(ctx, TelegramBot(telegram.api_url, token), str(owner), telegram.poll_seconds)


class OpsService:
    def __init__(
        self,
        config_path: str | None,
        *,
        ui_url: str | None = None,
        dagster_home: Path | None = None,
        watch_seconds: float = 5.0,
    ) -> None:
        self.ctx = rpc_context(config_path)
        self.ui_url = ui_url
        self.watcher = LifecycleWatcher(self.ctx, dagster_home)
        self.telegram = telegram_control(self.ctx)
        self._stop = threading.Event()
        self.threads = [Supervised("notifications", self._watch, self._stop, watch_seconds)]
        if self.telegram is not None:
            self.threads.append(Supervised("telegram-control", self.telegram.step, self._stop, 0.0))

    def _watch(self) -> None:
        if self.ui_url is not None:
            record_run(self.ctx.engine, self.ui_url, os.getpid())
        self.watcher.tick()

    def start(self) -> OpsService:
        mode = self.ctx.loaded.config.mode.value
        where = f", UI {self.ui_url}" if self.ui_url else ""
        notify_lifecycle(self.ctx.sink, "start", f"arbx started in {mode} mode{where}")
        self.watcher.prime()
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, timeout: float = 6.0) -> None:
        """Stop both loops within ``timeout`` seconds in all (a long poll in flight is left to its daemon thread)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.watcher.close()
        if self.ui_url is not None:
            clear_run(self.ctx.engine)
        self.ctx.sink.flush_digest(current_window=True)  # what the rate limit held back goes out before the stop
        notify_lifecycle(self.ctx.sink, "stop", "arbx stopped")


def start_ops_service(config_path: str | None, ui_url: str | None, dagster_home: Path | None) -> OpsService | None:
    """What ``arbx run`` calls once: notifications and Telegram control, stopped (with the stop notification) when
    the process exits. It never raises: ``arbx run`` has started its children by then, and trading goes on without
    notifications rather than not at all (the failure is logged as an error)."""
    try:
        service = OpsService(config_path, ui_url=ui_url, dagster_home=dagster_home).start()
    except Exception as exc:  # see the docstring: logged, never fatal
        log.error("notifications and Telegram control not started", extra={"error": f"{type(exc).__name__}: {exc}"})
        return None
    atexit.register(service.stop)
    return service
