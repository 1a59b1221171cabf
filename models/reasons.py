"""Reason codes: the top feature contributions (``models.attribution``), grouped into sentences an
officer understands ("consignee first seen 3 days before filing").

Contributions are in raw log-odds and add up, with the bias, to the raw score; features of one
group (for example the consignee's history) are summed and told as one reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["explain", "group_contributions"]


def _catalogue() -> tuple[Any, Any]:
    """(feature -> reason group, (feature, value) -> sentence) from the feature catalogue."""
    from features import catalogue

    def group(name: str) -> str:
        return str(catalogue.by_name(name).family)

    return group, catalogue.reason


def group_contributions(contrib: np.ndarray, names: list[str]) -> tuple[list[str], np.ndarray]:
    """Sum contributions (without the bias column) by reason group: (groups, matrix)."""
    group_of, _ = _catalogue()
    groups = [group_of(name) for name in names]
    unique = list(dict.fromkeys(groups))
    index = {g: i for i, g in enumerate(unique)}
    summed = np.zeros((contrib.shape[0], len(unique)))
    for column, group in enumerate(groups):
        summed[:, index[group]] += contrib[:, column]
    return unique, summed


def explain(
    contrib: np.ndarray, features: pd.DataFrame, names: list[str], *, top: int = 3
) -> list[list[str]]:
    """For each row, up to ``top`` sentences for the groups that raised the score most.

    Each sentence tells the group's strongest feature for that row; when its value has nothing
    to say (a missing value without a text), the group's next positive feature is told instead.
    Groups and leads are chosen with array operations, and each distinct (feature, value)
    sentence is written once per call."""
    group_of, text_of = _catalogue()
    groups, summed = group_contributions(contrib, names)
    n = contrib.shape[0]
    if n == 0 or not groups:
        return [[] for _ in range(n)]
    members: dict[str, list[int]] = {}
    for column, name in enumerate(names):
        members.setdefault(group_of(name), []).append(column)
    columns_of = [np.asarray(members[g]) for g in groups]
    # The strongest feature of every group, per row (argmax keeps the first of equal values,
    # as a stable sort by decreasing contribution does).
    lead = np.empty((n, len(groups)), dtype=np.int64)
    for g, columns in enumerate(columns_of):
        lead[:, g] = columns[np.argmax(contrib[:, columns], axis=1)]
    order = np.argsort(-summed, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(lead, order, axis=1)
    rows = np.arange(n)[:, None]
    told = (np.take_along_axis(summed, order, axis=1) > 0) & (contrib[rows, chosen] > 0)
    # Values as plain Python objects, converted once per column that is told.
    converted: dict[int, np.ndarray] = {}

    def values_of(column: int) -> np.ndarray:
        if column not in converted:
            converted[column] = features[names[column]].astype(object).to_numpy()
        return converted[column]

    memo: dict[tuple[int, Any], str] = {}

    def sentence(column: int, value: Any) -> str:
        key = (column, value)
        text = memo.get(key)
        if text is None:
            text = memo[key] = str(text_of(names[column], value))
        return text

    # Sentences for every chosen (row, lead), one column at a time.
    sentences = np.full(chosen.shape, "", dtype=object)
    for column in np.unique(chosen[told]).tolist():
        where = told & (chosen == column)
        values = values_of(column)[np.nonzero(where)[0]]
        sentences[where] = [sentence(column, value) for value in values]
    reasons: list[list[str]] = []
    for row in range(n):
        out: list[str] = []
        for slot in range(order.shape[1]):
            if summed[row, order[row, slot]] <= 0:
                break
            text = sentences[row, slot]
            if not text and told[row, slot]:
                text = _next_told(
                    contrib[row], columns_of[order[row, slot]], row, values_of, sentence
                )
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
    for lead in columns[np.argsort(-contrib[columns], kind="stable")].tolist():
        if contrib[lead] <= 0:
            break
        text = sentence(lead, values_of(lead)[row])
        if text:
            return text
    return ""
