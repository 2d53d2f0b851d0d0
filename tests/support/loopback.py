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
        recorded.messages.append(payload)
        return web.json_response(
            {"ok": True, "result": {"message_id": len(recorded.messages), "text": payload["text"]}}
        )

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
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
