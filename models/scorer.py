"""The scorer: features + booster + calibration + reasons, for normalised contract records.

One object does it for training evaluation, batch screening and the API, so a container gets the
same score on every path. The request path works on NumPy arrays with one LightGBM thread.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow as pa

from features.categories import categorical_dtype
from models.attribution import PathAttribution
from models.booster import predict_leaves, predict_raw
from models.calibration import PlattCalibrator
from models.columns import MatrixColumns
from models.drift import DriftReference
from models.reasons import explain
from models.rules import RULES, rule_hit_array, rule_reasons, rule_score

if TYPE_CHECKING:
    from features.pipeline import FeaturePipeline
    from models.profiles import ProfileSet

__all__ = ["RiskScorer", "SCORE_COLUMNS", "to_matrix"]

# Rows per LightGBM leaf pass: the leaf table holds rows x trees int32 (about 190 MB at 1,500
# trees).
_ROWS_PER_PASS = 32_768

SCORE_COLUMNS = [
    "risk_score",
    "raw_logit",
    "band",
    "reasons",
    "rule_hits",
    "dq_flags",
    "rule_score",
    "mandatory_rule",
    "approximate_history",
]
_MANDATORY = [column for column, rule in enumerate(RULES) if rule.mandatory]


def to_matrix(features: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Model columns as a float matrix (categories as their codes, missing as NaN).

    float64 columns are copied in one block, the others converted column by column: the
    request path scores a few lines, where a pandas conversion per column costs more than the
    data."""
    return _matrix(features, names).matrix


