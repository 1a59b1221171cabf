"""The historical inspection policy of each port-day, and what the inspections found.

Selection is one probability-proportional-to-size draw per port-day (systematic sampling in a
random order), so every line's inclusion probability is known exactly:

    capacity C = floor(rate * n) + Bernoulli(frac(rate * n))   (n lines arrived that port-day)
    v_i = rho / n + (1 - rho) * w_i / sum(w)                   (rho: random-control share)
    pi_i(C) = C * v_i, capped at 1 with the excess spread over the others

where ``w_i = exp(sharpness * points_i)``, times exp(4 * sharpness) for a watch-list party and
a very large factor for an intelligence tip. A selected line is labelled RANDOM_CONTROL with
probability ``(C * rho / n) / pi_i``, which makes every line's chance of being a random control
exactly ``C * rho / n``: the random-control rows are a uniform sample of the port-day.
``selection_probability`` is the unconditional chance, averaged over the two possible capacities:
``(1 - frac) * pi_i(floor) + frac * pi_i(floor + 1)``, so Horvitz-Thompson sums are unbiased.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from training.simulation.bookings import Table
from training.simulation.config import Phase
from training.simulation.policy import PolicyState, rule_points
from training.simulation.tactics import SCHEMES
from training.simulation.timing import DAY, HOUR
from training.simulation.world import World

__all__ = ["LEVELS", "REASONS", "RESULTS", "inspect"]

REASONS = ("RANDOM_CONTROL", "INTELLIGENCE", "WATCHLIST", "RULE", "OTHER")
LEVELS = ("PHYSICAL", "NII_SCAN", "DOCUMENTARY")
RESULTS = ("NO_FINDING", "SEIZURE", "INCONCLUSIVE")
_LEVEL_P = {  # by reason: chances of PHYSICAL, NII_SCAN, DOCUMENTARY
    0: (0.5, 0.5, 0.0),
    1: (1.0, 0.0, 0.0),
    2: (1.0, 0.0, 0.0),
    3: (0.6, 0.35, 0.05),
    4: (0.2, 0.6, 0.2),
}
_LEVEL_DETECTION = np.array([1.0, 0.7, 0.1])
_TIP_WEIGHT = 1e9


def _inclusion(
    group: npt.NDArray[np.int64],
    weight: npt.NDArray[np.float64],
    capacity: npt.NDArray[np.int64],
    rho: float,
) -> npt.NDArray[np.float64]:
    """Inclusion probabilities summing to each group's capacity, none above 1."""
    n_g = np.bincount(group).astype(np.float64)
    v = rho / n_g[group] + (1.0 - rho) * weight / np.bincount(group, weights=weight)[group]
    pi = capacity[group] * v
    capped = np.zeros(len(v), dtype=bool)
    for _ in range(50):
        over = (pi > 1.0) & ~capped
        if not over.any():
            break
        capped |= over
        free = np.bincount(group, weights=np.where(capped, 0.0, v), minlength=len(n_g))
        left = capacity - np.bincount(group, weights=capped, minlength=len(n_g))
        scale = np.divide(left, free, out=np.zeros_like(free), where=free > 0)
        pi = np.where(capped, 1.0, v * scale[group])
    return np.minimum(pi, 1.0)


