"""The scorer's output: a line gets the same row alone, among a few or among many, and the
request-path columns equal what the frame forms of rules and flags give."""

from __future__ import annotations

import copy
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.rules import MANDATORY_RULES, rule_hits, rule_reasons, rule_score
from models.scorer import SCORE_COLUMNS, RiskScorer
from training.fixtures import small_training


class _Fixed:
    """A pipeline that gives each line the features it has among all lines: a line's
    features may depend on the other lines of its call, its scoring must not."""

    def __init__(self, features: pd.DataFrame, overall: float) -> None:
        self.features = features
        self.overall = overall

    def transform(self, records: pd.DataFrame) -> pd.DataFrame:
        return self.features.loc[records.index]

    transform_update = transform

    def approximate(self, records: pd.DataFrame) -> np.ndarray:
        return np.zeros(len(records), dtype=bool)

    def overall_rate(self) -> float:
        return self.overall


@pytest.fixture(scope="module")
def fixed() -> tuple[RiskScorer, pd.DataFrame, pd.DataFrame]:
    outcome = small_training()
    lines = outcome.test_lines.head(300)
    scorer = copy.copy(outcome.scorer)
    features = scorer.features(lines)
    scorer.pipeline = _Fixed(features, scorer.pipeline.overall_rate())
    return scorer, lines, features


@pytest.mark.parametrize("kwargs", [{}, {"reason_bands": ("red", "amber")}])
def test_a_line_scores_the_same_alone_among_a_few_or_among_many(
    fixed: tuple[RiskScorer, pd.DataFrame, pd.DataFrame], kwargs: dict[str, Any]
) -> None:
    scorer, lines, _ = fixed
    everything = scorer.score(lines, **kwargs)
    assert list(everything.columns) == SCORE_COLUMNS
    for part in (lines.head(1), lines.head(50), lines.iloc[::7], lines.iloc[[5, 3]]):
        pd.testing.assert_frame_equal(scorer.score(part, **kwargs), everything.loc[part.index])


def test_rule_and_flag_columns_equal_their_frame_forms(
    fixed: tuple[RiskScorer, pd.DataFrame, pd.DataFrame],
) -> None:
    scorer, lines, features = fixed
    scored = scorer.score(lines)
    hits = rule_hits(features)
    assert scored["rule_hits"].tolist() == rule_reasons(hits)
    np.testing.assert_array_equal(scored["rule_score"].to_numpy(), rule_score(hits).to_numpy())
    np.testing.assert_array_equal(
        scored["mandatory_rule"].to_numpy(), hits[list(MANDATORY_RULES)].any(axis=1).to_numpy()
    )
    tags = lines["dq_flags"].astype(object)
    assert tags.notna().any(), "some line must carry dq_flags"
    assert scored["dq_flags"].tolist() == [[] if pd.isna(t) else str(t).split(";") for t in tags]
    # Flags held as plain objects, or no flag column at all, read the same.
    as_objects = scorer.score(lines.astype({"dq_flags": object}))
    pd.testing.assert_frame_equal(as_objects, scored)
    without = scorer.score(lines.drop(columns=["dq_flags"]))
    assert without["dq_flags"].tolist() == [[]] * len(lines)


def test_a_line_explained_later_from_its_matrix_reads_as_when_it_was_scored() -> None:
    outcome = small_training()
    scorer, lines = outcome.scorer, outcome.test_lines.head(400)
    told = scorer.score(lines)["reasons"].tolist()
    scored, matrix = scorer.score_with_matrix(lines, reason_bands=("red",))
    assert scored["reasons"].tolist() != told  # green and amber lines were not explained
    assert scorer.explain_matrix(matrix) == told
    # categories are read back from their codes as their values
    assert any(sentence.startswith("loaded at ") for sentence in sum(told, []))
    rows = [7, 3, 250]
    assert scorer.explain_matrix(matrix[rows]) == [told[r] for r in rows]
    assert scorer.explain_matrix(matrix[:0]) == []


def test_a_seizure_rate_is_told_as_a_reason_only_above_the_overall_rate() -> None:
    # "transshipment port: estimated seizure rate 0.7%" was told as raising a score when 2.2 %
    # of all inspections seized; and a rate at the overall rate (an entity never inspected) as
    # if it were the entity's own record.
    training = small_training()
    scorer = training.scorer
    lines = training.test_lines
    features = scorer.features(lines)
    overall = scorer.pipeline.overall_rate()
    # the overall rate is the one a rate sits at for an entity with no outcome yet
    never = features["notify_seizure_rate"].dropna()
    assert never.round(3).eq(round(overall, 3)).any()
    told = [
        float(found.group(1)) / 100
        for reasons in scorer.score(lines)["reasons"]
        for reason in reasons
        if (found := re.search(r"estimated seizure rate ([0-9.]+)%", reason))
    ]
    assert told  # rates are still told, when above it
    assert min(told) > round(overall, 3)


def test_a_model_says_which_release_trained_it_and_an_older_one_says_nothing() -> None:
    """Every release called itself 0.1.0 before 0.31.0: a model trained then cannot say which
    trained it, and must not claim today's release once unpickled by it."""
    import pickle

    from risk_engine.version import engine_version

    scorer = small_training().scorer
    assert scorer.release == engine_version() != "unknown"
    assert pickle.loads(pickle.dumps(scorer)).describe()["trained_by_release"] == scorer.release
    older = scorer.__getstate__()
    del older["release"]  # as a model pickled before the field was kept
    unpickled = RiskScorer.__new__(RiskScorer)
    unpickled.__setstate__(older)
    assert unpickled.release == "" and unpickled.describe()["trained_by_release"] is None
