"""Column mapping (CONTRACT.md, "Mapping"): how a national export's columns become contract fields.

A mapping file (YAML) names, per contract field, the source column or a constant value, with
optional parsing: a date format, a list separator, a unit factor. CSV reading options (delimiter,
encoding) live in the same file. Fields not named are taken from a column of the same name.

    delimiter: ";"
    encoding: latin-1
    fields:
      bl_number: BL_NO
      filed_at: {column: FILING_DATE, date_format: "%d/%m/%Y %H:%M"}
      transshipment_ports: {column: TS_PORTS, separator: "|"}
      port_of_discharge: {value: VNHPH}
      gross_weight_kg: {column: WEIGHT_T, factor: 1000}
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from risk_engine.columns import Kind, fields_for
from risk_engine.errors import MappingError
from risk_engine.parsing import LIST_SEPARATOR, plain_series
from risk_engine.yaml_text import load_yaml_file

__all__ = ["ColumnRule", "ColumnMapping", "load_mapping"]


class ColumnRule(BaseModel):
    """Where one contract field comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    value: str | None = None
    date_format: str | None = None
    separator: str | None = None
    factor: float | None = Field(default=None, gt=0)

    @field_validator("date_format")
    @classmethod
    def _readable_format(cls, value: str | None) -> str | None:
        """A format pandas cannot use fails here, naming it, not when the first chunk is read."""
        if value is not None:
            try:
                pd.to_datetime(pd.Series(["2000-01-01"]), format=value, errors="coerce")
            except ValueError as error:
                raise ValueError(f"date_format {value!r} cannot be used: {error}") from None
        return value

    @model_validator(mode="after")
    def _one_source(self) -> ColumnRule:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' or 'value'")
        return self


class ColumnMapping(BaseModel):
    """A whole mapping file; the default (no file) maps every field to its own name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    # How the file writes numbers: a European export writes 12.500,5 (decimal ",", thousands
    # "."); read as written, "12.500" would be twelve and a half kilograms.
    decimal: Literal[".", ","] = "."
    thousands: Literal[".", ",", " ", "'"] | None = None
    fields: dict[str, ColumnRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _distinct_marks(self) -> ColumnMapping:
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal are both {self.decimal!r}")
        return self

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r} (for example utf-8, latin-1, cp1252)"
            ) from None
        return value

    @field_validator("fields", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def source_columns(self, kind: str) -> dict[str, str]:
        """Contract field -> source column, for fields read from a column."""
        names = {spec.name for spec in fields_for(kind)}
        unknown = sorted(set(self.fields) - names)
        if unknown:
            raise MappingError(
                f"mapping names fields that are not in the {kind} contract: {unknown}"
            )
        kinds = {spec.name: spec.kind for spec in fields_for(kind)}
        for name, rule in self.fields.items():
            for option, fits in _OPTION_KINDS.items():
                if getattr(rule, option) is not None and kinds[name] not in fits:
                    raise MappingError(
                        f"mapping: fields.{name}.{option}: {name} is a {kinds[name].value} "
                        f"field; {option} applies to {' or '.join(sorted(k.value for k in fits))} "
                        "fields only, and would be ignored"
                    )
        out = {name: name for name in names}
        for name, rule in self.fields.items():
            if rule.column is not None:
                out[name] = rule.column
            else:
                out.pop(name)
        return out

    def check_header(self, header: list[str], kind: str) -> list[str]:
        """Raise when a required field has no column; return the source columns left unused."""
        sources = self.source_columns(kind)
        present = set(header)
        missing: list[str] = []
        for spec in fields_for(kind):
            if spec.name in sources and sources[spec.name] not in present:
                if spec.name in self.fields:
                    raise MappingError(
                        f"mapping says {spec.name} comes from column {sources[spec.name]!r}, "
                        f"which the file does not have (columns: {header[:12]})"
                    )
                if spec.required:
                    missing.append(spec.name)
        if missing:
            raise MappingError(
                f"required contract field(s) {missing} have no column in the file and no mapping "
                f"(columns: {header[:12]})"
            )
        used = {sources[name] for name in sources if sources[name] in present}
        return [column for column in header if column not in used]

    def apply(self, chunk: pd.DataFrame, kind: str) -> pd.DataFrame:
        """Contract-named columns of a chunk, parsed as the mapping says; raw text kept."""
        kinds = {spec.name: spec.kind for spec in fields_for(kind)}
        sources = self.source_columns(kind)
        out: dict[str, pd.Series] = {}
        for name in kinds:
            rule = self.fields.get(name)
            if rule is not None and rule.value is not None:
                out[name] = pd.Series(rule.value, index=chunk.index, dtype="string[pyarrow]")
                continue
            source = sources.get(name)
            if source is None or source not in chunk.columns:
                continue
            series = chunk[source]
            if self._converts(rule, kinds[name]):
                # read in the plain form the contract reads, so that a full-width "１２，５００"
                # meets the thousands mark and "１２．５" tonnes the factor (it was read later,
                # as 12.5 kg, the factor passed over)
                series = plain_series(series)
            if kinds[name] in _NUMBERS and (self.decimal != "." or self.thousands is not None):
                series = _plain_number(series, decimal=self.decimal, thousands=self.thousands)
            if rule is not None:
                series = _convert(series, rule, kinds[name])
            out[name] = series
        return pd.DataFrame(out, index=chunk.index)

    def _converts(self, rule: ColumnRule | None, kind: Kind) -> bool:
        """Whether the mapping rewrites a field's text before the contract reads it (the marks
        of numbers, a date format, a factor, a list separator) in a field read in plain form
        (codes, numbers, times; a list of seals is free text)."""
        if kind in _NUMBERS and (self.decimal != "." or self.thousands is not None):
            return True
        if rule is None or kind is Kind.TEXT_LIST:
            return False
        return any(getattr(rule, option) is not None for option in _OPTION_KINDS)


# The fields each conversion option applies to (`_convert`); elsewhere it did nothing, silently.
_OPTION_KINDS: dict[str, frozenset[Kind]] = {
    "date_format": frozenset({Kind.TIMESTAMP}),
    "separator": frozenset({Kind.LOCODE_LIST, Kind.TEXT_LIST}),
    "factor": frozenset(
        {Kind.INT_MIN0, Kind.INT_MIN1, Kind.POSITIVE, Kind.NON_NEGATIVE, Kind.PROBABILITY}
    ),
}
_COUNTS = frozenset({Kind.INT_MIN0, Kind.INT_MIN1})
# Thousands grouped with dots, with or without a decimal comma after them ("12.500", "1.234,5");
# not "0.500", whose first group is no thousands' (it read as 500).
_DOT_GROUPED = r"\s*[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]*)?\s*"
def _grouped(mark: str, decimal: str) -> str:
    """A number whose thousands are grouped by ``mark`` (a pattern), three figures a group
    after a first of one to three, with or without decimals after ``decimal``."""
    return rf"\s*[+-]?[0-9]{{1,3}}(?:{mark}[0-9]{{3}})+(?:{re.escape(decimal)}[0-9]*)?\s*"


# A number as the contract reads it (`risk_engine.parsing`), a count's whole decimal included.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
_NUMBERS = _OPTION_KINDS["factor"]


def _plain_number(series: pd.Series, *, decimal: str, thousands: str | None) -> pd.Series:
    """Numbers written with the file's marks as the contract reads them ("12.500,5" with
    decimal "," and thousands "." is "12500.5"); a numeric column is left as it is, and a value
    that does not read so is left as written, for the contract to report as it was.

    With decimal "," and no thousands mark named, dots that group thousands ("12.500",
    "1.234,5") are read as that writing's thousands mark: a dot is no decimal point there, and
    "12.500" was read as twelve and a half."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series
    written = series.astype("string[pyarrow]")
    text = written
    if thousands is not None:
        # French Excel groups with a no-break or narrow no-break space
        mark = "[ \u00a0\u202f]" if thousands == " " else re.escape(thousands)
        # only where the mark groups thousands: "12,5" with thousands "," is no 125
        grouped = text.str.fullmatch(_grouped(mark, decimal)).fillna(False).astype(bool)
        text = text.where(~grouped, text.str.replace(mark, "", regex=True))
    elif decimal == ",":
        grouped = text.str.fullmatch(_DOT_GROUPED).fillna(False).astype(bool)
        text = text.where(~grouped, text.str.replace(".", "", regex=False))
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    number = text.str.strip().str.fullmatch(_NUMBER).fillna(False).astype(bool)
    return text.where(number | written.isna(), written)


