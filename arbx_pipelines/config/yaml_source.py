"""Strict reading of one YAML config file: UTF-8 text only, no duplicate keys, bounded nesting, and the line of
every key, so a validation error can name the line that caused it.

PyYAML accepts a repeated key silently (the last one wins) and composes nested nodes recursively (a file nested
thousands deep ends in ``RecursionError``); both become one-line :class:`ConfigError` messages here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from arbx_pipelines.config.errors import ConfigError

#: deeper than any real arbx.yaml (about 4 levels) by far, far below Python's recursion limit
MAX_DEPTH = 32
#: a config file is a few kilobytes; anything this large is not one
MAX_BYTES = 1_000_000

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class YamlDocument:
    path: Path
    data: dict[str, Any]
    #: key path (e.g. ("risk", "max_trade_usdt")) -> 1-based line where that key is written
    lines: dict[KeyPath, int] = field(default_factory=dict)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses to compose nodes nested deeper than :data:`MAX_DEPTH`."""

    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"{self.name}:{mark.line + 1}: YAML nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def _decode(path: Path, raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: {len(raw)} bytes is not a config file (at most {MAX_BYTES})")
    if b"\x00" in raw:
        raise ConfigError(f"{path}: not a text file (binary content); a config file is UTF-8 YAML text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        ) from exc


def _key_lines(path: Path, root: Node) -> dict[KeyPath, int]:
    """Walk the node tree (iteratively): the line of every mapping key, and an error for a key written twice."""
    lines: dict[KeyPath, int] = {}
    stack: list[tuple[Node, KeyPath]] = [(root, ())]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                if key in seen:
                    where = ".".join((*prefix, key))
                    raise ConfigError(f"{path}:{line}: duplicate key '{where}' (first written on line {seen[key]})")
                seen[key] = line
                lines[(*prefix, key)] = line
                stack.append((value_node, (*prefix, key)))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, (*prefix, str(index))))
    return lines


def read_yaml(path: Path) -> YamlDocument:
    """Read and parse ``path`` strictly. Raises :class:`ConfigError` with one line naming the file and line."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a directory, not a config file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from exc
    loader = _StrictLoader(_decode(path, raw))
    loader.name = str(path)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(path, {})
        lines = _key_lines(path, root)
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: malformed YAML: {problem}") from exc
    except RecursionError as exc:  # aliases that expand too deep; composing is already bounded
        raise ConfigError(f"{path}: YAML nested too deep to read") from exc
    finally:
        loader.dispose()
    if data is None:
        return YamlDocument(path, {})
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, got {type(data).__name__}")
    return YamlDocument(path, data, lines)
