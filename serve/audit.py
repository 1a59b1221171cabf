"""The functions behind ``risk-engine audit``: reading the audit trail back.

Every request to the service leaves one row (who, when, which route, how many lines, which model,
what status; see `serve.middleware`). Supervisors and auditors read it here: the latest rows on
the terminal, or every row of a period (and of one key) exported to CSV (formula-injection safe)
or Parquet, chunk by chunk, so a long trail is never held in memory at once. Retention: rows
older than a cutoff are archived to a file and then deleted (`purge_audit`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import DBAPIError

from features.files import FrameWriter, file_format
from risk_engine.errors import ConfigError, StoreUnavailable
from risk_engine.settings import Settings, operator
from serve.store import AuditEntry, Store

__all__ = [
    "AUDIT_COLUMNS",
    "Purge",
    "command_entry",
    "export_audit",
    "named_text",
    "purge_audit",
    "recent_audit",
    "record_read",
]

AUDIT_COLUMNS = [field.name for field in dataclasses.fields(AuditEntry)]


def recent_audit(
    settings: Settings,
    *,
    last: int,
    since: datetime | None = None,
    until: datetime | None = None,
    key_id: str | None = None,
    container: str | None = None,
    bl_number: str | None = None,
) -> list[AuditEntry]:
    """The ``last`` matching rows, oldest first (of requests naming ``container`` or
    ``bl_number`` when given)."""
    store = Store.opened(settings, existing=True)
    try:
        return store.audit_entries(
            limit=last,
            since=since,
            until=until,
            key_id=key_id,
            container=container,
            bl_number=bl_number,
        )
    finally:
        store.dispose()


def named_text(named: tuple[tuple[str | None, str | None], ...]) -> str | None:
    """The lines a request named, as one text: "CSQU3054383 (B/L MEDU1234567); ..."."""
    if not named:
        return None
    return "; ".join(f"{container or '?'} (B/L {bl or '?'})" for bl, container in named)


def _frame(entries: list[AuditEntry]) -> pd.DataFrame:
    rows = [
        {**{name: getattr(e, name) for name in AUDIT_COLUMNS}, "named": named_text(e.named)}
        for e in entries
    ]
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    for name in ("status", "lines"):
        frame[name] = frame[name].astype("Int64")
    frame["duration_ms"] = frame["duration_ms"].astype("float64")
    return frame


def export_audit(
    settings: Settings,
    out: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    key_id: str | None = None,
    container: str | None = None,
    bl_number: str | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
) -> int:
    """Write every matching row, oldest first, to ``out`` (CSV or Parquet by extension), with
    the lines each request named (``named``); returns the number of rows. ``progress`` is
    called with each chunk's row count."""
    file_format(out)  # an unknown extension fails before the database is opened
    store = Store.opened(settings, existing=True)
    try:
        chunks = store.audit_chunks(
            since=since,
            until=until,
            key_id=key_id,
            container=container,
            bl_number=bl_number,
            chunk_rows=chunk_rows,
        )
        return _write(chunks, out, progress=progress)
    finally:
        store.dispose()


def _write(
    chunks: Iterable[list[AuditEntry]],
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
    overwrite: bool = True,
) -> int:
    """Write audit rows, chunk by chunk, to ``out``; returns how many. Without ``overwrite``
    (an archive), a file that took the name meanwhile is not replaced."""
    rows = 0
    with FrameWriter(out, overwrite=overwrite) as writer:
        for chunk in chunks:
            writer.write(_frame(chunk))
            rows += len(chunk)
            if progress is not None:
                progress(len(chunk))
        if rows == 0:  # the file still says which columns an audit row has
            writer.write(_frame([]))
    return rows


@dataclass(frozen=True)
class Purge:
    """What `purge_audit` did: rows archived (to ``archive``) and rows deleted; ``log_cleared``
    False when a SQLite store's write-ahead log could not be emptied (a reader held it), so
    that it may still hold the deleted rows: purge again once the reader is done."""

    before: datetime
    archived: int
    deleted: int
    archive: Path | None
    log_cleared: bool = True


