"""Reasons: the array form of ``explain`` tells exactly what the plain per-row reading does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import catalogue
from models import reasons
from models.reasons import explain, group_contributions
from training.fixtures import small_training


def _plain(contrib: np.ndarray, features: pd.DataFrame, names: list[str], top: int) -> list:
    """The rule written the slow, obvious way: groups by summed contribution, then the group's
    features by decreasing contribution until one has something to say."""
    groups: dict[str, list[int]] = {}
    for column, name in enumerate(names):
        groups.setdefault(catalogue.by_name(name).family, []).append(column)
    out = []
    for row in range(len(contrib)):
        sums = {g: contrib[row, cols].sum() for g, cols in groups.items()}
        ranked = sorted(groups, key=lambda g: -sums[g])[:top]  # stable: catalogue order on ties
        sentences = []
        for g in ranked:
            if sums[g] <= 0:
                break
            for column in sorted(groups[g], key=lambda c: -contrib[row, c]):
                if contrib[row, column] <= 0:
                    break
                text = catalogue.reason(
                    names[column], features[names[column]].astype(object).iloc[row]
                )
                if text:
                    sentences.append(text)
                    break
        out.append(sentences)
    return out


def test_array_explain_equals_the_plain_reading() -> None:
    scorer = small_training().scorer
    names = scorer.feature_names
    features = scorer.features(small_training().test_lines.head(300)).reset_index(drop=True)
    rng = np.random.default_rng(0)
    contrib = rng.normal(size=(len(features), len(names) + 1))
    contrib[rng.random(contrib.shape) < 0.5] = 0.0  # ties and zero contributions
    # Missing values in strong features make the fallback to the next feature run.
    assert features.isna().to_numpy().any()
    reasons._SENTENCES.clear()
    for _ in range(2):  # sentences written fresh, then read from what earlier calls wrote
        for top in (1, 3, 5):
            want = _plain(contrib, features, names, top)
            assert explain(contrib, features, names, top=top) == want
    assert reasons._SENTENCES  # the table is in use (NaN values included, keyed by a marker)


def test_no_rows_and_no_positive_groups() -> None:
    scorer = small_training().scorer
    names = scorer.feature_names
    features = scorer.features(small_training().test_lines.head(5)).reset_index(drop=True)
    assert explain(np.zeros((0, len(names) + 1)), features.head(0), names) == []
    assert explain(-np.ones((5, len(names) + 1)), features, names) == [[]] * 5


def test_few_and_many_rows_sum_the_groups_to_the_same_floats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A few rows are summed in one np.add.at, more column by column: bit for bit the same.
    from models import reasons as module

    names = small_training().scorer.feature_names
    rng = np.random.default_rng(3)
    shape = (60, len(names) + 1)
    contrib = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
    contrib[rng.random(shape) < 0.3] = 0.0
    contrib[rng.random(shape) < 0.1] = -0.0
    groups, few = group_contributions(contrib, names)
    monkeypatch.setattr(module, "_FEW_ROWS", 0)
    same_groups, many = group_contributions(contrib, names)
    assert groups == same_groups
    assert np.array_equal(few.view(np.int64), many.view(np.int64))
