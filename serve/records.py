"""JSON records of one request -> the normalised frame the scorer reads, plus per-line verdicts.

A request is small (at most a few thousand lines), so each line goes through the pydantic contract
model (`risk_engine.contract.check_record`, the path meant for the API): about a quarter of a
millisecond a line, where the vectorised frame validator has a fixed cost of a few hundred
milliseconds per call. The accepted lines are then laid out exactly as `validate_frame` lays them
out (same columns, dtypes, index of 1-based positions and ``dq_flags`` tags), so the scorer sees
the same input on the API as in batch; a test compares the two paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import cache
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.decimal_marks import comma_written, number_fields, thousands_or_decimal
from risk_engine.columns import (
    SHIPMENT_KEY,
    FieldSpec,
    Kind,
    Rule,
    Severity,
    fields_for,
    severity_of,
)
from risk_engine.contract import Issue, RecordCheck, check_record
from risk_engine.parsing import shown_value
from risk_engine.validation import DQ_FLAGS, records_to_frame, validate_frame

__all__ = ["CheckedRecords", "RecordChecker", "accepted_layout"]


@dataclass
class CheckedRecords:
    """Verdicts on the records of one request, by 1-based position."""

    accepted: pd.DataFrame
    models: dict[int, Any] = field(default_factory=dict)
    rejects: dict[int, list[Issue]] = field(default_factory=dict)
    flags: dict[int, list[Issue]] = field(default_factory=dict)
    # The flags of rejected records, told with their errors: a value dropped from an optional
    # field can be what rejects the record (a seizure whose category is not in the list).
    rejected_flags: dict[int, list[Issue]] = field(default_factory=dict)

    @property
    def received(self) -> int:
        return len(self.accepted) + len(self.rejects)

    def values(self, position: int) -> dict[str, Any]:
        """An accepted record as plain values (enum values, aware datetimes, lists as parsed),
        with its ``dq_flags`` tags: what the outcome store keeps."""
        record = self.models[position]
        values: dict[str, Any] = {}
        for name, value in record.__dict__.items():
            values[name] = value.value if isinstance(value, Enum) else value
        flags = self.flags.get(position)
        values[DQ_FLAGS] = ";".join(f"{i.field}:{i.rule.value}" for i in flags) if flags else None
        return values


@cache
def accepted_layout(kind: str) -> dict[str, Any]:
    """Column order and dtypes of the batch validator's accepted frame for a record kind
    (asked of the validator itself, once per process: a constant of the code)."""
    return dict(validate_frame(records_to_frame([]), kind).accepted.dtypes)


_TWO_DOTS = re.compile(r"\.[^\n]*\.")  # two dots in one of the texts joined by new lines


class RecordChecker:
    """Checks records of one kind (``shipments`` or ``outcomes``) one by one."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: tuple[FieldSpec, ...] = fields_for(kind)
        self._dedupe = SHIPMENT_KEY if kind == "shipments" else None
        self._dtypes = accepted_layout(kind)
        self._converters = {spec.name: _converter(spec.kind) for spec in self._specs}
        self._numbers = number_fields(self._specs)
        self._required = {spec.name: spec.required for spec in self._specs}
        # Columns of one dtype are built together (35 of 44 are text): one maker call each.
        by_dtype: dict[Any, list[str]] = {}
        for name, dtype in self._dtypes.items():
            by_dtype.setdefault(dtype, []).append(name)
        self._makers = [(_arrays_maker(dtype), names) for dtype, names in by_dtype.items()]

    def check(self, records: Sequence[Mapping[str, Any]]) -> CheckedRecords:
        """Every record is accepted (possibly flagged) or rejected with its issues."""
        out = CheckedRecords(accepted=pd.DataFrame())
        seen: set[tuple[Any, ...]] = set()
        values: list[dict[str, Any]] = []
        tags: list[str | None] = []
        positions: list[int] = []
        doubtful = self._doubtful(records)
        for position, raw in enumerate(records, start=1):
            unread = doubtful.get(position)
            if unread is None:
                verdict = check_record(raw, self.kind)
            else:
                verdict = self._check_without(raw, unread)
            issues = verdict.issues
            if verdict.record is not None and self._dedupe is not None:
                key = tuple(getattr(verdict.record, name) for name in self._dedupe)
                if key in seen:
                    value = raw.get(self._dedupe[-1])
                    issues = [
                        *issues,
                        Issue(
                            self._dedupe[-1],
                            "" if value is None else str(value),
                            Rule.DUPLICATE_KEY,
                            Severity.REJECT,
                        ),
                    ]
                    verdict.record = None
                else:
                    seen.add(key)
            flags = sorted(
                (i for i in issues if i.severity is Severity.FLAG),
                key=lambda i: (i.field, i.rule.value),
            )
            if verdict.record is None:
                out.rejects[position] = [i for i in issues if i.severity is Severity.REJECT]
                if flags:
                    out.rejected_flags[position] = flags
                continue
            out.models[position] = verdict.record
            if flags:
                out.flags[position] = flags
            values.append(verdict.record.__dict__)  # pydantic keeps field values here
            tags.append(";".join(f"{i.field}:{i.rule.value}" for i in flags) if flags else None)
            positions.append(position)
        out.accepted = self._frame(values, tags, positions)
        return out

    def _doubtful(self, records: Sequence[Mapping[str, Any]]) -> dict[int, list[str]]:
        """The number fields, by record position, whose text ("12.500") reads a thousand times
        apart in the decimal-comma and the decimal-point writing, when the request writes
        numbers as text with a decimal comma elsewhere ("12,5", `features.decimal_marks`): the
        officers' page sends a spreadsheet's cells as they are. Numbers sent as JSON numbers
        are no text and are never in doubt; a request without any such comma has none."""
        names = self._numbers
        # The common request, at once: no number text holds a comma, two dots or a letter
        # outside ASCII, so none can show a decimal comma (one pass over the joined texts).
        joined = "\n".join(
            v
            for raw in records
            if type(raw) is dict or isinstance(raw, Mapping)
            for v in map(raw.get, names)
            if type(v) is str
        )
        if "," not in joined and joined.isascii() and _TWO_DOTS.search(joined) is None:
            return {}
        values = {
            name: [raw.get(name) if isinstance(raw, Mapping) else None for raw in records]
            for name in names
        }
        texts = {name: pd.Series(column, dtype=object) for name, column in values.items()}
        if not any(comma_written(column).any() for column in texts.values()):
            return {}
        doubtful: dict[int, list[str]] = {}
        for name, column in texts.items():
            for position in np.flatnonzero(thousands_or_decimal(column)):
                doubtful.setdefault(int(position) + 1, []).append(name)
        return doubtful

    def _check_without(self, raw: Mapping[str, Any], unread: list[str]) -> RecordCheck:
        """`check_record` with the ``unread`` fields' values left out, each told as in doubt
        (`Rule.THOUSANDS_OR_DECIMAL`): a required one rejects the record, an optional one is
        dropped and flagged, as an unreadable value is, and as a file's is."""
        verdict = check_record({**raw, **dict.fromkeys(unread)}, self.kind)
        issues = [
            i for i in verdict.issues if not (i.field in unread and i.rule is Rule.REQUIRED)
        ]
        for name in unread:
            severity = severity_of(Rule.THOUSANDS_OR_DECIMAL, required=self._required[name])
            issues.append(
                Issue(name, shown_value(raw[name]), Rule.THOUSANDS_OR_DECIMAL, severity)
            )
        return RecordCheck(verdict.record, issues)

    def _frame(
        self, values: list[dict[str, Any]], tags: list[str | None], positions: list[int]
    ) -> pd.DataFrame:
        # Typed arrays read straight off the models' field values: a third of the time of
        # building objects and casting.
        arrays: dict[str, Any] = {}
        for make, names in self._makers:
            lists = [self._column(name, values, tags) for name in names]
            arrays.update(zip(names, make(lists), strict=True))
        columns = {name: arrays[name] for name in self._dtypes}
        index = pd.Index(np.array(positions, dtype=np.int64), name="row")
        return pd.DataFrame(columns, index=index, copy=False)

    def _column(self, name: str, values: list[dict[str, Any]], tags: list[str | None]) -> list[Any]:
        if name == DQ_FLAGS:
            return tags
        convert = self._converters[name]
        if convert is _same:
            return [record[name] for record in values]
        return [convert(record[name]) for record in values]


