"""``arbx db upgrade|current``: apply and show the application database migrations."""

from __future__ import annotations

import argparse

from arbx_pipelines.config.loader import load_config
from arbx_pipelines.storage.db import current_revision, make_engine, upgrade


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = sub.add_parser("db", help="application database migrations")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations (creates every table)")
    up.add_argument("--revision", default="head")
    up.set_defaults(handler=_upgrade)
    cur = db_sub.add_parser("current", help="print the applied revision")
    cur.set_defaults(handler=_current)


def _upgrade(args: argparse.Namespace) -> int:
    url = load_config(args.config).database_url
    upgrade(url, args.revision)
    print(f"database at revision {current_revision(make_engine(url))}: {_safe(url)}")
    return 0


def _current(args: argparse.Namespace) -> int:
    url = load_config(args.config).database_url
    print(current_revision(make_engine(url)) or "(empty database: run `arbx db upgrade`)")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
