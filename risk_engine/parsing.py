"""Parsing and checking of contract values, field by field: a scalar form and a vectorised form.

The scalar form (`parse_scalar`) serves the pydantic models (API, one record at a time); the
vectorised form (`parse_series`) serves the frame validator (files of millions of rows). They sit
side by side in this module and share every pattern and table, and a property test proves they
agree. Each returns the normalised value and the rules the value breaks.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk_engine import reference
from risk_engine.columns import DESCRIPTION_MAX, TEXT_MAX, FieldSpec, Kind, Rule
from risk_engine.errors import ConfigError
from risk_engine.reference.checks import (
    CONTAINER_PATTERN,
    IMO_PATTERN,
    LOCODE_PATTERN,
    imo_is_valid,
    imo_valid_array,
    iso6346_is_valid,
    iso6346_valid_array,
)

__all__ = [
    "CODE_PATTERN",
    "any_matching",
    "FORMAT_CHARACTERS",
    "unformatted",
    "shown_value",
    "visible",
    "LIST_SEPARATOR",
    "holds_separator",
    "printable",
    "parse_moment",
    "plain_form",
    "plain_series",
    "TIMESTAMP_PATTERN",
    "is_missing",
    "parse_scalar",
    "parse_fields",
    "parse_series",
    "MIN_YEAR",
    "MAX_YEAR",
    "SeriesIssues",
]

LIST_SEPARATOR = ";"
MIN_YEAR = 1990
MAX_YEAR = 2100
TIMESTAMP_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?"
)
# Forms of ISO 8601 that systems write and the pattern above does not take, read by rewriting
# them into it: .NET's seven-digit fractions and Java's nine, offsets written +0700 or +07, a
# lower-case t or z (RFC 3339 allows them).
_LOOSE_STAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?"
)
# The rewriting, upper-cased first: (pattern, replacement) in turn, by `re` on one value
# (`_normal_stamp`) and by Arrow on a column, on values that match `_LOOSE_STAMP` whole (so each
# pattern meets only the part it is meant for).
_STAMP_REWRITES = (
    (r"(\.[0-9]{6})[0-9]{1,3}", r"\1"),  # a fraction cut to microseconds
    (r"([+-][0-9]{2})([0-9]{2})$", r"\1:\2"),  # +0700
    (r"(:[0-9]{2}(?:\.[0-9]+)?[+-][0-9]{2})$", r"\1:00"),  # +07 after seconds
    (r"([T ][0-9]{2}:[0-9]{2}[+-][0-9]{2})$", r"\1:00"),  # +07 after minutes
)
_NUMBER_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
# A count may be written as a whole decimal ("400.0", "400.00" from a spreadsheet's two
# decimals): pandas writes an integer column with a gap as floats, and such an export had every
# line rejected for its package count. Two zeros at most: "1.000" is a thousand written with a
# European separator, not 1.
_INTEGER_PATTERN = r"[+-]?[0-9]{1,12}(?:\.0{0,2})?"
# The largest count a line may carry: what twelve digits write (a JSON or Parquet number past it
# is out of range, as text past it is malformed); it keeps every count inside int64.
INTEGER_MAX = 10**12 - 1
# What a B/L number may be once trimmed and upper-cased (the contract).
CODE_PATTERN = r"[A-Z0-9/-]{1,35}"
_HS_PATTERN = r"[0-9]{4,10}"
_CARRIER_PATTERN = r"[A-Z]{2,4}"
_SIZE_TYPE_PATTERN = r"[0-9A-Z]{4}"
# A NUL character is no text (a broken export): PostgreSQL cannot store it, so a text holding
# one is malformed rather than passed on to the outcome store.
_NUL = "\x00"
# Half of a UTF-16 surrogate pair, alone: what JSON's "\ud800" escape gives when a client cut a
# text in the middle of an emoji. It is no character: no UTF-8 writer (Arrow, the database, the
# JSON answer) can store it, and a text holding one failed the whole request (500 or 503).
_SURROGATE = re.compile("[\ud800-\udfff]")
# Trimmed characters, spelled out so the scalar and vectorised forms trim exactly the same: the
# no-break spaces (U+00A0, the figure space U+2007, the narrow U+202F) and the ideographic space
# a Chinese, Japanese or Korean keyboard types (U+3000): "210690\u3000" was a malformed HS code.
_SPACE = " \t\r\n\x0b\x0c\xa0\u2007\u202f\u3000"
# The characters that show as nothing and mean nothing in a value: zero-width spaces, the soft
# hyphen, word joiners, bidi marks and overrides, the byte-order mark. "IVO\u200bRY" reads as
# IVORY on every screen, yet it missed the CITES rule, the risk profiles naming ivory and the
# watch list: every value of every field is read without them (`visible`). The other format
# characters are kept in what is stored, as they change what is shown: the joiners of Persian
# and Indic names and of emoji, Arabic number signs, the tags of a flag. Words, names and
# codes are compared without any of them (`unformatted`).
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb]"
)
# Every format character (Unicode category Cf; spelled out so that Python's and Arrow's
# expressions drop the same ones, and a test holds it to Cf).
FORMAT_CHARACTERS = (
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)
_FORMAT = re.compile(FORMAT_CHARACTERS)
# The kinds read in their plain form (Unicode NFKC compatibility normalisation, `plain_form`):
# codes, numbers and times. A Chinese, Japanese or Korean input method types full-width letters
# and digits ("ＭＳＣＵ１２３４５６５", "０３０５．７１", "ＣＮＳＨＡ"), which failed every pattern
# and rejected the line; they are the ASCII code, as a lower-case one is. Free text (names,
# addresses, descriptions, the voyage, references) is kept as written: the features read it.
_PLAIN_KINDS = frozenset(Kind) - {Kind.TEXT, Kind.DESCRIPTION, Kind.TEXT_LIST}

_PATTERNS = {
    key: re.compile(value)
    for key, value in {
        "timestamp": TIMESTAMP_PATTERN,
        "loose_stamp": _LOOSE_STAMP.pattern,
        "number": _NUMBER_PATTERN,
        "integer": _INTEGER_PATTERN,
        "code": CODE_PATTERN,
        "hs": _HS_PATTERN,
        "carrier": _CARRIER_PATTERN,
        "size_type": _SIZE_TYPE_PATTERN,
        "container": CONTAINER_PATTERN,
        "imo": IMO_PATTERN,
        "locode": LOCODE_PATTERN,
    }.items()
}

SeriesIssues = list[tuple[np.ndarray, Rule]]


# ---------------------------------------------------------------- scalar form


def visible(text: str) -> str:
    """``text`` without the characters that show as nothing (`_INVISIBLE`)."""
    return text if text.isascii() else _INVISIBLE.sub("", text)


def unformatted(text: str) -> str:
    """``text`` without any format character (`FORMAT_CHARACTERS`): how words, names and codes
    are compared (a joiner between two Latin letters hid a word too)."""
    return text if text.isascii() else _FORMAT.sub("", text)


def plain_form(text: str) -> str:
    """``text`` in its plain form (NFKC): full-width letters, digits and marks as ASCII, the
    ideographic space as a space. How codes, numbers and times are read (`_PLAIN_KINDS`)."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def _trimmed(raw: Any, *, written: bool = False) -> str:
    """A value as text, trimmed, without any format character; a ``written`` one (a name, an
    address, a description) keeps those that change what is shown (`visible`)."""
    return (visible if written else unformatted)(str(raw)).strip(_SPACE)


