"""Chat commands (Telegram) onto the service functions: one command in, one text answer out."""

from __future__ import annotations

from collections.abc import Callable

from arbx_pipelines.rpc import tables, views
from arbx_pipelines.rpc.context import RpcContext
from arbx_pipelines.rpc.steering import (
    RpcError,
    close_position,
    halt_trading,
    reset_circuit_breaker,
    resume_trading,
)

HELP = """arbx commands:
/status - mode, venues, kill switch, breaker, daemon, snapshot age, today's P&L
/positions - open positions
/pnl [days] - P&L per day (default 7)
/trades [n] - the newest executions (default 5)
/halt [reason] - no new positions (open hedges stay hedged)
/resume - release the kill switch
/close ID - close a position on both legs
/breaker_reset - close the circuit breaker
/help - this list"""


def _count(argument: str, default: int, most: int, what: str) -> int:
    if not argument:
        return default
    if not argument.isdigit() or not 1 <= int(argument) <= most:
        raise RpcError(f"{what} must be a whole number from 1 to {most}, got {argument!r}")
    return int(argument)


def _close(ctx: RpcContext, argument: str) -> str:
    if not argument.isdigit():
        raise RpcError("usage: /close ID (the id /positions shows)")
    return tables.close_text(close_position(ctx, int(argument), "telegram /close"))


def _breaker_reset(ctx: RpcContext) -> str:
    answer = reset_circuit_breaker(ctx)
    was = answer["was"]
    return f"circuit breaker reset (was {'open' if was['open'] else 'closed'}, {was['consecutive_failures']} failures)"


def _halt(ctx: RpcContext, argument: str) -> str:
    return f"halted: {halt_trading(ctx, argument or 'telegram /halt')['reason']}"


def _resume(ctx: RpcContext) -> str:
    was = resume_trading(ctx)["was"]
    return "resumed" + (f" (was halted: {was})" if was else " (was not halted)")


COMMANDS: dict[str, Callable[[RpcContext, str], str]] = {
    "/status": lambda ctx, _: tables.status_text(views.status(ctx)),
    "/positions": lambda ctx, _: tables.positions_text(views.positions(ctx)),
    "/pnl": lambda ctx, arg: tables.pnl_text(views.pnl(ctx, _count(arg, 7, 90, "days"))),
    "/trades": lambda ctx, arg: tables.trades_text(views.trades(ctx, _count(arg, 5, 50, "n"))),
    "/halt": _halt,
    "/resume": lambda ctx, _: _resume(ctx),
    "/close": _close,
    "/breaker_reset": lambda ctx, _: _breaker_reset(ctx),
    "/help": lambda ctx, _: HELP,
}


def answer_command(ctx: RpcContext, text: str) -> str:
    """The answer to one chat message; an unknown command gets the help."""
    head, _, argument = text.strip().partition(" ")
    command = head.split("@", 1)[0].lower()  # "/status@arbx_bot" in group chats
    handler = COMMANDS.get(command)
    if handler is None:
        return f"unknown command {head!r}\n{HELP}"
    try:
        return handler(ctx, argument.strip())
    except RpcError as exc:
        return f"{command}: {exc}"
