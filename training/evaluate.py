"""Evaluation of a scored period at inspection capacity: model vs historical rules vs random,
observed labels, the random-control slice, label metrics, and truth where a simulator gives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from models.selection import port_day
from training import plots
from training.metrics import (
    CAPACITIES,
    capacity_curve,
    capacity_table,
    control_metrics,
    label_metrics,
    selected_at_capacity,
)

__all__ = ["Evaluation", "evaluate_period", "flat_metrics"]


@dataclass
class Evaluation:
    observed: pd.DataFrame
    control: pd.DataFrame
    labels: dict[str, float]
    truth: pd.DataFrame | None
    per_port: pd.DataFrame
    curves_observed: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    curves_truth: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    lines: int = 0
    port_days: int = 0

    def metrics(self) -> dict[str, float]:
        return flat_metrics(self)


def evaluate_period(
    period: pd.DataFrame,
    *,
    scores: dict[str, pd.Series],
    capacities: tuple[float, ...] = CAPACITIES,
) -> Evaluation:
    """``period`` has one row per shipment line of the evaluated period with columns
    port_of_discharge, eta, label (NaN when not inspected), control_label (NaN unless inspected
    as random control), probability (the model's calibrated score), and optionally
    has_contraband and p_contraband (truth). ``scores`` maps scorer name -> ranking score."""
    groups = port_day(period["port_of_discharge"], period["eta"]).reset_index(drop=True)
    aligned = {k: v.reset_index(drop=True) for k, v in scores.items()}
    observed_hits = period["label"].fillna(0).reset_index(drop=True)
    observed = capacity_table(
        groups,
        aligned,
        observed_hits,
        capacities=capacities,
        inspected=period["label"].notna().reset_index(drop=True),
    )
    primary = next(iter(aligned))  # the scorer under evaluation (model, or challenger)
    control = control_metrics(
        groups,
        aligned[primary],
        period["control_label"].reset_index(drop=True),
        capacities=capacities,
        weight=(
            period["control_weight"].reset_index(drop=True)
            if "control_weight" in period.columns
            else None
        ),
    )
    labelled = period["label"].notna().to_numpy()
    labels = label_metrics(
        period["label"].to_numpy()[labelled], period["probability"].to_numpy()[labelled]
    )
    curves_observed = {k: capacity_curve(groups, v, observed_hits) for k, v in aligned.items()}
    truth = None
    curves_truth: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "has_contraband" in period.columns and period["has_contraband"].notna().any():
        truth_hits = period["has_contraband"].fillna(0).astype(float).reset_index(drop=True)
        with_optimum = dict(aligned)
        with_optimum["optimum"] = period["p_contraband"].fillna(0).reset_index(drop=True)
        truth = capacity_table(groups, with_optimum, truth_hits, capacities=capacities)
        curves_truth = {k: capacity_curve(groups, v, truth_hits) for k, v in with_optimum.items()}
    per_port = _per_port(period, groups, aligned[primary], observed_hits)
    return Evaluation(
        observed=observed,
        control=control,
        labels=labels,
        truth=truth,
        per_port=per_port,
        curves_observed=curves_observed,
        curves_truth=curves_truth,
        lines=len(period),
        port_days=int(groups.nunique()),
    )


def _per_port(
    period: pd.DataFrame, groups: pd.Series, model: pd.Series, hits: pd.Series
) -> pd.DataFrame:
    """Lines, conclusively inspected lines, seizures and the model's hits at 2 % capacity per
    discharge port (an inconclusive inspection carries no label: "inspected" read as more)."""
    chosen = selected_at_capacity(groups, model, 0.02)
    frame = pd.DataFrame(
        {
            "port": period["port_of_discharge"].astype(str).to_numpy(),
            "lines": 1,
            "conclusive": period["label"].notna().to_numpy().astype(int),
            "seizures": hits.to_numpy(),
            "model_hits_2pct": hits.to_numpy() * chosen,
        }
    )
    return frame.groupby("port").sum().sort_values("lines", ascending=False).reset_index()


def flat_metrics(evaluation: Evaluation) -> dict[str, float]:
    """Flat metric names for MLflow, e.g. ``observed_model_hits_2pct``."""
    out: dict[str, float] = {f"test_{k}": float(v) for k, v in evaluation.labels.items()}
    tables = {"observed": evaluation.observed, "truth": evaluation.truth}
    for view, table in tables.items():
        if table is None:
            continue
        for row in table.itertuples(index=False):
            tag = f"{int(round(cast(float, row.capacity) * 100))}pct"
            for column in (
                "hits",
                "precision",
                "recall",
                "lift_over_random",
                "inspected",
                "precision_inspected",
            ):
                value = getattr(row, column, float("nan"))
                if value == value:
                    out[f"{view}_{row.scorer}_{column}_{tag}"] = float(value)
    if evaluation.truth is not None:
        truth = evaluation.truth.set_index(["scorer", "capacity"])
        for capacity in truth.index.get_level_values("capacity").unique():
            best = truth.loc[("optimum", capacity), "hits"]
            primary = truth.index.get_level_values("scorer")[1]  # after "random"
            model = truth.loc[(primary, capacity), "hits"]
            if best > 0:
                out[f"truth_model_share_of_optimum_{int(round(capacity * 100))}pct"] = float(
                    model / best
                )
    for row in evaluation.control.itertuples(index=False):
        tag = f"{int(round(cast(float, row.capacity) * 100))}pct"
        for column in ("rate_selected", "rate_selected_low", "rate_selected_high"):
            value = cast(float, getattr(row, column, float("nan")))
            if value == value:
                out[f"control_{column}_{tag}"] = float(value)
    out["test_lines"] = float(evaluation.lines)
    out["test_port_days"] = float(evaluation.port_days)
    return out


def draw_plots(
    evaluation: Evaluation, period: pd.DataFrame, importance: pd.DataFrame, folder: Path
) -> dict[str, Path]:
    """The four plots of a training or phase report."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    curves = evaluation.curves_truth or evaluation.curves_observed
    truth = bool(evaluation.curves_truth)
    title = "Capacity curve (true contraband)" if truth else "Capacity curve (observed seizures)"
    paths["capacity_curve"] = plots.capacity_plot(
        curves,
        folder / "capacity_curve.png",
        title=title,
        found="contraband containers found" if truth else "seizures found (inspected lines)",
    )
    labelled = period["label"].notna().to_numpy()
    y = period["label"].to_numpy()[labelled].astype(float)
    p = period["probability"].to_numpy()[labelled]
    paths["pr_curve"] = plots.pr_plot(y, p, folder / "pr_curve.png")
    paths["calibration"] = plots.calibration_plot(y, p, folder / "calibration.png")
    paths["importance"] = plots.importance_plot(importance, folder / "feature_importance.png")
    return paths
