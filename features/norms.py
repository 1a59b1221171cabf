"""Robust z-scores of value per kg and kg per package against the history of the same goods.

A smuggler's declaration often stands out from what is normal for its HS line: far too cheap per
kg, or far too heavy per package. The norm of an HS6 line (and of an HS6 line from one origin) is
the median and interquartile range of earlier lines, read from a fixed-bin histogram of log10
values kept as counted events, so it is point-in-time and adds up over state and batch. Norms are
taken as of the start of the line's week (Monday 00:00 UTC): a line is compared with lines filed
in earlier weeks, which keeps the number of distinct lookups small. Value norms are per currency,
so no exchange rate is needed.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.batch import Batch
from features.index import EventIndex, Query
from features.keys import F64, I64, MISSING, U64, combine, hash_values
from features.row import log_kg_per_package, log_value_per_kg
from features.state import Contribution, FeatureState

__all__ = ["BINS", "NORMS", "NORM_PERIOD_DAYS", "Norm", "contributions", "features"]

NORM_PERIOD_DAYS = 7
BINS = 64
_IQR_TO_SIGMA = 1.349  # IQR of a normal distribution, in standard deviations


@dataclass(frozen=True)
class Norm:
    """One z-score: the feature, which log10 value it scores, the goods key, the bin range."""

    name: str
    value: Callable[[Batch], F64]
    key: Callable[[Batch], U64]
    low: float
    high: float

    @property
    def width(self) -> float:
        return (self.high - self.low) / BINS


def _value_per_kg(batch: Batch) -> F64:
    return batch.derived(
        "log_value_per_kg",
        lambda: log_value_per_kg(batch.numbers("declared_value"), batch.numbers("gross_weight_kg")),
    )


def _kg_per_package(batch: Batch) -> F64:
    return batch.derived(
        "log_kg_per_package",
        lambda: log_kg_per_package(
            batch.numbers("gross_weight_kg"), batch.numbers("package_count")
        ),
    )


NORMS: tuple[Norm, ...] = (
    Norm(
        "value_per_kg_z_hs6",
        _value_per_kg,
        lambda b: combine(b.hs6, b.currency, salt=201),
        -3.0,
        5.0,
    ),
    Norm(
        "value_per_kg_z_hs6_origin",
        _value_per_kg,
        lambda b: combine(b.hs6, b.origin, b.currency, salt=203),
        -3.0,
        5.0,
    ),
    Norm("kg_per_package_z_hs6", _kg_per_package, lambda b: b.hs6, -1.0, 5.0),
    Norm(
        "kg_per_package_z_hs6_origin",
        _kg_per_package,
        lambda b: combine(b.hs6, b.origin, salt=205),
        -1.0,
        5.0,
    ),
)
_BIN_KEYS = hash_values(np.arange(BINS), 207)


def _binned(norm: Norm, batch: Batch) -> tuple[U64, F64, I64]:
    """Goods key (MISSING where there is no value), log value and histogram bin of each line."""
    return batch.derived(f"bins:{norm.name}", lambda: _bin(norm, batch))


def _bin(norm: Norm, batch: Batch) -> tuple[U64, F64, I64]:
    value = norm.value(batch)
    key = norm.key(batch).copy()
    key[~np.isfinite(value)] = MISSING
    bins = np.clip(np.floor((value - norm.low) / norm.width), 0, BINS - 1)
    return key, value, np.where(np.isfinite(bins), bins, 0).astype(np.int64)


def contributions(batch: Batch, out: Contribution) -> None:
    """Add each line's histogram event (goods key and bin, at filed_at) to ``out``."""
    for norm in NORMS:
        out.counts[f"hist:{norm.name}"] = _batch_histogram(norm, batch)


def _batch_histogram(norm: Norm, batch: Batch) -> EventIndex:
    """The histogram events of the batch's own lines (built once per batch)."""

    def build() -> EventIndex:
        key, _, bins = _binned(norm, batch)
        return EventIndex.build(combine(key, _BIN_KEYS[bins], salt=209), batch.secs)

    return batch.derived(f"hist:{norm.name}", build)


