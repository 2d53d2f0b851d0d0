"""Raw Binance USD-M ``GET /fapi/v1/fundingRate`` responses: a JSON array of
``{"symbol": "BTCUSDT", "fundingTime": 1751644800001, "fundingRate": "0.00001797", "markPrice": "107534.7"}``.

Elements are decoded one by one so every error names the line where its element starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arbx_pipelines.history.collect import Collector
from arbx_pipelines.history.csv_source import ProgressCallback
from arbx_pipelines.history.fields import FieldError, epoch_ms_to_utc, parse_price, parse_rate
from arbx_pipelines.history.records import HistoryFormatError, ParsedFile
from arbx_pipelines.history.symbols import binance_usdm_symbol

_DECODER = json.JSONDecoder(parse_float=str, parse_int=int)
_WHITESPACE = " \t\n\r"
_REQUIRED = ("symbol", "fundingTime", "fundingRate")
_PROGRESS_EVERY = 5_000


def parse_binance_json(path: Path, progress: ProgressCallback | None = None) -> ParsedFile:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise HistoryFormatError(name, 1, "not UTF-8 text") from None
    collector = Collector(name, "binance_json")
    for count, (line, offset, element) in enumerate(_array_elements(name, text), start=1):
        collector.rows += 1
        try:
            symbol, time, rate, mark = _funding_fields(element)
        except FieldError as exc:
            raise HistoryFormatError(name, line, str(exc)) from None
        collector.add_funding(line, "binance", symbol, time, rate, None, mark)
        if progress is not None and count % _PROGRESS_EVERY == 0:
            progress(offset)
    if progress is not None:
        progress(len(text))
    return collector.finish()


def _funding_fields(element: Any) -> tuple[str, Any, Any, Any]:
    if not isinstance(element, dict):
        raise FieldError(f"expected an object {{symbol, fundingTime, fundingRate, markPrice}}, got {_kind(element)}")
    missing = [key for key in _REQUIRED if key not in element]
    if missing:
        raise FieldError(f"missing key {missing[0]!r} (expected symbol, fundingTime, fundingRate[, markPrice])")
    native, time_ms, rate_value, mark_value = (
        element["symbol"], element["fundingTime"], element["fundingRate"], element.get("markPrice"),
    )  # fmt: skip
    if not isinstance(native, str):
        raise FieldError(f"symbol must be a string, got {_kind(native)}")
    if isinstance(time_ms, bool) or not isinstance(time_ms, int):
        raise FieldError(f"fundingTime must be integer epoch milliseconds, got {time_ms!r}")
    rate_value = _number_text(rate_value)
    mark_value = _number_text(mark_value)
    if not isinstance(rate_value, str):
        raise FieldError(f"fundingRate must be a decimal string or number, got {_kind(rate_value)}")
    mark = None
    if mark_value not in (None, ""):
        if not isinstance(mark_value, str):
            raise FieldError(f"markPrice must be a decimal string or number, got {_kind(mark_value)}")
        mark = parse_price(mark_value, what="markPrice")
    return binance_usdm_symbol(native), epoch_ms_to_utc(time_ms), parse_rate(rate_value), mark


def _number_text(value: Any) -> Any:
    """JSON numbers arrive as text (floats) or int; Binance sends strings. Non-numbers pass through unchanged."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _kind(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


class _Lines:
    """Line number of a position, counted incrementally (positions only move forward)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.line = 1

    def at(self, index: int) -> int:
        if index < self.position:
            return self.text.count("\n", 0, index) + 1
        self.line += self.text.count("\n", self.position, index)
        self.position = index
        return self.line


def _array_elements(name: str, text: str) -> Iterator[tuple[int, int, Any]]:
    """Yield (line, offset, element) for each element of the top-level array, decoding lazily."""
    lines = _Lines(text)
    index = _skip(text, 0)
    if index >= len(text):
        raise HistoryFormatError(name, 1, "empty file (expected a JSON array)")
    if text[index] != "[":
        raise HistoryFormatError(name, lines.at(index), "expected a JSON array of funding records at the top")
    index = _skip(text, index + 1)
    if index < len(text) and text[index] == "]":
        raise HistoryFormatError(name, lines.at(index), "empty JSON array: no funding records")
    while True:
        try:
            element, end = _DECODER.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            hint = ", the file ends early (truncated?)" if not text[exc.pos :].strip() else ""
            raise HistoryFormatError(name, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno}{hint})") from None
        yield lines.at(index), index, element
        index = _skip(text, end)
        if index < len(text) and text[index] == ",":
            index = _skip(text, index + 1)
            continue
        if index < len(text) and text[index] == "]":
            rest = _skip(text, index + 1)
            if rest < len(text):
                raise HistoryFormatError(name, lines.at(rest), "unexpected content after the JSON array")
            return
        where = min(index, len(text) - 1)
        raise HistoryFormatError(name, lines.at(where), "invalid JSON: expected ',' or ']' after an element")


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index
