"""Plots analysts would rather look at than read: capacity curve, PR curve, calibration curve,
feature importance. Each function draws one PNG and returns its path (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["capacity_plot", "pr_plot", "calibration_plot", "importance_plot"]


def _use_agg() -> None:
    """Draw to files only: the Agg backend, chosen before pyplot is first imported."""
    import matplotlib

    matplotlib.use("Agg")


def capacity_plot(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: Path,
    *,
    title: str = "",
    found: str = "contraband containers found",
) -> Path:
    """Hits found against the share of each port-day inspected, one line per policy; ``found``
    names what counts as a hit (true contraband, or observed seizures)."""
    _use_agg()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, (share, hits) in curves.items():
        style = "--" if name in ("random", "optimum") else "-"
        ax.plot(100 * np.asarray(share), hits, style, label=name)
    for capacity in (1, 2, 5):
        ax.axvline(capacity, color="grey", lw=0.5, alpha=0.5)
    ax.set_xlabel("inspection capacity (% of each port-day)")
    ax.set_ylabel(found)
    ax.set_title(title or "Capacity curve")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pr_plot(y: np.ndarray, probability: np.ndarray, path: Path) -> Path:
    from sklearn.metrics import precision_recall_curve

    _use_agg()
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    if len(np.unique(y)) == 2:
        precision, recall, _ = precision_recall_curve(y, probability)
        ax.plot(recall, precision)
        ax.axhline(float(np.mean(y)), color="grey", ls="--", label="base rate")
        ax.legend()
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall (inspected test lines)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration_plot(y: np.ndarray, probability: np.ndarray, path: Path, *, bins: int = 10) -> Path:
    """Observed seizure rate against predicted probability, by quantile bin."""
    _use_agg()
    import matplotlib.pyplot as plt

    frame = pd.DataFrame({"y": y, "p": probability})
    frame["bin"] = pd.qcut(
        frame["p"].rank(method="first"), q=min(bins, max(1, len(frame))), labels=False
    )
    grouped = frame.groupby("bin").agg(p=("p", "mean"), y=("y", "mean"), n=("y", "size"))
    fig, ax = plt.subplots(figsize=(5, 4))
    top = float(max(grouped["p"].max(), grouped["y"].max(), 1e-3)) if len(grouped) else 1.0
    ax.plot([0, top], [0, top], color="grey", ls="--", label="perfect")
    ax.plot(grouped["p"], grouped["y"], "o-", label="model")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed seizure rate")
    ax.set_title("Calibration (inspected test lines)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def importance_plot(importance: pd.DataFrame, path: Path, *, top: int = 20) -> Path:
    """Gain and mean absolute contribution side by side; ``importance`` has columns feature,
    gain, mean_abs_contribution."""
    _use_agg()
    import matplotlib.pyplot as plt

    head = importance.sort_values("mean_abs_contribution", ascending=False).head(top).iloc[::-1]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.32 * len(head) + 1.5), sharey=True)
    axes[0].barh(head["feature"], head["gain"] / max(head["gain"].max(), 1e-12))
    axes[0].set_title("gain (relative)")
    axes[1].barh(head["feature"], head["mean_abs_contribution"])
    axes[1].set_title("mean |contribution| (log-odds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