def _written(spec: FieldSpec) -> bool:
    """Whether a field is text people write (a name, an address, a description), whose script
    may need a joiner; codes, numbers and identifiers (the voyage, a permit) are read without
    any format character, as they are compared: a container with a joiner was rejected."""
    return spec.kind is Kind.DESCRIPTION or (
        spec.kind is Kind.TEXT and spec.name.endswith(("_name", "_address"))
    )


def is_missing(raw: Any) -> bool:
    """None, NaN/NaT, pandas NA, or text that is empty after trimming (and dropping what shows as
    nothing: a description of zero-width spaces alone is as blank as one of spaces)."""
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, str) and not _trimmed(raw):
        return True
    if isinstance(raw, list | tuple) and not raw:
        return True
    return False


# An HS code has 4, 6, 8 or 10 digits (and 9 in some national lists); one sent as a number
# loses its leading zero, so a number of 3, 5 or 7 digits gets it back. The chapters 01-09
# (animal products: ivory and pangolin scales are 0507) are the ones a number cannot write.
_ZERO_LOST = (3, 5, 7)
# A number of 9 digits is either a 9-digit national code or a 10-digit one of chapters 01-09
# that lost its zero: 507900010 read as chapter 50 (silk) was an ivory line, scored without its
# CITES rule and with nothing said. It cannot be told: malformed (send the code as text).
_ZERO_MAYBE_LOST = 9


def _is_number(raw: Any) -> bool:
    return isinstance(raw, int | float | np.integer | np.floating) and not isinstance(raw, bool)


def _numbers(series: pd.Series) -> np.ndarray:
    """Where a column holds numbers rather than text (a numeric column, or numbers among the
    objects of a mixed one)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.zeros(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return np.asarray(series.notna(), dtype=bool)
    if series.dtype == object:
        return np.fromiter((_is_number(v) for v in series), dtype=bool, count=len(series))
    return np.zeros(len(series), dtype=bool)


def _fractional(series: pd.Series, numbers: np.ndarray) -> np.ndarray:
    """Where a column's numbers (``numbers``, from `_numbers`) have a fractional part."""
    out = np.zeros(len(series), dtype=bool)
    values = series[numbers].astype("float64").to_numpy()
    out[numbers] = np.floor(values) != values
    return out


def _as_text(raw: Any, *, written: bool = False) -> str:
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return _trimmed(raw, written=written)


def _as_code(raw: Any) -> str:
    """Upper-cased code; non-ASCII text is left as is so that it fails every code pattern."""
    text = _as_text(raw)
    return text.upper() if text.isascii() else text


def _scalar_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if _is_number(raw):
        try:
            value = float(raw)
        except OverflowError:  # an integer past a float's range, read as the text "1e999" is
            return None
    else:
        text = _trimmed(raw)
        if not _PATTERNS["number"].fullmatch(text):
            return None
        value = float(text)
    return value if math.isfinite(value) else None


def _scalar_integer(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | np.integer):
        return int(raw)
    if isinstance(raw, float | np.floating):
        return int(raw) if math.isfinite(raw) and float(raw).is_integer() else None
    text = _trimmed(raw)
    return int(text.partition(".")[0]) if _PATTERNS["integer"].fullmatch(text) else None


