"""Path attribution: exact raw scores from leaf indices, contributions that add up, TreeSHAP's
answer where the two must agree (one split per tree), and reasons only where they are asked for."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from models.attribution import PathAttribution
from models.booster import predict_contrib, predict_leaves, predict_raw
from models.scorer import to_matrix
from training.fixtures import small_training


def _data(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.05] = np.nan
    logit = 1.5 * np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def _booster(num_leaves: int, rounds: int) -> lgb.Booster:
    x, y = _data()
    params = {
        "objective": "binary",
        "num_leaves": num_leaves,
        "learning_rate": 0.1,
        "min_data_in_leaf": 20,
        "verbosity": -1,
        "seed": 1,
        "deterministic": True,
    }
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=rounds)


@pytest.mark.parametrize("num_leaves", [2, 7, 15])
def test_raw_score_from_leaves_equals_lightgbm_and_contributions_add_up(num_leaves: int) -> None:
    booster = _booster(num_leaves, 60)
    x, _ = _data(seed=9)
    attribution = PathAttribution.from_booster(booster)
    leaves = predict_leaves(booster, x)
    raw = predict_raw(booster, x)
    np.testing.assert_allclose(attribution.raw(leaves), raw, rtol=0, atol=1e-12)
    contrib = attribution.contributions(leaves)
    assert contrib.shape == (len(x), x.shape[1] + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, rtol=0, atol=1e-9)


def test_features_the_trees_never_split_on_get_nothing() -> None:
    booster = _booster(7, 40)
    used = set(np.flatnonzero(booster.feature_importance("split") > 0))
    contrib = PathAttribution.from_booster(booster).contributions(
        predict_leaves(booster, _data(seed=4)[0])
    )
    for feature in range(contrib.shape[1] - 1):
        if feature not in used:
            assert np.all(contrib[:, feature] == 0)
    assert np.abs(contrib[:, sorted(used)]).sum() > 0


def test_with_one_split_per_tree_the_parts_are_treeshap_values() -> None:
    # A stump hands the whole change from its expected value to the split feature: exactly what
    # TreeSHAP gives for a single split, so both must agree line by line.
    booster = _booster(2, 80)
    x, _ = _data(seed=5)
    ours = PathAttribution.from_booster(booster).contributions(predict_leaves(booster, x))
    shap = predict_contrib(booster, x)
    np.testing.assert_allclose(ours, shap, rtol=0, atol=1e-9)


def test_only_the_first_trees_are_used_when_asked() -> None:
    booster = _booster(7, 50)
    x, _ = _data(seed=6)
    attribution = PathAttribution.from_booster(booster, num_iteration=20)
    leaves = np.asarray(booster.predict(x, pred_leaf=True, num_iteration=20))
    expected = booster.predict(x, raw_score=True, num_iteration=20)
    np.testing.assert_allclose(attribution.contributions(leaves).sum(axis=1), expected, atol=1e-9)


def test_screening_explains_only_the_bands_it_asks_for() -> None:
    outcome = small_training()
    scorer = outcome.scorer
    lines = outcome.test_lines.head(400)
    everything = scorer.score(lines)
    risky = scorer.score(lines, reason_bands=("red", "amber"))
    pd_equal = (everything["risk_score"] == risky["risk_score"]).all()
    assert pd_equal
    for band, full, few in zip(
        everything["band"], everything["reasons"], risky["reasons"], strict=True
    ):
        assert few == (full if band in ("red", "amber") else [])
    assert any(risky["reasons"]), "some red or amber line must carry reasons"
    matrix = to_matrix(scorer.features(lines), scorer.feature_names)
    np.testing.assert_allclose(
        everything["raw_logit"].to_numpy(), predict_raw(scorer.booster, matrix), rtol=0, atol=1e-12
    )


def test_small_and_large_batch_forms_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    from models import attribution as module

    booster = _booster(7, 60)
    x, _ = _data(seed=8)
    attribution = PathAttribution.from_booster(booster)
    leaves = predict_leaves(booster, x)
    few_raw, few = attribution.raw(leaves), attribution.contributions(leaves)
    monkeypatch.setattr(module, "_SMALL_CELLS", 0)
    many_raw, many = attribution.raw(leaves), attribution.contributions(leaves)
    np.testing.assert_array_equal(few_raw, many_raw)
    np.testing.assert_allclose(few, many, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(many_raw, predict_raw(booster, x))
