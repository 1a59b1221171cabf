"""The functions behind ``risk-engine audit``: reading the audit trail back.

Every request to the service leaves one row (who, when, which route, how many lines, which model,
what status; see `serve.middleware`). Supervisors and auditors read it here: the latest rows on
the terminal, or every row of a period (and of one key) exported to CSV (formula-injection safe)
or Parquet, chunk by chunk, so a long trail is never held in memory at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

from features.files import FrameWriter, file_format
from risk_engine.settings import Settings
from serve.store import AuditEntry, Store

__all__ = ["AUDIT_COLUMNS", "export_audit", "recent_audit"]

AUDIT_COLUMNS = [field.name for field in dataclasses.fields(AuditEntry)]


def recent_audit(
    settings: Settings,
    *,
    last: int,
    since: datetime | None = None,
    until: datetime | None = None,
    key_id: str | None = None,
) -> list[AuditEntry]:
    """The ``last`` matching rows, oldest first."""
    store = Store.opened(settings)
    try:
        return store.audit_entries(limit=last, since=since, until=until, key_id=key_id)
    finally:
        store.dispose()


def _frame(entries: list[AuditEntry]) -> pd.DataFrame:
    frame = pd.DataFrame([dataclasses.astuple(e) for e in entries], columns=AUDIT_COLUMNS)
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
    progress: Callable[[int], None] | None = None,
    chunk_rows: int = 50_000,
) -> int:
    """Write every matching row, oldest first, to ``out`` (CSV or Parquet by extension);
    returns the number of rows. ``progress`` is called with each chunk's row count."""
    file_format(out)  # an unknown extension fails before the database is opened
    store = Store.opened(settings)
    rows = 0
    try:
        with FrameWriter(out) as writer:
            for chunk in store.audit_chunks(
                since=since, until=until, key_id=key_id, chunk_rows=chunk_rows
            ):
                writer.write(_frame(chunk))
                rows += len(chunk)
                if progress is not None:
                    progress(len(chunk))
            if rows == 0:  # the file still says which columns an audit row has
                writer.write(_frame([]))
    finally:
        store.dispose()
    return rows