def _same(value: Any) -> Any:
    return value


def _enum_value(value: Any) -> Any:
    return None if value is None else value.value


def _joined(value: Any) -> Any:
    return ";".join(str(v) for v in value) if value else None


def _converter(kind: Kind) -> Callable[[Any], Any]:
    """How a model value of a field kind is stored in the frame (lists as ``;``-joined text,
    enums as their value); pandas takes datetimes and numbers as they are."""
    if kind is Kind.ENUM:
        return _enum_value
    if kind in (Kind.LOCODE_LIST, Kind.TEXT_LIST):
        return _joined
    return _same


def _arrays_maker(dtype: Any) -> Callable[[list[list[Any]]], list[Any]]:
    """How columns of values (all as long) become arrays of the accepted frame's dtype.

    The common dtypes are built from Arrow or NumPy arrays: text and UTC microsecond times as
    one array for all their columns, cut into views, as the fixed cost per array is most of it
    for a few lines; nullable integers from NumPy. `pd.array` infers from Python objects at
    several times the cost: it takes anything else, and any value those builders cannot."""

    def typed(columns: list[list[Any]]) -> list[Any]:
        return [pd.array(values, dtype=dtype) for values in columns]

    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and dtype.na_value is pd.NA:
        arrow_type = pa.large_string()

        def arrow_text(columns: list[list[Any]]) -> list[Any]:
            n = len(columns[0])
            text = pa.array(list(chain.from_iterable(columns)), type=arrow_type)
            return [pd.arrays.ArrowStringArray(text.slice(k * n, n)) for k in range(len(columns))]

        return arrow_text
    if isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "us" and str(dtype.tz) == "UTC":

        def utc_times(columns: list[list[Any]]) -> list[Any]:
            n = len(columns[0])
            try:
                ticks = np.array(
                    [
                        _NAT if v is None else (v - _EPOCH) // _TICK
                        for v in chain.from_iterable(columns)
                    ],
                    dtype=np.int64,
                )
            except TypeError:  # not all aware datetimes
                return typed(columns)
            times = pd.array(ticks.view("datetime64[us]"), dtype=dtype)
            return [times[k * n : (k + 1) * n] for k in range(len(columns))]

        return utc_times
    if isinstance(dtype, pd.Int64Dtype):

        def integers(columns: list[list[Any]]) -> list[Any]:
            return [_integers(values, dtype) for values in columns]

        return integers
    return typed


def _integers(values: list[Any], dtype: Any) -> Any:
    if any(type(v) is not int for v in values if v is not None):
        return pd.array(values, dtype=dtype)
    missing = np.array([v is None for v in values], dtype=bool)
    try:
        data = np.array([0 if v is None else v for v in values], dtype=np.int64)
    except OverflowError:
        return pd.array(values, dtype=dtype)
    return pd.arrays.IntegerArray(data, missing)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TICK = timedelta(microseconds=1)
_NAT = np.iinfo(np.int64).min  # NaT as int64
