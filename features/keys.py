"""Stable 64-bit keys for entities (parties, lanes, goods) and whole-second times.

History lives in the fitted state as hashed keys, so the state never stores names and the same key
comes out for the same entity in training, batch and API scoring. Hash 0 means "missing": a row
whose entity is blank gets no history for it. Text is factorised first and only the distinct
values are normalised and hashed, so a million rows cost a few distinct-value operations.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MISSING",
    "NO_TIME",
    "U64",
    "I64",
    "F64",
    "mix",
    "combine",
    "hash_text",
    "hash_values",
    "normalise_party",
    "party_key",
    "seconds",
    "text_array",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

MISSING: Final = np.uint64(0)
NO_TIME: Final = np.iinfo(np.int64).min  # a missing timestamp, in seconds

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_LEGAL_FORMS = (
    "CO",
    "COMPANY",
    "CORP",
    "CORPORATION",
    "INC",
    "LTD",
    "LIMITED",
    "LLC",
    "JSC",
    "BV",
    "NV",
    "GMBH",
    "SA",
    "SARL",
    "SRL",
    "PLC",
    "PTE",
    "PVT",
    "SDN",
    "BHD",
)
_LEGAL_TAIL = re.compile(r"(?:\s(?:" + "|".join(_LEGAL_FORMS) + r"))+$")


def mix(words: npt.NDArray[np.uint64]) -> U64:
    """The splitmix64 finaliser, element-wise (wrapping arithmetic): spreads bits of a key."""
    with np.errstate(over="ignore"):
        z = words + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def _nonzero(hashed: U64) -> U64:
    """A real key never hashes to MISSING."""
    hashed[hashed == MISSING] = np.uint64(1)
    return hashed


def combine(*parts: U64, salt: int = 0) -> U64:
    """Key of a tuple of keys (a shipper-consignee pair); MISSING when any part is missing."""
    out = np.full(len(parts[0]), np.uint64(salt), dtype=np.uint64)
    missing = np.zeros(len(parts[0]), dtype=bool)
    for part in parts:
        out = mix(out ^ mix(part))
        missing |= part == MISSING
    out = _nonzero(out)
    out[missing] = MISSING
    return out


def hash_values(values: npt.ArrayLike, salt: int) -> U64:
    """Hash of each (non-missing) value, salted so equal text of two entity types differs."""
    array = np.asarray(values, dtype=object)
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint64)
    hashed = pd.util.hash_array(array, categorize=False).astype(np.uint64)
    return _nonzero(mix(hashed ^ mix(np.full(len(array), salt, dtype=np.uint64))))


def text_array(series: pd.Series) -> pa.Array:
    """A text column as one Arrow large_string array (nulls for missing), zero-copy when the
    column is Arrow-backed; categorical columns are decoded."""
    try:
        array = pa.array(series.array)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        values = np.asarray(series.astype(object).where(series.notna(), None), dtype=object)
        array = pa.array(values, type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.large_string())
    return array


def hash_text(
    series: pd.Series | pa.Array, salt: int, *, normalise: bool = False, drop: str | None = None
) -> U64:
    """Key per row of a text column; blank text (after normalising) is MISSING.

    ``drop`` is a regular expression: normalised values it matches are MISSING too (a TO ORDER
    consignee is not a party with a history).
    """
    array = series if isinstance(series, pa.Array) else text_array(series)
    encoded = pc.dictionary_encode(array)
    if normalise:
        hashed = _party_hashes(encoded.dictionary, salt, drop)
    else:
        hashed = _hash_distinct(encoded.dictionary, salt, normalise, drop)
    hashed = np.append(hashed, MISSING)  # code -1: a missing value
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    return np.asarray(hashed[codes], dtype=np.uint64)


def _hash_distinct(values: pa.Array, salt: int, normalise: bool, drop: str | None) -> U64:
    """Hash of each distinct text value (MISSING for blank or dropped values)."""
    if normalise:
        values = normalise_party(values)
    hashed = hash_values(values.to_numpy(zero_copy_only=False), salt)
    blank = np.asarray(pc.fill_null(pc.equal(pc.utf8_length(values), 0), True), dtype=bool)
    if drop is not None and len(values):
        matched = pc.match_substring_regex(values, drop)
        blank |= np.asarray(pc.fill_null(matched, False), dtype=bool)
    hashed[blank] = MISSING
    return hashed


_PARTY_CACHE: dict[tuple[int, str | None, str], np.uint64] = {}
_PARTY_CACHE_MAX = 500_000


def _party_hashes(values: pa.Array, salt: int, drop: str | None) -> U64:
    """`_hash_distinct` of party names, remembered per name: the API scores the same parties
    over and over, and normalising names costs regular expressions. The result is the same
    whether a name was cached or not."""
    names = values.to_pylist()
    out = np.zeros(len(names), dtype=np.uint64)
    todo = []
    for i, name in enumerate(names):
        found = _PARTY_CACHE.get((salt, drop, name))
        if found is None:
            todo.append(i)
        else:
            out[i] = found
    if todo:
        fresh = _hash_distinct(values.take(pa.array(todo)), salt, True, drop)
        out[todo] = fresh
        if len(_PARTY_CACHE) + len(todo) > _PARTY_CACHE_MAX:
            _PARTY_CACHE.clear()
        for i, value in zip(todo, fresh, strict=True):
            _PARTY_CACHE[(salt, drop, names[i])] = value
    return out


def normalise_party(values: pa.Array) -> pa.Array:
    """Upper case, punctuation to spaces, trailing legal forms dropped: "Foo Co., Ltd" = "FOO"."""
    array = pc.utf8_upper(values)
    array = pc.replace_substring_regex(array, r"[^A-Z0-9]+", " ")
    array = pc.utf8_trim_whitespace(array)
    return pc.replace_substring_regex(array, _LEGAL_TAIL.pattern, "")


def party_key(
    name: pd.Series | pa.Array,
    country: pd.Series | pa.Array | None,
    salt: int,
    *,
    drop: str | None = None,
) -> U64:
    """Key of a party: normalised name, plus its country when given (missing name: MISSING)."""
    named = hash_text(name, salt, normalise=True, drop=drop)
    if country is None:
        return named
    place = hash_text(country, salt + 1)
    place[place == MISSING] = np.uint64(2)  # a named party without a country is still a party
    keyed = combine(named, place, salt=salt)
    return keyed


def seconds(series: pd.Series) -> I64:
    """Whole seconds since 1970 (UTC) of a timestamp column; NO_TIME where missing."""
    values = series.to_numpy(dtype="datetime64[s]", na_value=np.datetime64("NaT"))
    return values.astype(np.int64)