def _normal_stamp(text: str) -> str | None:
    """A timestamp in one of the `_LOOSE_STAMP` forms rewritten into `TIMESTAMP_PATTERN`'s (a
    fraction cut to microseconds) by `_STAMP_REWRITES`, as a column is; None when it is in none
    of them."""
    if _LOOSE_STAMP.fullmatch(text) is None:
        return None
    text = text.upper()
    for pattern, replacement in _STAMP_REWRITES:
        text = re.sub(pattern, replacement, text)
    return text


def _scalar_timestamp(raw: Any) -> datetime | None:
    if isinstance(raw, pd.Timestamp):
        raw = raw.to_pydatetime()
    if isinstance(raw, datetime):
        value = raw
    else:
        text = _trimmed(raw)
        if not _PATTERNS["timestamp"].fullmatch(text):
            normal = _normal_stamp(text)
            if normal is None:
                return None
            text = normal
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _scalar_locode(raw: Any) -> tuple[str | None, list[Rule]]:
    code = _as_code(raw).replace(" ", "")
    if not _PATTERNS["locode"].fullmatch(code):
        return None, [Rule.MALFORMED]
    if code not in reference.known_port_codes():
        return code, [Rule.UNKNOWN_PORT]
    return code, []


def holds_separator(item: Any) -> bool:
    """Whether one item of a list (JSON, Parquet) holds the separator of the CSV form, as read
    (a full-width "；" is one in its plain form): such an item is no one value of the list, and
    the file path, which joins a list's items with it, must not split it into two."""
    return isinstance(item, str) and LIST_SEPARATOR in plain_form(item)


def _list_text(items: list[Any] | tuple[Any, ...]) -> str:
    """A list's items as the CSV form writes them, a null item as none (as the scalar form
    drops it): "None" was read as a port."""
    return LIST_SEPARATOR.join("" if item is None else str(item) for item in items)


def _scalar_list(raw: Any) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(LIST_SEPARATOR)
    return [_trimmed(item) for item in items if not is_missing(item)]


def parse_scalar(spec: FieldSpec, raw: Any) -> tuple[Any, list[Rule]]:
    """Normalised value of one field and the rules it breaks.

    A value that cannot be read comes back as None (or the field's default) with its rule; a value
    that reads but looks wrong comes back normalised with a flag rule (check digit, unknown port,
    truncation).
    """
    if raw is None:  # an absent field: the commonest value on the API path
        return spec.default, [Rule.REQUIRED] if spec.required else []
    if type(raw) is str:
        remembered = _remembered(spec)
        known = remembered.get(raw) or _remember(spec, raw, remembered)
        value = known[0]
        return (list(value) if type(value) is tuple else value), list(known[1])
    value, rules = _parse_scalar(spec, raw)
    return (spec.default if value is None else value), rules


def parse_fields(
    specs: tuple[FieldSpec, ...], record: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[FieldSpec, Any, Rule]]]:
    """`parse_scalar` of every field of a record: (values by field name, and (field, raw value,
    rule) for each rule broken, in field order). One loop for the whole record, as the calls per
    field cost more than parsing most values."""
    values: dict[str, Any] = {}
    broken: list[tuple[FieldSpec, Any, Rule]] = []
    rules: Sequence[Rule]
    for spec, remembered in _plan(specs):
        name = spec.name
        raw = record.get(name)
        if raw is None:
            values[name] = spec.default
            if spec.required:
                broken.append((spec, raw, Rule.REQUIRED))
            continue
        if type(raw) is str:
            value, rules = remembered.get(raw) or _remember(spec, raw, remembered)
            if type(value) is tuple:  # a list field's items: each record gets its own list
                value = list(value)
        else:
            value, rules = parse_scalar(spec, raw)
        values[name] = value
        for rule in rules:
            broken.append((spec, raw, rule))
    return values, broken


_Verdict = tuple[Any, tuple[Rule, ...]]


def _remembered(spec: FieldSpec) -> dict[str, _Verdict]:
    """The remembered verdicts of one field, by text.

    Text values repeat across lines (ports, parties, carriers, codes, the seals and transits a
    line sends as one text), so each (field, text) verdict is kept; a list is kept as a tuple and
    given to each record as a list of its own. The table is found by the spec's id (the entry
    holds the spec, so the id stays its own): hashing a frozen dataclass field by field cost more
    than parsing most values."""
    entry = _REMEMBERED.get(id(spec))
    if entry is None:
        entry = _REMEMBERED[id(spec)] = (spec, {})
    return entry[1]


def _remember(spec: FieldSpec, raw: str, remembered: dict[str, _Verdict]) -> _Verdict:
    if len(remembered) >= _REMEMBER_AT_MOST:
        remembered.clear()
    value, rules = _parse_scalar(spec, raw)
    if value is None:
        value = spec.default
    elif type(value) is list:
        value = tuple(value)
    known = remembered[raw] = (value, tuple(rules))
    return known


def _plan(specs: tuple[FieldSpec, ...]) -> list[tuple[FieldSpec, dict[str, _Verdict]]]:
    """Each field of a record kind with its remembered verdicts (kept by the id of the specs)."""
    entry = _PLANS.get(id(specs))
    if entry is None:
        entry = _PLANS[id(specs)] = (specs, [(spec, _remembered(spec)) for spec in specs])
    return entry[1]


