"""Rule sentences: each line gets the sentences of exactly the rules it hits, in rule order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.rules import RULES, rule_hit_array, rule_hits, rule_reasons, rule_score


def _hits(seed: int, rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {rule.name: rng.random(rows) < 0.2 for rule in RULES}, index=pd.RangeIndex(rows)
    )


def test_each_line_gets_the_sentences_of_the_rules_it_hits() -> None:
    hits = _hits(1)
    told = rule_reasons(hits)
    assert len(told) == len(hits)
    for row, sentences in zip(hits.itertuples(index=False), told, strict=True):
        assert sentences == [rule.sentence for rule, hit in zip(RULES, row, strict=True) if hit]
    # Every line has its own list: changing one changes no other.
    told[0].append("x")
    assert all(s[-1:] != ["x"] for s in told[1:])


def test_no_hits_no_sentences_and_scores_weigh_the_hits() -> None:
    hits = _hits(2, rows=3) & False
    assert rule_reasons(hits) == [[], [], []]
    assert (rule_score(hits) == 0).all()
    one = hits.copy()
    one.iloc[1, 0] = True
    assert rule_score(one).tolist() == [0.0, RULES[0].weight, 0.0]


# The feature columns the rules read.
_FLAGS = [
    "red_flag_conjunction",
    "cites_no_permit",
    "source_country",
    "risky_transit_or_market",
    "consignee_to_order",
    "vague_description",
    "reefer_unneeded",
    "dq_container_check_digit",
    "dq_imo_check_digit",
    "late_filing",
]


def _flags(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.choice([0.0, 1.0, 0.5, 0.4999, np.nan, np.inf, -np.inf, -0.0], size=(rows, 10))
    return pd.DataFrame(values, columns=_FLAGS)


def test_the_hit_array_reads_like_the_hit_frame() -> None:
    features = _flags(300, seed=4)
    hits = rule_hits(features)
    array = rule_hit_array(features)
    assert array.dtype == bool and array.shape == (len(features), len(RULES))
    np.testing.assert_array_equal(array, hits.to_numpy(dtype=bool))
    assert rule_reasons(array) == rule_reasons(hits)
    np.testing.assert_array_equal(rule_score(array), rule_score(hits).to_numpy())


def test_a_flag_reads_the_same_from_float_columns_as_from_any_other() -> None:
    # Float columns are compared as they are; any other goes through pd.to_numeric.
    features = _flags(200, seed=5)
    expected = rule_hit_array(features)
    for other in (features.astype(object), features.astype(str), features.astype("string")):
        np.testing.assert_array_equal(rule_hit_array(other), expected)
    np.testing.assert_array_equal(
        rule_hit_array(features.drop(columns=["late_filing"]))[:, -1], np.zeros(200, dtype=bool)
    )


def test_flags_read_from_the_model_matrix_are_the_frames() -> None:
    # The scorer hands the rules its model matrix: float columns are read from it, any column
    # the matrix does not hold as it is (not float, or no model column) from the frame.
    from models.scorer import _matrix

    features = _flags(300, seed=6)
    features["late_filing"] = features["late_filing"].astype(object)
    expected = rule_hit_array(features)
    model = [name for name in _FLAGS if name != "source_country"]
    columns = _matrix(features, model)
    assert "late_filing" not in columns.position and "source_country" not in columns.position
    np.testing.assert_array_equal(rule_hit_array(features, columns), expected)


def test_cites_goods_without_a_permit_is_the_one_mandatory_rule() -> None:
    """Made a flag only, the CITES rule passed every test (the scorer's test reads the expected
    column from MANDATORY_RULES itself): ivory without a permit would compete on its score."""
    from models.rules import MANDATORY_RULES

    assert MANDATORY_RULES == ("cites_without_permit",)