def _quantiles(counts: F64, cdf: F64, total: F64, norm: Norm) -> F64:
    """The `_QUANTILES` of each row of histogram counts, one row of the result per quantile:
    linear within the bin the quantile falls in. All three in one pass (each value is worked
    out as it would be alone)."""
    target = np.multiply.outer(_QUANTILES, total)
    b = np.argmax(cdf[None, :, :] >= target[:, :, None], axis=2)
    rows = np.arange(b.shape[1])[None, :]
    before = np.where(b > 0, cdf[rows, np.maximum(b - 1, 0)], 0.0)
    inside = np.maximum(counts[rows, b], 1.0)
    inner = np.clip((target - before) / inside, 0.0, 1.0)
    return np.asarray(norm.low + norm.width * (b + inner), dtype=np.float64)


_QUANTILES = np.array([0.25, 0.5, 0.75])


def features(batch: Batch, state: FeatureState, *, own_lines: bool = True) -> dict[str, F64]:
    """Robust z of each line against the goods' history before its week; NaN when the
    goods have fewer than ``min_norm_count`` earlier lines (or the line has no value).

    History is the state's plus the batch's own lines filed before the week starts (the same
    events `contributions` adds); the state's alone without ``own_lines`` (lines it holds
    already)."""
    period = batch.period_start(NORM_PERIOD_DAYS)
    out: dict[str, F64] = {}
    for norm in NORMS:
        key, value, _ = _binned(norm, batch)
        z = np.full(batch.n, np.nan)
        present = np.flatnonzero(key != MISSING)
        if len(present):
            lookup = combine(key[present], period[present].astype(np.uint64), salt=211)
            # distinct (goods, week) in order of appearance: rows are scored independently
            inverse, distinct = pd.factorize(lookup)
            first = np.empty(len(distinct), dtype=np.int64)
            first[inverse] = np.arange(len(inverse), dtype=np.int64)  # any row of each
            u_key, u_period = key[present][first], period[present][first]
            name = f"hist:{norm.name}"
            # Goods with lines of this batch filed before the week start (a manifest filed
            # across a Monday) need their counts; the others take the state's remembered norms.
            own = (
                _counted_by_batch(key[present], batch.secs[present], first, u_period)
                if own_lines
                else np.zeros(len(first), dtype=bool)
            )
            total, median, scale = (np.empty(len(first)) for _ in range(3))
            at = np.flatnonzero(own)
            if len(at):
                found = _batch_statistics(norm, batch, state, u_key[at], u_period[at])
                total[at], median[at], scale[at] = found
            at = np.flatnonzero(~own)
            if len(at):
                found = _state_statistics(norm, state.count(name), u_key[at], u_period[at])
                total[at], median[at], scale[at] = found
            enough = total >= state.params.min_norm_count
            score = np.where(enough, 0.0, np.nan)[inverse]
            score += (value[present] - median[inverse]) / scale[inverse]
            z[present] = score
        out[norm.name] = z
    return out


def _counted_by_batch(key: U64, secs: I64, first: I64, u_period: I64) -> np.ndarray:
    """Whether any line of the batch with the goods key of each distinct (goods, week start)
    was filed before that week start, so that its own histogram events count in the norm."""
    if len(first) * len(key) <= _DIRECT_CELLS:  # a manifest: compare every pair
        return np.asarray(_earlier(key, secs, key[first], u_period).any(axis=1))
    codes, _ = pd.factorize(key)
    earliest = np.full(int(codes.max()) + 1 if len(codes) else 0, np.iinfo(np.int64).max)
    np.minimum.at(earliest, codes, secs)
    return np.asarray(earliest[codes[first]] < u_period)