_LIST_KINDS = frozenset({Kind.LOCODE_LIST, Kind.TEXT_LIST})
_REMEMBERED: dict[int, tuple[FieldSpec, dict[str, _Verdict]]] = {}
_REMEMBER_AT_MOST = 2_000  # texts per field (about 100,000 over every field of both kinds)
_PLANS: dict[int, tuple[tuple[FieldSpec, ...], list[tuple[FieldSpec, dict[str, _Verdict]]]]] = {}


def _surrogate(raw: Any) -> bool:
    """Text (or a list of texts) holding a lone surrogate (`_SURROGATE`)."""
    if isinstance(raw, str):
        return not raw.isascii() and _SURROGATE.search(raw) is not None
    if isinstance(raw, list | tuple):
        return any(_surrogate(item) for item in raw)
    return False


# The most of a value an error shows: a text one longer than the contract's TEXT_MAX is shown
# whole, so that the officer sees what was too long.
_SHOWN_MAX = 1_024


def shown_value(value: Any) -> str:
    """A value as it was sent, for an error or a rejects file: JSON's own text for what JSON
    (or a Parquet boolean, struct or list column) gave as other than text or a number (``true``,
    ``{"kg": 21500}``), not Python's ("True", "{'kg': 21500}"); a value longer than
    `_SHOWN_MAX` by its start and its length (a 100,000-character name came back whole)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, bool | np.bool_ | Mapping | list | tuple):
        text = json.dumps(
            bool(value) if isinstance(value, np.bool_) else value, ensure_ascii=False, default=str
        )
    else:
        text = str(value)
    if len(text) > _SHOWN_MAX:
        text = f"{text[:_SHOWN_MAX]}... ({len(text):,} characters)"
    return printable(text)


def printable(text: str) -> str:
    """``text`` with each lone surrogate written as its escape (``\\ud800``), so that an error
    can show the value as sent where UTF-8 is written (the JSON answer, the audit, a file)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _nested(raw: Any, kind: Kind) -> bool:
    """An object, a boolean, or a list where one value belongs (or inside a list field): a
    client's mistake, read as its Python text it would pass for a name ("{'a': 1}", or a B/L
    "TRUE"). No field of the contract is a boolean."""
    if isinstance(raw, Mapping | set | frozenset | bool | np.bool_):
        return True
    if isinstance(raw, list | tuple):
        return kind not in _LIST_KINDS or any(
            isinstance(item, Mapping | list | tuple | set | frozenset) for item in raw
        )
    return False


def _parse_scalar(spec: FieldSpec, raw: Any) -> tuple[Any, list[Rule]]:
    if spec.kind in _PLAIN_KINDS:
        if isinstance(raw, str) and not raw.isascii() and not _surrogate(raw):
            raw = plain_form(raw)
        elif spec.kind is Kind.LOCODE_LIST and isinstance(raw, list | tuple):
            raw = [
                plain_form(item) if isinstance(item, str) and not _surrogate(item) else item
                for item in raw
            ]
    if is_missing(raw):
        return spec.default, [Rule.REQUIRED] if spec.required else []
    kind = spec.kind
    if _nested(raw, kind) or _surrogate(raw):
        return None, [Rule.MALFORMED]
    if kind in (Kind.TEXT, Kind.DESCRIPTION):
        text = _as_text(raw, written=_written(spec))
        if _NUL in text:
            return None, [Rule.MALFORMED]
        if len(text) > TEXT_MAX:
            if kind is Kind.DESCRIPTION:
                return text[:DESCRIPTION_MAX], [Rule.TRUNCATED]
            return None, [Rule.TOO_LONG]
        return text, []
    if kind in (Kind.CODE, Kind.CARRIER, Kind.SIZE_TYPE):
        text = _as_code(raw)
        pattern = {Kind.CODE: "code", Kind.CARRIER: "carrier", Kind.SIZE_TYPE: "size_type"}[kind]
        return (text, []) if _PATTERNS[pattern].fullmatch(text) else (None, [Rule.MALFORMED])
    if kind is Kind.CONTAINER:
        text = _as_code(raw).replace(" ", "").replace("-", "")
        if not _PATTERNS["container"].fullmatch(text):
            return None, [Rule.MALFORMED]
        return text, [] if iso6346_is_valid(text) else [Rule.CHECK_DIGIT]
    if kind is Kind.IMO:
        text = _as_code(raw).replace(" ", "")
        text = text[3:] if text.startswith("IMO") else text
        if not _PATTERNS["imo"].fullmatch(text):
            return None, [Rule.MALFORMED]
        return text, [] if imo_is_valid(text) else [Rule.CHECK_DIGIT]
    if kind is Kind.LOCODE:
        return _scalar_locode(raw)
    if kind is Kind.LOCODE_LIST:
        codes: list[str] = []
        rules: list[Rule] = []
        for item in _scalar_list(raw):
            code, item_rules = _scalar_locode(item)
            if code is not None:
                codes.append(code)
            rules.extend(rule for rule in item_rules if rule not in rules)
        return (codes or None), rules
    if kind is Kind.TEXT_LIST:
        items = _scalar_list(raw)
        if any(_NUL in item for item in items):
            return None, [Rule.MALFORMED]
        return (items or None), []
    if kind is Kind.COUNTRY:
        text = _as_code(raw)
        return (text, []) if reference.is_country(text) else (None, [Rule.UNKNOWN_COUNTRY])
    if kind is Kind.CURRENCY:
        text = _as_code(raw)
        return (text, []) if reference.is_currency(text) else (None, [Rule.UNKNOWN_CURRENCY])
    if kind is Kind.HS:
        if _is_number(raw) and not float(raw).is_integer():
            return None, [Rule.MALFORMED]  # 4403.10 as a number is 4403.1: its digits are lost
        text = _as_text(raw).replace(".", "").replace(" ", "")
        if _is_number(raw) and len(text) == _ZERO_MAYBE_LOST:
            return None, [Rule.MALFORMED]
        if _is_number(raw) and len(text) in _ZERO_LOST:
            text = "0" + text  # 50790 sent as a number is 050790 (ivory, not silk)
        if not _PATTERNS["hs"].fullmatch(text):
            return None, [Rule.MALFORMED]
        return (text, []) if 1 <= int(text[:2]) <= 97 else (None, [Rule.OUT_OF_RANGE])
    if kind is Kind.TIMESTAMP:
        stamp = _scalar_timestamp(raw)
        if stamp is None:
            return None, [Rule.MALFORMED]
        return (stamp, []) if MIN_YEAR <= stamp.year <= MAX_YEAR else (None, [Rule.OUT_OF_RANGE])
    if kind in (Kind.INT_MIN0, Kind.INT_MIN1):
        integer = _scalar_integer(raw)
        if integer is None:
            return None, [Rule.MALFORMED]
        low = 0 if kind is Kind.INT_MIN0 else 1
        return (integer, []) if low <= integer <= INTEGER_MAX else (None, [Rule.OUT_OF_RANGE])
    if kind in (Kind.POSITIVE, Kind.NON_NEGATIVE, Kind.PROBABILITY):
        number = _scalar_number(raw)
        if number is None:
            return None, [Rule.MALFORMED]
        if kind is Kind.POSITIVE:
            fits = number > 0
        elif kind is Kind.NON_NEGATIVE:
            fits = number >= 0
        else:
            fits = 0 < number <= 1
        return (number, []) if fits else (None, [Rule.OUT_OF_RANGE])
    if kind is Kind.ENUM:
        text = _as_code(raw)
        return (text, []) if text in spec.choices else (None, [Rule.NOT_A_CHOICE])
    raise AssertionError(f"unhandled kind {kind}")


