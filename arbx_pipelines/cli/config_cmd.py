"""``arbx config check``: validate the configuration (and secrets) as a start would, and show what is in force.

When the files are invalid but an earlier version was accepted, a running arbx keeps that last good configuration:
the check prints both the files' error and the configuration in force, and exits 2.
"""

from __future__ import annotations

import argparse
import sys

from arbx_pipelines.config.errors import ConfigError
from arbx_pipelines.config.guard import config_status
from arbx_pipelines.config.loader import LoadedConfig
from arbx_pipelines.config.startup import check_data_dir, load_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cfg = sub.add_parser("config", help="configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate arbx.yaml, overlays, environment, secrets and the data dir")
    check.add_argument("--live", action="store_true", help="the live-trading opt-in for this start")
    check.set_defaults(handler=_check)


def _describe(loaded: LoadedConfig) -> list[str]:
    return [
        f"mode={loaded.config.mode.value} sources={', '.join(loaded.sources) or 'defaults'}",
        f"venues: {', '.join(v.value for v in loaded.config.enabled_venues())}",
        f"data dir: {loaded.data_dir}",
    ]


def _check(args: argparse.Namespace) -> int:
    status = config_status(args.config)
    if status.error is not None:
        if status.in_force is None:
            raise ConfigError(status.error)
        print(f"arbx: {status.error}", file=sys.stderr)
        print(f"in force: the last good configuration, accepted {status.accepted_at}:")
        for line in _describe(status.in_force):
            print(f"  {line}")
        return 2
    settings = load_settings(args.config, live_flag=args.live)
    check_data_dir(settings.loaded)
    lines = _describe(settings.loaded)
    print(f"config ok: {lines[0]}")
    print("\n".join(lines[1:]))
    return 0
