"""Reason codes: the top feature contributions (``models.attribution``), grouped into sentences an
officer understands ("consignee first seen 3 days before filing").

Contributions are in raw log-odds and add up, with the bias, to the raw score; features of one
group (for example the consignee's history) are summed and told as one reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.columns import MatrixColumns

__all__ = ["explain", "group_contributions"]


def _catalogue() -> tuple[Any, Any, Any]:
    """(feature -> reason group, (feature, value) -> sentence, feature -> the feature missing
    when a line has no such entity, `Feature.present_if`) from the feature catalogue."""
    from features import catalogue

    def group(name: str) -> str:
        return str(catalogue.by_name(name).family)

    def present_if(name: str) -> str:
        return str(catalogue.by_name(name).present_if)

    def text_of(name: str, value: Any) -> str:
        if isinstance(value, _Unseen):
            return str(catalogue.unseen_reason(name, value.value))
        return str(catalogue.reason(name, value))

    return group, text_of, present_if


def _is_rate(name: str) -> bool:
    """Whether a feature is a smoothed seizure rate (`Feature.rate`)."""
    from features import catalogue

    return bool(catalogue.by_name(name).rate)


def _unseen_if(name: str) -> str:
    """The feature missing when the line's party was never seen (`Feature.unseen_if`)."""
    from features import catalogue

    return str(catalogue.by_name(name).unseen_if)


# A value with nothing to tell: a missing value of a line that has no such entity at all.
_ABSENT = object()


@dataclass(frozen=True)
class _Unseen:
    """A party's rate on a line whose party was never seen: the overall rate, told so."""

    value: Any


@dataclass(frozen=True)
class _Layout:
    """The reason groups of a list of model columns: what every call with those names shares."""

    groups: list[str]  # in order of first appearance
    group_of: list[int]  # each column's group
    group_index: np.ndarray  # the same, as an array
    columns_of: list[np.ndarray]  # each group's columns, in column order


def _layout(names: list[str]) -> _Layout:
    """The groups of ``names``, worked out once per distinct list (a model has one)."""
    key = tuple(names)
    layout = _LAYOUTS.get(key)
    if layout is None:
        group_of, _, _ = _catalogue()
        members: dict[str, list[int]] = {}
        for column, name in enumerate(names):
            members.setdefault(group_of(name), []).append(column)
        groups = list(members)
        index = {group: g for g, group in enumerate(groups)}
        group_by_column = [index[group_of(name)] for name in names]
        columns_of = [np.asarray(members[group]) for group in groups]
        if len(_LAYOUTS) >= 16:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _Layout(
            groups, group_by_column, np.asarray(group_by_column, dtype=np.intp), columns_of
        )
    return layout


_LAYOUTS: dict[tuple[str, ...], _Layout] = {}


def _summed(contrib: np.ndarray, layout: _Layout) -> np.ndarray:
    """Contributions (without the bias column) summed by group, in column order.

    A few rows are added in one unbuffered ``np.add.at`` (which adds in index order, so the
    same floats as the column loop, bit for bit); more rows column by column, which is faster
    there."""
    n, width = contrib.shape[0], len(layout.group_of)
    if n <= _FEW_ROWS:
        summed = np.zeros((len(layout.groups), n))
        np.add.at(summed, layout.group_index, contrib[:, :width].T)
        return summed.T
    summed = np.zeros((n, len(layout.groups)))
    for column, group in enumerate(layout.group_of):
        summed[:, group] += contrib[:, column]
    return summed


_FEW_ROWS = 100


def group_contributions(contrib: np.ndarray, names: list[str]) -> tuple[list[str], np.ndarray]:
    """Sum contributions (without the bias column) by reason group: (groups, matrix)."""
    layout = _layout(names)
    return list(layout.groups), _summed(contrib, layout)


