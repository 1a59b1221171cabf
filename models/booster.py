"""LightGBM training of the chance that an inspection finds contraband.

The only module with `models/scorer.py` and `models/reasons.py` that imports lightgbm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

__all__ = [
    "BoosterParams",
    "fit_booster",
    "fit_rounds",
    "predict_raw",
    "predict_contrib",
    "predict_leaves",
]

log = logging.getLogger(__name__)


@dataclass
class BoosterParams:
    """LightGBM settings; the defaults suit a few hundred thousand labelled lines."""

    # Small trees, slow learning: seizures are rare (a few hundred a year), deep trees overfit.
    learning_rate: float = 0.03
    num_leaves: int = 7
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.6
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_rounds: int = 1500
    early_stopping_rounds: int = 100
    imbalance: str = "scale_pos_weight"  # or "none"
    max_pos_weight: float = 5.0
    num_threads: int = 0  # 0: all cores
    extra: dict[str, Any] = field(default_factory=dict)

    def lightgbm_params(self, *, seed: int, pos_weight: float) -> dict[str, Any]:
        params = {
            "objective": "binary",
            # Early stopping watches log-loss: average precision on a few dozen validation
            # seizures is too noisy and stops after a handful of rounds.
            "metric": ["binary_logloss", "average_precision"],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": self.bagging_freq,
            "lambda_l2": self.lambda_l2,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }
        if self.imbalance == "scale_pos_weight":
            params["scale_pos_weight"] = pos_weight
        params.update(self.extra)
        return params

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_booster(
    train_x: pd.DataFrame,
    train_y: np.ndarray,
    valid_x: pd.DataFrame,
    valid_y: np.ndarray,
    *,
    params: BoosterParams,
    seed: int,
    categorical: list[str],
    train_weight: np.ndarray | None = None,
    valid_weight: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> lgb.Booster:
    """Train with early stopping on the validation slice; same seed and data, same model."""
    pos_weight = _pos_weight(train_y, params)
    train_set = lgb.Dataset(
        train_x,
        label=train_y,
        weight=train_weight,
        categorical_feature=categorical,
        free_raw_data=False,
    )
    valid_set = lgb.Dataset(
        valid_x,
        label=valid_y,
        weight=valid_weight,
        categorical_feature=categorical,
        reference=train_set,
        free_raw_data=False,
    )
    callbacks: list[Callable[..., None]] = [
        lgb.early_stopping(params.early_stopping_rounds, first_metric_only=True, verbose=False)
    ]
    if progress is not None:
        callbacks.append(lambda env: progress(env.iteration + 1, env.end_iteration))
    booster = lgb.train(
        params.lightgbm_params(seed=seed, pos_weight=pos_weight),
        train_set,
        num_boost_round=params.max_rounds,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=callbacks,
    )
    log.info("booster: %d rounds (best %d)", booster.current_iteration(), booster.best_iteration)
    return booster


def fit_rounds(
    train_x: pd.DataFrame,
    train_y: np.ndarray,
    *,
    params: BoosterParams,
    seed: int,
    rounds: int,
    categorical: list[str],
    train_weight: np.ndarray | None = None,
) -> lgb.Booster:
    """Train exactly ``rounds`` rounds, with no validation slice: a booster grown as far as one
    `fit_booster` stopped at, on other lines (the out-of-fold scores of calibration)."""
    train_set = lgb.Dataset(
        train_x, label=train_y, weight=train_weight, categorical_feature=categorical
    )
    return lgb.train(
        params.lightgbm_params(seed=seed, pos_weight=_pos_weight(train_y, params)),
        train_set,
        num_boost_round=max(1, rounds),
    )


def _pos_weight(train_y: np.ndarray, params: BoosterParams) -> float:
    """The weight of a seizure against a clean inspection: their ratio, within
    [1, ``max_pos_weight``]."""
    positives = float(np.sum(train_y))
    pos_weight = 1.0 if positives == 0 else (len(train_y) - positives) / positives
    return float(min(params.max_pos_weight, max(1.0, pos_weight)))


_ONE_THREAD_ROWS = 2_000


def _threads(rows: int) -> int:
    """One thread for online requests (threads cost more than they give on a few rows and slow
    concurrent requests); all cores for batches."""
    return 1 if rows <= _ONE_THREAD_ROWS else 0


def _predict(booster: lgb.Booster, x: np.ndarray, **what: bool) -> np.ndarray:
    """``booster.predict`` on the model's best trees, threads chosen by the row count."""
    return np.asarray(
        booster.predict(
            x, num_iteration=booster.best_iteration or None, num_threads=_threads(len(x)), **what
        )
    )


def predict_raw(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Raw log-odds from a NumPy array."""
    return _predict(booster, x, raw_score=True)


def predict_contrib(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """Per-feature contributions to the raw log-odds (TreeSHAP); the last column is the bias.
    Rows sum to `predict_raw`."""
    return _predict(booster, x, pred_contrib=True)


def predict_leaves(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    """The leaf each row reaches in each tree (rows x trees, int32), for path attribution."""
    return _predict(booster, x, pred_leaf=True).reshape(len(x), -1)
