"""Check digits and code formats: ISO 6346 containers, IMO ship numbers, UN/LOCODE.

Each check has a scalar form (pydantic path, API) and a vectorised form (frame path) that share
their tables, so both give the same answer.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

__all__ = [
    "CONTAINER_PATTERN",
    "IMO_PATTERN",
    "LOCODE_PATTERN",
    "iso6346_check_digit",
    "iso6346_is_valid",
    "iso6346_valid_array",
    "imo_check_digit",
    "imo_is_valid",
    "imo_valid_array",
    "normalise_container",
    "normalise_imo",
]

CONTAINER_PATTERN = r"[A-Z]{3}[UJZ][0-9]{7}"
IMO_PATTERN = r"[0-9]{7}"
LOCODE_PATTERN = r"[A-Z]{2}[A-Z2-9]{3}"

_CONTAINER_RE = re.compile(CONTAINER_PATTERN)


def _letter_values() -> dict[str, int]:
    """A=10, B=12, ... skipping multiples of 11 (ISO 6346)."""
    values: dict[str, int] = {}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


_LETTER_VALUES = _letter_values()
# Byte -> ISO 6346 value lookup for the vectorised check.
_BYTE_VALUES = np.zeros(256, dtype=np.int64)
for _letter, _value in _LETTER_VALUES.items():
    _BYTE_VALUES[ord(_letter)] = _value
for _digit in range(10):
    _BYTE_VALUES[ord("0") + _digit] = _digit
_POWERS = 2 ** np.arange(10, dtype=np.int64)
_IMO_WEIGHTS = np.array([7, 6, 5, 4, 3, 2], dtype=np.int64)


def normalise_container(value: str) -> str:
    """Upper-case and drop spaces and hyphens (``CSQU 305438-3`` -> ``CSQU3054383``)."""
    return value.strip().upper().replace(" ", "").replace("-", "")


def normalise_imo(value: str) -> str:
    """Drop an ``IMO`` prefix and spaces (``IMO 9074729`` -> ``9074729``)."""
    text = value.strip().upper().replace(" ", "")
    return text[3:] if text.startswith("IMO") else text


def iso6346_check_digit(first_ten: str) -> int:
    """Check digit of the owner code, category and serial number (first 10 characters)."""
    total: int = sum(
        (_LETTER_VALUES[ch] if ch.isalpha() else int(ch)) * (2**i) for i, ch in enumerate(first_ten)
    )
    return total % 11 % 10


def iso6346_is_valid(number: str) -> bool:
    """True when ``number`` is well formed and its check digit is right."""
    if not _CONTAINER_RE.fullmatch(number):
        return False
    return iso6346_check_digit(number[:10]) == int(number[10])


def iso6346_valid_array(numbers: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Vectorised check digit test for numbers already known to be well formed."""
    arr = np.asarray(numbers, dtype="S11")
    if arr.size == 0:
        return np.zeros(0, dtype=bool)
    codes = arr.view(np.uint8).reshape(-1, 11)
    values = _BYTE_VALUES[codes[:, :10]]
    total = values @ _POWERS
    return np.asarray((total % 11 % 10) == (codes[:, 10].astype(np.int64) - ord("0")))


def imo_check_digit(first_six: str) -> int:
    return sum(int(d) * w for d, w in zip(first_six, (7, 6, 5, 4, 3, 2), strict=True)) % 10


def imo_is_valid(number: str) -> bool:
    if len(number) != 7 or not number.isascii() or not number.isdigit():
        return False
    return imo_check_digit(number[:6]) == int(number[6])


def imo_valid_array(numbers: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Vectorised IMO check digit test for 7-digit strings."""
    arr = np.asarray(numbers, dtype="S7")
    if arr.size == 0:
        return np.zeros(0, dtype=bool)
    digits = arr.view(np.uint8).reshape(-1, 7).astype(np.int64) - ord("0")
    return np.asarray((digits[:, :6] @ _IMO_WEIGHTS) % 10 == digits[:, 6])
