"""Backups: backup -> wipe -> restore gives the same rows on SQLite and PostgreSQL; files are 0600; 30 days kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select

from arbx_pipelines.cli.main import main
from arbx_pipelines.notify.alerts import AlertSink
from arbx_pipelines.storage.backups import BackupError, backup_database, backup_name, prune_backups, restore_database
from arbx_pipelines.storage.db import make_engine, transaction, upgrade
from arbx_pipelines.storage.models import Alert


def _rows(engine: Engine) -> list[tuple[int, str, str]]:
    with transaction(engine) as session:
        return [(a.id, a.kind, a.message) for a in session.execute(select(Alert).order_by(Alert.id)).scalars()]


def test_backup_wipe_restore_round_trip(migrated_engine: Engine, db_url: str, tmp_path: Path) -> None:
    sink = AlertSink(migrated_engine)
    for n in range(5):
        sink.raise_alert("backup_test", f"row {n} ünïcode", severity="info")
    before = _rows(migrated_engine)

    backup = backup_database(db_url, tmp_path / "backups")
    assert backup.path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "backups").stat().st_mode & 0o777 == 0o700

    with transaction(migrated_engine) as session:
        session.execute(delete(Alert))
    sink.raise_alert("after_backup", "written after the backup", severity="info")
    assert _rows(migrated_engine) != before
    migrated_engine.dispose()

    restore_database(db_url, backup.path)
    engine = make_engine(db_url)
    try:
        assert _rows(engine) == before
    finally:
        engine.dispose()


def test_restore_refuses_a_file_of_the_other_backend(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    fake = tmp_path / "arbx-postgresql-20260101T000000Z.dump"
    fake.write_bytes(b"PGDMP\x01\x0e")
    with pytest.raises(BackupError, match="not an SQLite backup"):
        restore_database(sqlite_url, fake)


def test_prune_keeps_thirty_days_and_the_newest(tmp_path: Path) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    names = [backup_name("sqlite", now - timedelta(days=days)) for days in (0, 29, 31, 45)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a backup", encoding="utf-8")
    deleted = prune_backups(tmp_path, now=now)
    assert sorted(p.name for p in deleted) == sorted(names[2:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[:2], "notes.txt"])
    old_only = tmp_path / "old"
    old_only.mkdir()
    (old_only / names[3]).write_bytes(b"x")
    assert prune_backups(old_only, now=now) == []  # the newest backup is kept however old


def test_cli_backup_and_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ARBX_CONFIG", "ARBX_ENV", "ARBX_DATABASE_URL", "ARBX_DATA_DIR", "ARBX_MODE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "arbx.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    database = tmp_path / "data" / "arbx.db"
    assert database.stat().st_mode & 0o777 == 0o600
    engine = make_engine(f"sqlite:///{database}")
    AlertSink(engine).raise_alert("cli_backup", "kept", severity="info")
    assert main(["--config", str(config), "db", "backup"]) == 0
    (backup,) = (tmp_path / "data" / "backups").iterdir()
    assert f"backup written: {backup}" in capsys.readouterr().out
    with transaction(engine) as session:
        session.execute(delete(Alert))
    engine.dispose()
    assert main(["--config", str(config), "db", "restore", str(backup)]) == 0
    engine = make_engine(f"sqlite:///{database}")
    assert [kind for _, kind, _ in _rows(engine)] == ["cli_backup"]
    engine.dispose()
    assert main(["--config", str(config), "db", "restore", str(tmp_path / "missing.sqlite3")]) == 2
    assert capsys.readouterr().err.strip() == f"arbx: {tmp_path / 'missing.sqlite3'}: no such backup file"
