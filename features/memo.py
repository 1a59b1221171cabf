"""Per-value results of text rules, remembered across calls.

The API scores a few lines at a time, and the same parties, ports, HS codes and routes come back
call after call. Working a text value out (normalising, hashing, matching a lexicon) takes a
handful of Arrow or pandas calls whose fixed cost dwarfs a few lines, so values go through a table
first and only the values not seen yet are computed, by the same vectorised rule as ever. A rule's
result depends on its own row's values alone, so a remembered result equals a fresh one, whatever
else the batch holds.

Small batches look rows up directly; large ones compute once per distinct value (`per_value`)
or distinct tuple of values (`per_row`): a chunk of 200,000 lines holds a few thousand parties,
routes and codes. Memory is bounded: a table is emptied when it is full, and a column with more
distinct values than a table holds is computed without it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DISTINCT_FROM",
    "MAX_ENTRIES",
    "SMALL_BATCH",
    "encoded",
    "per_row",
    "per_value",
    "remembered",
]

MAX_ENTRIES = 20_000  # per table; a table is emptied when a call would take it past this
SMALL_BATCH = 512  # rows up to which values are looked up row by row
DISTINCT_FROM = 4_096  # rows from which `per_row` computes each distinct tuple of values once

_TABLES: dict[Hashable, dict[Any, Any]] = {}
Rule = Callable[..., npt.NDArray[Any]]


def remembered(
    rule: Hashable, keys: list[Any], compute: Callable[[pa.Array], list[Any]]
) -> list[Any]:
    """The remembered result of each key (never None); ``compute(positions)`` gives the results
    of the keys at ``positions`` (an Arrow array of the first occurrences of the keys not
    remembered yet), as a list."""
    table = _TABLES.setdefault(rule, {})
    found = list(map(table.get, keys))
    if None not in found:
        return found
    todo: dict[Any, int] = {}
    for i, result in enumerate(found):
        if result is None:
            todo.setdefault(keys[i], i)
    fresh = dict(zip(todo, compute(pa.array(list(todo.values()), type=pa.int64())), strict=True))
    if len(table) + len(fresh) > MAX_ENTRIES:
        table.clear()
    table.update(fresh)
    return [
        fresh[key] if result is None else result for key, result in zip(keys, found, strict=True)
    ]


_ENCODED: dict[int, tuple[weakref.ref[pa.Array], pa.DictionaryArray]] = {}


def encoded(values: pa.Array) -> pa.DictionaryArray:
    """``pc.dictionary_encode(values)``, once per array while the array lives: several rules
    and keys read the same column of a batch."""
    key = id(values)
    found = _ENCODED.get(key)
    if found is not None and found[0]() is values:
        return found[1]
    result = pc.dictionary_encode(values)

    def forget(_: weakref.ref[pa.Array], key: int = key) -> None:
        _ENCODED.pop(key, None)

    _ENCODED[key] = (weakref.ref(values, forget), result)
    return result


def _codes(values: pa.Array) -> npt.NDArray[np.int64]:
    """Each row's position in `encoded(values)`'s dictionary, plus one; 0 for a null."""
    indices = encoded(values).indices
    if indices.null_count:
        indices = pc.fill_null(indices, pa.scalar(-1, indices.type))
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    codes += 1
    return codes


def _per_distinct(
    columns: Sequence[pa.Array], compute: Rule, dtype: npt.DTypeLike
) -> npt.NDArray[Any]:
    """``compute(*columns)`` worked out once per distinct tuple of values and spread back to
    the rows: the same results, since each depends on its own row's values only."""
    n = len(columns[0])
    if len(columns) == 1:  # the dictionary's values (and a null) are the distinct values
        (column,) = columns
        dictionary = encoded(column).dictionary
        if 2 * len(dictionary) > n:
            return np.asarray(compute(column), dtype=dtype)
        values = pa.concat_arrays([pa.nulls(1, column.type), dictionary.cast(column.type)])
        return np.asarray(compute(values), dtype=dtype)[_codes(column)]
    codes = np.zeros(n, dtype=np.int64)
    width = 1
    for column in columns:
        size = len(encoded(column).dictionary) + 1
        if width * size >= 1 << 62:  # renumber the tuples so far before the codes overflow
            codes = pd.factorize(codes)[0].astype(np.int64)
            width = int(codes.max()) + 1
        codes = codes * size + _codes(column)
        width *= size
    inverse, distinct = pd.factorize(codes)
    if 2 * len(distinct) > n:
        return np.asarray(compute(*columns), dtype=dtype)  # mostly distinct: nothing to share
    at = np.empty(len(distinct), dtype=np.int64)
    at[inverse] = np.arange(n, dtype=np.int64)  # a row of each tuple (any one: all are equal)
    rows = pa.array(at, type=pa.int64())
    results = np.asarray(compute(*(column.take(rows) for column in columns)), dtype=dtype)
    return results[inverse]