def _convert(series: pd.Series, rule: ColumnRule, kind: Kind) -> pd.Series:
    """Apply date format, separator and factor; a value that does not convert stays as it was,
    so the validator reports it with its original text."""
    if (
        rule.date_format
        and kind is Kind.TIMESTAMP
        and not pd.api.types.is_datetime64_any_dtype(series)
    ):
        text = series.astype("string[pyarrow]").str.strip()
        parsed = pd.to_datetime(text, format=rule.date_format, errors="coerce", utc=True)
        # to the microsecond, as the contract keeps it (the fraction was dropped: two
        # inspections of a container in one second were one, and not the API's same key)
        iso = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return iso.where(parsed.notna(), text).astype("string[pyarrow]")
    if rule.separator and kind in (Kind.LOCODE_LIST, Kind.TEXT_LIST):
        text = series.astype("string[pyarrow]")
        return text.str.replace(rule.separator, LIST_SEPARATOR, regex=False)
    if rule.factor is not None:
        numbers = pd.to_numeric(series, errors="coerce")
        scaled = (numbers * rule.factor).astype("float64")
        if pd.api.types.is_numeric_dtype(series.dtype):
            return scaled
        text = series.astype("string[pyarrow]")
        values = np.nan_to_num(scaled.to_numpy(dtype="float64"))
        # a count scaled to a whole number is written as one ("581", not "581.000000", which
        # the contract rejects for a count); one scaled to a fraction stays one, and is told
        # (435 from 4.35 x 100 is 434.99999999999994 in binary floats)
        whole = np.isclose(values, np.round(values), rtol=0, atol=1e-6) & (kind in _COUNTS)
        scaled_text = pd.Series(
            np.where(whole, np.char.mod("%.0f", values), np.char.mod("%.6f", values)),
            index=series.index,
        ).astype("string[pyarrow]")
        return scaled_text.where(scaled.notna(), text)
    return series


def load_mapping(path: Path | None) -> ColumnMapping:
    """Read a mapping file; errors name the file and the problem."""
    if path is None:
        return ColumnMapping()
    try:
        data = load_yaml_file(Path(path)) or {}
    except (OSError, yaml.YAMLError) as error:
        raise MappingError(f"cannot read mapping {path}: {error}") from error
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MappingError(f"mapping {path}: {where}: {first['msg']}") from error
