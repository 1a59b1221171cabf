"""Numbers written with a decimal comma, told in a file read without the mapping's number marks.

Vietnam, Indonesia and much of Europe write twelve thousand five hundred and a half as
``12.500,5``. The contract reads a decimal point, so without `decimal: ","` in a mapping such a
file's ``12,5`` is no number, and its ``12.500`` (twelve thousand five hundred) reads as twelve
and a half. Neither value is guessed here: a value that reads only in the decimal-comma writing
is told as such (`Rule.DECIMAL_COMMA`), and in a file that has shown that writing, a value that
reads a thousand times apart in the two (`Rule.THOUSANDS_OR_DECIMAL`) is not read at all.

Only the fields of real numbers are looked at (weights, values, quantities, probabilities): a
count ("1.200" packages) never reads as a fraction, and its text past a whole number is
malformed already.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from risk_engine.columns import FieldSpec, Kind
from risk_engine.parsing import plain_series

__all__ = [
    "DECIMAL_COMMA_HINT",
    "REAL_KINDS",
    "comma_written",
    "number_fields",
    "thousands_or_decimal",
]

REAL_KINDS = frozenset({Kind.POSITIVE, Kind.NON_NEGATIVE, Kind.PROBABILITY})

# Read only in the decimal-comma writing: a comma and decimals ("12,5", "0,500"), after
# thousands grouped with dots or spaces ("1.234,5", "12 500,25"), or dots grouping thousands
# more than once ("1.234.567"). Not "12,500": a comma grouping thousands in the English writing.
_COMMA = re.compile(
    r"[+-]?(?:(?:[0-9]{1,3}(?:[. \u00a0\u202f][0-9]{3})+|[0-9]+),[0-9]+"
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,})"
)
_ENGLISH_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")
# A thousands group after a dot ("12.500", "1.234"): a thousand times apart in the two writings.
# "0.500" is no grouped thousand, and one with a minus is out of range either way; a plus
# sign reads as none ("+12.500" was read as 12.5 beside "12.500" held in doubt).
_THOUSANDS_OR_DECIMAL = re.compile(r"\+?[1-9][0-9]{0,2}\.[0-9]{3}")
_SPACE = " \t\r\n\x0b\x0c\xa0\u2007\u202f\u3000"

DECIMAL_COMMA_HINT = (
    "numbers written with a decimal comma (12,5 or 12.500,5) are read with a mapping file that "
    'says so: decimal: "," (and thousands: "." when thousands are grouped with dots)'
)


def number_fields(specs: tuple[FieldSpec, ...]) -> list[str]:
    """The fields of real numbers among ``specs``."""
    return [spec.name for spec in specs if spec.kind in REAL_KINDS]


def _texts(series: pd.Series) -> pd.Series | None:
    """A column's text values in plain form, trimmed (numbers and other objects left out);
    None for a column of numbers."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return None
    if series.dtype == object:
        series = series.map(lambda value: value if isinstance(value, str) else None)
    if not len(series):
        return None
    text = plain_series(series.astype("string[pyarrow]"))
    return text.astype("string[pyarrow]").str.strip(_SPACE)


def _full(text: pd.Series, pattern: re.Pattern[str]) -> np.ndarray:
    return np.asarray(text.str.fullmatch(pattern.pattern).fillna(False), dtype=bool)


def comma_written(series: pd.Series) -> np.ndarray:
    """Where a column's text reads only as a number in the decimal-comma writing."""
    text = _texts(series)
    if text is None:
        return np.zeros(len(series), dtype=bool)
    return np.asarray(_full(text, _COMMA) & ~_full(text, _ENGLISH_THOUSANDS), dtype=bool)


def thousands_or_decimal(series: pd.Series) -> np.ndarray:
    """Where a column's text is a whole number of thousands in the decimal-comma writing and a
    fraction in the decimal-point one ("12.500")."""
    text = _texts(series)
    if text is None:
        return np.zeros(len(series), dtype=bool)
    return _full(text, _THOUSANDS_OR_DECIMAL)
