"""Real protocol servers on loopback for tests: a Telegram Bot API endpoint and an SMTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    #: getUpdates calls still to answer with a server error (a Bot API outage)
    fail_updates: int = 0
    #: updates getUpdates hands out (``push`` adds one), and a condition notified on every message or update
    updates: list[dict[str, Any]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def push(self, chat_id: int, text: str, username: str = "owner") -> int:
        """A user writes ``text`` in chat ``chat_id``; returns the update id."""
        with self.changed:
            update_id = 1000 + len(self.updates)
            message = {"message_id": update_id, "chat": {"id": chat_id, "type": "private"}, "text": text}
            self.updates.append({"update_id": update_id, "message": message | {"from": {"username": username}}})
            self.changed.notify_all()
        return update_id

    def wait_for_message(self, predicate: Any, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        """The first message sent (from index ``after`` on) that ``predicate`` accepts, waiting up to ``timeout``."""
        with self.changed:
            found: list[dict[str, Any]] = []

            def matched() -> bool:
                found[:] = [m for m in self.messages[after:] if predicate(m)]
                return bool(found)

            if not self.changed.wait_for(matched, timeout):
                sent = [m["text"][:60] for m in self.messages]
                raise TimeoutError(f"no such message within {timeout}s; sent: {sent}")
            return found[0]


class _LoopThread:
    """An asyncio loop in a daemon thread, for servers that must run beside synchronous test code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@contextmanager
def telegram_api(token: str) -> Iterator[tuple[str, Recorded]]:
    """Serve ``POST /bot<token>/sendMessage`` like the Bot API; yields (api_url, recorded messages)."""
    recorded = Recorded()

    async def send_message(request: web.Request) -> web.Response:
        if request.match_info["token"] != token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if recorded.fail_next:
            recorded.fail_next -= 1
            return web.json_response({"ok": False, "error_code": 429, "description": "Too Many Requests"}, status=429)
        payload = json.loads(await request.read())
        with recorded.changed:
            recorded.messages.append(payload)
            recorded.changed.notify_all()
        return web.json_response(
            {"ok": True, "result": {"message_id": len(recorded.messages), "text": payload["text"]}}
        )

    async def get_updates(request: web.Request) -> web.Response:
        """Long polling as the Bot API does it: updates from ``offset`` on, waiting up to ``timeout`` for one."""
        if request.match_info["token"] != token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if recorded.fail_updates:
            with recorded.changed:
                recorded.fail_updates -= 1
                recorded.changed.notify_all()
            return web.json_response({"ok": False, "error_code": 502, "description": "Bad Gateway"}, status=502)
        payload = json.loads(await request.read() or b"{}")
        offset, timeout = int(payload.get("offset") or 0), float(payload.get("timeout") or 0)

        def pending() -> list[dict[str, Any]]:
            with recorded.changed:
                return [u for u in recorded.updates if u["update_id"] >= offset]

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (found := pending()) and loop.time() < deadline:
            await asyncio.sleep(0.05)  # the server side of a long poll: re-check until an update or the timeout
        return web.json_response({"ok": True, "result": found})

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
    app.router.add_post("/bot{token}/getUpdates", get_updates)
    runner = web.AppRunner(app)
    loop = _LoopThread()
    loop.run(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", recorded
    finally:
        loop.run(runner.cleanup())
        loop.stop()


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    """A minimal RFC 5321 server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); yields (port, received data)."""
    received: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write((line + "\r\n").encode())

        reply("220 localhost arbx-test-smtp")
        while True:
            raw = await reader.readline()
            if not raw:
                break
            command = raw.decode().strip().upper()
            if command.startswith(("EHLO", "HELO")):
                reply("250 localhost")
            elif command.startswith(("MAIL FROM", "RCPT TO", "RSET", "NOOP")):
                reply("250 OK")
            elif command == "DATA":
                reply("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                lines = []
                while (line := await reader.readline()) not in (b".\r\n", b""):
                    lines.append(line.decode())
                received.append("".join(lines))
                reply("250 OK queued")
            elif command == "QUIT":
                reply("221 Bye")
                await writer.drain()
                break
            else:
                reply("502 Command not implemented")
            await writer.drain()
        writer.close()

    loop = _LoopThread()
    server = loop.run(asyncio.start_server(handle, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, received
    finally:
        server.close()
        loop.run(server.wait_closed())
        loop.stop()
