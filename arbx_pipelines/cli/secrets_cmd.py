"""``arbx secrets set|unset|list|check``: manage the encrypted secrets file without ever echoing a value."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.config.secrets import (
    check_required_secrets,
    read_secrets_file,
    save_secrets,
    secrets_path,
)
from arbx_pipelines.logs import register_secret


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sec = sub.add_parser("secrets", help="encrypted API keys (AES-256-GCM)")
    sec_sub = sec.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    put = sec_sub.add_parser("set", help="store a value, read from standard input or a hidden prompt")
    put.add_argument("owner", help="binance, okx, bitget, telegram, ...")
    put.add_argument("field", help="api_key, secret, passphrase, bot_token, ...")
    put.set_defaults(handler=_set)
    rm = sec_sub.add_parser("unset", help="remove a value")
    rm.add_argument("owner")
    rm.add_argument("field")
    rm.set_defaults(handler=_unset)
    ls = sec_sub.add_parser("list", help="list stored names (never values)")
    ls.set_defaults(handler=_list)
    chk = sec_sub.add_parser("check", help="decrypt and check that the configured mode has what it needs")
    chk.set_defaults(handler=_check)


def _passphrase(env_name: str) -> str | None:
    value = os.environ.get(env_name)
    if value or os.environ.get("ARBX_SECRETS_KEY"):
        return value
    if sys.stdin.isatty():
        return getpass.getpass("secrets passphrase: ")
    return None


def _read(args: argparse.Namespace) -> tuple[dict[str, dict[str, str]], str | None]:
    loaded = load_config(args.config)
    path = secrets_path(loaded)
    passphrase = _passphrase(loaded.config.secrets.passphrase_env)
    secrets = read_secrets_file(path, passphrase)
    return secrets, passphrase


def _set(args: argparse.Namespace) -> int:
    secrets, passphrase = _read(args)
    value = getpass.getpass(f"{args.owner}.{args.field}: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not value:
        print("arbx: no value given; nothing changed", file=sys.stderr)
        return 2
    register_secret(value)
    secrets.setdefault(args.owner, {})[args.field] = value
    loaded = load_config(args.config)
    save_secrets(secrets_path(loaded), secrets, passphrase)
    print(f"stored {args.owner}.{args.field} in {secrets_path(loaded)}")
    return 0


def _unset(args: argparse.Namespace) -> int:
    secrets, passphrase = _read(args)
    if secrets.get(args.owner, {}).pop(args.field, None) is None:
        print(f"arbx: {args.owner}.{args.field} is not stored", file=sys.stderr)
        return 2
    save_secrets(secrets_path(load_config(args.config)), secrets, passphrase)
    print(f"removed {args.owner}.{args.field}")
    return 0


def _list(args: argparse.Namespace) -> int:
    secrets, _ = _read(args)
    for owner in sorted(secrets):
        for field in sorted(secrets[owner]):
            print(f"{owner}.{field}")
    return 0


def _check(args: argparse.Namespace) -> int:
    secrets, _ = _read(args)
    check_required_secrets(load_config(args.config), secrets)
    print(f"secrets ok: {sum(len(v) for v in secrets.values())} values")
    return 0
