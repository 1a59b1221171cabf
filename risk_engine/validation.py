"""Vectorised validation of a frame of contract records (files of millions of rows).

Same rules as the pydantic models in `risk_engine.contract`: the per-field parsing lives in
`risk_engine.parsing` and the cross-field rules below mirror `contract.cross_field_rules` (a
property test proves the two paths agree). No row is lost: each one is accepted (possibly with
flags) or rejected with its reasons, and the counts add up.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk_engine.columns import (
    OUTCOME_KEY,
    SHIPMENT_KEY,
    FieldSpec,
    Rule,
    Severity,
    fields_for,
    severity_of,
)
from risk_engine.contract import DEFAULT_MAX_GROSS_KG, MAX_GROSS_KG, RECEIPT_SLACK
from risk_engine.hashing import mix
from risk_engine.parsing import shown_value

__all__ = [
    "ISSUE_COLUMNS",
    "no_issues",
    "KeyRegistry",
    "key_hashes",
    "ValidationResult",
    "validate_frame",
    "DQ_FLAGS",
]

_PARALLEL_ROWS = 20_000


def _workers() -> int:
    """Threads for a large frame: the cores this process may run on (a container or `taskset`
    grants fewer than the machine has, and `os.cpu_count` counts the machine's), at most four."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    cores = len(usable) if usable else (os.cpu_count() or 1)
    return max(1, min(4, cores))


ISSUE_COLUMNS = ["row", "bl_number", "container_number", "field", "value", "rule", "severity"]
DQ_FLAGS = "dq_flags"


class KeyRegistry:
    """Hashes of record keys already accepted, so duplicates are caught across chunks.

    Eight bytes per accepted row (a sorted array): the only state that grows with a file.
    """

    def __init__(self) -> None:
        self._seen = np.empty(0, dtype=np.uint64)

    def claim(self, hashes: np.ndarray) -> np.ndarray:
        """Mark hashes as seen; True where a hash was claimed before (earlier in this call or
        in an earlier one): a duplicate.

        Costs a sort of the call's hashes and a binary search into the seen ones, plus one
        linear merge, so a chunk costs about the same at the end of a file as at its start."""
        order = np.argsort(hashes, kind="stable")  # equal hashes keep their row order
        ordered = hashes[order]
        repeat = np.zeros(len(ordered), dtype=bool)
        repeat[1:] = ordered[1:] == ordered[:-1]
        seen = self._seen
        at = np.searchsorted(seen, ordered)
        before = np.zeros(len(ordered), dtype=bool)
        if len(seen):
            before = seen[np.minimum(at, len(seen) - 1)] == ordered
        duplicate = np.empty(len(hashes), dtype=bool)
        duplicate[order] = repeat | before
        fresh = ~(repeat | before)
        self._seen = np.insert(seen, at[fresh], ordered[fresh])
        return duplicate


_KEY_WIDTH = 48  # bytes per text key part: a B/L number (35) or a container number (11) fit


def _text_words(series: pd.Series) -> np.ndarray:
    """Text as (rows, 6) uint64 words: padded to a fixed width and read from Arrow's buffer."""
    array = pa.array(series.astype("string[pyarrow]").array, type=pa.string())
    array = pc.utf8_slice_codeunits(pc.fill_null(array, ""), 0, _KEY_WIDTH)
    padded = pc.utf8_rpad(array, _KEY_WIDTH, " ")
    if isinstance(padded, pa.ChunkedArray):
        padded = padded.combine_chunks()
    buffers = padded.buffers()
    offsets = np.frombuffer(
        buffers[1], dtype=np.int32, count=len(padded) + 1, offset=padded.offset * 4
    )
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if len(data) != len(padded) * _KEY_WIDTH:  # non-ASCII keys: fall back to Python hashing
        hashed = pd.util.hash_array(series.astype(object).to_numpy())
        return hashed.reshape(-1, 1)
    return data.reshape(-1, _KEY_WIDTH).view("<u8")


def key_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash per row of the key columns (text or timestamps)."""
    hashed = np.zeros(len(frame), dtype=np.uint64)
    for name in columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            words = column.astype("int64").to_numpy().view(np.uint64).reshape(-1, 1)
        else:
            words = _text_words(column)
        for j in range(words.shape[1]):
            hashed = mix(hashed ^ words[:, j])
    return hashed


@dataclass
class ValidationResult:
    """Accepted rows (normalised, with a `dq_flags` column) and every issue found."""

    accepted: pd.DataFrame
    issues: pd.DataFrame
    read: int
    rejected_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # The rejected rows as they were read (indexed by row number): what a watch list is matched
    # against, so that a listed container is not lost to a typo in another field.
    rejected_lines: pd.DataFrame | None = None

    @property
    def counts(self) -> dict[str, int]:
        flagged = int((self.accepted[DQ_FLAGS].notna()).sum()) if len(self.accepted) else 0
        accepted = len(self.accepted)
        return {
            "read": self.read,
            "accepted": accepted - flagged,
            "flagged": flagged,
            "rejected": self.read - accepted,
        }


@dataclass
class _Found:
    """Issues collected while validating one frame."""

    n: int
    entries: list[tuple[np.ndarray, str, Rule, Severity]] = field(default_factory=list)
    rejected: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.rejected = np.zeros(self.n, dtype=bool)

    def add(self, mask: np.ndarray, field_name: str, rule: Rule, severity: Severity) -> None:
        if not mask.any():
            return
        self.entries.append((mask, field_name, rule, severity))
        if severity is Severity.REJECT:
            self.rejected |= mask


def validate_frame(
    frame: pd.DataFrame,
    kind: str = "shipments",
    *,
    first_row: int | np.ndarray = 1,
    keys: KeyRegistry | None = None,
    dedupe: bool = True,
    marked: Sequence[tuple[str, np.ndarray, Rule]] = (),
) -> ValidationResult:
    """Validate contract records; rows are numbered from `first_row` (1 = first data row), or
    by `first_row` given as one number per row (a file whose bad lines were set aside).

    With ``dedupe=False`` repeated keys are not rejected (for callers that judge rows one by one).
    ``marked`` holds (field, rows, rule) the reader found unreadable for a reason the value
    alone does not show (a number in a file written with decimal commas): those values are
    dropped and reported with that rule, as an unreadable value of the field is.
    """
    from risk_engine.parsing import SeriesIssues, parse_series

    specs = fields_for(kind)
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if isinstance(first_row, np.ndarray):
        rows = first_row.astype(np.int64)
    else:
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
    found = _Found(n)
    values: dict[str, pd.Series] = {}

    def parse(spec: FieldSpec) -> tuple[pd.Series, SeriesIssues]:
        return parse_series(spec, frame[spec.name] if spec.name in frame.columns else _empty(n))

    if n >= _PARALLEL_ROWS:
        # Arrow's string kernels release the GIL: columns are parsed on several cores.
        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            parsed = list(pool.map(parse, specs))
    else:
        parsed = [parse(spec) for spec in specs]
    for spec, (value, spec_issues) in zip(specs, parsed, strict=True):
        for name, mask, rule in marked:
            if name == spec.name and mask.any():
                value = value.mask(mask)
                spec_issues = [(found_mask & ~mask, why) for found_mask, why in spec_issues]
                spec_issues.append((mask, rule))
        values[spec.name] = value
        for mask, rule in spec_issues:
            found.add(mask, spec.name, rule, severity_of(rule, required=spec.required))
    clean = pd.DataFrame(values)
    _cross_field(kind, clean, found)
    if dedupe:
        _duplicates(kind, clean, found, keys)
    issues = _issue_frame(frame, clean, found, rows)
    accepted = clean.loc[~found.rejected].copy()
    accepted.index = pd.Index(rows[~found.rejected], name="row")
    accepted[DQ_FLAGS] = _flag_tags(issues, accepted.index)
    rejected_lines = None
    if found.rejected.any():
        rejected_lines = frame.loc[found.rejected].set_axis(
            pd.Index(rows[found.rejected], name="row")
        )
    return ValidationResult(accepted, issues, n, rows[found.rejected], rejected_lines)


def _empty(n: int) -> pd.Series:
    return pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="string[pyarrow]")


def _mask(condition: Any) -> np.ndarray:
    return np.asarray(pd.Series(condition).fillna(False), dtype=bool)


def _cross_field(kind: str, clean: pd.DataFrame, found: _Found) -> None:
    """Vectorised `contract.cross_field_rules`, on rows without a field-level reject."""
    ok = ~found.rejected
    reject, flag = Severity.REJECT, Severity.FLAG
    if kind == "shipments":
        house = _mask(clean["bl_type"] == "HOUSE") & _mask(clean["master_bl_number"].isna())
        found.add(ok & house, "master_bl_number", Rule.MASTER_BL_REQUIRED, reject)
        same = _mask(clean["port_of_discharge"] == clean["port_of_loading"])
        found.add(ok & same, "port_of_discharge", Rule.SAME_PORTS, reject)
        found.add(ok & _mask(clean["eta"] <= clean["etd"]), "eta", Rule.ETA_NOT_AFTER_ETD, reject)
        no_currency = _mask(clean["declared_value"].notna()) & _mask(clean["currency"].isna())
        found.add(ok & no_currency, "currency", Rule.CURRENCY_REQUIRED, reject)
        ahead = _mask(clean["filed_at"] > pd.Timestamp.now(tz="UTC") + RECEIPT_SLACK)
        found.add(ok & ahead, "filed_at", Rule.FILED_AFTER_RECEIPT, reject)
        late = _mask(clean["booking_created_at"] > clean["filed_at"])
        found.add(ok & late, "booking_created_at", Rule.BOOKING_AFTER_FILING, flag)
        length_code = clean["container_size_type"].str.slice(0, 1).astype(object)
        limit = length_code.map(MAX_GROSS_KG).astype("float64").fillna(DEFAULT_MAX_GROSS_KG)
        heavy = _mask(clean["gross_weight_kg"] > limit)
        found.add(ok & heavy, "gross_weight_kg", Rule.OVERWEIGHT, flag)
    else:
        no_category = _mask(clean["result"] == "SEIZURE") & _mask(clean["seizure_category"].isna())
        found.add(ok & no_category, "seizure_category", Rule.CATEGORY_REQUIRED, reject)
        stray = _mask(clean["result"].notna() & (clean["result"] != "SEIZURE")) & _mask(
            clean["seizure_category"].notna()
        )
        found.add(ok & stray, "seizure_category", Rule.CATEGORY_WITHOUT_SEIZURE, flag)
        early = _mask(clean["recorded_at"] < clean["inspected_at"])
        found.add(ok & early, "recorded_at", Rule.RECORDED_BEFORE_INSPECTED, reject)


def _duplicates(kind: str, clean: pd.DataFrame, found: _Found, keys: KeyRegistry | None) -> None:
    """Keep the first row of each key; report later ones as rejected duplicates."""
    key = list(SHIPMENT_KEY if kind == "shipments" else OUTCOME_KEY)
    ok = ~found.rejected
    if not ok.any():
        return
    hashes = key_hashes(clean.loc[ok], key)
    registry = keys if keys is not None else KeyRegistry()
    duplicate = np.zeros(len(clean), dtype=bool)
    duplicate[np.flatnonzero(ok)] = registry.claim(hashes)
    found.add(duplicate, key[1], Rule.DUPLICATE_KEY, Severity.REJECT)


def no_issues() -> pd.DataFrame:
    """The issue columns without a row (a chunk, or a whole rejects file, with nothing to tell)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS}).astype(
        {"row": "int64"}
    )


