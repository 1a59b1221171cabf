"""Which selections find things: inspection outcomes reviewed by why each container was opened.

The periodic review a targeting centre holds after a phase: of the containers the model picked,
the rules picked, the watch list picked and the random control drew, how many were inspected and
how many held contraband. The random-control draw is the only unbiased sample of the traffic, so
its hit rate, each control weighted by 1 / its chance of the draw, is the base rate every other
reason is compared with (lift). Rates come with a Wilson
95 % interval, honest for the small counts a review has; INCONCLUSIVE results count as inspected
but not in any rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from risk_engine.errors import ConfigError

__all__ = [
    "BaseRate",
    "REVIEW_GROUPS",
    "control_base_rate",
    "draw_weights",
    "REVIEW_COLUMNS",
    "inspected_between",
    "review_outcomes",
    "wilson_interval",
]

# Columns of an outcome a review may be broken down by.
REVIEW_GROUPS = ("selection_reason", "model_version", "operation_phase", "inspection_level")
REVIEW_COLUMNS = [
    "inspected",
    "conclusive",
    "seizures",
    "hit_rate",
    "hit_rate_low",
    "hit_rate_high",
    "lift_over_random",
]
_Z95 = 1.959963984540054


def wilson_interval(hits: float, trials: float, z: float = _Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate; (nan, nan) without trials. Weighted counts
    (an effective number of trials) are taken as they are."""
    if trials <= 0:
        return math.nan, math.nan
    rate = hits / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    # no hit: the bound is 0 exactly (rounding left 5.55e-17 in the exported table)
    low = 0.0 if hits <= 0 else max(0.0, centre - half)
    high = 1.0 if hits >= trials else min(1.0, centre + half)
    return low, high


def inspected_between(
    outcomes: pd.DataFrame, since: datetime | None, until: datetime | None
) -> np.ndarray:
    """Which outcomes were inspected in [since, until) (every one without bounds)."""
    inspected_at = pd.to_datetime(outcomes["inspected_at"], utc=True)
    keep = np.ones(len(outcomes), dtype=bool)
    if since is not None:
        keep &= (inspected_at >= pd.Timestamp(since)).to_numpy()
    if until is not None:
        keep &= (inspected_at < pd.Timestamp(until)).to_numpy()
    return keep


@dataclass(frozen=True)
class BaseRate:
    """The seizure rate of the traffic the random control was drawn from."""

    rate: float
    controls: int  # conclusive random-control inspections behind the rate
    weighted: bool  # each weighted by 1 / its chance of the draw (`draw_weights`)
    without: int = 0  # conclusive controls left out: recorded without a usable probability
    # every conclusive control counted alike: told beside a weighted rate
    plain: float = math.nan
    # conclusive controls left out of a weighted rate as drawn by another policy (no
    # model_version): their probability need not be their chance of the draw
    other_policy: int = 0


def draw_weights(outcomes: pd.DataFrame) -> np.ndarray:
    """1 / the chance of the draw of each row, 0 where it is not known (read once, for the rate
    and for the control's own rows; training's evaluation of the random-control slice weighs
    its labelled lines with it too, `training.train.period_frame`).

    The engine's ranked list gives each line its ``selection_probability`` (for a random
    control, its chance of the draw, `models.selection.select_per_port_day`) together with the
    ``model_version`` that scored it, so an outcome recorded from it names both. A control
    without a model_version was drawn by another policy, whose probability the contract lets be
    its chance of any selection: the simulated history's is, and weighted by it a risky control
    (likely picked by the rules anyway) stood for a tenth of the lines a quiet one did, so the
    quickstart world's base rate read 0.18 % where its controls, each as likely as any other to
    be drawn, found 0.40 %. Its weight is 0 here: not known."""
    p = _probabilities(outcomes)
    usable = (p > 0) & (p <= 1) & _named_model(outcomes)
    return np.where(usable, 1 / np.where(usable, p, 1.0), 0.0)


def _probabilities(outcomes: pd.DataFrame) -> np.ndarray:
    """selection_probability as numbers (NaN where there is none)."""
    if "selection_probability" not in outcomes.columns:
        return np.full(len(outcomes), np.nan)
    column = pd.to_numeric(outcomes["selection_probability"], errors="coerce")
    return np.asarray(column.to_numpy("float64", na_value=np.nan))


def _named_model(outcomes: pd.DataFrame) -> np.ndarray:
    """Which rows name the model that scored them when selected (a non-blank model_version)."""
    if "model_version" not in outcomes.columns:
        return np.zeros(len(outcomes), dtype=bool)
    version = outcomes["model_version"].astype("string").str.strip()
    return (version.str.len() > 0).fillna(False).to_numpy(dtype=bool)


