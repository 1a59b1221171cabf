"""Recording a file of inspection outcomes in the outcome store, as ``POST /v1/outcomes`` does.

Inspection units that do not call the API (an export of the national inspection system, the
results of a joint operation in a spreadsheet) have their outcomes recorded here, so the store
stays the one place the labels of the next training come from (``train --outcomes store``).

The file is read through the contract like every record file (`features.ingest.iter_validated`,
with a column mapping when it uses other names), and stored with the API's idempotency by
(bl_number, container_number, inspected_at): an outcome already stored with the same values is
a duplicate and changes nothing; one stored with other values is a conflict, and the stored one is
kept. An outcome recorded later than the store received it (beyond `serve.store.RECEIPT_SLACK`,
a day) is rejected as ``recorded_after_receipt``. No row is lost: every row is counted as
recorded, duplicate, conflict or rejected, and the rows not recorded can be written to a file
with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from features.files import FrameWriter, check_outputs, fresh_output, open_records
from features.ingest import iter_validated
from features.mapping import ColumnMapping
from risk_engine.columns import Rule, Severity
from risk_engine.validation import ISSUE_COLUMNS
from serve.audit import command_entry
from serve.store import CONFLICT_RULE, Store

__all__ = ["CONFLICT_RULE", "OutcomeImport", "record_outcome_file"]

log = logging.getLogger(__name__)


@dataclass
class OutcomeImport:
    """What became of each row: read = recorded + duplicate + conflict + rejected."""

    path: str
    read: int = 0
    recorded: int = 0
    duplicate: int = 0
    conflict: int = 0
    rejected: int = 0
    flagged: int = 0  # recorded or duplicate rows that carry a data-quality flag
    not_recorded_path: str | None = None
    # "field rule" of the contract's rejections, with their rows: the commonest are told
    reasons: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "read": self.read,
            "recorded": self.recorded,
            "duplicate": self.duplicate,
            "conflict": self.conflict,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "not_recorded": self.not_recorded_path,
        }


def _plain(value: Any) -> Any:
    """A frame cell as the store takes it: None for a missing value, datetimes as datetimes."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _records(accepted: pd.DataFrame) -> list[dict[str, Any]]:
    columns = list(accepted.columns)
    return [
        {name: _plain(value) for name, value in zip(columns, row, strict=True)}
        for row in accepted.itertuples(index=False, name=None)
    ]


def _not_stored(accepted: pd.DataFrame, mask: list[bool], field: str, rule: str) -> pd.DataFrame:
    """The rows of ``accepted`` the store did not take, as issue rows naming ``field``."""
    if not any(mask):  # a chunk of rejects alone has an accepted frame with no columns
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    rows = accepted[mask]
    return pd.DataFrame(
        {
            "row": rows.index.to_numpy(),
            "bl_number": rows["bl_number"].astype(object).to_numpy(),
            "container_number": rows["container_number"].astype(object).to_numpy(),
            "field": field,
            "value": [_plain(v).isoformat() for v in rows[field]],
            "rule": rule,
            "severity": Severity.REJECT.value,
        },
        columns=ISSUE_COLUMNS,
    )


def _conflicts(
    accepted: pd.DataFrame, differs: list[tuple[str, ...]], issues: pd.DataFrame | None = None
) -> pd.DataFrame:
    """A row per field in which an outcome differs from the one stored under its key, with the
    file's value (it named the key's ``inspected_at``, and an analyst could not tell what
    disagreed): as written in the file where the contract dropped it (a malformed optional
    value, flagged, read as blank), from ``issues``."""
    rows = [(position, name) for position, names in enumerate(differs) for name in names]
    if not rows:
        return pd.DataFrame(columns=ISSUE_COLUMNS)
    at = [position for position, _ in rows]
    picked = accepted.iloc[at]
    written: dict[tuple[int, str], str] = (
        {
            (int(row), str(field)): str(value)
            for row, field, value in issues[["row", "field", "value"]].itertuples(index=False)
        }
        if issues is not None and len(issues)
        else {}
    )
    return pd.DataFrame(
        {
            "row": picked.index.to_numpy(),
            "bl_number": picked["bl_number"].astype(object).to_numpy(),
            "container_number": picked["container_number"].astype(object).to_numpy(),
            "field": [name for _, name in rows],
            "value": [
                shown
                if (shown := _shown(accepted[name].iloc[p])) is not None
                else written.get((int(accepted.index[p]), name))
                for p, name in rows
            ],
            "rule": CONFLICT_RULE,
            "severity": Severity.REJECT.value,
        },
        columns=ISSUE_COLUMNS,
    )


def _shown(value: object) -> str | None:
    plain = _plain(value)
    if plain is None:
        return None
    return plain.isoformat() if hasattr(plain, "isoformat") else str(plain)


