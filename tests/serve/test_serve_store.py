"""The outcome, audit and key store, on SQLite files and on a PostgreSQL server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from serve_fakes import free_port, on_each_database
from sqlalchemy import insert, text

from risk_engine.errors import ConfigError, StoreUnavailable
from risk_engine.factories import valid_outcome_row
from risk_engine.settings import Settings
from risk_engine.validation import records_to_frame, validate_frame
from serve.records import RecordChecker
from serve.store import SCHEMA_VERSION, AuditEntry, Store, read_outcomes, schema_version


def _outcomes(*seeds: int) -> list[dict[str, Any]]:
    """Normalised outcome records, as the outcomes route hands them to the store."""
    rows = [{k: v for k, v in valid_outcome_row(seed).items() if v != ""} for seed in seeds]
    checked = RecordChecker("outcomes").check(rows)
    assert not checked.rejects
    return [checked.values(position) for position in sorted(checked.models)]


def test_migrate_creates_the_schema_once_and_records_its_version(database_url: str) -> None:
    store = Store(database_url)
    assert store.schema_version() is None
    assert store.migrate() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION
    assert store.schema_version() == SCHEMA_VERSION
    store.dispose()


def test_a_store_of_the_first_schema_is_migrated_and_its_keys_keep_working(
    database_url: str,
) -> None:
    """A database made by an engine of schema version 1 (keys without an expiry column) is
    brought to the current version in place, and the keys in it still authenticate."""
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect

    from serve.auth import Authenticator, Role, generate_key, hash_key

    first = MetaData()
    versions = Table(
        "schema_version",
        first,
        Column("version", Integer, primary_key=True),
        Column("applied_at", DateTime, nullable=False),
    )
    keys = Table(
        "api_keys",
        first,
        Column("key_id", String(64), primary_key=True),
        Column("key_hash", String(128), nullable=False),
        Column("role", String(16), nullable=False),
        Column("name", String(128), nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("revoked_at", DateTime, nullable=True),
    )
    store = Store(database_url)
    key_id, key = generate_key()
    with store.engine.begin() as conn:
        first.create_all(conn)
        made = datetime(2025, 1, 2, 3, 4, 5)
        conn.execute(insert(versions).values(version=1, applied_at=made))
        conn.execute(
            insert(keys).values(
                key_id=key_id, key_hash=hash_key(key), role="admin", name="Old", created_at=made
            )
        )
    try:
        assert store.schema_version() == 1
        assert store.migrate() == SCHEMA_VERSION == 4
        assert store.migrate() == 4  # nothing left to do
        with store.engine.connect() as conn:
            applied = conn.execute(text("SELECT version FROM schema_version ORDER BY version"))
            assert [row[0] for row in applied] == [1, 2, 3, 4]
        assert "expires_at" in {c["name"] for c in inspect(store.engine).get_columns("api_keys")}
        assert "named" in {c["name"] for c in inspect(store.engine).get_columns("audit")}  # v3
        record = store.get_key(key_id)
        assert record is not None and record.expires_at is None and record.name == "Old"
        assert Authenticator(store).authenticate(key).role is Role.ADMIN
    finally:
        store.dispose()


@on_each_database
def test_a_database_newer_than_the_engine_is_refused_with_a_clear_message(
    store: Store,
) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(schema_version).values(version=SCHEMA_VERSION + 1, applied_at=datetime.now(UTC))
        )
    with pytest.raises(ConfigError, match="upgrade the engine"):
        store.migrate()


def test_the_default_store_is_sqlite_under_home_in_wal_mode(settings: Settings) -> None:
    store = Store.from_settings(settings)
    store.migrate()
    assert store.url == f"sqlite:///{(settings.home / 'engine.db').as_posix()}"
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.dispose()


def test_any_database_url_can_be_set(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'other.db'}")
    store = Store.from_settings(settings)
    store.migrate()
    assert (tmp_path / "other.db").exists()
    store.dispose()


@on_each_database
def test_recording_outcomes_is_idempotent_by_bl_container_and_inspection_time(
    store: Store,
) -> None:
    records = _outcomes(1, 2)
    assert [w.status for w in store.record_outcomes(records)] == ["recorded", "recorded"]
    assert [w.status for w in store.record_outcomes(records)] == ["duplicate", "duplicate"]
    assert store.outcome_count() == 2


@on_each_database
def test_the_same_key_with_other_values_is_a_conflict_and_the_first_record_stays(
    store: Store,
) -> None:
    (record,) = _outcomes(3)
    store.record_outcomes([record])
    changed = {**record, "result": "NO_FINDING", "seizure_category": None}
    (conflict,) = store.record_outcomes([changed])
    assert (conflict.status, conflict.differs) == ("conflict", ("result", "seizure_category"))
    assert read_outcomes(store.url)["result"].tolist() == ["SEIZURE"]
    # The same inspection exported again with a later recorded_at is the same outcome (it was a
    # conflict, and each re-export filled the rejects file); the first recorded_at stays.
    again = {**record, "recorded_at": record["recorded_at"] + timedelta(days=3)}
    assert [w.status for w in store.record_outcomes([again])] == ["duplicate"]
    stored = read_outcomes(store.url)
    assert stored["recorded_at"].tolist() == [pd.Timestamp(record["recorded_at"])]


@on_each_database
def test_a_second_inspection_of_the_same_container_is_a_new_outcome(store: Store) -> None:
    (record,) = _outcomes(4)
    later = {
        **record,
        "inspected_at": record["inspected_at"] + timedelta(days=30),
        "recorded_at": record["recorded_at"] + timedelta(days=30),
    }
    statuses = [w.status for w in store.record_outcomes([record, later, record])]
    assert statuses == ["recorded", "recorded", "duplicate"]


@on_each_database
def test_read_outcomes_gives_the_layout_of_a_validated_outcomes_file(store: Store) -> None:
    rows = [{k: v for k, v in valid_outcome_row(seed).items() if v != ""} for seed in (5, 6)]
    store.record_outcomes(_outcomes(5, 6))
    from_store = read_outcomes(store.url)
    from_file = validate_frame(records_to_frame(rows), "outcomes").accepted.reset_index(drop=True)
    pd.testing.assert_frame_equal(from_store, from_file)
    assert str(from_store["inspected_at"].dt.tz) == "UTC"


@on_each_database
def test_read_outcomes_of_a_store_without_outcomes_is_an_empty_frame(store: Store) -> None:
    frame = read_outcomes(store.url)
    assert frame.empty
    assert "inspected_at" in frame.columns and "dq_flags" in frame.columns


def test_read_outcomes_of_a_missing_sqlite_file_names_it_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere" / "engine.db"
    with pytest.raises(StoreUnavailable, match="nowhere"):  # exit 5, as backup and audit
        read_outcomes(f"sqlite:///{missing}")
    assert not missing.parent.exists()


@on_each_database
def test_audit_rows_come_back_as_written_with_utc_times(store: Store) -> None:
    at = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    entry = AuditEntry(
        request_id="r1",
        at=at,
        method="POST",
        route="/v1/score",
        status=200,
        duration_ms=3.5,
        key_id="abc",
        role="officer",
        lines=50,
        model_version="3",
        detail=None,
        client="127.0.0.1",
    )
    store.record_audit(entry)
    assert store.audit_entries() == [entry]


@on_each_database
def test_a_long_route_is_cut_to_fit_its_column(store: Store) -> None:
    entry = AuditEntry("r2", datetime.now(UTC), "GET", "/" + "x" * 1000, 404, 0.1)
    store.record_audit(entry)
    assert len(store.audit_entries()[0].route) == 256


@on_each_database
def test_everything_written_is_there_after_reopening_the_database(settings: Settings) -> None:
    first = Store.from_settings(settings)
    first.migrate()
    first.record_outcomes(_outcomes(7))
    first.record_audit(AuditEntry("r3", datetime.now(UTC), "GET", "/healthz", 200, 0.2))
    first.dispose()
    second = Store.from_settings(settings)
    second.migrate()
    assert second.outcome_count() == 1
    assert [e.request_id for e in second.audit_entries()] == ["r3"]
    second.dispose()


def test_a_plain_postgresql_url_is_served_by_the_pg8000_driver(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+pg8000://", "postgresql://")
    store = Store(plain)
    try:
        assert store.engine.dialect.driver == "pg8000"
        store.migrate()
        store.record_outcomes(_outcomes(8))
        assert store.outcome_count() == 1
    finally:
        store.dispose()


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()
    store = Store(f"postgresql+pg8000://officer:s3cret@127.0.0.1:{port}/risk")
    with pytest.raises(StoreUnavailable) as caught:
        store.migrate()
    message = str(caught.value)
    assert f"127.0.0.1:{port}/risk" in message and "***" in message
    assert "s3cret" not in message
    with pytest.raises(StoreUnavailable, match=str(port)):
        store.outcomes_frame()
    store.dispose()


def test_a_database_url_whose_driver_is_not_installed_names_the_missing_module() -> None:
    with pytest.raises(StoreUnavailable, match="MySQLdb"):
        Store("mysql://officer:s3cret@127.0.0.1/risk")


def test_a_database_url_that_is_not_a_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="not an SQLAlchemy URL"):
        Store("risk database on the third floor")


@on_each_database
def test_officers_recording_overlapping_outcomes_at_once_store_each_once(store: Store) -> None:
    records = _outcomes(*range(20, 44))
    keys = {(r["bl_number"], r["container_number"], r["inspected_at"]) for r in records}
    writers, rounds = 6, 3
    start = threading.Barrier(writers)
    statuses: list[str] = []
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        for round_ in range(rounds):
            first = (writer * 4 + round_ * 5) % (len(records) - 8)
            try:
                start.wait(timeout=30)
                statuses.extend(w.status for w in store.record_outcomes(records[first : first + 8]))
            except BaseException as error:  # collected: the test names them
                errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(statuses) == writers * rounds * 8
    stored = store.outcome_count()
    assert statuses.count("recorded") == stored <= len(keys)
    assert set(statuses) <= {"recorded", "duplicate"}


def _record_at_once(
    store: Store, orders: list[list[dict[str, Any]]]
) -> tuple[list[str], list[BaseException]]:
    """Each list of outcomes recorded by its own thread, all starting together: the statuses
    they got and the errors they raised."""
    start = threading.Barrier(len(orders))
    statuses: list[str] = []
    errors: list[BaseException] = []

    def write(order: list[dict[str, Any]]) -> None:
        try:
            start.wait(timeout=30)
            statuses.extend(w.status for w in store.record_outcomes(order))
        except BaseException as error:  # collected: the test names them
            errors.append(error)

    threads = [threading.Thread(target=write, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses, errors


@on_each_database
def test_writers_sending_the_same_outcomes_in_other_orders_neither_deadlock_nor_fail(
    store: Store,
) -> None:
    """Two clients exporting the same inspections sorted differently (one file in order, one
    reversed, others shuffled) deadlocked on PostgreSQL's unique index: one request got a 500
    and recorded nothing. Each writer now gets every outcome recorded or duplicate."""
    import random

    every: list[dict[str, Any]] = []
    for round_ in range(3):  # new outcomes each round: every round's writers contend
        records = _outcomes(*range(1_000 + 200 * round_, 1_200 + 200 * round_))
        every += records
        orders = [records, records[::-1]]
        for seed in range(4):
            shuffled = list(records)
            random.Random(seed).shuffle(shuffled)
            orders.append(shuffled)
        statuses, errors = _record_at_once(store, orders)
        assert not errors, errors
        assert len(statuses) == len(orders) * len(records)
        assert set(statuses) <= {"recorded", "duplicate"}
        assert statuses.count("recorded") == len(records)  # each once, by one writer
    assert store.outcome_count() == len(every)


def test_a_database_that_does_not_exist_is_named_as_unavailable(postgres_url: str) -> None:
    """PostgreSQL refuses the connection itself (SQLSTATE 3D000), which pg8000 raises as a
    ProgrammingError: it was a traceback and exit 1, where an unreachable host exits 5."""
    from sqlalchemy.engine import make_url

    missing = make_url(postgres_url).set(database="no_such_database")
    store = Store(missing.render_as_string(hide_password=False))
    try:
        with pytest.raises(StoreUnavailable, match="no_such_database.*does not exist"):
            store.migrate()
    finally:
        store.dispose()


@pytest.mark.parametrize(
    "password",
    ["Sx9@Tqz", "Sx9@T/qz", "Sx9@Tq:z"],  # the tail read as host, as database, a ValueError
)
def test_a_password_with_an_unencoded_at_sign_is_refused_before_it_is_shown(
    password: str,
) -> None:
    with pytest.raises(ConfigError, match="%40") as caught:
        Store(f"postgresql+pg8000://engine:{password}@127.0.0.1:5432/engine")
    assert "qz" not in str(caught.value) and "Sx9" not in str(caught.value)
    store = Store("postgresql+pg8000://engine:Sx9%40Tqz@127.0.0.1:5432/engine")  # encoded: fine
    assert "Tqz" not in store.shown_url
    store.dispose()


def test_servers_starting_at_once_on_a_new_database_all_come_up_with_one_schema(
    database_url: str,
) -> None:
    starters = 4
    start = threading.Barrier(starters)
    versions: list[int] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        store = Store(database_url)
        try:
            start.wait(timeout=30)
            versions.append(store.migrate())
        except BaseException as error:  # collected: the test names them
            errors.append(error)
        finally:
            store.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert versions == [SCHEMA_VERSION] * starters
    store = Store(database_url)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM schema_version")).scalar()
    store.dispose()
    assert rows == 1


# backup ------------------------------------------------------------------------------------------


def test_a_backup_of_a_sqlite_store_holds_every_row_and_opens_as_a_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from risk_engine.cli import app
    from serve.store import backup_row_counts

    settings = Settings(home=tmp_path / "home")
    store = Store.opened(settings)
    store.record_outcomes(_outcomes(1, 2, 3))
    for i in range(4):
        store.record_audit(
            AuditEntry(
                request_id=f"r{i}",
                at=datetime.now(UTC),
                method="POST",
                route="/v1/score",
                status=200,
                duration_ms=1.0,
            )
        )
    writes = threading.Event()

    def keep_writing() -> None:  # the service keeps writing while the copy is taken
        n = 0
        while not writes.is_set():
            store.record_audit(
                AuditEntry(
                    request_id=f"w{n}",
                    at=datetime.now(UTC),
                    method="GET",
                    route="/healthz",
                    status=200,
                    duration_ms=0.1,
                )
            )
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    out = tmp_path / "backups" / "engine-2026-11-29.db"
    try:
        result = CliRunner().invoke(app, ["backup", str(out)])
    finally:
        writes.set()
        writer.join()
    assert result.exit_code == 0, result.output
    copied = backup_row_counts(out)
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # one file, no journal
    assert copied["outcomes"] == 3 and copied["audit"] >= 4
    assert f"{out}: 3 outcomes, {copied['audit']:,} audit, 0 api_keys" in result.stdout
    copy = Store(f"sqlite:///{out.as_posix()}")
    try:
        assert copy.schema_version() == SCHEMA_VERSION and copy.outcome_count() == 3
    finally:
        copy.dispose()
    again = CliRunner().invoke(app, ["backup", str(out)])
    assert again.exit_code == 2 and "exists: a backup never overwrites" in again.stderr
    folder = CliRunner().invoke(app, ["backup", str(out.parent)])  # it said "exists" there too
    assert folder.exit_code == 2 and "is a folder: name the backup file" in folder.stderr
    store.dispose()


def test_a_backup_finishing_second_to_one_name_never_overwrites_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nightly timers at once shared one partial file (one failed with "attempt to write a
    readonly database"), and the second renamed its copy over the first's."""
    import serve.store as store_module

    store = Store.opened(Settings(home=tmp_path / "home"))
    store.record_outcomes(_outcomes(1, 2))
    out = tmp_path / "nightly.db"
    connect = store_module.sqlite3.connect

    def the_other_finishes_first(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).endswith(".partial"):
            assert f".{out.name}." in str(path) and not str(path).endswith(f".{out.name}.partial")
            out.write_bytes(b"the other backup")  # it took the name while this one copied
        return connect(path, *args, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", the_other_finishes_first)
    try:
        with pytest.raises(ConfigError, match="exists: a backup never overwrites"):
            store.backup_to(out)
    finally:
        monkeypatch.setattr(store_module.sqlite3, "connect", connect)
        store.dispose()
    assert out.read_bytes() == b"the other backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", out.name]  # no partial left