def _batch_statistics(
    norm: Norm, batch: Batch, state: FeatureState, u_key: U64, u_period: I64
) -> tuple[F64, F64, F64]:
    """Norms from the state's histogram plus the batch's own lines filed before the week."""
    history = state.count(f"hist:{norm.name}")
    if len(u_key) * batch.n > _DIRECT_CELLS:
        query = _cells(u_key, u_period)
        counts = history.sum_before(query)[:, 0]
        counts = counts + _batch_histogram(norm, batch).sum_before(query)[:, 0]
        return _statistics(norm, counts.reshape(len(u_key), BINS))
    # a manifest: the state's counts of each (goods, week) are remembered, and the manifest's
    # earlier lines of the same goods are counted by bin directly (the same whole numbers the
    # batch histogram gives, without building and querying it)
    found = _remembered(
        history,
        "counts",
        u_key,
        u_period,
        lambda at: list(
            history.sum_before(_cells(u_key[at], u_period[at]))[:, 0].reshape(-1, BINS)
        ),
    )
    key, _, bins = _binned(norm, batch)
    row, line = np.nonzero(_earlier(key, batch.secs, u_key, u_period))
    own = np.bincount(row * BINS + bins[line], minlength=len(u_key) * BINS)
    counts = np.array(found, dtype=np.float64) + own.reshape(len(u_key), BINS)
    return _statistics(norm, counts)


def _earlier(key: U64, secs: I64, u_key: U64, u_period: I64) -> np.ndarray:
    """(goods-week, line): whether the line has the goods and was filed before the week start."""
    earlier: np.ndarray = (key[None, :] == u_key[:, None]) & (secs[None, :] < u_period[:, None])
    return earlier


# Up to this many (goods-week, line) pairs a batch is a manifest, whose own histogram counts
# are taken directly.
_DIRECT_CELLS = 200_000


def _cells(u_key: U64, u_period: I64) -> Query:
    """Every histogram cell of each (goods, week start), as a lookup at the week start."""
    cells = combine(np.repeat(u_key, BINS), np.tile(_BIN_KEYS, len(u_key)), salt=209)
    return Query.of(cells, np.repeat(u_period, BINS))


def _statistics(norm: Norm, counts: F64) -> tuple[F64, F64, F64]:
    """Lines, median and scale of each row of histogram counts."""
    total = counts.sum(axis=1)
    cdf = np.cumsum(counts, axis=1)
    low, median, high = _quantiles(counts, cdf, total, norm)
    spread = high - low
    scale = np.maximum(spread / _IQR_TO_SIGMA, norm.width)
    return total, median, scale


# Rows of a state's histogram per (goods, week start), per histogram index: an index never
# changes once built (`update` makes new ones), and the API asks for the same goods week after
# week. Rows are independent, so a remembered row equals a fresh one. "statistics" rows are
# (lines, median, scale) of the state alone; "counts" rows are the 64 bin counts, for goods
# whose norm also counts lines of the manifest itself.
_REMEMBERED: weakref.WeakKeyDictionary[EventIndex, dict[str, dict[tuple[int, int], Any]]] = (
    weakref.WeakKeyDictionary()
)
_REMEMBER_MAX = {"statistics": 100_000, "counts": 10_000}


def _remembered(
    history: EventIndex,
    what: str,
    u_key: U64,
    u_period: I64,
    compute: Callable[[I64], list[Any]],
) -> list[Any]:
    """The rows of ``what`` for each (goods, week start); ``compute`` works out the rows (by
    position) not remembered yet."""
    table = _REMEMBERED.setdefault(history, {}).setdefault(what, {})
    cells = list(zip(u_key.tolist(), u_period.tolist(), strict=True))
    found = [table.get(cell) for cell in cells]
    todo = [i for i, row in enumerate(found) if row is None]
    if todo:
        fresh = compute(np.asarray(todo, dtype=np.int64))
        if len(table) + len(todo) > _REMEMBER_MAX[what]:
            table.clear()
        for i, row in zip(todo, fresh, strict=True):
            found[i] = table[cells[i]] = row
    return found


def _state_statistics(
    norm: Norm, history: EventIndex, u_key: U64, u_period: I64
) -> tuple[F64, F64, F64]:
    def compute(at: I64) -> list[Any]:
        counts = history.sum_before(_cells(u_key[at], u_period[at]))[:, 0]
        statistics = _statistics(norm, counts.reshape(len(at), BINS))
        return list(zip(*(column.tolist() for column in statistics), strict=True))

    found = _remembered(history, "statistics", u_key, u_period, compute)
    total, median, scale = (
        np.array(column, dtype=np.float64) for column in zip(*found, strict=True)
    )
    return total, median, scale