def purge_audit(
    settings: Settings,
    before: datetime,
    *,
    archive: Path | None,
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
) -> Purge:
    """Delete the audit rows of requests before ``before``, once they are written to
    ``archive`` (CSV or Parquet; None deletes without one). The archive is written in full and
    closed before anything is deleted, and exactly the archived rows are deleted; a purge leaves
    a row of its own in the trail (method ``CLI``) saying what it removed and where it went.
    Then a SQLite store's write-ahead log is emptied, or the result says it could not be.
    A cutoff later than now is refused: the trail of requests to come is never purged."""
    now = datetime.now(UTC)
    if before > now:
        raise ConfigError(
            f"--purge-before {before.isoformat()} is in the future: only past requests are purged"
        )
    if archive is not None:
        file_format(archive)  # an unknown extension fails before the database is opened
        if Path(archive).exists():  # it may hold the rows of an earlier purge, gone from here
            raise ConfigError(
                f"archive {archive} exists: a purge never overwrites an archive (it may hold "
                "the rows of an earlier purge); name a new file"
            )
    store = Store.opened(settings, existing=True)
    try:
        with store.purge_lock():  # one purge at a time: a second finds what is left
            last = store.audit_last_id(until=before)
            # the archive's whole path, and only when one was written (a purge of nothing wrote
            # none, yet its row claimed the name a later purge then wrote)
            where = (
                f"archived to {Path(archive).resolve()}"
                if archive is not None and last is not None
                else "nothing to archive"
                if archive is not None
                else "not archived"
            )

            def note(deleted: int) -> AuditEntry:
                return command_entry(
                    "risk-engine audit --purge-before",
                    started=now,
                    lines=deleted,
                    detail=f"deleted {deleted} rows before {before.isoformat()}, {where}",
                )

            archived = deleted = 0
            if last is None:
                store.record_audit(note(0))
            else:
                if archive is not None:
                    chunks = store.audit_chunks(
                        until=before, through_id=last, chunk_rows=chunk_rows
                    )
                    archived = _write(chunks, archive, progress=progress, overwrite=False)
                # the purge's row in the same transaction as the deletion
                deleted = store.delete_audit(until=before, through_id=last, note=note)
            # every time, not only when rows were deleted: a purge run again empties the log an
            # earlier one could not
            log_cleared = store.truncate_log()
    finally:
        store.dispose()
    return Purge(
        before=before,
        archived=archived,
        deleted=deleted,
        archive=archive,
        log_cleared=log_cleared,
    )


def command_entry(
    command: str,
    *,
    started: datetime,
    detail: str,
    key_id: str | None = None,
    role: str | None = None,
    lines: int | None = None,
) -> AuditEntry:
    """The audit row of a command run on the server (a purge, a key made, rotated or revoked):
    method ``CLI``, the command as route, the key it concerns, what it did, and who ran it
    (user@host as the client)."""
    return AuditEntry(
        request_id=uuid.uuid4().hex,
        at=datetime.now(UTC),
        method="CLI",
        route=command,
        status=0,
        duration_ms=(datetime.now(UTC) - started).total_seconds() * 1000,
        key_id=key_id,
        role=role,
        lines=lines,
        detail=detail[:256],
        client=operator(),
    )


def record_read(
    settings: Settings, command: str, *, started: datetime, detail: str, rows: int | None
) -> None:
    """The audit row of a bulk read on the command line: outcomes exported or read by a
    training or a review, the trail itself read or exported, the store copied. The service
    audits every request, but whoever ran these on the server took the outcomes or the trail
    away unrecorded. Method ``CLI``, the command as route, the rows read as ``lines``, what and
    where in ``detail``, user@host as client.

    Called before the rows leave the command (printed or written out), or, for a file written
    as it is read, right after it (the caller then removes the file): a read the trail cannot
    record is refused with `StoreUnavailable` (exit 5), as the service answers 503 when a
    request's row cannot be written."""
    store = Store.opened(settings, existing=True)
    try:
        store.record_audit(command_entry(command, started=started, detail=detail, lines=rows))
    except DBAPIError as error:
        raise StoreUnavailable(
            store.shown_url,
            f"the audit row of `{command}` could not be written ({error.orig or error}); "
            "nothing was read out without it",
        ) from None
    finally:
        store.dispose()
