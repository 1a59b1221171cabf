"""A line filed again: whether its consignee is the one it was first filed with.

A line (bl_number, container_number) can reach customs more than once: filed, then sent again
amended. The state keeps, per line it holds, the consignee of its first filing
(`FeatureState.first_filings`); lines of the same batch read each other the same way, point in
time: a filing sees the filings of its line with an earlier version (`Batch.versions`: the last
amendment, else filed_at), so the original and its amendment in one file read as they do in
two, and a filing scored again reads as it did.
"""

from __future__ import annotations

import numpy as np

from features.batch import Batch
from features.index import new_run, sort_order
from features.keys import F64, I64
from features.state import FeatureState, consignee_mark

__all__ = ["consignee_changed", "features"]

_NO_FILING = np.iinfo(np.int64).max


def consignee_changed(
    mark: np.ndarray, version: I64, first_mark: np.ndarray, first_version: I64
) -> F64:
    """1 when the line's consignee differs from the one its line was first filed with, 0 when
    it is the same; NaN when no earlier filing of the line is known (or either consignee is
    unknown: mark 0)."""
    out = np.full(len(mark), np.nan, dtype=np.float64)
    told = (first_version < version) & (first_mark != 0) & (mark != 0)
    out[told] = (mark[told] != first_mark[told]).astype(np.float64)
    return out


def _batch_firsts(keys: np.ndarray, versions: I64, marks: np.ndarray) -> tuple[np.ndarray, I64]:
    """Each line's first filing among the batch's lines of the same key: its consignee mark
    and version (of two at the same second, the smaller mark, whatever the row order)."""
    first_mark = marks.copy()
    first_version = versions.copy()
    if len(keys) < 2:
        return first_mark, first_version
    order = sort_order(keys, versions)
    new = new_run(keys[order])
    if new.all():  # every line once: each is its own first filing
        return first_mark, first_version
    run = np.cumsum(new) - 1
    size = np.bincount(run)
    again = order[size[run] > 1]  # rows of lines filed more than once in the batch
    pick = np.lexsort((marks[again], versions[again], keys[again]))
    rows = again[pick]
    starts = new_run(keys[rows])
    head = rows[np.flatnonzero(starts)[np.cumsum(starts) - 1]]
    first_mark[rows] = marks[head]
    first_version[rows] = versions[head]
    return first_mark, first_version


def features(batch: Batch, state: FeatureState, *, own_lines: bool = True) -> dict[str, F64]:
    """``consignee_changed`` of each line, from the first filings the state holds and, with
    ``own_lines``, the batch's own earlier filings."""
    if not batch.n:
        return {"consignee_changed": np.zeros(0, dtype=np.float64)}
    keys, versions = batch.shipment, batch.versions
    marks = consignee_mark(batch.consignee_written)
    if own_lines:
        first_mark, first_version = _batch_firsts(keys, versions, marks)
    else:
        first_mark = np.zeros(batch.n, dtype=np.uint32)
        first_version = np.full(batch.n, _NO_FILING, dtype=np.int64)
    if state.knows_lines():
        held_mark, held_version = state.first_filings(keys)
        earlier = (held_version < first_version) | (
            (held_version == first_version) & (held_mark < first_mark)
        )
        first_mark = np.where(earlier, held_mark, first_mark)
        first_version = np.where(earlier, held_version, first_version)
    return {"consignee_changed": consignee_changed(marks, versions, first_mark, first_version)}