def _issue_frame(
    frame: pd.DataFrame, clean: pd.DataFrame, found: _Found, rows: np.ndarray
) -> pd.DataFrame:
    if not found.entries:
        return no_issues()
    parts = []
    for mask, field_name, rule, severity in found.entries:
        idx = np.flatnonzero(mask)
        raw = frame[field_name].iloc[idx] if field_name in frame.columns else _empty(len(idx))
        part = pd.DataFrame(
            {
                "row": rows[idx],
                "bl_number": _key_text(frame, clean, "bl_number", idx),
                "container_number": _key_text(frame, clean, "container_number", idx),
                "field": field_name,
                "value": [_raw_text(v) for v in raw.tolist()],
                "rule": rule.value,
                "severity": severity.value,
            }
        )
        parts.append(part)
    issues = pd.concat(parts, ignore_index=True)
    return issues.sort_values(["row", "field", "rule"], kind="stable").reset_index(drop=True)


def _raw_text(value: Any) -> str:
    """A value as it was read, as the API's errors show it (`shown_value`): a Parquet boolean
    as ``true``, a struct as JSON, a long text by its start and length."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return shown_value(value)


def _key_text(frame: pd.DataFrame, clean: pd.DataFrame, name: str, idx: np.ndarray) -> list[str]:
    """Normalised key where it parsed, else the raw text, so a reject can still be found."""
    if name not in clean.columns:
        return [""] * len(idx)
    normalised = clean[name].iloc[idx].tolist()
    raw = frame[name].iloc[idx].tolist() if name in frame.columns else [None] * len(idx)
    return [_raw_text(n) or _raw_text(r) for n, r in zip(normalised, raw, strict=True)]


def _flag_tags(issues: pd.DataFrame, accepted_rows: pd.Index) -> pd.Series:
    """`field:rule;...` per accepted row with flags, missing (NA) for clean rows."""
    result = pd.Series(pd.NA, index=accepted_rows, dtype="string[pyarrow]")
    if issues.empty:
        return result
    flags = issues[(issues["severity"] == Severity.FLAG.value) & issues["row"].isin(accepted_rows)]
    if flags.empty:
        return result
    tags = (flags["field"] + ":" + flags["rule"]).groupby(flags["row"], sort=False).agg(";".join)
    result.loc[tags.index] = tags.astype("string[pyarrow]")
    return result


def specs_by_name(kind: str) -> dict[str, FieldSpec]:
    """Field specs of a record kind, by column name."""
    return {spec.name: spec for spec in fields_for(kind)}


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """JSON records (API) as a text frame in the file form, for `validate_frame`: lists become
    ``;``-joined text, numbers and booleans their text, None missing. Unknown keys are kept as
    columns so callers can report them."""

    def text(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return ";".join("" if v is None else str(v) for v in value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    columns: dict[str, list[Any]] = {}
    for position, record in enumerate(records):
        for key in record:
            columns.setdefault(key, [None] * len(records))
        for key, value in record.items():
            columns[key][position] = text(value)
    for values in columns.values():
        values.extend([None] * (len(records) - len(values)))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records))).astype("string[pyarrow]")
