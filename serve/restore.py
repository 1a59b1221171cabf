"""The function behind ``risk-engine restore``: a SQLite store put back from a backup.

Restoring by hand meant stopping everything, moving ``engine.db`` aside with its write-ahead log
and shared memory, and copying the backup in; a ``-wal`` file left beside the copy belongs to
the old database, and SQLite applies it to the copy and damages it. Here the backup is checked
first (a SQLite file that passes ``integrity_check``, with the store's tables and a schema this
engine can read), the store as it was is kept in a file of its own (`Store.backup_to`), and the
backup's pages are written into the store through SQLite's online backup, which takes the
store's locks and its log as any writer does: nothing of the old database is left to be applied
to the new one, and a service still running reads the restored store on its next query. The
schema is then brought up to this engine's, and the restore leaves its own row in the trail.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from risk_engine.errors import ConfigError, OutputUnwritable, StoreUnavailable
from risk_engine.settings import Settings
from serve.audit import command_entry
from serve.store import SCHEMA_VERSION, Store, read_only, sqlite_file

__all__ = ["Restored", "kept_name", "restore_store"]

# The tables a store's backup holds (`serve.store`): a file without them is no backup of one.
_TABLES = ("schema_version", "outcomes", "audit", "api_keys")


@dataclass(frozen=True)
class Restored:
    """What `restore_store` did: the rows of each table now in the store (the restore's own
    audit row included), where the store as it was was kept (None: there was none), and the
    backup's schema version before it was brought up to this engine's."""

    counts: dict[str, int]
    kept: Path | None
    backup_version: int


def kept_name(database: Path, at: datetime) -> Path:
    """Where the store as it was is kept by default: beside it, named by the restore's time."""
    return database.with_name(f"{database.name}.before-restore-{at:%Y%m%dT%H%M%SZ}")


def restore_store(settings: Settings, backup: Path, *, keep: Path | None = None) -> Restored:
    """Put the SQLite store of ``settings`` back to the copy ``backup`` (`Store.backup_to`'s, or
    any consistent copy of a store), keeping the store as it was in ``keep`` (by default
    `kept_name`). A backup that is no store, a damaged one, or one of a newer schema is a
    `ConfigError` naming it, and the store is left as it was."""
    started = datetime.now(UTC)
    url = make_url(settings.store_url)
    database = sqlite_file(url)
    if database is None:
        raise ConfigError(
            f"database {url.render_as_string(hide_password=True)} is not a SQLite file: restore "
            "it with its own tools (pg_restore or psql for PostgreSQL)"
        )
    version = _checked_backup(Path(backup))
    live = Path(database)
    kept: Path | None = None
    if live.is_file():
        kept = Path(keep) if keep is not None else kept_name(live, started)
        if _damaged(live):
            _set_aside(live, kept)
        else:
            try:
                _keep_copy(settings, kept)
            except (StoreUnavailable, OutputUnwritable):
                if not _damaged(live, thorough=True):
                    raise
                _set_aside(live, kept)  # its tables listed, but pages of them unreadable
    elif keep is not None:
        raise ConfigError(f"--keep {keep}: there is no store at {live} to keep")
    _copy_into(Path(backup), live)
    store = Store.opened(settings)  # the backup's schema brought up to this engine's
    try:
        where = f"; the store as it was kept in {kept}" if kept is not None else ""
        store.record_audit(
            command_entry(
                "risk-engine restore",
                started=started,
                detail=f"restored from {backup} (schema version {version}){where}",
            )
        )
        counts = store.row_counts()
    finally:
        store.dispose()
    return Restored(counts=counts, kept=kept, backup_version=version)


