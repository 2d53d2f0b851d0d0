"""Every number in the configuration has an upper bound, in the schema and beside the key in arbx.yaml; live
trading counts only a `--live` of this start (a token `arbx run --live` hands its own processes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.config.schema import ArbxConfig
from arbx_pipelines.config.startup import LIVE_START_ENV, grant_live_start, live_start_granted, revoke_live_start

PROJECT = Path(__file__).resolve().parents[2]
NUMERIC = {"number", "integer"}


def _numeric_fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(model.field, its schema) for every field that accepts a number, across the nested models."""
    found: list[tuple[str, dict[str, Any]]] = []
    models = {"ArbxConfig": schema, **schema.get("$defs", {})}
    for model_name, model in models.items():
        for field, spec in model.get("properties", {}).items():
            options = spec.get("anyOf", [spec])
            for option in options:
                target = option.get("additionalProperties", option)  # dict values (e.g. coin amounts)
                if target.get("type") in NUMERIC:
                    found.append((f"{model_name}.{field}", target))
    return found


def test_every_number_has_an_upper_bound_in_the_schema() -> None:
    fields = _numeric_fields(ArbxConfig.model_json_schema())
    assert len(fields) > 40
    unbounded = [name for name, spec in fields if "maximum" not in spec and "exclusiveMaximum" not in spec]
    assert unbounded == []


def test_every_number_in_arbx_yaml_documents_its_range() -> None:
    """Each numeric key written in arbx.yaml says its range on its line (``lo..hi`` or ``<= hi``) or in the
    comment of its section."""
    text = (PROJECT / "arbx.yaml").read_text(encoding="utf-8")
    section = ""
    undocumented = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, rest = line.strip().partition(":")
        value = rest.split("#", 1)[0].strip()
        if not line.startswith(" "):
            section = line
        try:
            float(value)
        except ValueError:
            continue
        comment = line.split("#", 1)[1] if "#" in line else ""
        section_comment = section.split("#", 1)[1] if "#" in section else ""
        if not any(mark in text_ for text_ in (comment, section_comment) for mark in ("..", "<=", "< ")):
            undocumented.append(key)
    assert undocumented == []


def test_live_token_of_one_start(tmp_path: Path) -> None:
    config = tmp_path / "arbx.yaml"
    config.write_text("data_dir: data\n", encoding="utf-8")
    loaded = load_config(config, env={})
    assert not live_start_granted(loaded, {"ARBX_LIVE": "1"})
    token = grant_live_start(loaded)
    assert (tmp_path / "data" / ".live-start").stat().st_mode & 0o777 == 0o600
    assert live_start_granted(loaded, {LIVE_START_ENV: token})
    assert not live_start_granted(loaded, {LIVE_START_ENV: "guess"})
    revoke_live_start(loaded)  # the start ended: the same token no longer counts
    assert not live_start_granted(loaded, {LIVE_START_ENV: token})
