"""Invariants of point-in-time features, stated first and checked on random histories."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from feature_data import assert_same_features, history_lines, random_outcomes
from hypothesis import given, settings
from hypothesis import strategies as st

from features.catalogue import CATALOGUE
from features.pipeline import FeaturePipeline

HISTORY = [f.name for f in CATALOGUE if not f.label_based and f.kind != "category"]

_SETTINGS = settings(max_examples=12, deadline=None, derandomize=True)


@cache
def _base() -> tuple[pd.DataFrame, pd.DataFrame]:
    lines = history_lines(400, seed=2024, days=30, parties=4)
    return lines, random_outcomes(lines, seed=2025, share=0.4)


def _world(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random history of about ``n`` lines (validated once, sampled per example)."""
    lines, outcomes = _base()
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(lines) - n))
    window = lines.iloc[start : start + 2 * n]
    picked = window[rng.random(len(window)) < 0.5]
    keys = ["bl_number", "container_number"]
    mine = outcomes.set_index(keys).index.isin(picked.set_index(keys).index)
    return picked, outcomes[mine]


@_SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(20, 90), cut=st.floats(0.05, 0.95))
def test_adding_later_lines_or_outcomes_never_changes_earlier_features(
    seed: int, n: int, cut: float
) -> None:
    lines, outcomes = _world(seed, n)
    when = lines["filed_at"].iloc[int(cut * (len(lines) - 1))]
    early = lines[lines["filed_at"] <= when]
    known = outcomes[outcomes["recorded_at"] <= when]
    everything = FeaturePipeline().fit_transform(lines, outcomes)
    only_the_past = FeaturePipeline().fit_transform(early, known)
    assert_same_features(everything.loc[early.index], only_the_past)


@_SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(20, 90), cut=st.floats(0.05, 0.95))
def test_scoring_with_a_state_that_knows_the_future_of_nothing_equals_training(
    seed: int, n: int, cut: float
) -> None:
    """A state cut at t scores later lines as training saw them: every feature that is not
    learned from outcomes (those know more in training) or a category (the vocabulary is the
    state's)."""
    lines, outcomes = _world(seed, n)
    when = lines["filed_at"].iloc[int(cut * (len(lines) - 1))]
    later = lines[lines["filed_at"] >= when]
    trained = FeaturePipeline().fit_transform(lines, outcomes)
    scored = FeaturePipeline().fit(lines, outcomes, until=when).transform(later)
    assert_same_features(trained.loc[later.index, HISTORY], scored[HISTORY])


@_SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(10, 60))
def test_shuffling_lines_changes_no_feature(seed: int, n: int) -> None:
    lines, outcomes = _world(seed, n)
    shuffled = lines.sample(frac=1.0, random_state=seed)
    a = FeaturePipeline().fit_transform(lines, outcomes)
    b = FeaturePipeline().fit_transform(shuffled, outcomes.sample(frac=1.0, random_state=seed))
    assert_same_features(a, b.loc[a.index])


@_SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(10, 60))
def test_counts_never_exceed_the_lines_filed_before(seed: int, n: int) -> None:
    lines, _ = _world(seed, n)
    features = FeaturePipeline().fit_transform(lines)
    filed = np.sort(lines["filed_at"].to_numpy())
    before = np.searchsorted(filed, lines["filed_at"].to_numpy(), side="left")
    for party in ("shipper", "consignee", "pair"):
        counts = features[f"{party}_lines_365d"].to_numpy()
        assert np.all(np.nan_to_num(counts) <= before)
    assert np.all(features["bl_containers"].to_numpy() >= 1)