def _systematic(
    group: npt.NDArray[np.int64], pi: npt.NDArray[np.float64], rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Systematic PPS sampling within each group, in a random order: exact inclusion ``pi``."""
    order = np.lexsort((rng.random(len(pi)), group))
    g, p = group[order], pi[order]
    cum = np.cumsum(p)
    start = np.searchsorted(g, np.arange(g[-1] + 1))
    offset = np.concatenate([[0.0], cum])[start][g]
    cum = np.round(cum - offset, 9)
    u = rng.random(int(g[-1]) + 1)[g]
    picked = np.floor(cum + u) - np.floor(np.round(cum - p, 9) + u) >= 1
    out = np.zeros(len(pi), dtype=bool)
    out[order] = picked
    return out


def inspect(
    world: World,
    phase: Phase,
    lines: Table,
    defect: npt.NDArray[np.int64],
    state: PolicyState,
    rng: np.random.Generator,
) -> Table:
    """Select this phase's inspections and record their outcomes (one row per inspection)."""
    config = world.config
    n = len(lines["day"])
    key = lines["pod"] * 100_000 + lines["day"]
    _, group = np.unique(key, return_inverse=True)
    group = group.astype(np.int64)
    n_g = np.bincount(group)
    expected = config.inspection_rate * n_g
    low = np.floor(expected).astype(np.int64)
    frac = expected - low
    capacity = low + (rng.random(len(n_g)) < frac)
    points = rule_points(world, lines, defect, state)
    watched = state.watched(lines)
    tip = (lines["has"] & (rng.random(n) < config.intelligence_rate)) | (rng.random(n) < 1e-5)
    beta = config.policy_sharpness
    weight = np.exp(beta * points) * np.where(watched, np.exp(4 * beta), 1.0)
    weight = np.where(tip, _TIP_WEIGHT, weight)
    rho = config.random_control_share
    pi = _inclusion(group, weight, capacity, rho)
    chosen = np.flatnonzero(_systematic(group, pi, rng))
    # unconditional probability: average over the two capacities the port-day could have had
    pi_low, pi_high = _inclusion(group, weight, low, rho), _inclusion(group, weight, low + 1, rho)
    selection = (1.0 - frac[group]) * pi_low + frac[group] * pi_high
    rc_chance = capacity[group] * config.random_control_share / n_g[group]
    random_control = rng.random(n) < rc_chance / np.maximum(pi, 1e-12)
    reason = np.select([random_control, tip, watched, points > 0], [0, 1, 2, 3], default=4).astype(
        np.int64
    )[chosen]
    return _outcomes(world, phase, lines, chosen, reason, selection[chosen], rng)


def _outcomes(
    world: World,
    phase: Phase,
    lines: Table,
    chosen: npt.NDArray[np.int64],
    reason: npt.NDArray[np.int64],
    probability: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> Table:
    k = len(chosen)
    level_p = np.array([_LEVEL_P[int(r)] for r in range(len(REASONS))])[reason]
    level = (rng.random(k)[:, None] > np.cumsum(level_p, axis=1)).sum(axis=1).astype(np.int64)
    level = np.minimum(level, len(LEVELS) - 1)
    scheme = lines["scheme"][chosen]
    has = lines["has"][chosen]
    concealment = np.array([s.concealment for s in SCHEMES])[np.maximum(scheme, 0)]
    found = has & (
        rng.random(k) < world.config.detection_rate * _LEVEL_DETECTION[level] * concealment
    )
    unsure = np.where(has, 0.3, 0.01)
    result = np.where(found, 1, np.where(rng.random(k) < unsure, 2, 0)).astype(np.int64)
    dwell = np.minimum(rng.lognormal(np.log(1.2), 0.5, size=k), 10.0)
    inspected = lines["eta"][chosen] + np.round(dwell * DAY / 60).astype(np.int64) * 60
    median = np.array([1.0, 9.0, 12.0])[result]
    spread = np.array([0.8, 0.6, 0.5])[result]
    cap = np.array([15.0, 75.0, 60.0])[result]
    delay = np.minimum(rng.lognormal(np.log(median), spread), cap)
    recorded = inspected + np.maximum(np.round(delay * DAY / 60).astype(np.int64) * 60, HOUR)
    lo = np.array([s.kg[0] for s in SCHEMES])[np.maximum(scheme, 0)]
    hi = np.array([s.kg[1] for s in SCHEMES])[np.maximum(scheme, 0)]
    quantity = np.minimum(rng.uniform(lo, hi), lines["kg"][chosen] * 0.95)
    return {
        "line": chosen,
        "reason": reason,
        "probability": probability,
        "level": level,
        "result": result,
        "quantity": np.where(result == 1, np.round(quantity, 1), np.nan),
        "inspected": inspected,
        "recorded": recorded,
        "phase": np.full(k, phase.index, dtype=np.int64),
    }