def test_a_postgresql_store_is_backed_up_with_its_own_tools(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        with pytest.raises(ConfigError, match="pg_dump"):
            store.backup_to(Path("/tmp/never-written.db"))
    finally:
        store.dispose()
    assert not Path("/tmp/never-written.db").exists()


def test_a_wrong_statement_is_not_taken_for_a_database_out_of_reach(tmp_path: Path) -> None:
    """SQLite's "no such table" and syntax errors are OperationalErrors, as its "database is
    locked" is: only the second may be answered 503 "retry later"; the others are bugs (500)."""
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from serve.store import unreachable

    path = tmp_path / "a.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    for statement in ("SELECT * FROM nope", "SELEC 1"):
        with pytest.raises(DBAPIError) as wrong, engine.connect() as conn:
            conn.execute(text(statement))
        assert not unreachable(wrong.value)
    holder = sqlite3.connect(path)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        with pytest.raises(DBAPIError) as locked, engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2)"))
        assert unreachable(locked.value)
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_a_wrong_statement_on_postgresql_is_not_a_database_out_of_reach(
    postgres_url: str,
) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError

    from serve.store import unreachable

    engine = create_engine(postgres_url)
    try:
        with pytest.raises(DBAPIError) as wrong, engine.connect() as conn:
            conn.execute(text("SELEC 1"))
        assert not unreachable(wrong.value)
    finally:
        engine.dispose()


