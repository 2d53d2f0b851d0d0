"""Every SQL statement lives behind ``arbx_pipelines/storage/``: no other module builds a query or opens a session.

What counts as the query API: any sqlalchemy import other than the ``Engine`` type and URL parsing, the PostgreSQL
driver, ``storage.db.transaction``/``session_factory`` (sessions), and calls of ``.execute``/``.exec_driver_sql``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import arbx_pipelines

PACKAGE = Path(arbx_pipelines.__file__).parent
ALLOWED_SQLALCHEMY = {"Engine", "make_url"}
#: exception types and connection events (fault injection) are not the query API
ALLOWED_SQLALCHEMY_MODULES = {"sqlalchemy.exc", "sqlalchemy.event"}
SESSION_FACTORIES = {"transaction", "session_factory"}
QUERY_CALLS = {"execute", "exec_driver_sql"}


def query_api_uses(source: str) -> list[str]:
    """What in ``source`` belongs to the query API (empty when nothing does)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in ("sqlalchemy", "psycopg")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top == "psycopg":
                found.append(node.module)
            elif top == "sqlalchemy" and node.module not in ALLOWED_SQLALCHEMY_MODULES:
                found += [
                    f"{node.module}.{a.name}"
                    for a in node.names
                    if a.name not in ALLOWED_SQLALCHEMY and f"{node.module}.{a.name}" not in ALLOWED_SQLALCHEMY_MODULES
                ]
            elif node.module == "arbx_pipelines.storage.db":
                found += [f"{node.module}.{a.name}" for a in node.names if a.name in SESSION_FACTORIES]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_CALLS:
            found.append(f".{node.func.attr}() at line {node.lineno}")
    return found


def test_no_module_outside_storage_uses_the_query_api() -> None:
    storage = PACKAGE / "storage"
    offenders = {
        str(path.relative_to(PACKAGE)): uses
        for path in sorted(PACKAGE.rglob("*.py"))
        if storage not in path.parents and (uses := query_api_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_sees_queries_sessions_and_drivers() -> None:
    source = (
        "from sqlalchemy import Engine, select\nfrom sqlalchemy.orm import Session\nimport psycopg\n"
        "from arbx_pipelines.storage.db import make_engine, transaction\nconn.execute(q)\n"
        "from sqlalchemy.engine import make_url\n"
    )
    assert query_api_uses(source) == [
        "sqlalchemy.select", "sqlalchemy.orm.Session", "psycopg", "arbx_pipelines.storage.db.transaction",
        ".execute() at line 5",
    ]  # fmt: skip