def _in_range(kind: Kind, values: np.ndarray) -> np.ndarray:
    if kind is Kind.POSITIVE:
        return np.asarray(values > 0)
    if kind is Kind.NON_NEGATIVE:
        return np.asarray(values >= 0)
    return np.asarray((values > 0) & (values <= 1))


# ---------------------------------------------------------------- vectorised form


def any_matching(array: pa.Array | pa.ChunkedArray, pattern: str) -> bool:
    """Whether a text array holds a match of ``pattern``, a class of non-ASCII characters (an
    ASCII array holds none: the test is cheap for most columns, and a search costs less than a
    replacement)."""
    if pc.all(pc.string_is_ascii(array)).as_py() is not False:
        return False
    return bool(pc.any(pc.match_substring_regex(array, pattern)).as_py())


def plain_series(series: pd.Series) -> pd.Series:
    """Vectorised `plain_form` of a column's text values; numbers, times and an all-ASCII column
    come back as they are.

    The non-ASCII values go through Python's NFKC, once per distinct value, not Arrow's: Arrow's
    (utf8proc) follows a later Unicode than Python's (it reads U+A7F1 as S, Python leaves it),
    and leaves accents apart, so a file and the API would have judged such a value apart."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        ascii_values = pc.string_is_ascii(pa.array(series.array))
        if pc.all(ascii_values).as_py() is not False:
            return series
        others = ~np.asarray(ascii_values.fill_null(True), dtype=bool)
    elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        others = np.fromiter(
            (isinstance(v, str) and not v.isascii() and not _surrogate(v) for v in series),
            dtype=bool,
            count=len(series),
        )
        if not others.any():
            return series
    else:
        return series
    texts = series[others]
    normal = {text: plain_form(text) for text in set(texts)}
    out = series.copy()
    out[others] = texts.map(normal)
    return out


def _text_series(series: pd.Series, *, written: bool = False) -> pd.Series:
    """Any column as trimmed pyarrow-backed strings without format characters (a ``written``
    one keeps those `visible` keeps); integral floats lose their '.0'."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.astype(object).map(
            lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else _as_text(v)
        )
        return values.astype("string[pyarrow]")
    if series.dtype == object:  # numbers among objects are written as the scalar form writes them
        series = series.map(
            lambda v: _as_text(v) if isinstance(v, float | np.floating) and v == v else v
        )
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string[pyarrow]")
    dropped = _INVISIBLE.pattern if written else FORMAT_CHARACTERS
    if len(series) and any_matching(pa.array(series.array), dropped):
        series = series.str.replace(dropped, "", regex=True)
    return series.str.strip(_SPACE)


def _upper_ascii(text: pd.Series) -> pd.Series:
    """Vectorised `_as_code`: upper-case ASCII values, leave the others as they are."""
    ascii_mask = text.str.fullmatch(r"[\x00-\x7f]*").fillna(False).astype(bool)
    return text.str.upper().where(ascii_mask, text)