def _as_objects(column: pd.Series) -> np.ndarray:
    """A column's values as plain Python objects (``astype(object)``); NumPy numbers and flags
    convert without pandas, which costs more than the values on the request path."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return np.asarray(column.to_numpy()).astype(object)
    return np.asarray(column.astype(object).to_numpy())


# Sentences by (feature, value), across calls: the API tells the same few values of a feature
# request after request. A sentence depends on its feature and value alone; the table is
# emptied when it grows past the bound. NaN (never equal to itself) is keyed by one marker.
_SENTENCES: dict[tuple[str, type, Any], str] = {}
_MAX_SENTENCES = 50_000
_NAN = object()


def explain(
    contrib: np.ndarray,
    features: pd.DataFrame,
    names: list[str],
    *,
    top: int = 3,
    floats: MatrixColumns | None = None,
    overall: float | None = None,
) -> list[list[str]]:
    """For each row, up to ``top`` sentences for the groups that raised the score most.

    Each sentence tells the group's strongest feature for that row; when its value has nothing
    to say (a missing value without a text), the group's next positive feature is told instead,
    and when none of the group's has, the next group that raised the score is. Groups and leads
    are chosen with array operations, and each distinct (feature, value) sentence is written
    once (`_SENTENCES`). ``floats``, the model matrix of the same rows, gives the float columns
    it holds without reading them from the frame.

    With ``overall`` (the overall seizure rate, `FeaturePipeline.overall_rate`), a seizure rate
    that is not above it, as told (to 0.1 %), has nothing to tell: a rate below the overall
    rate read as a reason to open a container, and one at it (an entity inspected rarely or
    never) as the entity's own record. A party never seen keeps its text (`_Unseen`)."""
    _, text_of, present_if = _catalogue()
    layout = _layout(names)
    groups, columns_of = layout.groups, layout.columns_of
    n = contrib.shape[0]
    if n == 0 or not groups:
        return [[] for _ in range(n)]
    summed = _summed(contrib, layout)
    # The strongest feature of every group, per row (argmax keeps the first of equal values,
    # as a stable sort by decreasing contribution does).
    lead = np.empty((n, len(groups)), dtype=np.int64)
    for g, columns in enumerate(columns_of):
        lead[:, g] = columns[np.argmax(contrib[:, columns], axis=1)]
    # Every group in order; the first ``top`` are told in array operations, and a row that
    # tells less from them goes on to the next groups one by one (after its first ``top``).
    every = np.argsort(-summed, axis=1, kind="stable")
    order = every[:, :top]
    chosen = np.take_along_axis(lead, order, axis=1)
    rows = np.arange(n)[:, None]
    ranked = np.take_along_axis(summed, order, axis=1)
    told = (ranked > 0) & (contrib[rows, chosen] > 0)
    # Values as plain Python objects, converted once per column that is told.
    converted: dict[int, np.ndarray] = {}

    def blank(name: str) -> np.ndarray:
        """Where a column (present in the frame) is missing, read from the matrix if it
        holds it."""
        known = None if floats is None else floats.get(name)
        if known is None:
            return np.asarray(features[name].isna().to_numpy(dtype=bool))
        return np.asarray(np.isnan(known))

    def values_of(column: int) -> np.ndarray:
        if column not in converted:
            name = names[column]
            read = None if floats is None else floats.get(name)
            # float values as objects, as `_as_objects` converts them
            values = _as_objects(features[name]) if read is None else read.astype(object)
            missing = pd.isna(values)
            entity = present_if(name)
            unseen_if = _unseen_if(name)
            unseen = np.zeros(len(values), dtype=bool)
            if unseen_if and unseen_if in features.columns:
                unseen = ~missing & blank(unseen_if)
                if unseen.any():
                    values = values.copy()  # never written through to the frame
                    values[unseen] = [_Unseen(value) for value in values[unseen]]
            if overall is not None and _is_rate(name):
                rates = (
                    features[name].to_numpy(dtype=np.float64, na_value=np.nan)
                    if read is None
                    else read
                )
                with np.errstate(invalid="ignore"):
                    low = np.round(rates * 1000) <= np.round(overall * 1000)
                low &= ~missing & ~unseen
                if low.any():
                    values = values.copy()
                    values[low] = _ABSENT
            if entity and entity in features.columns:
                absent = missing & blank(entity)
                if absent.any():
                    values = values.copy()
                    values[absent] = _ABSENT
            converted[column] = values
        return converted[column]

    memo = _SENTENCES
    if len(memo) > _MAX_SENTENCES:
        memo.clear()

    def sentence(column: int, value: Any) -> str:
        if value is _ABSENT:
            return ""
        name = names[column]
        key = (name, type(value), _NAN if value != value else value)  # _Unseen: its own type
        text = memo.get(key)
        if text is None:
            text = memo[key] = str(text_of(name, value))
        return text

    # Sentences for every chosen (row, lead), one column at a time.
    sentences = np.full(chosen.shape, "", dtype=object)
    for column in np.unique(chosen[told]).tolist():
        where = told & (chosen == column)
        values = values_of(column)[np.nonzero(where)[0]]
        sentences[where] = [sentence(column, value) for value in values]
    # Row by row on flat Python lists: indexing NumPy arrays one cell at a time costs more, and
    # a list per row would keep the garbage collector busy on large inputs.
    width = order.shape[1]
    sums, texts = ranked.ravel().tolist(), sentences.ravel().tolist()
    tells, slots = told.ravel().tolist(), order.ravel().tolist()
    reasons: list[list[str]] = []
    for row in range(n):
        out: list[str] = []
        for cell in range(row * width, (row + 1) * width):
            if sums[cell] <= 0:
                break
            text = texts[cell]
            if not text and tells[cell]:
                text = _next_told(contrib[row], columns_of[slots[cell]], row, values_of, sentence)
            if text:
                out.append(text)
        if len(out) < top and order.shape[1] < every.shape[1]:
            for g in every[row, width:].tolist():
                if len(out) == top or summed[row, g] <= 0:
                    break
                column = int(lead[row, g])
                text = sentence(column, values_of(column)[row])
                if not text:
                    text = _next_told(contrib[row], columns_of[g], row, values_of, sentence)
                if text:
                    out.append(text)
        reasons.append(out)
    return reasons


def _next_told(
    contrib: np.ndarray,
    columns: np.ndarray,
    row: int,
    values_of: Callable[[int], np.ndarray],
    sentence: Callable[[int, Any], str],
) -> str:
    """The first positive feature of a group, by decreasing contribution, with something to
    say (the strongest one had not)."""
    own = contrib[columns]
    order = np.argsort(-own, kind="stable")
    for lead, value in zip(columns[order].tolist(), own[order].tolist(), strict=True):
        if value <= 0:
            break
        text = sentence(lead, values_of(lead)[row])
        if text:
            return text
    return ""