def control_base_rate(outcomes: pd.DataFrame) -> BaseRate:
    """The seizure rate among conclusive random-control inspections, each weighted by
    1 / its chance of the draw (a ratio of Horvitz-Thompson sums): screening draws the same
    share of every port-day's lines left over, so a control from a small port-day stood for
    fewer lines than one from a large port-day, and pooling them unweighted told a rate of the
    small port-days. The chance of the draw is known only for the engine's own controls
    (`draw_weights`): a control recorded without a usable probability, or drawn by another
    policy (no model_version), is left out of a weighted rate and counted (one such row turned
    the whole review unweighted: every lift a seventh of itself). When no control has its
    chance of the draw, the rate is unweighted: every control counted alike, as a uniform draw
    (the simulated history's: each line of a port-day as likely to be drawn) is read."""
    result = outcomes["result"].astype("string")
    control = (outcomes["selection_reason"].astype("string") == "RANDOM_CONTROL").fillna(False)
    conclusive = (control & result.isin(["SEIZURE", "NO_FINDING"]).fillna(False)).to_numpy()
    seized = (result == "SEIZURE").fillna(False).to_numpy(dtype="float64")
    if not conclusive.any():
        return BaseRate(math.nan, 0, False)
    w = draw_weights(outcomes)
    usable = conclusive & (w > 0)
    if not usable.any():
        return BaseRate(float(seized[conclusive].mean()), int(conclusive.sum()), False)
    rate = float((seized[usable] * w[usable]).sum() / w[usable].sum())
    plain = float(seized[conclusive].mean())
    p = _probabilities(outcomes)
    probability = (p > 0) & (p <= 1)
    return BaseRate(
        rate,
        int(usable.sum()),
        True,
        int((conclusive & ~probability).sum()),
        plain,
        int((conclusive & probability & ~usable).sum()),
    )


def review_outcomes(
    outcomes: pd.DataFrame,
    *,
    by: tuple[str, ...] = ("selection_reason",),
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """One row per group of outcomes inspected in [since, until): counts, hit rate with its
    interval, and lift over the random control of the same period. A last row, ``all``, sums
    every group."""
    unknown = [name for name in by if name not in REVIEW_GROUPS]
    if unknown or not by:
        raise ConfigError(
            f"--by={','.join(by)!r}: a review is broken down by one or more of "
            f"{', '.join(REVIEW_GROUPS)}"
        )
    frame = outcomes.loc[inspected_between(outcomes, since, until)]
    result = frame["result"].astype("string")
    conclusive = result.isin(["SEIZURE", "NO_FINDING"]).to_numpy(dtype=np.int64)
    seizures = (result == "SEIZURE").fillna(False).to_numpy(dtype=np.int64)
    counts = pd.DataFrame(
        {
            **{name: frame[name].astype("string").fillna("(none)").to_numpy() for name in by},
            "inspected": np.ones(len(frame), dtype=np.int64),
            "conclusive": conclusive,
            "seizures": seizures,
        }
    )
    sums = ["inspected", "conclusive", "seizures"]
    grouped = counts.groupby(list(by), sort=True)[sums].sum()
    everything = ("all",) * len(by) if len(by) > 1 else "all"
    grouped.loc[everything, sums] = counts[sums].sum().to_numpy()
    grouped = grouped.astype("int64")
    # The base rate: the random control of the same period, whatever the breakdown.
    base = control_base_rate(frame).rate
    bounds = [
        wilson_interval(int(hits), int(trials))
        for hits, trials in zip(grouped["seizures"], grouped["conclusive"], strict=True)
    ]
    trials = grouped["conclusive"].where(grouped["conclusive"] > 0)
    grouped["hit_rate"] = (grouped["seizures"] / trials).astype("float64")
    grouped["hit_rate_low"] = [low for low, _ in bounds]
    grouped["hit_rate_high"] = [high for _, high in bounds]
    if "selection_reason" in by:
        _weigh_controls(grouped, counts, frame, by)
    grouped["lift_over_random"] = grouped["hit_rate"] / base if base > 0 else math.nan
    return grouped.reset_index()[[*by, *REVIEW_COLUMNS]]


def _weigh_controls(
    grouped: pd.DataFrame, counts: pd.DataFrame, frame: pd.DataFrame, by: tuple[str, ...]
) -> None:
    """The random control's own rows as the base rate is: each control weighted by 1 / its
    chance of the draw (its interval from the weights' effective number of inspections), so
    the control is told a lift of 1 over itself, not 2.2 (its plain rate over its weighted
    one). Left plain, as the base rate then is, when no control has its chance of the draw."""
    control = (counts["selection_reason"] == "RANDOM_CONTROL").to_numpy() & (
        counts["conclusive"].to_numpy() == 1
    )
    w = draw_weights(frame)
    control &= w > 0  # as the base rate: those without their chance of the draw left out
    if not control.any():
        return
    w = np.where(control, w, 0.0)
    weights = pd.DataFrame(
        {**{name: counts[name] for name in by}, "w": w, "wy": w * counts["seizures"].to_numpy()}
    )
    weights["w2"] = weights["w"] ** 2
    summed = weights[control].groupby(list(by), sort=True)[["w", "wy", "w2"]].sum()
    for key, row in summed.iterrows():
        rate = float(row["wy"] / row["w"])
        effective = float(row["w"] ** 2 / row["w2"])
        low, high = wilson_interval(rate * effective, effective)
        grouped.loc[key, ["hit_rate", "hit_rate_low", "hit_rate_high"]] = [rate, low, high]
