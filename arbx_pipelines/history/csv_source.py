"""Reading CSV files with exact line numbers, UTF-8 (BOM tolerated) and progress in characters read."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

from arbx_pipelines.history.records import HistoryFormatError

#: called now and then with the number of characters read so far (about the bytes for ASCII data)
ProgressCallback = Callable[[int], None]
_PROGRESS_EVERY = 20_000


class CsvSource:
    """One CSV file: its header (stripped, case kept) and its non-blank data rows with their line numbers."""

    def __init__(self, path: Path, progress: ProgressCallback | None = None) -> None:
        self.path = path
        self.name = str(path)
        self._progress = progress
        self._chars = 0
        self._lines = 0
        self._handle = path.open("rb")
        self._reader = csv.reader(self._decoded_lines(), strict=True)
        try:
            first = next(self._read(), None)
        except BaseException:
            self._handle.close()
            raise
        if first is None:
            self._handle.close()
            raise HistoryFormatError(self.name, 1, "empty file (expected a header line)")
        self.header: list[str] = [cell.strip() for cell in first[1]]

    def _decoded_lines(self) -> Iterator[str]:
        """Decode line by line, so a byte that is not UTF-8 is reported on its own line."""
        for raw in self._handle:
            self._chars += len(raw)
            self._lines += 1
            try:
                text = raw.decode("utf-8-sig" if self._lines == 1 else "utf-8")
            except UnicodeDecodeError:
                raise HistoryFormatError(self.name, self._lines, "not UTF-8 text") from None
            yield text

    def _read(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                row = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise HistoryFormatError(self.name, self._reader.line_num, f"malformed CSV: {exc}") from None
            if row and any(cell.strip() for cell in row):
                yield self._reader.line_num, row

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Data rows with their line numbers; a row with the wrong number of fields is an error."""
        width = len(self.header)
        try:
            for count, (line, row) in enumerate(self._read(), start=1):
                if len(row) != width:
                    raise HistoryFormatError(
                        self.name, line, f"expected {width} fields as in the header, found {len(row)}"
                    )
                if self._progress is not None and count % _PROGRESS_EVERY == 0:
                    self._progress(self._chars)
                yield line, row
        finally:
            self._handle.close()
            if self._progress is not None:
                self._progress(self._chars)

    def close(self) -> None:
        self._handle.close()

    def column_index(self, allowed_required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, int]:
        """Map column names (case-insensitive) to positions; missing, unknown or repeated columns are errors."""
        lowered = [name.lower() for name in self.header]
        expected = ",".join(allowed_required) + "".join(f"[,{name}]" for name in optional)
        positions: dict[str, int] = {}
        for index, name in enumerate(lowered):
            if name in positions:
                raise HistoryFormatError(self.name, 1, f"column {name!r} appears twice in the header")
            if name not in allowed_required and name not in optional:
                raise HistoryFormatError(self.name, 1, f"unknown column {name!r} in the header (expected {expected})")
            positions[name] = index
        for name in allowed_required:
            if name not in positions:
                raise HistoryFormatError(self.name, 1, f"missing column {name!r} in the header (expected {expected})")
        return positions


def read_header(path: Path) -> list[str] | None:
    """The first line's cells, or None when it is not CSV text (for format detection)."""
    with path.open("rb") as handle:
        raw = handle.readline(1 << 16)
    try:
        first = next(csv.reader([raw.decode("utf-8-sig")]), None)
    except (csv.Error, UnicodeDecodeError):
        return None
    return None if first is None else [cell.strip() for cell in first]