def _listed(
    compute: Callable[[pa.Array], npt.NDArray[Any]], dtype: npt.DTypeLike
) -> Callable[[pa.Array], list[Any]]:
    return lambda at: np.asarray(compute(at), dtype=dtype).tolist()


def per_value(
    rule: Hashable,
    values: pa.Array,
    compute: Rule,
    dtype: npt.DTypeLike,
    missing: Any,
) -> npt.NDArray[Any]:
    """``compute`` of each row's value (``missing`` for nulls), remembered per value.

    ``compute`` takes an array of distinct non-null text values and returns one result per
    value, each depending on that value only.
    """
    if len(values) <= SMALL_BATCH:
        rows = values.to_pylist()
        if values.null_count == 0:
            found = remembered(rule, rows, _listed(lambda at: compute(values.take(at)), dtype))
            return np.array(found, dtype=dtype)
        present = [i for i, value in enumerate(rows) if value is not None]
        where = pa.array(present, type=pa.int64())
        out = np.full(len(rows), missing, dtype=dtype)
        out[present] = remembered(
            rule,
            [rows[i] for i in present],
            _listed(lambda at: compute(values.take(where.take(at))), dtype),
        )
        return out
    encoding = encoded(values)
    distinct = encoding.dictionary
    if len(distinct) <= MAX_ENTRIES:
        found = remembered(
            rule, distinct.to_pylist(), _listed(lambda at: compute(distinct.take(at)), dtype)
        )
        results = np.array(found, dtype=dtype)
    else:
        results = np.asarray(compute(distinct), dtype=dtype)
    results = np.append(results, np.array(missing, dtype=dtype))  # code -1: a null
    indices = encoding.indices
    if indices.null_count:
        indices = pc.coalesce(indices, pa.scalar(-1, indices.type))
    spread: npt.NDArray[Any] = results[np.asarray(indices.to_numpy(zero_copy_only=False))]
    return spread


def per_row(
    rule: Hashable,
    columns: Sequence[pa.Array] | Sequence[npt.NDArray[Any]],
    compute: Rule,
    dtype: npt.DTypeLike,
    *,
    small: int | None = None,
) -> npt.NDArray[Any]:
    """``compute(*columns)``, remembered per row's values in batches of up to ``small`` rows
    (`SMALL_BATCH` by default; less for rules that are cheap to compute anyway); from
    `DISTINCT_FROM` rows of Arrow text, computed once per distinct tuple of values.

    ``compute`` returns one result per row, each depending on that row's values only. The
    columns are Arrow text or NumPy arrays of integers (values that compare equal are the same
    value), all of one kind.
    """
    n = len(columns[0])
    arrow = isinstance(columns[0], pa.Array)
    if n > (SMALL_BATCH if small is None else min(small, SMALL_BATCH)):
        if arrow and n >= DISTINCT_FROM:
            return _per_distinct(columns, compute, dtype)
        return np.asarray(compute(*columns), dtype=dtype)
    values = (
        [column.to_pylist() for column in cast(Sequence[pa.Array], columns)]
        if arrow
        else [column.tolist() for column in cast(Sequence[npt.NDArray[Any]], columns)]
    )
    keys = values[0] if len(values) == 1 else list(zip(*values, strict=True))

    def fresh(at: pa.Array) -> npt.NDArray[Any]:
        if arrow:
            return compute(*(column.take(at) for column in columns))
        rows = at.to_numpy()
        return compute(*(column[rows] for column in columns))

    return np.array(remembered(rule, keys, _listed(fresh, dtype)), dtype=dtype)
