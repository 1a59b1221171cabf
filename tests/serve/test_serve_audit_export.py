"""Reading the audit trail back: `risk-engine audit`, its filters and its exports."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from serve_fakes import on_each_database
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.parsing import parse_moment
from risk_engine.settings import Settings, operator
from serve.store import AuditEntry, Store

runner = CliRunner()
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _trail(store: Store) -> list[AuditEntry]:
    """Nine requests an hour apart by two keys and one without a key, one route a formula."""
    entries = []
    for hour in range(9):
        key = (None, "aaaaaaaaaaaa", "bbbbbbbbbbbb")[hour % 3]
        entries.append(
            AuditEntry(
                request_id=f"r{hour}",
                at=START + timedelta(hours=hour),
                method="POST",
                route='=HYPERLINK("http://x")' if hour == 4 else "/v1/score",
                status=401 if key is None else 200,
                duration_ms=1.5 + hour,
                key_id=key,
                role=None if key is None else "officer",
                lines=None if key is None else hour,
                model_version=None if key is None else "3",
                client="127.0.0.1",
            )
        )
    for entry in entries:
        store.record_audit(entry)
    return entries


@on_each_database
def test_the_trail_can_be_read_by_period_and_by_key_oldest_first(store: Store) -> None:
    trail = _trail(store)
    since, until = START + timedelta(hours=2), START + timedelta(hours=7)
    assert store.audit_entries(since=since, until=until) == trail[2:7]
    assert store.audit_entries(key_id="aaaaaaaaaaaa") == [trail[1], trail[4], trail[7]]
    assert store.audit_entries(limit=2, key_id="bbbbbbbbbbbb") == [trail[5], trail[8]]
    chunks = list(store.audit_chunks(chunk_rows=4))
    assert [len(c) for c in chunks] == [4, 4, 1]
    assert [e for c in chunks for e in c] == trail


def test_audit_prints_the_latest_rows_with_who_what_and_status(
    home_env: Settings, store: Store
) -> None:
    _trail(store)
    result = runner.invoke(app, ["audit", "--last", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-11-01T14:00:00Z  POST  /v1/score            401  no key")
    assert "key aaaaaaaaaaaa (officer)  lines 7  model 3  8.5 ms  request r7" in lines[1]
    assert lines[2].startswith("2026-11-01T16:00:00Z") and "key bbbbbbbbbbbb" in lines[2]
    # a request with a revoked or expired key has no role: not "(None)"
    store.record_audit(
        AuditEntry(
            request_id="r-revoked",
            at=START + timedelta(hours=10),
            method="POST",
            route="/v1/score",
            status=401,
            duration_ms=1.0,
            key_id="cccccccccccc",
            client="127.0.0.1",
        )
    )
    (last,) = runner.invoke(app, ["audit", "--last", "1"]).stdout.splitlines()
    assert "key cccccccccccc " in last and "(None)" not in last


@on_each_database
def test_audit_exports_a_period_to_csv_with_formulas_defused(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    trail = _trail(store)
    out = tmp_path / "audit.csv"
    result = runner.invoke(
        app,
        [
            "audit",
            "--since",
            "2026-11-01T10:00:00Z",
            "--until",
            "2026-11-01T15:00",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 audit rows written" in result.stdout
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["request_id"].tolist() == [e.request_id for e in trail[2:7]]
    assert frame.loc[frame["request_id"] == "r4", "route"].item() == '\'=HYPERLINK("http://x")'


def test_audit_exports_one_key_to_parquet_as_written(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    trail = _trail(store)
    out = tmp_path / "audit.parquet"
    result = runner.invoke(app, ["audit", "--key", "bbbbbbbbbbbb", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    wanted = [e for e in trail if e.key_id == "bbbbbbbbbbbb"]
    assert frame["request_id"].tolist() == [e.request_id for e in wanted]
    assert list(frame["at"]) == [e.at for e in wanted]
    assert frame["lines"].tolist() == [e.lines for e in wanted]


def _cli_rows(store: Store) -> list[AuditEntry]:
    return [e for e in store.audit_entries() if e.method == "CLI"]


@on_each_database
def test_reading_or_exporting_the_trail_is_itself_recorded(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    """The trail tells who looked at a container; reading it back from the server's shell left
    no row, so who read who looked, or took the whole trail away, was unknown."""
    _trail(store)
    listed = runner.invoke(app, ["audit", "--key", "aaaaaaaaaaaa", "--last", "2"])
    assert listed.exit_code == 0, listed.output
    # the listing holds the requests asked for, not its own read
    assert len(listed.stdout.splitlines()) == 2 and "CLI" not in listed.stdout
    (read,) = _cli_rows(store)
    assert (read.route, read.lines, read.status) == ("risk-engine audit", 2, 0)
    assert read.detail == "2 audit rows (key aaaaaaaaaaaa) read"
    assert read.client == operator()
    out = tmp_path / "trail.csv"
    exported = runner.invoke(app, ["audit", "--since", "2026-11-01T12:00Z", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    export = _cli_rows(store)[-1]
    assert export.route == "risk-engine audit --out" and export.lines == 6
    assert export.detail == f"6 audit rows (since 2026-11-01T12:00Z) exported to {out}"
    # and the next reader sees both
    latest = runner.invoke(app, ["audit", "--last", "2"])
    assert "risk-engine audit --out" in latest.stdout and f"by {operator()}" in latest.stdout


def test_a_read_the_trail_cannot_record_is_refused_and_its_export_removed(
    home_env: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    _trail(store)

    def locked(self: Store, entry: AuditEntry, *, wait_s: float | None = None) -> None:
        raise OperationalError("INSERT INTO audit", {}, Exception("database is locked"))

    monkeypatch.setattr(Store, "record_audit", locked)
    out = tmp_path / "trail.csv"
    exported = runner.invoke(app, ["audit", "--out", str(out)])
    assert exported.exit_code == 5, exported.output
    assert "the audit row of `risk-engine audit --out` could not be written" in exported.stderr
    assert "database is locked" in exported.stderr
    assert not out.exists()
    listed = runner.invoke(app, ["audit"])
    assert listed.exit_code == 5 and listed.stdout == ""


def test_a_backup_is_recorded_and_the_copy_holds_its_row(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    _trail(store)
    copy = tmp_path / "nightly.db"
    result = runner.invoke(app, ["backup", str(copy)])
    assert result.exit_code == 0, result.output
    (row,) = _cli_rows(store)
    assert row.route == "risk-engine backup" and row.detail == f"the store copied to {copy}"
    copied = Store(f"sqlite:///{copy}")
    try:
        assert _cli_rows(copied) == [row]
    finally:
        copied.dispose()


def test_an_export_of_nothing_still_has_the_columns(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "none.csv"
    result = runner.invoke(app, ["audit", "--since", "2030-01-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 audit rows written" in result.stdout
    assert pd.read_csv(out).columns[:3].tolist() == ["request_id", "at", "method"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--since", "yesterday"], "--since='yesterday'"),
        (["--until", "2026-13-01"], "--until='2026-13-01'"),
        (["--out", "trail.xlsx"], "unknown file type"),
        (
            ["--since", "2025-01-01", "--until", "2024-01-01"],
            "--until='2024-01-01' is not after --since='2025-01-01': the period is empty",
        ),
    ],
)
def test_bad_audit_options_exit_two_naming_the_option(
    home_env: Settings, args: list[str], named: str, tmp_path: Path
) -> None:
    if args[0] == "--out":
        args = ["--out", str(tmp_path / args[1])]
    result = runner.invoke(app, ["audit", *args])
    assert result.exit_code == 2
    assert named in result.output


def test_moments_without_a_zone_are_utc_and_others_are_converted() -> None:
    assert parse_moment("2026-11-01", "--since") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("2026-11-01T08:00:00+07:00", "--since") == datetime(
        2026, 11, 1, 1, tzinfo=UTC
    )
    # the forms the contract reads (a lower-case z, +0700) were refused in options
    assert parse_moment("2026-11-01t08:00:00z", "--until") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_moment("2026-11-01T08:00+0700", "--until") == datetime(2026, 11, 1, 1, tzinfo=UTC)


# retention ---------------------------------------------------------------------------------------


@on_each_database
def test_a_purge_archives_the_old_rows_then_deletes_exactly_those_and_says_so(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    trail = _trail(store)
    archive = tmp_path / "audit-2026-11.parquet"
    cutoff = "2026-11-01T13:00:00Z"  # the first five requests
    result = runner.invoke(app, ["audit", "--purge-before", cutoff, "--out", str(archive)])
    assert result.exit_code == 0, result.output
    assert "5 audit rows of requests before 2026-11-01T13:00:00Z deleted" in result.stdout
    kept = [e for e in store.audit_entries() if e.method != "CLI"]
    assert kept == trail[5:]
    archived = pd.read_parquet(archive)
    assert archived["request_id"].tolist() == [e.request_id for e in trail[:5]]
    (note,) = [e for e in store.audit_entries() if e.method == "CLI"]
    assert note.lines == 5 and note.route == "risk-engine audit --purge-before"
    assert note.detail == (
        f"deleted 5 rows before 2026-11-01T13:00:00+00:00, archived to {archive.resolve()}"
    )
    assert note.client and "@" in note.client
    shown = runner.invoke(app, ["audit", "--last", "1"]).stdout
    assert " CLI " in shown and f"by {note.client}" in shown
    again = runner.invoke(app, ["audit", "--purge-before", cutoff, "--no-archive"])
    assert again.exit_code == 0 and "0 audit rows" in again.stdout
    assert [e for e in store.audit_entries() if e.method != "CLI"] == trail[5:]
    # a purge of nothing writes no archive, and its row claims none (it named a file a later
    # purge then wrote); an archive named relative to the folder it ran in is told whole
    empty = runner.invoke(app, ["audit", "--purge-before", cutoff, "--out", "nothing.csv"])
    assert empty.exit_code == 0 and not Path("nothing.csv").exists()
    last = [e for e in store.audit_entries() if e.method == "CLI"][-1]
    assert last.detail == "deleted 0 rows before 2026-11-01T13:00:00+00:00, nothing to archive"


def test_a_purge_whose_archive_cannot_be_written_deletes_nothing(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    trail = _trail(store)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = runner.invoke(
        app, ["audit", "--purge-before", "2026-11-02", "--out", str(blocked / "audit.csv")]
    )
    assert result.exit_code == 2, result.output
    assert f"cannot write {blocked / 'audit.csv'}" in result.stderr
    assert store.audit_entries() == trail
    # An earlier archive under that name held rows already gone from the database: it was
    # overwritten, and they were lost.
    earlier = tmp_path / "audit-archive.csv"
    earlier.write_text("request_id\nrows of an earlier purge\n")
    result = runner.invoke(app, ["audit", "--purge-before", "2026-11-02", "--out", str(earlier)])
    assert result.exit_code == 2, result.output
    assert f"archive {earlier} exists: a purge never overwrites an archive" in result.stderr
    assert earlier.read_text() == "request_id\nrows of an earlier purge\n"
    assert store.audit_entries() == trail


def test_an_archive_another_purge_wrote_meanwhile_is_kept_and_nothing_is_deleted(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    """Two purges to one archive shared one partial file: each removed and renamed the
    other's, and the first deleted its rows once the archive was the second's, cut off (50,000
    of 150,000 rows were then nowhere)."""
    from risk_engine.errors import OutputUnwritable
    from serve.audit import purge_audit

    trail = _trail(store)
    archive = tmp_path / "archive.csv"

    def another_purge_finishes(_rows: int) -> None:
        if not archive.exists():
            archive.write_text("request_id\nthe other purge's rows\n")

    with pytest.raises(OutputUnwritable, match="exists now"):
        purge_audit(
            home_env,
            datetime(2026, 11, 2, tzinfo=UTC),
            archive=archive,
            progress=another_purge_finishes,
            chunk_rows=4,
        )
    assert archive.read_text() == "request_id\nthe other purge's rows\n"
    assert store.audit_entries() == trail
    assert not list(tmp_path.glob(".partial-*"))


@on_each_database
def test_two_purges_at_once_take_turns_and_each_says_what_it_did(
    home_env: Settings, store: Store, tmp_path: Path
) -> None:
    """Two purges at once (two timers, an operator and a timer) both read the same rows and
    both archived them; the first deleted them, and the second said "nothing archived or
    deleted" though its archive held them all. Here each purge, once it is archiving, waits
    until the other is archiving too (as two at once did)."""
    from serve.audit import Purge, purge_audit

    trail = _trail(store)
    both_archiving = threading.Barrier(2, timeout=1)

    def archiving(_rows: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_archiving.wait()

    done: dict[str, Purge] = {}

    def purge(name: str) -> None:
        done[name] = purge_audit(
            home_env,
            datetime(2026, 11, 2, tzinfo=UTC),
            archive=tmp_path / f"{name}.csv",
            progress=archiving,
        )

    timers = [threading.Thread(target=purge, args=(name,)) for name in ("first", "second")]
    for timer in timers:
        timer.start()
    for timer in timers:
        timer.join()
    assert sorted(p.deleted for p in done.values()) == [0, len(trail)]
    for name, result in done.items():  # what each says is what it did
        assert result.archived == result.deleted
        assert (tmp_path / f"{name}.csv").exists() == (result.archived > 0), name
    (archive,) = tmp_path.glob("*.csv")
    assert pd.read_csv(archive)["request_id"].tolist() == [e.request_id for e in trail]
    assert [e for e in store.audit_entries() if e.method != "CLI"] == []


@on_each_database
def test_rows_written_after_a_purge_that_emptied_the_trail_never_take_a_purged_rows_id(
    home_env: Settings, store: Store
) -> None:
    """SQLite gives a new row the largest id + 1 (the audit table has no AUTOINCREMENT): after
    a purge that emptied the trail, its own row took id 1 and the next requests the ids of
    the purged ones again. The purge's row is now written, first, in the deletion's own
    transaction: it stays, above every id."""
    from serve.audit import purge_audit

    _trail(store)
    with store.engine.connect() as conn:
        highest = conn.exec_driver_sql("SELECT MAX(id) FROM audit").scalar()
    done = purge_audit(home_env, datetime.now(UTC), archive=None)
    assert done.deleted == 9
    store.record_audit(AuditEntry("after", datetime.now(UTC), "GET", "/v1/model", 200, 1.0))
    with store.engine.connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT request_id, id FROM audit").all())
    assert len(ids) == 2 and min(ids.values()) > highest, (ids, highest)
    (note,) = [e for e in store.audit_entries() if e.method == "CLI"]
    assert note.lines == 9 and note.detail.startswith("deleted 9 rows before ")


def _forty_hours_of_rows(store: Store, bl: str) -> None:
    """An audit row an hour for 40 hours from START, each naming ``bl`` and a container."""
    for hour in range(40):
        store.record_audit(
            AuditEntry(
                request_id=f"p{hour}",
                at=START + timedelta(hours=hour),
                method="POST",
                route="/v1/score",
                status=200,
                duration_ms=1.0,
                named=((bl, f"HLXU29173{hour:02d}"),),
            )
        )


def test_a_purge_leaves_nothing_of_the_rows_it_deleted_in_the_database_files(
    home_env: Settings, store: Store
) -> None:
    """The purged rows' B/Ls and containers stayed readable in the write-ahead log beside the
    database (and, where SQLite does not zero deleted rows by default, in its free pages and in
    every later backup)."""
    from serve.audit import purge_audit

    _forty_hours_of_rows(store, "PURGEDBL77")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    purge_audit(home_env, START + timedelta(days=3), archive=None)
    database = Path(str(store.engine.url.database))
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert b"PURGEDBL77" not in path.read_bytes(), path


def test_a_purge_says_when_a_reader_kept_the_log_and_holds_writers_off_a_moment_only(
    home_env: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a reader holding a snapshot (a backup, an export), the purge's TRUNCATE checkpoint
    waited the 30 s busy timeout, holding off every writer meanwhile (both service replicas
    answered nothing for 30 s), then gave up unread: the purged B/Ls and containers stayed in
    engine.db-wal and the purge reported plain success."""
    import serve.store as store_module
    from serve.audit import purge_audit

    monkeypatch.setattr(store_module, "_CHECKPOINT_PAUSE_S", 0.2, raising=False)
    _forty_hours_of_rows(store, "PURGEDBL88")
    database = Path(str(store.engine.url.database))
    log_file = database.with_name(database.name + "-wal")
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM audit").fetchone()  # its snapshot, held
    waits: list[float] = []
    stop = threading.Event()

    def service_writes() -> None:
        while not stop.is_set():
            started = time.monotonic()
            store.record_audit(AuditEntry(uuid.uuid4().hex, datetime.now(UTC), "GET", "/x", 200, 1))
            waits.append(time.monotonic() - started)
            time.sleep(0.02)

    writer = threading.Thread(target=service_writes)
    writer.start()
    try:
        started = time.monotonic()
        done = purge_audit(home_env, START + timedelta(days=3), archive=None)
        took = time.monotonic() - started
    finally:
        stop.set()
        writer.join()
        reader.execute("COMMIT")
        reader.close()
    assert done.deleted == 40 and done.log_cleared is False  # and true: the rows are there
    assert b"PURGEDBL88" in log_file.read_bytes()
    assert took < 10 and waits and max(waits) < 2, (took, max(waits, default=None))
    # run again once the reader is done: nothing left to delete, the log emptied all the same
    again = purge_audit(home_env, START + timedelta(days=3), archive=None)
    assert again.deleted == 0 and again.log_cleared is True
    assert b"PURGEDBL88" not in log_file.read_bytes()