def _checked_backup(backup: Path) -> int:
    """The backup's schema version, once it is known to be a sound store this engine reads."""
    if not backup.is_file():
        raise ConfigError(f"{backup}: no such backup file")
    try:
        copy = read_only(backup)
    except sqlite3.Error as error:
        raise ConfigError(f"{backup}: cannot be opened ({error})") from None
    try:
        try:
            verdict = [str(row[0]) for row in copy.execute("PRAGMA integrity_check")]
            tables = {
                str(row[0])
                for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.DatabaseError as error:
            raise ConfigError(
                f"{backup}: not a SQLite database, or a damaged one ({error}); nothing was changed"
            ) from None
        if verdict != ["ok"]:
            shown = "; ".join(verdict[:3])
            raise ConfigError(
                f"{backup}: the copy is damaged (integrity_check: {shown}); nothing was changed"
            )
        missing = [name for name in _TABLES if name not in tables]
        if missing:
            raise ConfigError(
                f"{backup}: not a backup of the engine's store (no table {', '.join(missing)}); "
                "nothing was changed"
            )
        found = copy.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
    finally:
        copy.close()
    if found is None:
        raise ConfigError(f"{backup}: its schema_version table is empty; nothing was changed")
    if int(found) > SCHEMA_VERSION:
        raise ConfigError(
            f"{backup}: schema version {found}, newer than this engine's {SCHEMA_VERSION}: "
            "restore it with the engine that wrote it; nothing was changed"
        )
    return int(found)


def _keep_copy(settings: Settings, kept: Path) -> None:
    """The store as it is copied to ``kept`` through SQLite (`Store.backup_to`: a consistent
    copy, its log applied; a name that is taken is refused)."""
    store = Store.opened(settings, existing=True)
    try:
        store.backup_to(kept)
    finally:
        store.dispose()


def _damaged(database: Path, *, thorough: bool = False) -> bool:
    """Whether the store's file is no SQLite database, or one too damaged to be read ("file is
    not a database", "database disk image is malformed"): every command then says to restore
    it from a backup, and SQLite cannot copy it to keep it (`_set_aside` moves it). The list
    of its tables is read; ``thorough``, every page (``quick_check``), once a copy failed."""
    try:
        connection = read_only(database)
    except sqlite3.Error:
        return False  # not to be opened at all: the store tells why, as before
    try:
        query = "PRAGMA quick_check" if thorough else "SELECT count(*) FROM sqlite_master"
        found = [str(row[0]) for row in connection.execute(query)]
    except sqlite3.DatabaseError as error:
        return type(error) is sqlite3.DatabaseError  # a locked store is no damaged one
    finally:
        connection.close()
    return thorough and found != ["ok"]


def _set_aside(live: Path, kept: Path) -> None:
    """A store file that is no database kept as it is at ``kept``, its write-ahead log and
    shared memory beside it, and removed, so that nothing of it is applied to the restored
    store; a name that is taken is refused, as `Store.backup_to` refuses it."""
    moves = [
        (live.with_name(live.name + end), kept.with_name(kept.name + end))
        for end in ("", "-wal", "-shm", "-journal")
        if live.with_name(live.name + end).exists()
    ]
    for _, target in moves:
        if target.exists() or target.is_symlink():
            raise ConfigError(f"{target} exists: a backup never overwrites a file")
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        for source, target in moves:
            with source.open("rb") as read, target.open("xb") as write:
                shutil.copyfileobj(read, write)
    except FileExistsError as error:
        raise ConfigError(f"{error.filename} exists: a backup never overwrites a file") from None
    except OSError as error:
        raise OutputUnwritable(
            str(kept), f"the store as it was could not be kept ({error}); nothing was changed"
        ) from None
    for source, _ in moves:
        source.unlink()


def _copy_into(backup: Path, live: Path) -> None:
    """The backup's pages written into the store through SQLite's online backup: it takes the
    store's write lock (waiting up to 30 s for a writer) and goes through its write-ahead log,
    so no log of the old database is left to be applied to the new one."""
    live.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = read_only(backup)
        try:
            target = sqlite3.connect(live, timeout=30)
            try:
                source.backup(target)
                verdict = [str(row[0]) for row in target.execute("PRAGMA integrity_check")]
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise StoreUnavailable(
            str(live), f"the backup could not be written into it ({error})"
        ) from None
    if verdict != ["ok"]:
        raise StoreUnavailable(
            str(live), f"integrity_check after the restore: {'; '.join(verdict[:3])}"
        )
