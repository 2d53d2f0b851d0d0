"""How a notification reads (pure): ``[type] venue-symbol``, the message, the time in UTC; and the digest that merges
the low-priority alerts a rate-limit window held back into one message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

#: Telegram's limit on one message
MAX_TEXT = 4096


@dataclass(frozen=True)
class Note:
    kind: str
    message: str
    time: datetime
    venue: str | None = None
    symbol: str | None = None


def subject_of(kind: str, venue: str | None, symbol: str | None) -> str:
    """``[kind] venue-symbol`` (or only what is known)."""
    where = "-".join(part for part in (venue, symbol) if part)
    return f"[{kind}] {where}" if where else f"[{kind}]"


def utc_stamp(time: datetime) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC")


def body_of(note: Note) -> str:
    """The message, then the time in UTC on its own line."""
    return f"{note.message}\n{utc_stamp(note.time)}"


def digest(notes: Sequence[Note], window_start: datetime, window_seconds: int) -> tuple[str, str]:
    """(subject, text) of one message merging ``notes``: each on one line with its time, type and place."""
    subject = f"[digest] {len(notes)} alerts held back by the rate limit"
    lines = [
        f"{note.time:%H:%M:%S} {subject_of(note.kind, note.venue, note.symbol)} {note.message}".replace("\n", " ")
        for note in notes
    ]
    header = f"window of {window_seconds}s from {utc_stamp(window_start)}"
    text = "\n".join([header, *lines])
    if len(text) > MAX_TEXT - len(subject) - 1:  # keep every line counted even when the text must be cut
        keep = MAX_TEXT - len(subject) - 64
        text = text[:keep].rsplit("\n", 1)[0] + f"\n... ({len(notes)} in all; see the alerts table)"
    return subject, text
