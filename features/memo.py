"""Per-value results of text rules, remembered across calls.

The API scores a few lines at a time, and the same parties, ports, HS codes and routes come back
call after call. Working a text value out (normalising, hashing, matching a lexicon) takes a
handful of Arrow or pandas calls whose fixed cost dwarfs a few lines, so values go through a table
first and only the values not seen yet are computed, by the same vectorised rule as ever. A rule's
result depends on its own row's values alone, so a remembered result equals a fresh one, whatever
else the batch holds.

Small batches look rows up directly; large ones compute as before (`per_row`) or look up their
distinct values (`per_value`). Memory is bounded: a table is emptied when it is full, and a
column with more distinct values than a table holds is computed without it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_ENTRIES", "SMALL_BATCH", "per_row", "per_value", "remembered"]

MAX_ENTRIES = 20_000  # per table; a table is emptied when a call would take it past this
SMALL_BATCH = 512  # rows up to which values are looked up row by row

_TABLES: dict[Hashable, dict[Any, Any]] = {}
Rule = Callable[..., npt.NDArray[Any]]


def remembered(
    rule: Hashable, keys: list[Any], compute: Callable[[pa.Array], list[Any]]
) -> list[Any]:
    """The remembered result of each key (never None); ``compute(positions)`` gives the results
    of the keys at ``positions`` (an Arrow array of the first occurrences of the keys not
    remembered yet), as a list."""
    table = _TABLES.setdefault(rule, {})
    get = table.get
    found = [get(key) for key in keys]
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
    encoded = pc.dictionary_encode(values)
    distinct = encoded.dictionary
    if len(distinct) <= MAX_ENTRIES:
        found = remembered(
            rule, distinct.to_pylist(), _listed(lambda at: compute(distinct.take(at)), dtype)
        )
        results = np.array(found, dtype=dtype)
    else:
        results = np.asarray(compute(distinct), dtype=dtype)
    results = np.append(results, np.array(missing, dtype=dtype))  # code -1: a null
    indices = encoded.indices
    if indices.null_count:
        indices = pc.coalesce(indices, pa.scalar(-1, indices.type))
    return results[np.asarray(indices.to_numpy(zero_copy_only=False))]


def per_row(
    rule: Hashable,
    columns: Sequence[pa.Array] | Sequence[npt.NDArray[Any]],
    compute: Rule,
    dtype: npt.DTypeLike,
    *,
    small: int | None = None,
) -> npt.NDArray[Any]:
    """``compute(*columns)``, remembered per row's values in batches of up to ``small`` rows
    (`SMALL_BATCH` by default; less for rules that are cheap to compute anyway).

    ``compute`` returns one result per row, each depending on that row's values only. The
    columns are Arrow text or NumPy arrays of integers (values that compare equal are the same
    value), all of one kind.
    """
    n = len(columns[0])
    if n > (SMALL_BATCH if small is None else min(small, SMALL_BATCH)):
        return np.asarray(compute(*columns), dtype=dtype)
    arrow = isinstance(columns[0], pa.Array)
    values = [column.to_pylist() if arrow else column.tolist() for column in columns]
    keys = values[0] if len(values) == 1 else list(zip(*values, strict=True))

    def fresh(at: pa.Array) -> npt.NDArray[Any]:
        if arrow:
            return compute(*(column.take(at) for column in columns))
        rows = at.to_numpy()
        return compute(*(column[rows] for column in columns))

    return np.array(remembered(rule, keys, _listed(fresh, dtype)), dtype=dtype)