def test_two_writers_of_one_name_keep_their_own_partial_files(tmp_path: Path) -> None:
    from features.files import FrameWriter
    from risk_engine.errors import OutputUnwritable

    path = tmp_path / "out.csv"
    first, second = FrameWriter(path, overwrite=False), FrameWriter(path, overwrite=False)
    first.write(pd.DataFrame({"row": [1, 2]}))
    second.write(pd.DataFrame({"row": [3]}))  # it removed the first's partial file
    first.close()
    assert pd.read_csv(path)["row"].tolist() == [1, 2]
    with pytest.raises(OutputUnwritable, match="exists now"):
        second.close()
    assert pd.read_csv(path)["row"].tolist() == [1, 2]
    assert not list(tmp_path.glob(".partial-*"))
    # a partial file a killed run left (its process gone) is removed by the next writer
    (tmp_path / f".partial-999999999.1-{path.name}").write_text("cut off")
    with FrameWriter(tmp_path / "out.csv") as third:
        third.write(pd.DataFrame({"row": [4]}))
    assert pd.read_csv(path)["row"].tolist() == [4]
    assert not list(tmp_path.glob(".partial-*"))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--purge-before", "2026-11-02"], "needs --out ARCHIVE"),
        (["--purge-before", "2026-11-02", "--out", "a.csv", "--no-archive"], "contradict"),
        (["--purge-before", "2026-11-02", "--no-archive", "--key", "aaaaaaaaaaaa"], "no --key"),
        (["--purge-before", "2026-11-02", "--no-archive", "--last", "5"], "no --last"),
        (["--last", "99999999999999999999"], "--last"),  # a traceback (OverflowError)
        (["--no-archive"], "goes with --purge-before"),
        (["--purge-before", "2999-01-01", "--no-archive"], "in the future"),
        (["--purge-before", "yesterday", "--no-archive"], "--purge-before"),
        (["--purge-before", "2026-11-02", "--out", "a.xlsx"], "xlsx"),
    ],
)
def test_bad_purge_options_exit_two_naming_the_problem_and_delete_nothing(
    home_env: Settings, store: Store, arguments: list[str], message: str
) -> None:
    trail = _trail(store)
    result = runner.invoke(app, ["audit", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert store.audit_entries() == trail
