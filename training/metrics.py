"""Honest evaluation at inspection capacity, per port-day.

Three views, because labels exist only for inspected containers:
- observed: select the top share of each port-day among all its lines; a hit is a selected line
  whose recorded inspection found contraband (a lower bound for a new policy: it cannot be
  credited for contraband in containers the old policy never opened);
- random control: the inspected RANDOM_CONTROL lines are an unbiased sample, so the seizure rate
  of those the model would have picked estimates its precision without selection bias;
- truth (simulated worlds only): recall against every contraband container, and the share of the
  truth-ranked optimum reached with the same capacity.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss

from models.selection import capacity_slots, rank_within
from training.review import wilson_interval

__all__ = [
    "CAPACITIES",
    "calibration_warning",
    "capacity_table",
    "capacity_curve",
    "label_metrics",
    "control_metrics",
]

CAPACITIES = (0.01, 0.02, 0.05)


def selected_at_capacity(groups: pd.Series, score: pd.Series, capacity: float) -> np.ndarray:
    rank = rank_within(groups, score).to_numpy()
    sizes = groups.groupby(groups, sort=False).transform("size").to_numpy()
    return rank <= capacity_slots(sizes, capacity)


def capacity_table(
    groups: pd.Series,
    scores: Mapping[str, pd.Series],
    hits: pd.Series,
    *,
    capacities: tuple[float, ...] = CAPACITIES,
    inspected: pd.Series | None = None,
) -> pd.DataFrame:
    """Hits, precision and recall at each capacity for each scorer (model, rules, ...), plus
    the expected figures of a uniform random selection. ``hits`` is 1 where a line counts as
    a find (observed seizure, or true contraband) and 0 otherwise.

    With ``inspected`` (True where a line's inspection was conclusive), each row also counts
    the selected lines that were opened and the hits among them (``precision_inspected``):
    ``precision`` counts the selected lines never opened as finding nothing (1.1 % at 2 % on
    the quickstart, where the opened ones found 18 %)."""
    y = hits.fillna(0).to_numpy(dtype="float64")
    opened = None if inspected is None else inspected.fillna(False).to_numpy(dtype=bool)
    total = float(y.sum())
    rows = []
    sizes = groups.groupby(groups, sort=False).transform("size").to_numpy()
    for capacity in capacities:
        slots = capacity_slots(sizes, capacity)
        # Expected random hits: each line is picked with probability slots / size of its group.
        share = np.minimum(1.0, slots / sizes)
        random_hits = float((y * share).sum())
        row = _row("random", capacity, random_hits, float(share.sum()), total)
        if opened is not None:
            row |= _opened(float(share[opened].sum()), float((y * share)[opened].sum()))
        rows.append(row)
        for name, score in scores.items():
            chosen = selected_at_capacity(groups, score, capacity)
            row = _row(name, capacity, float(y[chosen].sum()), float(chosen.sum()), total)
            if opened is not None:
                both = chosen & opened
                row |= _opened(float(both.sum()), float(y[both].sum()))
            rows.append(row)
    table = pd.DataFrame(rows)
    random = table[table["scorer"] == "random"].set_index("capacity")["hits"]
    table["lift_over_random"] = table["hits"] / table["capacity"].map(random).replace(0, np.nan)
    return table


def _opened(inspected: float, hits: float) -> dict[str, float | str]:
    """The selected lines whose inspection was conclusive, and the share of them that hit."""
    return {
        "inspected": inspected,
        "precision_inspected": hits / inspected if inspected else float("nan"),
    }


def _row(
    name: str, capacity: float, hits: float, selected: float, total: float
) -> dict[str, float | str]:
    return {
        "scorer": name,
        "capacity": capacity,
        "selected": selected,
        "hits": hits,
        "precision": hits / selected if selected else float("nan"),
        "recall": hits / total if total else float("nan"),
    }


def capacity_curve(
    groups: pd.Series, score: pd.Series, hits: pd.Series, shares: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Hits found against the share of each port-day inspected (for the capacity plot), with
    the slots the selection and the capacity tables give: at least one a port-day from any
    share above 0 (the plot read 248 hits at 1 % where its table said 290, as a port-day of
    under 50 lines got no slot on the curve)."""
    shares = np.linspace(0.0, 0.2, 41) if shares is None else shares
    rank = rank_within(groups, score).to_numpy()
    sizes = groups.groupby(groups, sort=False).transform("size").to_numpy()
    y = hits.fillna(0).to_numpy(dtype="float64")
    found = np.array([y[rank <= capacity_slots(sizes, s)].sum() if s > 0 else 0.0 for s in shares])
    return shares, found


def label_metrics(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """PR-AUC and Brier score on labelled (inspected) lines."""
    y = np.asarray(y, dtype="float64")
    if len(y) == 0 or y.min() == y.max():
        return {"pr_auc": float("nan"), "brier": float("nan"), "labelled": float(len(y))}
    base = float(y.mean())
    return {
        "pr_auc": float(average_precision_score(y, probability)),
        "brier": float(brier_score_loss(y, probability)),
        # the Brier of saying the lines' own seizure rate for each: a calibrated score does
        # better; the mean score against that rate shows which way it is off
        "base_brier": base * (1.0 - base),
        "mean_probability": float(np.mean(probability)),
        "labelled": float(len(y)),
        "base_rate": base,
    }


def control_metrics(
    groups: pd.Series,
    score: pd.Series,
    control_hit: pd.Series,
    *,
    capacities: tuple[float, ...] = CAPACITIES,
    weight: pd.Series | None = None,
) -> pd.DataFrame:
    """Unbiased estimates from the random-control slice: among control-inspected lines, the
    seizure rate of those the model would have selected at each capacity vs the rest.

    ``control_hit`` is NaN for lines not in the control slice, else 0/1. ``weight`` (1 / the
    chance of the draw of each control, 0 for one left out: `training.train.period_frame`)
    makes each rate a weighted one: a control drawn from a small port-day's leftovers stands for
    fewer lines than one from a large port-day.
    """
    in_control = control_hit.notna().to_numpy()
    y = control_hit.to_numpy(dtype="float64")
    w = np.ones(len(y)) if weight is None else weight.fillna(1.0).to_numpy(dtype="float64")

    def rate(among: np.ndarray) -> tuple[float, float, float]:
        """The weighted rate and its Wilson 95 % interval, from the weights' effective number
        of controls: a rate of 16 controls read as exact ("0" at 2 %, where 0-29 % holds)."""
        total, squares = w[among].sum(), (w[among] ** 2).sum()
        if total <= 0:  # only controls without a probability (left out)
            return float("nan"), float("nan"), float("nan")
        value = float((y[among] * w[among]).sum() / total)
        effective = float(total**2 / squares)
        low, high = wilson_interval(value * effective, effective)
        return value, low, high

    rows = []
    for capacity in capacities:
        chosen = selected_at_capacity(groups, score, capacity)
        picked = in_control & chosen
        rest = in_control & ~chosen
        selected, selected_low, selected_high = rate(picked)
        others, others_low, others_high = rate(rest)
        rows.append(
            {
                "capacity": capacity,
                "control_lines": int(in_control.sum()),
                "control_seizures": int(np.nansum(y[in_control])),
                "control_selected": int(picked.sum()),
                "control_selected_seizures": int(np.nansum(y[picked])),
                "rate_selected": selected,
                "rate_selected_low": selected_low,
                "rate_selected_high": selected_high,
                "rate_not_selected": others,
                "rate_not_selected_low": others_low,
                "rate_not_selected_high": others_high,
            }
        )
    return pd.DataFrame(rows)


def calibration_warning(labels: dict[str, float]) -> str | None:
    """A warning when the scores of the test period's inspected lines are no better calibrated
    than their own seizure rate said of each (a Brier at or above that rate's), or when their
    mean is off that rate by more than a factor of 2: `risk_score` is documented as a
    probability, and the quickstart's read 1.1 % on average where 2.9 % of the inspections
    found something, unsaid."""
    brier, base = labels.get("brier", float("nan")), labels.get("base_brier", float("nan"))
    rate, mean = labels.get("base_rate", float("nan")), labels.get("mean_probability", float("nan"))
    advice = (
        "rank by them, but read a risk_score as a rank, not as a probability, until a "
        "retrained model does better"
    )
    if brier >= base:  # NaN (one class, no labels) says nothing
        return (
            f"warning: the scores are not calibrated on the test period: their Brier "
            f"{brier:.4f} is no better than {base:.4f}, from saying the inspected lines' "
            f"seizure rate ({rate:.2%}) of each (mean score {mean:.2%}); {advice}"
        )
    # A model that ranks well beats the base rate's Brier with scores at a fraction of the
    # rate found (a retrained challenger: 0.68 % against 2.99 %, Brier 0.0254 against 0.0290).
    if rate > 0 and mean > 0 and not 1 / _LEVEL_OFF <= mean / rate <= _LEVEL_OFF:
        return (
            f"warning: the scores are not calibrated on the test period: their mean "
            f"{mean:.2%} is {'under' if mean < rate else 'over'} the inspected lines' seizure "
            f"rate {rate:.2%} by a factor of {max(mean / rate, rate / mean):.1f} (their Brier "
            f"{brier:.4f} against {base:.4f} ranks well); {advice}"
        )
    return None


# How far the mean score may be from the seizure rate found before a warning (a factor).
_LEVEL_OFF = 2.0
