"""Calibration of raw booster scores into probabilities that an inspection finds contraband.

Platt scaling (a logistic fit on the raw log-odds) fitted on a later time slice than the booster:
monotone, smooth with few positives, and linear in log-odds, so reason contributions computed in
raw log-odds stay additive after calibration (they are scaled by ``slope_``).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["PlattCalibrator", "sigmoid"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype="float64"))))


class PlattCalibrator:
    """p = sigmoid(slope_ * raw + intercept_)."""

    def __init__(self, *, sample_weight_cap: float = 50.0, c: float = 1.0) -> None:
        self.sample_weight_cap = sample_weight_cap
        self.c = c  # inverse L2 strength: keeps the slope sane when the slice is small

    def fit(
        self, raw: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> PlattCalibrator:
        raw = np.asarray(raw, dtype="float64").reshape(-1, 1)
        y = np.asarray(y, dtype="float64")
        if len(np.unique(y)) < 2:
            # Nothing to learn from one class: keep the booster's own scale.
            self.slope_, self.intercept_ = 1.0, 0.0
            return self
        weight = (
            None if sample_weight is None else np.minimum(sample_weight, self.sample_weight_cap)
        )
        model = LogisticRegression(C=self.c, max_iter=1000)
        model.fit(raw, y, sample_weight=weight)
        self.slope_ = float(model.coef_[0, 0])
        self.intercept_ = float(model.intercept_[0])
        return self

    def logit(self, raw: np.ndarray) -> np.ndarray:
        return self.slope_ * np.asarray(raw, dtype="float64") + self.intercept_

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return sigmoid(self.logit(raw))
