"""``arbx db upgrade|current|backup|restore``: migrations, and backups of the application database."""

from __future__ import annotations

import argparse
from pathlib import Path

from arbx_pipelines.cli.main import CliError
from arbx_pipelines.config.loader import LoadedConfig, load_config
from arbx_pipelines.storage.backups import backup_database, prune_backups, restore_database
from arbx_pipelines.storage.db import check_reachable, current_revision, display_url, make_engine, upgrade
from arbx_pipelines.supervisor import RUN_STATE_FILE, running_owner

BACKUP_DIR = "backups"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = sub.add_parser("db", help="application database: migrations and backups")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (creates every table)")
    up.add_argument("--revision", default="head")
    up.set_defaults(handler=_upgrade)
    cur = db_sub.add_parser("current", help="print the applied revision")
    cur.set_defaults(handler=_current)
    backup = db_sub.add_parser("backup", help="write a consistent backup (0600) while arbx runs; keeps 30 days")
    backup.add_argument("--to", type=Path, default=None, help="folder (default: <data_dir>/backups)")
    backup.set_defaults(handler=_backup)
    restore = db_sub.add_parser("restore", help="replace the database's content by a backup (stop arbx run first)")
    restore.add_argument("file", type=Path, help="a file written by `arbx db backup`")
    restore.set_defaults(handler=_restore)


def backup_dir(loaded: LoadedConfig) -> Path:
    return loaded.data_dir / BACKUP_DIR


def _upgrade(args: argparse.Namespace) -> int:
    url = load_config(args.config).database_url
    upgrade(url, args.revision)
    print(f"database at revision {current_revision(make_engine(url))}: {display_url(url)}")
    return 0


def _current(args: argparse.Namespace) -> int:
    url = load_config(args.config).database_url
    check_reachable(url)
    print(current_revision(make_engine(url)) or "(empty database: run `arbx db upgrade`)")
    return 0


def _backup(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    target = args.to if args.to is not None else backup_dir(loaded)
    check_reachable(loaded.database_url)
    written = backup_database(loaded.database_url, target)
    pruned = prune_backups(target) if args.to is None else []
    print(f"backup written: {written.path} ({written.path.stat().st_size} bytes)")
    if pruned:
        print(f"pruned {len(pruned)} backup(s) older than 30 days")
    return 0


def _restore(args: argparse.Namespace) -> int:
    loaded = load_config(args.config)
    owner = running_owner(loaded.data_dir / RUN_STATE_FILE)
    if owner is not None:
        raise CliError(f"arbx run is running (pid {owner}): stop it before restoring a backup")
    check_reachable(loaded.database_url)
    restore_database(loaded.database_url, args.file)
    print(f"restored {args.file} into {display_url(loaded.database_url)}")
    return 0