def test_a_backup_that_fails_is_named_and_leaves_neither_copy_nor_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On a full disk the copy's journal was left behind; on a read-only folder the clean
    # error was masked by a traceback from removing the partial copy.
    import serve.store as store_module
    from risk_engine.errors import OutputUnwritable

    store = Store.opened(Settings(home=tmp_path / "home"))
    store.record_outcomes(_outcomes(1, 2))

    def full(partial: Path, target: Path) -> None:
        Path(str(partial) + "-journal").write_bytes(b"")  # as SQLite leaves it
        raise store_module.sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store_module, "_put_in_place", full)
    try:
        with pytest.raises(OutputUnwritable, match="b.db: database or disk is full"):
            store.backup_to(tmp_path / "b.db")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # nothing left
        real_unlink = Path.unlink

        def read_only(self: Path, missing_ok: bool = False) -> None:
            if self.parent == tmp_path:
                raise OSError(30, "Read-only file system")
            real_unlink(self, missing_ok=missing_ok)

        monkeypatch.setattr(Path, "unlink", read_only)
        with pytest.raises(OutputUnwritable, match="c.db: database or disk is full"):
            store.backup_to(tmp_path / "c.db")
    finally:
        monkeypatch.undo()
        store.dispose()


def test_a_backup_on_a_full_disk_leaves_no_log_of_its_copy_and_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of a store in WAL mode starts in it: a full disk left its -wal and -shm files,
    a pair more with each nightly run, and said only "disk I/O error"."""
    import shutil
    from collections import namedtuple

    import serve.store as store_module
    from risk_engine.errors import OutputUnwritable

    store = Store.opened(Settings(home=tmp_path / "home"))
    store.record_outcomes(_outcomes(1, 2))
    out = tmp_path / "out"
    out.mkdir()

    def full(partial: Path, target: Path) -> None:
        for suffix in ("-wal", "-shm"):
            Path(str(partial) + suffix).write_bytes(b"")  # as SQLite leaves them
        raise store_module.sqlite3.OperationalError("disk I/O error")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(store_module, "_put_in_place", full)
    monkeypatch.setattr(shutil, "disk_usage", lambda where: usage(10_000, 10_000, 4_096))
    try:
        with pytest.raises(OutputUnwritable, match="No space left on device") as told:
            store.backup_to(out / "b.db")
        assert "MB are free on its disk" in str(told.value)
        assert list(out.iterdir()) == []  # nothing left
        # a read-only disk (or no permission) is told as it is, whatever the space left
        ro = store_module._backup_failure(
            store_module.sqlite3.OperationalError("unable to open database file"),
            tmp_path / "home" / "engine.db",
            out / "c.db",
        )
        assert ro == "unable to open database file"
        denied = store_module._backup_failure(
            OSError(30, "Read-only file system"), tmp_path / "home" / "engine.db", out / "c.db"
        )
        assert "No space" not in denied
    finally:
        monkeypatch.undo()
        store.dispose()


def test_a_postgresql_url_with_libpq_sslmode_gets_the_tls_it_names() -> None:
    """pg8000 knows no ``sslmode``: `?sslmode=require` was a traceback (exit 1) in every
    command, and without it pg8000 tried TLS without checking who answered."""
    import ssl

    from sqlalchemy.engine import make_url

    from serve.store import _make_engine, _tls

    url = "postgresql+pg8000://engine:secret@127.0.0.1:1/engine"
    engine = _make_engine(f"{url}?sslmode=require")
    assert "sslmode" not in str(engine.url)
    assert _tls(make_url(url), "disable") is False
    required = _tls(make_url(url), "require")
    assert isinstance(required, ssl.SSLContext) and required.verify_mode == ssl.CERT_NONE
    full = _tls(make_url(url), "verify-full")
    assert isinstance(full, ssl.SSLContext) and full.check_hostname
    assert full.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ConfigError, match="sslmode='always'"):
        _make_engine(f"{url}?sslmode=always")
    assert _tls(make_url(url), "prefer") is None  # TLS when offered, plain otherwise
    # a CA file that cannot be read is named (it was a traceback, exit 1)
    with pytest.raises(ConfigError, match="sslrootcert='/nonexistent/ca.pem'"):
        _make_engine(f"{url}?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
    # reaching it is the store unavailable (exit 5), not a TypeError from the driver
    store = Store(f"{url}?sslmode=require")
    with pytest.raises(StoreUnavailable):
        store.migrate()
