"""Training: features -> time splits -> LightGBM with early stopping -> calibration on a later
slice -> evaluation at capacity on the test period -> a `RiskScorer`.

`fit_scorer` is pure (no tracking) so champion/challenger can reuse it; `train_and_register`
adds the MLflow run, plots and registry version.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from features.pipeline import FeaturePipeline
from models.booster import BoosterParams, fit_booster, fit_rounds, predict_contrib, predict_raw
from models.calibration import PlattCalibrator
from models.drift import SCORE_COLUMN, DriftReference
from models.rules import rule_hits, rule_score
from models.scorer import RiskScorer, to_matrix
from risk_engine.version import engine_version
from training.config import TrainConfig
from training.data import label_lines
from training.evaluate import Evaluation, evaluate_period
from training.review import draw_weights
from training.splits import TimeSplits, time_splits

__all__ = [
    "TrainOutcome",
    "band_threshold",
    "band_thresholds",
    "band_warning",
    "describe_calibration",
    "fit_scorer",
    "period_frame",
    "Progress",
    "utc_moment",
]

log = logging.getLogger(__name__)
Progress = Callable[[str, float], None]


@dataclass
class TrainOutcome:
    scorer: RiskScorer
    evaluation: Evaluation | None
    period: pd.DataFrame  # the evaluated lines with scores (for plots and reports)
    importance: pd.DataFrame
    sizes: dict[str, int]
    boundaries: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    test_lines: pd.DataFrame | None = None  # the shipment lines of the evaluated period
    drift: pd.DataFrame | None = None  # population stability of the main features


def utc_moment(value: Any) -> pd.Timestamp:
    """A moment as a UTC timestamp (a naive one is taken as UTC)."""
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _weights(labelled: pd.DataFrame, config: TrainConfig) -> np.ndarray | None:
    if not config.inverse_propensity:
        return None
    p = labelled["selection_probability"].astype("float64").fillna(1.0).clip(lower=1e-6)
    return np.asarray(np.minimum(1.0 / p.to_numpy(), config.propensity_cap), dtype=np.float64)


def fit_scorer(
    shipments: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    config: TrainConfig,
    until: Any = None,
    test_until: Any = None,
    truth: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> TrainOutcome:
    """Train on history before the test period and evaluate on it.

    With ``until``: learn from lines filed and labels recorded before it; the test period is
    what was filed after it (up to ``test_until``). Without it, or with nothing after it: the last
    part of the data in time is the test period.
    """
    step = progress or (lambda _s, _f: None)
    shipments = shipments.reset_index(drop=True)
    filed = shipments["filed_at"]
    labelled = label_lines(shipments, outcomes, warn=True)
    if labelled.empty or labelled["label"].sum() == 0:
        raise ValueError("no labelled seizures to learn from: check the outcomes file")
    cut = utc_moment(until) if until is not None else None
    if cut is not None and not (filed >= cut).any():
        keep = (filed < cut).to_numpy()
        shipments = shipments[keep].reset_index(drop=True)
        outcomes = outcomes[outcomes["recorded_at"] < cut]
        labelled = label_lines(shipments, outcomes)
        cut = None
    lab_filed = shipments["filed_at"].iloc[labelled["position"]].reset_index(drop=True)
    splits = time_splits(
        lab_filed,
        labelled["recorded_at"],
        config=config.splits(),
        until=cut,
        labels=labelled["label"].to_numpy(),
    )
    splits.check(labelled["label"].to_numpy(), folds=config.calibration_folds)
    test_from = splits.boundaries["test_from"]
    filed = shipments["filed_at"]
    history = (filed < test_from).to_numpy()
    step("features", 0.05)
    pipeline = FeaturePipeline(
        rescore_days=config.rescore_days, label_lookback_days=config.label_lookback_days
    )
    known = outcomes[outcomes["recorded_at"] < test_from]
    feats_history = pipeline.fit_transform(shipments[history], known)
    feats_later = pipeline.transform(shipments[~history]) if (~history).any() else None
    features = pd.concat([feats_history, feats_later]) if feats_later is not None else feats_history
    features = features.set_axis(
        np.concatenate([np.flatnonzero(history), np.flatnonzero(~history)])
    )
    features = features.sort_index()
    names = list(pipeline.feature_names_)
    step("features", 0.45)
    matrix = to_matrix(features, names)
    y = labelled["label"].to_numpy(dtype="float64")
    x = matrix[labelled["position"].to_numpy()]
    weights = _weights(labelled, config)
    params = config.booster_params()

    def on_round(done: int, total: int) -> None:
        step("booster", 0.45 + 0.35 * done / max(total, 1))

    booster = fit_booster(
        pd.DataFrame(x[splits.train], columns=names),
        y[splits.train],
        pd.DataFrame(x[splits.valid], columns=names),
        y[splits.valid],
        params=params,
        seed=config.seed,
        # Category columns go in as their codes, not as LightGBM categorical splits: with a few
        # hundred seizures, categorical splits on ports and countries overfit (measured on the
        # 365-day world: 62 vs 159 true finds at 2 % capacity).
        categorical=[],
        train_weight=None if weights is None else weights[splits.train],
        valid_weight=None if weights is None else weights[splits.valid],
        progress=on_round,
    )
    step("calibration", 0.82)
    raw_all = np.asarray(
        booster.predict(matrix, raw_score=True, num_iteration=booster.best_iteration or None)
    )
    raw_labelled = raw_all[labelled["position"].to_numpy()]
    calibrator, calibration = _calibrate(
        raw_labelled,
        y,
        x,
        splits,
        booster.best_iteration or booster.current_iteration(),
        names=names,
        params=params,
        weights=weights,
        config=config,
    )
    probability = calibrator.transform(raw_all)
    cal_from = splits.boundaries["calibration_from"]
    cal_lines = ((filed >= cal_from) & (filed < test_from)).to_numpy()
    reference = probability[cal_lines] if cal_lines.any() else probability[history]
    thresholds = band_thresholds(reference, config.capacity, config.amber_capacity)
    scorer = RiskScorer(
        pipeline=pipeline,
        booster_text=booster.model_to_string(),
        calibrator=calibrator,
        feature_names=names,
        thresholds=thresholds,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        release=engine_version(),
    )
    # What later batches are compared with (screening's drift check): the features and scores
    # of the lines the thresholds were set on, out of the booster's sample.
    kept = cal_lines if cal_lines.any() else history
    scorer.reference = DriftReference.fit(
        np.column_stack([matrix[kept], probability[kept]]), [*names, SCORE_COLUMN]
    )
    bands = scorer.band(probability[kept])
    scorer.reference.bands = {band: float(np.mean(bands == band)) for band in ("red", "amber")}
    step("evaluation", 0.88)
    test_mask = np.array(filed >= test_from, dtype=bool)
    if test_until is not None:
        test_mask &= np.array(filed < utc_moment(test_until), dtype=bool)
    evaluation = None
    rules = rule_score(rule_hits(features)).to_numpy()
    period = period_frame(shipments, outcomes, test_mask, probability, rules, truth)
    if len(period):
        evaluation = evaluate_period(
            period, scores={"model": period["probability"], "rules": period["rules_score"]}
        )
        scorer.metrics = {
            k: v for k, v in evaluation.metrics().items() if k.endswith(("2pct", "pr_auc", "brier"))
        }
    importance = _importance(
        booster, matrix[test_mask] if test_mask.any() else matrix[history], names, config
    )
    top = list(importance["feature"].head(12))
    drift = (
        feature_drift(features.loc[history, top], features.loc[test_mask, top])
        if test_mask.any()
        else None
    )
    step("done", 1.0)
    return TrainOutcome(
        scorer=scorer,
        evaluation=evaluation,
        period=period,
        importance=importance,
        sizes={**splits.sizes(), "test_lines": int(test_mask.sum()), "lines": len(shipments)},
        boundaries={k: v.isoformat() for k, v in splits.boundaries.items()},
        params={
            "booster_rounds": booster.best_iteration or booster.current_iteration(),
            **calibration,
            **_delay_params(splits, labelled["label"].to_numpy()),
            **{
                f"late_{name}_{what}": count
                for name, counts in splits.late_counts(labelled["label"].to_numpy()).items()
                for what, count in zip(("lines", "seizures"), counts, strict=True)
            },
        },
        test_lines=shipments[test_mask],
        drift=drift,
    )


def _delay_params(splits: TimeSplits, labels: np.ndarray) -> dict[str, Any]:
    """The label delay the slices were cut with (the run's parameters; a learned one replaces
    the config's empty setting) and the lines it left out."""
    lines, seizures = splits.delay_counts(labels)
    return {
        "label_delay_days": splits.label_delay_days,
        "label_delay_learned": splits.label_delay_learned,
        "delay_lines": lines,
        "delay_seizures": seizures,
    }


def describe_calibration(params: dict[str, Any]) -> str:
    """How the calibration was fitted, in words ("" for a model from before it was said)."""
    if "calibration_fit" not in params:
        return ""
    told = (
        f"calibration: {params['calibration_fit']}, {params['calibration_lines']:,} labelled "
        f"lines ({params['calibration_seizures']:,} seizures)"
    )
    late = [
        f"{name} {int(params[f'late_{name}_lines']):,} lines "
        f"({int(params[f'late_{name}_seizures']):,} seizures)"
        for name in ("training", "validation", "calibration")
        if int(params.get(f"late_{name}_lines", 0) or 0)
    ]
    if float(params.get("label_delay_days", 0) or 0):  # the slices end it before the test
        how = "learned" if str(params.get("label_delay_learned")) == "True" else "set"
        told += (
            f"; label delay {float(params['label_delay_days']):g} days ({how}): left out as "
            f"filed within it before the test period {int(params['delay_lines']):,} lines "
            f"({int(params['delay_seizures']):,} seizures)"
        )
    if late:  # seizures are recorded later than clean results: slices lose more of them
        told += "; left out as recorded after their slice ended: " + ", ".join(late)
    return told


def _calibrate(
    raw: np.ndarray,
    y: np.ndarray,
    x: np.ndarray,
    splits: TimeSplits,
    rounds: int,
    *,
    names: list[str],
    params: BoosterParams,
    weights: np.ndarray | None,
    config: TrainConfig,
) -> tuple[PlattCalibrator, dict[str, Any]]:
    """The Platt calibration of the booster's raw scores, and how it was fitted.

    On the calibration slice (after the booster's lines) when it holds enough seizures. With
    fewer, a fit on it sets the scores' level by chance, so it is fitted on out-of-fold scores
    of every labelled line before the test period: ``calibration_folds`` boosters, each grown
    as far as the model on the other folds, score the lines they did not see. Their raw scores
    are as overconfident on unseen lines as the model's own (a booster scores the seizures it
    learned from higher than those it will meet), which a fit on the model's scores of its own
    lines would not show."""
    slice_ = splits.calibration
    seizures = int(y[slice_].sum())
    if slice_.sum() >= config.min_calibration_lines and seizures >= config.min_calibration_seizures:
        return _platt("calibration slice", raw[slice_], y[slice_])
    before = splits.train | splits.valid | splits.calibration
    folds = config.calibration_folds
    if y[before].sum() < 2 * folds or (y[before] == 0).sum() < 2 * folds:
        # Too few labels to fold: the later slices, as before there were folds.
        slice_ = splits.calibration | splits.valid
        log.warning(
            "calibration slice small: fitted on validation + calibration (%d lines)", slice_.sum()
        )
        return _platt("validation and calibration slices", raw[slice_], y[slice_])
    rows = np.flatnonzero(before)
    held = _out_of_fold(
        x[rows],
        y[rows],
        None if weights is None else weights[rows],
        names=names,
        params=params,
        seed=config.seed,
        folds=folds,
        rounds=rounds,
    )
    log.info(
        "calibration slice holds %d seizures (fewer than %d): fitted on out-of-fold scores of "
        "%d labelled lines (%d folds)",
        seizures,
        config.min_calibration_seizures,
        len(rows),
        folds,
    )
    return _platt(f"out-of-fold ({folds} folds)", held, y[rows])


def band_threshold(scores: np.ndarray, share: float) -> float:
    """The score from which the top ``share`` of ``scores`` is in the band. Many equal scores at
    the quantile (a small booster, or a calibration that maps a leaf's lines to one score) put
    every one of them in the band: the red band of 2 % held 14.7 % of the lines, the amber one
    none, and each later batch was told its bands had moved. The quantile's score is kept when
    the share it gives is the nearer to ``share``, else the next score above it."""
    scores = np.asarray(scores, dtype="float64")
    if not len(scores):
        return 1.0
    at = float(np.quantile(scores, 1 - share))
    above = scores[scores > at]
    if not len(above):
        return at
    higher = float(above.min())
    taken, fewer = float(np.mean(scores >= at)), float(np.mean(scores >= higher))
    return at if abs(taken - share) <= abs(fewer - share) else higher


def band_thresholds(scores: np.ndarray, capacity: float, amber_capacity: float) -> dict[str, float]:
    """The red and amber thresholds (`band_threshold`), amber never above red: chosen apart on
    tied scores, amber was set above red, an empty band the service published."""
    red = band_threshold(scores, capacity)
    return {"red": red, "amber": min(band_threshold(scores, amber_capacity), red)}


def band_warning(bands: dict[str, float], capacity: float, amber_capacity: float) -> str | None:
    """A warning when the bands hold far from the shares they were set for on the reference
    lines (equal scores at a threshold): later batches are compared with these shares."""
    red, amber = bands.get("red", 0.0), bands.get("amber", 0.0)
    wanted_amber = max(amber_capacity - capacity, 0.0)
    far = not 0.5 <= red / capacity <= 2 if capacity else False
    if far or (wanted_amber and amber < wanted_amber / 4):
        return (
            f"warning: equal scores at the thresholds: the red band holds {red:.1%} of the "
            f"reference lines (capacity {capacity:.1%}) and the amber band {amber:.1%} (asked "
            f"{wanted_amber:.1%}); screening selects by capacity all the same, but bands and "
            "their drift checks read against these shares"
        )
    return None


def _platt(how: str, raw: np.ndarray, y: np.ndarray) -> tuple[PlattCalibrator, dict[str, Any]]:
    """A Platt fit of ``y`` on ``raw``, and how it was fitted (the run's parameters)."""
    return PlattCalibrator().fit(raw, y), {
        "calibration_fit": how,
        "calibration_lines": len(y),
        "calibration_seizures": int(y.sum()),
    }


def _out_of_fold(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    *,
    names: list[str],
    params: BoosterParams,
    seed: int,
    folds: int,
    rounds: int,
) -> np.ndarray:
    """Each line's raw score from a booster trained on the other folds (stratified, seeded)."""
    held = np.empty(len(y), dtype="float64")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, score_rows in splitter.split(x, y):
        fold = fit_rounds(
            pd.DataFrame(x[fit_rows], columns=names),
            y[fit_rows],
            params=params,
            seed=seed,
            rounds=rounds,
            categorical=[],
            train_weight=None if weights is None else weights[fit_rows],
        )
        held[score_rows] = predict_raw(fold, x[score_rows])
    return held


def feature_drift(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Population stability index per feature of ``after`` against ``before`` (quantile bins of
    the earlier period, `models.drift`); above 0.25 is usually read as a shift worth a look."""
    names = list(before.columns)
    tally = DriftReference.fit(to_matrix(before, names), names).tally()
    tally.add(to_matrix(after, names))
    return tally.compare().rename(
        columns=lambda name: name.replace("_reference", "_before").replace("_batch", "_after")
    )


def period_frame(
    shipments: pd.DataFrame,
    outcomes: pd.DataFrame,
    mask: np.ndarray,
    probability: np.ndarray,
    rules: np.ndarray,
    truth: pd.DataFrame | None,
) -> pd.DataFrame:
    """The lines of an evaluated period with everything evaluation needs."""
    lines = shipments[mask]
    period = pd.DataFrame(
        {
            "bl_number": lines["bl_number"].to_numpy(),
            "container_number": lines["container_number"].to_numpy(),
            "port_of_discharge": lines["port_of_discharge"].to_numpy(),
            "eta": lines["eta"].to_numpy(),
            "probability": probability[mask],
            # Ties between equal rule scores are broken at random, as a rules-only desk would.
            "rules_score": rules[mask] + np.random.default_rng(0).random(int(mask.sum())) * 1e-6,
        }
    )
    labelled = label_lines(lines, outcomes)
    label = np.full(len(lines), np.nan)
    label[labelled["position"].to_numpy()] = labelled["label"].to_numpy()
    period["label"] = label
    control = np.full(len(lines), np.nan)
    is_control = (labelled["selection_reason"] == "RANDOM_CONTROL").to_numpy()
    control[labelled["position"].to_numpy()[is_control]] = labelled["label"].to_numpy()[is_control]
    period["control_label"] = control
    # Each control the engine drew stands for 1 / its chance of the draw lines of its port-day's
    # leftovers, as `review` weighs it (`draw_weights`: its selection_probability, where it names
    # the model_version whose ranked list drew it). A control without that chance, recorded
    # without a probability or drawn by another policy, is left out (weight 0; it weighed 1
    # among weights of 20 to 300), and all count alike when none has it: the simulated
    # history's controls, a uniform draw whose probability is their chance of any selection,
    # were weighted by it and a risky control stood for a tenth of the lines a quiet one did.
    drawn = draw_weights(labelled[is_control])
    weight = np.full(len(lines), np.nan)
    weight[labelled["position"].to_numpy()[is_control]] = drawn if (drawn > 0).any() else 1.0
    period["control_weight"] = weight
    if truth is not None:
        period = period.merge(
            truth[["bl_number", "container_number", "has_contraband", "p_contraband"]],
            on=["bl_number", "container_number"],
            how="left",
        )
    return period


def _importance(
    booster: Any, matrix: np.ndarray, names: list[str], config: TrainConfig
) -> pd.DataFrame:
    rng = np.random.default_rng(config.seed)
    rows = (
        matrix
        if len(matrix) <= config.importance_sample
        else matrix[rng.choice(len(matrix), config.importance_sample, replace=False)]
    )
    contrib = predict_contrib(booster, rows)[:, :-1] if len(rows) else np.zeros((0, len(names)))
    return pd.DataFrame(
        {
            "feature": names,
            "gain": booster.feature_importance("gain"),
            "mean_abs_contribution": np.abs(contrib).mean(axis=0) if len(rows) else 0.0,
        }
    ).sort_values("mean_abs_contribution", ascending=False)


def save_tables(outcome: TrainOutcome, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"importance": folder / "feature_importance.csv"}
    outcome.importance.to_csv(paths["importance"], index=False)
    if outcome.evaluation is not None:
        for name in ("observed", "control", "per_port", "truth"):
            table = getattr(outcome.evaluation, name)
            if table is not None:
                paths[name] = folder / f"{name}.csv"
                table.to_csv(paths[name], index=False)
    return paths
