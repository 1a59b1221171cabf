"""Reason codes: the top contributions of LightGBM ``pred_contrib``, grouped into sentences an
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
    # The feature that carries each group in each row: its largest positive contribution.
    members: dict[str, list[int]] = {}
    for column, name in enumerate(names):
        members.setdefault(group_of(name), []).append(column)
    reasons: list[list[str]] = []
    for row in range(contrib.shape[0]):
        order = np.argsort(-summed[row])
        sentences: list[str] = []
        for g in order[:top]:
            if summed[row, g] <= 0:
                break
            columns = members[groups[g]]
            # The group's strongest feature that has something to say for this row.
            for lead in sorted(columns, key=lambda c: -contrib[row, c]):
                if contrib[row, lead] <= 0:
                    break
                text = text_of(names[lead], features[names[lead]].iloc[row])
                if text:
                    sentences.append(text)
                    break
        reasons.append(sentences)
    return reasons
