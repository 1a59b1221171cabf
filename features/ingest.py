"""Reading record files through the contract: chunks in, validated chunks and a report out.

`iter_validated` is the one path by which training, batch screening and the `validate` command read
files; `validate_file` adds the counts, the most common reasons and the rejects file.
"""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pandas as pd

from features.decimal_marks import DECIMAL_COMMA_HINT
from features.files import BadLine, FrameWriter, RecordFile, fresh_output, open_records
from features.mapping import ColumnMapping
from risk_engine.columns import Rule, Severity
from risk_engine.validation import ISSUE_COLUMNS, KeyRegistry, ValidationResult, validate_frame

__all__ = ["ValidationReport", "iter_validated", "validate_file", "bad_line_issues"]

log = logging.getLogger(__name__)
Progress = Callable[[int], None]


@dataclass
class ValidationReport:
    """Counts (they add up: read = accepted + flagged + rejected) and the top reasons."""

    path: str
    kind: str
    read: int = 0
    accepted: int = 0
    flagged: int = 0
    rejected: int = 0
    reasons: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    ignored_columns: list[str] = field(default_factory=list)
    rejects_path: str | None = None

    def add(self, result: ValidationResult) -> None:
        counts = result.counts
        self.read += counts["read"]
        self.accepted += counts["accepted"]
        self.flagged += counts["flagged"]
        self.rejected += counts["rejected"]
        if not result.issues.empty:
            grouped = result.issues.groupby(["severity", "field", "rule"]).size()
            for key, count in grouped.items():
                severity, field_name, rule = cast(tuple[object, object, object], key)
                self.reasons[(str(severity), str(field_name), str(rule))] += int(count)

    def top_reasons(self, n: int = 10) -> list[dict[str, object]]:
        return [
            {"severity": s, "field": f, "rule": r, "rows": c}
            for (s, f, r), c in self.reasons.most_common(n)
        ]

    def hints(self) -> list[str]:
        """What to do about the reasons that have a fix outside the file's values (numbers
        written with a decimal comma: a mapping that says so)."""
        rules = {rule for _, _, rule in self.reasons}
        if rules & {Rule.DECIMAL_COMMA.value, Rule.THOUSANDS_OR_DECIMAL.value}:
            return [DECIMAL_COMMA_HINT]
        return []

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "counts": {
                "read": self.read,
                "accepted": self.accepted,
                "flagged": self.flagged,
                "rejected": self.rejected,
            },
            "top_reasons": self.top_reasons(),
            "hints": self.hints(),
            "ignored_columns": self.ignored_columns,
            "rejects_path": self.rejects_path,
        }


def bad_line_issues(lines: list[BadLine]) -> pd.DataFrame:
    """Rejected issues for CSV lines that did not split into the header's columns."""
    return pd.DataFrame(
        {
            "row": [line.row for line in lines],
            "bl_number": [line.bl_number for line in lines],
            "container_number": [line.container_number for line in lines],
            "field": "record",
            "value": [line.text for line in lines],
            "rule": [line.rule.value for line in lines],
            "severity": Severity.REJECT.value,
        },
        columns=ISSUE_COLUMNS,
    )


def _with_bad_lines(lines: pd.DataFrame | None, bad: list[BadLine]) -> pd.DataFrame:
    """The rejected lines as read, with the CSV lines that did not split (their fields at the
    header's positions), indexed by row."""
    split = pd.DataFrame([line.fields for line in bad], index=[line.row for line in bad])
    if lines is None or not len(lines):
        return split
    return pd.concat([lines, split])


def iter_validated(
    source: RecordFile, *, progress: Progress | None = None, dedupe: bool = True
) -> Iterator[ValidationResult]:
    """Validated chunks of an opened file, duplicates caught across chunks.

    CSV lines with the wrong number of fields come back as extra rejected rows in the chunk
    during which they were met, so no line is lost and the counts still add up. With
    ``dedupe=False`` a repeated key is not rejected (the outcome store judges a repeat as the
    API does: the same outcome again is a duplicate, another one under its key a conflict).
    """
    keys = KeyRegistry()
    reported = 0
    for rows, chunk, marked in source.marked_chunks():
        result = validate_frame(
            chunk, source.kind, first_row=rows, keys=keys, dedupe=dedupe, marked=marked
        )
        if len(source.bad_lines) > reported:
            met = source.bad_lines[reported:]
            bad = bad_line_issues(met)
            reported = len(source.bad_lines)
            # in row order, the lines that did not split among the others (they came last)
            result.issues = pd.concat([result.issues, bad], ignore_index=True).sort_values(
                "row", kind="stable", ignore_index=True
            )
            result.read += len(bad)
            result.rejected_lines = _with_bad_lines(result.rejected_lines, met)
        if progress is not None:
            progress(len(chunk))
        yield result
    if len(source.bad_lines) > reported:  # bad lines after the last good chunk
        met = source.bad_lines[reported:]
        bad = bad_line_issues(met)
        empty = validate_frame(pd.DataFrame(), source.kind)
        empty.issues, empty.read = bad, len(bad)
        empty.rejected_lines = _with_bad_lines(None, met)
        yield empty


def validate_file(
    path: Path,
    kind: str = "shipments",
    *,
    mapping: ColumnMapping | None = None,
    rejects_path: Path | None = None,
    chunk_rows: int = 200_000,
    progress: Progress | None = None,
) -> ValidationReport:
    """Validate a whole file; rejected and flagged rows go to ``rejects_path`` with reasons."""
    source = open_records(path, kind, mapping, chunk_rows=chunk_rows)
    report = ValidationReport(str(path), kind, ignored_columns=source.ignored_columns)
    if rejects_path is not None:
        fresh_output(Path(rejects_path), inputs=(path,))
        report.rejects_path = str(rejects_path)
    # written under a partial name and named at the end: stopped half-way (SIGTERM), a cut-off
    # rejects file stayed under its name, a third of the rows in it and nothing said
    rejects = FrameWriter(Path(rejects_path)) if rejects_path is not None else None
    with rejects if rejects is not None else contextlib.nullcontext() as writer:
        last = None
        for result in iter_validated(source, progress=progress):
            report.add(result)
            if writer is not None and not result.issues.empty:
                writer.write(result.issues)
            last = result
        if writer is not None and not writer.rows and last is not None:
            writer.write(last.issues)  # no reject: the file still names a reject's columns
    log.info("validated %s: %s", path, report.as_dict()["counts"])
    return report
