"""``arbx config check``: validate the configuration (and secrets) as a start would."""

from __future__ import annotations

import argparse

from arbx_pipelines.config.startup import load_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cfg = sub.add_parser("config", help="configuration")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = cfg_sub.add_parser("check", help="validate arbx.yaml, overlays, environment and secrets")
    check.add_argument("--live", action="store_true", help="the live-trading opt-in for this start")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, live_flag=args.live)
    loaded = settings.loaded
    print(f"config ok: mode={loaded.config.mode.value} sources={', '.join(loaded.sources) or 'defaults'}")
    print(f"venues: {', '.join(v.value for v in loaded.config.enabled_venues())}")
    print(f"data dir: {loaded.data_dir}")
    return 0
