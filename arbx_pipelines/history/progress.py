"""A small text progress bar on stderr for long imports (no dependency): it appears only after half a second and
only on a terminal (or when forced), so short imports and logs stay clean."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_DELAY_S = 0.5
_EVERY_S = 0.1


class ProgressBar:
    def __init__(self, total_bytes: int, files: int, *, stream: TextIO | None = None, force: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or self.stream.isatty()
        self.total = max(1, total_bytes)
        self.files = files
        self._done_files_bytes = 0
        self._current = 0
        self._file_index = 0
        self._label = ""
        self._started = time.monotonic()
        self._last = 0.0
        self._shown = False

    def start_file(self, index: int, label: str) -> None:
        self._file_index = index
        self._label = label
        self._current = 0
        self._render()

    def advance(self, bytes_in_file: int) -> None:
        self._current = bytes_in_file
        self._render()

    def finish_file(self, size: int) -> None:
        self._done_files_bytes += size
        self._current = 0

    def stage(self, label: str) -> None:
        self._label = label
        self._render()

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()

    def _render(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._started < _DELAY_S or (not force and now - self._last < _EVERY_S):
            return
        self._last = now
        self._shown = True
        fraction = min(1.0, (self._done_files_bytes + self._current) / self.total)
        filled = int(fraction * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        label = self._label if len(self._label) <= 40 else "..." + self._label[-37:]
        self.stream.write(f"\r[{bar}] {fraction:4.0%}  file {self._file_index}/{self.files}  {label:<40}")
        self.stream.flush()