def _as_text(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Issue rows in one layout whatever their source: the row number, the rest as text."""
    rows = [f for f in frames if len(f)]
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=ISSUE_COLUMNS)
    out = pd.DataFrame({"row": frame["row"].astype("int64")})
    for name in ISSUE_COLUMNS[1:]:
        out[name] = [None if _plain(v) is None else str(v) for v in frame[name]]
    return out.sort_values("row", kind="stable", ignore_index=True)


def record_outcome_file(
    path: Path,
    store: Store,
    *,
    mapping: ColumnMapping | None = None,
    not_recorded: Path | None = None,
    chunk_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> OutcomeImport:
    """Record the outcomes of ``path`` in ``store``; the rows not recorded (rejected by the
    contract, or in conflict with a stored outcome) go to ``not_recorded`` with the reason.
    Leaves an audit row (method CLI) saying what was recorded, from which file, by whom."""
    started = datetime.now(UTC)
    source = open_records(Path(path), "outcomes", mapping, chunk_rows=chunk_rows)
    summary = OutcomeImport(str(path))
    if not_recorded is not None:
        # an output that cannot be written (or is the file read, or no table: r.json read
        # "cannot write r.json: No such file or directory") stops before any write
        check_outputs([(Path(not_recorded), True)], inputs=(path,))
        fresh_output(not_recorded, inputs=(path,))
        summary.not_recorded_path = str(not_recorded)
    received_by = f"file {Path(path).name}"[:64]
    writer = FrameWriter(not_recorded) if not_recorded is not None else None
    try:
        # repeats judged by the store, as for the API: a file repeating an outcome counted it
        # "rejected" (duplicate_key, naming the container), the API "duplicate" or "conflict"
        for result in iter_validated(source, progress=progress, dedupe=False):
            accepted = result.accepted
            writes = store.record_outcomes(_records(accepted), received_by=received_by)
            late = [w.status == "rejected" for w in writes]  # recorded after the store got it
            summary.read += result.read
            tally = Counter(w.status for w in writes)
            summary.rejected += result.read - len(accepted) + tally["rejected"]
            rejects = result.issues[result.issues["severity"] == Severity.REJECT.value]
            told = rejects.drop_duplicates(["row", "field", "rule"])
            summary.reasons.update((told["field"] + " " + told["rule"]).tolist())
            if tally["rejected"]:
                summary.reasons["recorded_at recorded_after_receipt"] += tally["rejected"]
            summary.recorded += tally["recorded"]
            summary.duplicate += tally["duplicate"]
            summary.conflict += tally["conflict"]
            if len(accepted):  # flagged among those recorded now (a duplicate was counted)
                stored = np.asarray([w.status == "recorded" for w in writes], dtype=bool)
                summary.flagged += int((accepted["dq_flags"].notna().to_numpy() & stored).sum())
            if writer is not None:
                conflicts = _conflicts(accepted, [w.differs for w in writes], result.issues)
                late_rows = _not_stored(
                    accepted, late, "recorded_at", Rule.RECORDED_AFTER_RECEIPT.value
                )
                # the flags of a row not recorded tell why too: IVORY is no seizure category
                # (not_a_choice), which is why the category is "required" (the API tells both)
                left_rows = {*rejects["row"], *conflicts["row"], *late_rows["row"]}
                flags = result.issues[
                    (result.issues["severity"] == Severity.FLAG.value)
                    & result.issues["row"].isin(left_rows)
                ]
                left = _as_text([rejects, flags, conflicts, late_rows])
                if len(left):
                    writer.write(left)
        if writer is not None and writer.rows == 0:
            writer.write(_as_text([]))  # every row recorded: the file says so, with its header
    except BaseException as error:
        # Stopped half-way (Ctrl-C, a full disk): the rows not recorded so far are no whole
        # file (it was named as one), and the outcomes recorded so far keep their audit row
        # (it was written only at the end: who recorded 49,499 outcomes was lost).
        if writer is not None:
            writer.discard()
        with contextlib.suppress(Exception):
            _audit_import(store, summary, path, started, stopped=type(error).__name__)
        raise
    if writer is not None:
        writer.close()
    _audit_import(store, summary, path, started)
    log.info("outcomes from %s: %s", path, summary.as_dict())
    return summary


def _audit_import(
    store: Store, summary: OutcomeImport, path: Path, started: datetime, stopped: str = ""
) -> None:
    counts = summary.as_dict()
    detail = ", ".join(f"{name} {counts[name]}" for name in ("recorded", "duplicate", "conflict"))
    store.record_audit(
        command_entry(
            "outcomes --record",
            started=started,
            detail=f"{detail}, rejected {summary.rejected} from {path}"
            + (f"; stopped ({stopped}) before the file's end" if stopped else ""),
            lines=summary.read,
        )
    )
