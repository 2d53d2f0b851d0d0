"""Who holds a lock, and whether they still live (issue 10): a token names its owner (run id, pid, host); a holder
on this host whose process is gone is taken over at once, any other waits for its heartbeat to stop (the lock then
expires). Shared by the symbol locks and the venue order slots."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from arbx_pipelines.logs import get_logger
from arbx_pipelines.storage.state import LockOwner, StateStore, lock_token, owner_of

log = get_logger("arbx.execution.locks")


def this_owner(run_id: str | None) -> LockOwner:
    return LockOwner(run_id or "", os.getpid(), socket.gethostname())


def pid_alive(pid: int) -> bool:
    """Whether a process runs under ``pid`` on this host (a killed child not yet reaped, a zombie, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def owner_gone(token: str, me: LockOwner) -> bool:
    """A holder on this host whose process is not alive. Holders elsewhere (or naming no owner) are judged by their
    heartbeat only: their lock expires when it stops."""
    owner = owner_of(token)
    if owner is None or owner.host != me.host or owner.pid == me.pid:
        return False
    return not pid_alive(owner.pid)


def take_lock(state: StateStore, name: str, ttl_s: float, me: LockOwner) -> str | None:
    """The lock's new token, taken free or over from a gone owner; None while a live owner holds it."""
    token = lock_token(me)
    if state.acquire_lock(name, ttl_s, token) is not None:
        return token
    holder = state.lock_holder(name)
    if holder is not None and owner_gone(holder, me) and state.replace_lock(name, holder, token, ttl_s):
        log.warning("lock taken over from a gone owner", extra={"lock": name, "owner": holder.rsplit("|", 1)[0]})
        return token
    return None