def _matrix(features: pd.DataFrame, names: list[str]) -> MatrixColumns:
    """`to_matrix`, with the float64 columns it copied as they are (`MatrixColumns`)."""
    out = np.empty((len(features), len(names)), dtype=np.float64)
    position = {name: i for i, name in enumerate(features.columns.tolist())}
    dtypes = list(features.dtypes)
    plain = [j for j, name in enumerate(names) if dtypes[position[name]] == np.float64]
    if plain:
        block = features.take([position[names[j]] for j in plain], axis=1)
        out[:, plain] = block.to_numpy(dtype=np.float64)
    rest = sorted(set(range(len(names))) - set(plain))
    for j in rest:
        column = features[names[j]]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.array.codes.astype(np.float64)
            codes[codes < 0] = np.nan
            out[:, j] = codes
        else:
            out[:, j] = pd.to_numeric(column, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
    return MatrixColumns(out, {names[j]: j for j in plain})


@dataclass
class RiskScorer:
    """Everything needed to score raw records; pickled into the MLflow model."""

    pipeline: FeaturePipeline  # fitted
    booster_text: str
    calibrator: PlattCalibrator
    feature_names: list[str]
    thresholds: dict[str, float]  # calibrated probability for "red" and "amber"
    trained_at: str
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = "unregistered"
    top_reasons: int = 3
    # The features and score of the lines the thresholds were set on, for the drift check of a
    # later batch (None in a model trained before it was kept).
    reference: DriftReference | None = None
    # The engine release that trained it (`risk_engine.version`); "" in a model trained before
    # 0.31.0, when every release called itself 0.1.0.
    release: str = ""

    def __post_init__(self) -> None:
        self._booster: lgb.Booster | None = None
        self._attribution: PathAttribution | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_booster"] = None
        state["_attribution"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("_attribution", None)
        state.setdefault("release", "")
        self.__dict__.update(state)

    @property
    def booster(self) -> lgb.Booster:
        if self._booster is None:
            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    @property
    def attribution(self) -> PathAttribution:
        """Per-leaf contributions of the trees (built once per process, about half a second for
        1,500 trees)."""
        if self._attribution is None:
            booster = self.booster
            self._attribution = PathAttribution.from_booster(
                booster, booster.best_iteration or None
            )
        return self._attribution

    def features(self, records: pd.DataFrame) -> pd.DataFrame:
        return self.pipeline.transform(records)

    def raw(self, features: pd.DataFrame) -> np.ndarray:
        return predict_raw(self.booster, to_matrix(features, self.feature_names))

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        return self.calibrator.transform(self.raw(features))

    def band(self, probability: np.ndarray) -> np.ndarray:
        red, amber = self.thresholds.get("red", 1.0), self.thresholds.get("amber", 1.0)
        return np.where(probability >= red, "red", np.where(probability >= amber, "amber", "green"))

    def score(
        self,
        records: pd.DataFrame,
        *,
        explain_reasons: bool = True,
        reason_bands: Collection[str] | None = None,
        remember: bool = False,
        profiles: ProfileSet | None = None,
    ) -> pd.DataFrame:
        """Score normalised records (``validate_frame(...).accepted``); aligned to their index.

        Reasons are the top feature families of the path attribution (``models.attribution``):
        for every line, or only for lines in ``reason_bands`` (batch screening explains red and
        amber lines; a green line gets none). With ``remember`` the lines are added to the
        feature state as they are scored (``FeaturePipeline.transform_update``), as batch
        screening does chunk by chunk. With ``profiles`` (`models.profiles`), the profiles a
        line meets are told first in its rule hits, and an ``inspect`` profile makes the line
        mandatory."""
        scored, _ = self.score_with_matrix(
            records,
            explain_reasons=explain_reasons,
            reason_bands=reason_bands,
            remember=remember,
            profiles=profiles,
        )
        return scored

    def score_with_matrix(
        self,
        records: pd.DataFrame,
        *,
        explain_reasons: bool = True,
        reason_bands: Collection[str] | None = None,
        remember: bool = False,
        profiles: ProfileSet | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """`score`, and the model matrix it scored (``to_matrix`` of the features): kept by
        batch screening so a line can be explained later, exactly as it was scored, with
        `explain_matrix`."""
        # Asked before the state advances with the lines.
        approximate = self.pipeline.approximate(records)
        features = self.pipeline.transform_update(records) if remember else self.features(records)
        # Float columns are read back from the matrix by the rules and reasons (`MatrixColumns`).
        columns = _matrix(features, self.feature_names)
        matrix = columns.matrix
        reasons: list[list[str]] = [[] for _ in range(len(matrix))]
        if explain_reasons and reason_bands is None:
            # Every line explained: one leaf pass gives both the raw score and the reasons.
            raw = self._explain(matrix, features, np.arange(len(matrix)), reasons, columns)
        else:
            raw = predict_raw(self.booster, matrix)
            if explain_reasons:
                bands = self.band(self.calibrator.transform(raw))
                wanted = np.flatnonzero(np.isin(bands, list(reason_bands or ())))
                self._explain(matrix, features, wanted, reasons, columns)
        probability = self.calibrator.transform(raw)
        hits = rule_hit_array(features, columns)
        told = rule_reasons(hits)
        mandatory = hits[:, _MANDATORY].any(axis=1)
        if profiles is not None:
            met, inspect = profiles.hits(records)
            told = [first + rest for first, rest in zip(met, told, strict=True)]
            mandatory = mandatory | inspect
        # Every column built as an array or list first and the frame made once, in the order
        # of SCORE_COLUMNS: on a request, pandas' per-column work cost more than the scoring.
        scored = pd.DataFrame(
            {
                "risk_score": probability,
                "raw_logit": raw,
                "band": self.band(probability),
                "reasons": reasons,
                "rule_hits": told,
                "dq_flags": _dq_flags(records),
                "rule_score": rule_score(hits),
                "mandatory_rule": mandatory,
                "approximate_history": approximate,
            },
            index=records.index,
        )
        return scored, matrix

    def explain_matrix(self, matrix: np.ndarray) -> list[list[str]]:
        """The reasons of lines given as their model matrix (`score_with_matrix`): the same
        sentences `score` tells for them. Category codes are read back through the state's
        vocabularies, so a category reads as its value."""
        reasons: list[list[str]] = [[] for _ in range(len(matrix))]
        if len(matrix):
            self._explain(matrix, self._matrix_frame(matrix), np.arange(len(matrix)), reasons)
        return reasons

    def _matrix_frame(self, matrix: np.ndarray) -> pd.DataFrame:
        """Feature values of a model matrix: floats as they are, categories from their codes."""
        vocab = self.pipeline.state_.vocab
        columns: dict[str, Any] = {}
        for j, name in enumerate(self.feature_names):
            values = matrix[:, j]
            if name in vocab:
                codes = np.where(np.isnan(values), -1, values).astype(np.int64)
                columns[name] = pd.Categorical.from_codes(
                    codes, dtype=categorical_dtype(vocab[name])
                )
            else:
                columns[name] = values
        return pd.DataFrame(columns)

    def _explain(
        self,
        matrix: np.ndarray,
        features: pd.DataFrame,
        rows: np.ndarray,
        reasons: list[list[str]],
        columns: MatrixColumns | None = None,
    ) -> np.ndarray:
        """Fill ``reasons`` for ``rows``; return their raw scores (exactly LightGBM's). With
        ``columns`` (``matrix``'s), the reasons read float columns from the matrix."""
        raw = np.empty(len(rows), dtype=np.float64)
        overall = self.pipeline.overall_rate()
        for start in range(0, len(rows), _ROWS_PER_PASS):
            block = rows[start : start + _ROWS_PER_PASS]
            part = matrix[block]
            leaves = predict_leaves(self.booster, part)
            raw[start : start + len(block)] = self.attribution.raw(leaves)
            told = explain(
                self.attribution.contributions(leaves),
                # Every row (a request): the frame itself, not a copy of it.
                features if len(block) == len(features) else features.iloc[block],
                self.feature_names,
                top=self.top_reasons,
                floats=None if columns is None else MatrixColumns(part, columns.position),
                overall=overall,
            )
            for row, sentences in zip(block.tolist(), told, strict=True):
                reasons[row] = sentences
        return raw

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "trained_at": self.trained_at,
            "trained_by_release": self.release or None,
            "metrics": self.metrics,
            "feature_names": self.feature_names,
            "thresholds": self.thresholds,
            "history_as_of": self.pipeline.as_of_.isoformat(),
            "history_lines": int(self.pipeline.state_.lines_seen),
            "name_rules": int(self.pipeline.state_.params.name_rules),
        }


def _dq_flags(records: pd.DataFrame) -> list[list[str]]:
    """The ``dq_flags`` tags of each line as a list (none when the column is missing)."""
    if "dq_flags" not in records.columns:
        return [[] for _ in range(len(records))]
    column = records["dq_flags"]
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        tags = pa.array(column.array).to_pylist()  # straight from Arrow: a tenth of the time
    else:
        tags = column.tolist()
    return [[] if f is None or f is pd.NA or f != f else str(f).split(";") for f in tags]