def _fixed_bytes(text: pd.Series, width: int) -> np.ndarray:
    """ASCII values all ``width`` long as a numpy ``S{width}`` array, straight from Arrow's buffer."""
    array = pa.array(text.array, type=pa.string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    buffers = array.buffers()
    offsets = np.frombuffer(
        buffers[1], dtype=np.int32, count=len(array) + 1, offset=array.offset * 4
    )
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if len(data) != len(array) * width:
        return text.to_numpy(dtype=object).astype(f"S{width}")
    return data.view(f"S{width}")


def _missing_mask(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        text = _text_series(series)
        return np.asarray(text.isna() | (text == ""), dtype=bool)
    return np.asarray(series.isna(), dtype=bool)


def _match(text: pd.Series, key: str) -> np.ndarray:
    return np.asarray(text.str.fullmatch(_PATTERNS[key].pattern).fillna(False), dtype=bool)


def _locode_items(text: pd.Series) -> pd.Series:
    return _upper_ascii(text).str.replace(" ", "", regex=False)


# Kinds whose columns repeat few values (ports, countries, codes): parsed once per distinct value.
_FEW_VALUES = frozenset(
    {
        Kind.LOCODE,
        Kind.LOCODE_LIST,
        Kind.COUNTRY,
        Kind.CURRENCY,
        Kind.ENUM,
        Kind.HS,
        Kind.SIZE_TYPE,
        Kind.CARRIER,
        Kind.IMO,
    }
)


def parse_series(spec: FieldSpec, series: pd.Series) -> tuple[pd.Series, SeriesIssues]:
    """Vectorised `parse_scalar`: normalised column and (row mask, rule) pairs.

    Parsing is element-wise, so a column of few distinct values is parsed once per value and
    the result spread back to the rows.
    """
    if spec.kind in _FEW_VALUES and len(series) >= 1_000 and series.dtype != object:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if len(uniques) * 4 < len(series):
            distinct = pd.concat(
                [pd.Series(uniques, dtype=series.dtype), pd.Series([None], dtype=series.dtype)],
                ignore_index=True,
            )
            values, issues = _parse_series(spec, distinct)
            spread = values.take(codes).set_axis(series.index)
            return spread, [(mask[codes], rule) for mask, rule in issues]
    return _parse_series(spec, series)


def _parse_series(spec: FieldSpec, series: pd.Series) -> tuple[pd.Series, SeriesIssues]:
    kind = spec.kind
    nested = np.zeros(len(series), dtype=bool)
    held: dict[int, Any] = {}  # lists read by the scalar form, by position
    if pd.api.types.is_bool_dtype(series.dtype):  # a Parquet boolean column mapped to a field
        nested = np.asarray(series.notna(), dtype=bool)
    elif series.dtype == object:  # objects or lists where a value belongs (a Parquet struct)
        nested = np.fromiter(
            (_nested(v, kind) or _surrogate(v) for v in series), dtype=bool, count=len(series)
        )
        if nested.any():
            series = series.where(~nested, None)
        if kind is Kind.LOCODE_LIST:  # an item holding ";" is read as one item, as the API
            held = {
                position: value
                for position, value in enumerate(series)
                if isinstance(value, list | tuple) and any(map(holds_separator, value))
            }
        if kind in _LIST_KINDS:  # a list in a list field reads as its items, as in a file
            series = series.map(lambda v: _list_text(v) if isinstance(v, list | tuple) else v)
    if kind in _PLAIN_KINDS:
        series = plain_series(series)
    missing = _missing_mask(series) & ~nested
    present = ~missing & ~nested
    issues: SeriesIssues = []
    if spec.required and missing.any():
        issues.append((missing, Rule.REQUIRED))
    if nested.any():
        issues.append((nested, Rule.MALFORMED))

    def fail(mask: np.ndarray, rule: Rule) -> None:
        if mask.any():
            issues.append((mask, rule))

    if kind is Kind.TIMESTAMP:
        value = _timestamp_series(series, present, fail)
    elif kind in (Kind.POSITIVE, Kind.NON_NEGATIVE, Kind.PROBABILITY, Kind.INT_MIN0, Kind.INT_MIN1):
        value = _number_series(kind, series, present, fail)
    elif kind is Kind.LOCODE_LIST:
        value = _locode_list_series(series, present, fail, held)
    else:
        value = _text_kind_series(spec, series, present, fail)
    if spec.default is not None:
        value = value.fillna(spec.default)
    return value, issues


def _text_kind_series(
    spec: FieldSpec, series: pd.Series, present: np.ndarray, fail: Any
) -> pd.Series:
    kind = spec.kind
    text = _text_series(series, written=_written(spec)).where(present)
    if kind in (Kind.TEXT, Kind.DESCRIPTION, Kind.TEXT_LIST):
        nul = present & np.asarray(text.str.contains(_NUL, regex=False).fillna(False), dtype=bool)
        if nul.any():
            fail(nul, Rule.MALFORMED)
            text, present = text.where(~nul), present & ~nul
    if kind in (Kind.TEXT, Kind.DESCRIPTION):
        too_long = present & np.asarray(text.str.len().fillna(0) > TEXT_MAX, dtype=bool)
        if kind is Kind.DESCRIPTION:
            fail(too_long, Rule.TRUNCATED)
            return text.str.slice(0, DESCRIPTION_MAX)
        fail(too_long, Rule.TOO_LONG)
        return text.where(~too_long)
    if kind is Kind.TEXT_LIST:
        return _tidy_list(text).astype("string[pyarrow]")
    if kind in (Kind.CODE, Kind.CARRIER, Kind.SIZE_TYPE, Kind.ENUM, Kind.COUNTRY, Kind.CURRENCY):
        text = _upper_ascii(text)
    if kind is Kind.CONTAINER:
        text = (
            _upper_ascii(text).str.replace(" ", "", regex=False).str.replace("-", "", regex=False)
        )
    if kind is Kind.IMO:
        text = (
            _upper_ascii(text)
            .str.replace(" ", "", regex=False)
            .str.replace(r"^IMO", "", regex=True)
        )
    if kind is Kind.LOCODE:
        text = _locode_items(text)
    if kind is Kind.HS:
        numbers = _numbers(series)
        if numbers.any():  # a decimal number has lost its trailing zeros: 4403.10 is 4403.1
            fractional = present & _fractional(series, numbers)
            if fractional.any():
                fail(fractional, Rule.MALFORMED)
                text, present = text.where(~fractional), present & ~fractional
        text = text.str.replace(".", "", regex=False).str.replace(" ", "", regex=False)
        lengths = text.str.len()
        maybe = numbers & present & np.asarray(lengths.isin([_ZERO_MAYBE_LOST]), dtype=bool)
        if maybe.any():
            fail(maybe, Rule.MALFORMED)
            text, present = text.where(~maybe), present & ~maybe
        lost = numbers & np.asarray(lengths.isin(_ZERO_LOST), dtype=bool)
        if lost.any():
            text = text.where(~lost, "0" + text)
    pattern = {
        Kind.CODE: "code",
        Kind.CARRIER: "carrier",
        Kind.SIZE_TYPE: "size_type",
        Kind.CONTAINER: "container",
        Kind.IMO: "imo",
        Kind.LOCODE: "locode",
        Kind.HS: "hs",
    }.get(kind)
    if pattern is not None:
        bad = present & ~_match(text, pattern)
        fail(bad, Rule.MALFORMED)
        good = present & ~bad
        if kind is Kind.CONTAINER and good.any():
            valid = np.ones(len(text), dtype=bool)
            valid[good] = iso6346_valid_array(_fixed_bytes(text[good], 11))
            fail(good & ~valid, Rule.CHECK_DIGIT)
        elif kind is Kind.IMO and good.any():
            valid = np.ones(len(text), dtype=bool)
            valid[good] = imo_valid_array(_fixed_bytes(text[good], 7))
            fail(good & ~valid, Rule.CHECK_DIGIT)
        elif kind is Kind.LOCODE:
            unknown = good & ~np.asarray(text.isin(reference.known_port_codes()), dtype=bool)
            fail(unknown, Rule.UNKNOWN_PORT)
        elif kind is Kind.HS and good.any():
            chapter = pd.to_numeric(text.str.slice(0, 2), errors="coerce")
            out = good & ~np.asarray(((chapter >= 1) & (chapter <= 97)).fillna(False), dtype=bool)
            fail(out, Rule.OUT_OF_RANGE)
            bad = bad | out
        return text.where(~bad)
    if kind is Kind.COUNTRY:
        bad = present & ~np.asarray(text.isin(reference.country_codes()), dtype=bool)
        fail(bad, Rule.UNKNOWN_COUNTRY)
        return text.where(~bad)
    if kind is Kind.CURRENCY:
        bad = present & ~np.asarray(text.isin(reference.currency_codes()), dtype=bool)
        fail(bad, Rule.UNKNOWN_CURRENCY)
        return text.where(~bad)
    if kind is Kind.ENUM:
        bad = present & ~np.asarray(text.isin(spec.choices), dtype=bool)
        fail(bad, Rule.NOT_A_CHOICE)
        return text.where(~bad)
    raise AssertionError(f"unhandled kind {kind}")


def _timestamp_series(series: pd.Series, present: np.ndarray, fail: Any) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series):
        parsed = pd.to_datetime(series, utc=True)
        bad = np.zeros(len(series), dtype=bool)
    else:
        text = _text_series(series).where(present)
        well_formed = present & _match(text, "timestamp")
        other = present & ~well_formed
        if other.any():  # other forms systems write (`_LOOSE_STAMP`), rewritten in Arrow
            loose = other & _match(text, "loose_stamp")
            if loose.any():
                rewritten = text[loose].str.upper()
                for pattern, replacement in _STAMP_REWRITES:
                    rewritten = rewritten.str.replace(pattern, replacement, regex=True)
                text = text.copy()
                text[loose] = rewritten
                well_formed = well_formed | loose
        parsed = _iso_timestamps(text.where(well_formed))
        bad = present & np.asarray(parsed.isna(), dtype=bool)
        fail(bad, Rule.MALFORMED)
    parsed = parsed.astype("datetime64[us, UTC]")
    micros = pd.DatetimeIndex(parsed).asi8  # NaT is the smallest int64
    known = micros != np.iinfo(np.int64).min
    out = present & ~bad & known & ((micros < _FIRST_US) | (micros >= _AFTER_LAST_US))
    fail(out, Rule.OUT_OF_RANGE)
    return parsed.where(~out)


_FIRST_US = int(np.datetime64(f"{MIN_YEAR}-01-01", "us").astype(np.int64))
_AFTER_LAST_US = int(np.datetime64(f"{MAX_YEAR + 1}-01-01", "us").astype(np.int64))


def _iso_timestamps(text: pd.Series) -> pd.Series:
    """ISO 8601 text to UTC timestamps: Arrow's parser when every value carries an offset,
    pandas otherwise (naive values are UTC); unreadable values become NaT."""
    try:
        array = (
            pa.array(text.array) if not hasattr(text.array, "_pa_array") else text.array._pa_array
        )
        stamps = pc.cast(array, pa.timestamp("us", tz="UTC"))
        return pd.Series(stamps.to_pandas(types_mapper=None), index=text.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")


def _number_series(kind: Kind, series: pd.Series, present: np.ndarray, fail: Any) -> pd.Series:
    integer = kind in (Kind.INT_MIN0, Kind.INT_MIN1)
    if pd.api.types.is_bool_dtype(series.dtype):
        numbers = pd.Series(np.nan, index=series.index)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    else:
        text = _text_series(series).where(present)
        ok = _match(text, "integer" if integer else "number")
        numbers = _cast_numbers(text.where(ok))
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    readable = np.isfinite(values)
    if integer:
        readable &= np.floor(values) == values
    bad = present & ~readable
    fail(bad, Rule.MALFORMED)
    if integer:
        low = 0 if kind is Kind.INT_MIN0 else 1
        in_range = (values >= low) & (values <= INTEGER_MAX)
    else:
        with np.errstate(invalid="ignore"):
            in_range = _in_range(kind, values)
    out = present & ~bad & ~in_range
    fail(out, Rule.OUT_OF_RANGE)
    keep = present & ~bad & ~out
    result = pd.Series(np.where(keep, values, np.nan), index=series.index)
    return result.astype("Int64") if integer else result


def _tidy_list(text: pd.Series) -> pd.Series:
    """Vectorised form of splitting on ``;``, trimming items and dropping empty ones.

    Only values with a separator can need it (the text is already trimmed), so the regular
    expressions run on those alone."""
    has_separator = np.asarray(
        text.str.contains(LIST_SEPARATOR, regex=False).fillna(False), dtype=bool
    )
    if not has_separator.any():
        return text.where(text != "")
    space = re.escape(_SPACE)
    part = text[has_separator]
    part = part.str.replace(f"[{space}]*{LIST_SEPARATOR}[{space}]*", LIST_SEPARATOR, regex=True)
    part = part.str.replace(f"{LIST_SEPARATOR}+", LIST_SEPARATOR, regex=True)
    part = part.str.strip(LIST_SEPARATOR)
    tidy = text.copy()
    tidy[has_separator] = part
    return tidy.where(tidy != "")


def _cast_numbers(text: pd.Series) -> pd.Series:
    """Numeric text (already matched by the number pattern) to float64, missing as NaN."""
    try:
        array = text.array._pa_array if hasattr(text.array, "_pa_array") else pa.array(text.array)
        numbers = pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(numbers, index=text.index, dtype="float64")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return pd.to_numeric(text, errors="coerce").astype("float64")


def _locode_list_series(
    series: pd.Series, present: np.ndarray, fail: Any, held: Mapping[int, Any]
) -> pd.Series:
    """Rows whose every item is a well-formed code are checked in bulk; the rare others go
    through `parse_scalar`, so both forms agree by construction: those ``held`` by position (a
    list with an item holding the separator) as the list they were."""
    text = _tidy_list(_text_series(series).where(present))
    codes = _upper_ascii(text).str.replace(" ", "", regex=False)
    pattern = f"{LOCODE_PATTERN}(?:{LIST_SEPARATOR}{LOCODE_PATTERN})*"
    bulk = present & np.asarray(codes.str.fullmatch(pattern).fillna(False), dtype=bool)
    if held:
        bulk[list(held)] = False
    result: pd.Series = codes.where(bulk).astype("string[pyarrow]")
    unknown_rows = np.zeros(len(series), dtype=bool)
    malformed_rows = np.zeros(len(series), dtype=bool)
    if bulk.any():
        lists = pa.array(codes[bulk].str.split(LIST_SEPARATOR).tolist(), type=pa.list_(pa.string()))
        items = pc.list_flatten(lists)
        parents = np.asarray(pc.list_parent_indices(lists))
        known = np.asarray(pc.is_in(items, pa.array(sorted(reference.known_port_codes()))))
        bulk_positions = np.flatnonzero(bulk)
        unknown_rows[bulk_positions[np.unique(parents[~known])]] = True
    spec = FieldSpec("transshipment_ports", Kind.LOCODE_LIST)
    for position in np.flatnonzero(present & ~bulk):
        value, rules = parse_scalar(spec, held.get(int(position), series.iloc[position]))
        result.iloc[int(position)] = LIST_SEPARATOR.join(value) if value else pd.NA
        malformed_rows[position] = Rule.MALFORMED in rules
        unknown_rows[position] = Rule.UNKNOWN_PORT in rules
    fail(malformed_rows, Rule.MALFORMED)
    fail(unknown_rows, Rule.UNKNOWN_PORT)
    return result


def parse_moment(text: str, option: str) -> datetime:
    """An ISO 8601 date or time (``2026-11-01``, ``2026-11-01T08:00:00+07:00``); one without a
    zone is UTC. A bad one is a `ConfigError` naming the option and the text."""
    text = text.strip()
    try:
        # the forms the contract reads (a lower-case t or z, +0700, seven decimals) read here too
        moment = datetime.fromisoformat(_normal_stamp(text) or text)
    except ValueError:
        raise ConfigError(
            f"{option}={text!r} is not an ISO 8601 date or time (for example 2026-11-01 or "
            "2026-11-01T08:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
