"""Reason codes: the top feature contributions (``models.attribution``), grouped into sentences an
officer understands ("consignee first seen 3 days before filing").

Contributions are in raw log-odds and add up, with the bias, to the raw score; features of one
group (for example the consignee's history) are summed and told as one reason.
"""

from __future__ import annotations

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
    """For each row, up to ``top`` sentences for the groups that raised the score most."""
    group_of, text_of = _catalogue()
    groups, summed = group_contributions(contrib, names)
    members: dict[str, np.ndarray] = {}
    for column, name in enumerate(names):
        members.setdefault(group_of(name), []).append(column)  # type: ignore[arg-type]
    members = {g: np.asarray(c) for g, c in members.items()}
    # Values as plain Python objects once (cell access on a DataFrame is slow).
    values = {name: features[name].astype(object).to_numpy() for name in names}
    order = np.argsort(-summed, axis=1, kind="stable")[:, :top]
    reasons: list[list[str]] = []
    for row in range(contrib.shape[0]):
        sentences: list[str] = []
        for g in order[row]:
            if summed[row, g] <= 0:
                break
            columns = members[groups[g]]
            ranked = columns[np.argsort(-contrib[row, columns], kind="stable")]
            # The group's strongest feature that has something to say for this row.
            for lead in ranked:
                if contrib[row, lead] <= 0:
                    break
                name = names[lead]
                text = text_of(name, values[name][row])
                if text:
                    sentences.append(text)
                    break
        reasons.append(sentences)
    return reasons
