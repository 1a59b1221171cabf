"""`risk-engine restore`: a SQLite store put back from a backup, the store as it was kept."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.settings import Settings
from serve.auth import Role, issue_key
from serve.store import SCHEMA_VERSION, AuditEntry, Store, backup_row_counts

runner = CliRunner()
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        request_id=f"r{i}",
        at=START + timedelta(minutes=i),
        method="POST",
        route="/v1/score",
        status=200,
        duration_ms=2.0,
        lines=50,
    )


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RISK_ENGINE_DATABASE_URL", raising=False)
    return Settings(home=tmp_path / "home")


def _integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [str(row[0]) for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()


def test_restore_puts_the_backup_back_and_keeps_the_store_as_it_was(
    home: Settings, tmp_path: Path
) -> None:
    """By hand, a write-ahead log left beside the copied backup was applied to it and damaged
    it; the restore writes the backup in through SQLite while the log still holds the writes
    of a store that is open (the service, not stopped)."""
    store = Store.opened(home)
    for i in range(3):
        store.record_audit(_entry(i))
    backup = tmp_path / "nightly.db"
    store.backup_to(backup)
    issue_key(store, role=Role.OFFICER, name="made after the backup")
    for i in range(3, 60):
        store.record_audit(_entry(i))
    live = home.home / "engine.db"
    assert live.with_name("engine.db-wal").stat().st_size > 0
    result = runner.invoke(app, ["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert f"restored from {backup} (schema version {SCHEMA_VERSION}): 0 outcomes, 4 audit, " in (
        result.stdout
    )
    assert _integrity(live) == ["ok"]
    fresh = Store(home.store_url)
    try:
        entries = fresh.audit_entries()
        assert [e.request_id for e in entries[:3]] == ["r0", "r1", "r2"]
        assert len(entries) == 4 and entries[3].route == "risk-engine restore"
        assert entries[3].method == "CLI" and f"restored from {backup}" in (entries[3].detail or "")
        assert fresh.row_counts() == {"outcomes": 0, "audit": 4, "api_keys": 0}
    finally:
        fresh.dispose()
    # the store that stayed open reads the restored one
    assert len(store.audit_entries()) == 4
    store.dispose()
    (kept,) = live.parent.glob("engine.db.before-restore-*")
    assert f"the store as it was is kept in {kept}" in result.stdout
    assert backup_row_counts(kept) == {"outcomes": 0, "audit": 60, "api_keys": 1}
    assert backup_row_counts(backup) == {"outcomes": 0, "audit": 3, "api_keys": 0}  # as it was


def _newer(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (?, ?)", (SCHEMA_VERSION + 1, "2030-01-01"))
    conn.commit()
    conn.close()


def _damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for at in range(4096, len(data), 4096):  # the header of every page but the first
        data[at : at + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("spoil", "said"),
    [
        (lambda p: p.write_text("request_id,at\nr1,2026-11-01\n"), "not a SQLite database"),
        (
            lambda p: (
                p.unlink(),
                sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.commit(),
            ),
            "not a backup of the engine's store (no table schema_version, outcomes, audit, api_keys)",
        ),
        (_newer, f"newer than this engine's {SCHEMA_VERSION}: restore it with the engine"),
        (_damaged, "damaged"),
        (lambda p: p.unlink(), "no such backup file"),
    ],
    ids=["text", "other-database", "newer-schema", "damaged", "missing"],
)
def test_a_backup_that_is_no_sound_store_changes_nothing(
    home: Settings, tmp_path: Path, spoil, said: str
) -> None:
    store = Store.opened(home)
    for i in range(3):
        store.record_audit(_entry(i))
    backup = tmp_path / "nightly.db"
    store.backup_to(backup)
    for i in range(3, 8):
        store.record_audit(_entry(i))
    store.dispose()
    spoil(backup)
    result = runner.invoke(app, ["restore", str(backup)])
    assert result.exit_code == 2, result.output
    assert str(backup) in result.stderr and said in result.stderr
    live = home.home / "engine.db"
    assert not list(live.parent.glob("engine.db.before-restore-*"))
    assert backup_row_counts(live)["audit"] == 8


def test_restore_never_overwrites_the_kept_copy_and_refuses_a_server_database(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store.opened(home)
    store.record_audit(_entry(0))
    backup = tmp_path / "nightly.db"
    store.backup_to(backup)
    store.record_audit(_entry(1))
    store.dispose()
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"an earlier copy")
    result = runner.invoke(app, ["restore", str(backup), "--keep", str(taken)])
    assert result.exit_code == 2 and "exists: a backup never overwrites" in result.stderr
    assert taken.read_bytes() == b"an earlier copy"
    assert backup_row_counts(home.home / "engine.db")["audit"] == 2
    monkeypatch.setenv("RISK_ENGINE_DATABASE_URL", "postgresql+pg8000://u:secret@db:5432/risk")
    server = runner.invoke(app, ["restore", str(backup)])
    assert server.exit_code == 2 and "restore it with its own tools" in server.stderr
    assert "secret" not in server.output


def test_restore_into_a_home_without_a_store_makes_it_from_the_backup(
    home: Settings, tmp_path: Path
) -> None:
    """A new server: nothing to keep."""
    origin = Store.opened(Settings(home=tmp_path / "old-server"))
    origin.record_audit(_entry(0))
    backup = tmp_path / "nightly.db"
    origin.backup_to(backup)
    origin.dispose()
    nothing = runner.invoke(app, ["restore", str(backup), "--keep", str(tmp_path / "k.db")])
    assert nothing.exit_code == 2 and "there is no store at" in nothing.stderr
    result = runner.invoke(app, ["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert "kept" not in result.stdout
    assert backup_row_counts(home.home / "engine.db")["audit"] == 2  # and the restore's row
    again = runner.invoke(app, ["restore", str(backup), "--keep", str(tmp_path / "k.db")])
    assert again.exit_code == 0, again.output  # a store is there now: kept this time
    assert backup_row_counts(tmp_path / "k.db")["audit"] == 2


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: p.write_bytes(b"not a database\n" * 300),
        lambda p: p.write_bytes(b"\xff" * 100 + p.read_bytes()[100:]),  # its header overwritten
        _damaged,  # its tables listed, their pages not readable
    ],
    ids=["text", "header", "pages"],
)
def test_a_store_that_is_no_database_is_restored_and_kept_as_it_was(
    home: Settings, tmp_path: Path, spoil
) -> None:
    """Every command tells a store that is no database, or a damaged one, to be restored from
    a backup; the restore itself refused it (exit 5, "file is not a database ... restore it
    from a backup"), as it could not copy it through SQLite to keep it."""
    store = Store.opened(home)
    store.record_audit(_entry(0))
    backup = tmp_path / "nightly.db"
    store.backup_to(backup)
    store.record_audit(_entry(1))
    store.dispose()
    live = home.home / "engine.db"
    spoil(live)
    spoiled = live.read_bytes()
    refused = runner.invoke(app, ["audit", "--last", "1"])
    assert refused.exit_code == 5 and "restore it from a backup" in refused.stderr
    live.with_name("engine.db-wal").write_bytes(b"a log of the old database")
    result = runner.invoke(app, ["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert _integrity(live) == ["ok"]
    assert backup_row_counts(live) == {"outcomes": 0, "audit": 2, "api_keys": 0}
    (kept,) = live.parent.glob("engine.db.before-restore-*[0-9]Z")
    assert f"the store as it was is kept in {kept}" in result.stdout
    assert kept.read_bytes() == spoiled  # as it was, to be looked at
    assert kept.with_name(f"{kept.name}-wal").read_bytes() == b"a log of the old database"
    assert runner.invoke(app, ["audit", "--last", "1"]).exit_code == 0
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"an earlier copy")
    spoil(live)
    spoiled = live.read_bytes()
    again = runner.invoke(app, ["restore", str(backup), "--keep", str(taken)])
    assert again.exit_code == 2 and "exists: a backup never overwrites" in again.stderr
    assert taken.read_bytes() == b"an earlier copy" and live.read_bytes() == spoiled
