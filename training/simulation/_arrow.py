"""Vectorised text building on Arrow arrays (a million ids in a fraction of a second)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["digits", "join", "lookup", "null_where", "seconds_to_timestamps"]


def lookup(table: Sequence[str | None] | npt.NDArray[np.object_], index: npt.ArrayLike) -> pa.Array:
    """``table[index]`` as strings; a negative index gives null."""
    idx = np.asarray(index, dtype=np.int64)
    values = pa.array(list(table), type=pa.string())
    return pc.take(values, pa.array(np.maximum(idx, 0), mask=idx < 0))


def digits(values: npt.ArrayLike, width: int) -> pa.Array:
    """Non-negative integers as zero-padded decimal text."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0")


def join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation; null when any part is null."""
    return pc.binary_join_element_wise(*parts, "")


def null_where(mask: npt.NDArray[np.bool_], values: pa.Array) -> pa.Array:
    """``values`` with nulls where ``mask`` is true."""
    return pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)


def seconds_to_timestamps(
    epoch_seconds: int, seconds: npt.NDArray[np.int64], missing: npt.NDArray[np.bool_]
) -> pa.Array:
    """Seconds since the world's epoch as UTC timestamps (microseconds); null where missing."""
    micros = (np.asarray(seconds, dtype=np.int64) + epoch_seconds) * 1_000_000
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"), mask=np.asarray(missing))
