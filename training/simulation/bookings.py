"""Bookings (bills of lading) of one phase: drawn from the trade relationships by volume.

A booking is one B/L with one or more containers. Tables here are dicts of equal-length arrays
(one row per booking); `lines` expands them to one row per container.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from training.simulation.config import Phase
from training.simulation.world import World

__all__ = ["REL_FIELDS", "Table", "legit_bookings", "take"]

Table = dict[str, npt.NDArray[Any]]
REL_FIELDS = (
    "shipper",
    "consignee",
    "good",
    "desc",
    "hs_good",
    "origin",
    "pol",
    "hub1",
    "hub2",
    "pod",
    "service",
    "forwarder",
    "house",
    "to_order",
    "notify",
    "agent_consignee",
    "freight",
    "price",
)
_MAX_CONTAINERS = 20


def take(table: Table, index: npt.NDArray[np.int64]) -> Table:
    return {key: value[index] for key, value in table.items()}


def _trading(
    world: World, pick: npt.NDArray[np.int64], day: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Replace relationships that have not started trading by ``day`` (redrawn by volume)."""
    rel = world.rel
    cum = np.cumsum(rel.weight)
    pick = pick.copy()
    for _ in range(8):  # redraw the few that are not trading yet
        late = np.flatnonzero(rel.start_day[pick] > day)
        if not len(late):
            return pick
        pick[late] = np.searchsorted(cum, rng.random(len(late)) * cum[-1], side="right")
    established = np.flatnonzero(rel.start_day < 0)
    cum_e = np.cumsum(rel.weight[established])
    late = np.flatnonzero(rel.start_day[pick] > day)
    pick[late] = established[np.searchsorted(cum_e, rng.random(len(late)) * cum_e[-1], "right")]
    return pick


def legit_bookings(world: World, phase: Phase, n_lines: int, rng: np.random.Generator) -> Table:
    """Bookings with exactly ``n_lines`` containers, spread evenly over the phase's days."""
    rel = world.rel
    mean = float(np.average(world.goods.containers_mean[rel.good], weights=rel.weight))
    size = int(n_lines / mean * 1.2) + 16
    per_day = n_lines / (phase.end_day - phase.first_day)
    pre = np.searchsorted(np.cumsum(rel.weight), rng.random(size) * rel.weight.sum(), "right")
    lam = np.maximum(world.goods.containers_mean[rel.good[pre]] - 1.0, 0.0)
    n = np.minimum(1 + rng.poisson(lam), _MAX_CONTAINERS)
    while n.sum() < n_lines:  # very unlikely: top up
        n = np.concatenate([n, np.ones(n_lines, dtype=n.dtype)])
    ends = np.cumsum(n)
    keep = int(np.searchsorted(ends, n_lines)) + 1
    n = n[:keep].copy()
    n[-1] -= int(ends[keep - 1] - n_lines)
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    day = (phase.first_day + np.floor(starts / per_day)).astype(np.int64)
    pick = _trading(world, pre[:keep], day, rng)
    table: Table = {f: getattr(rel, f)[pick] for f in REL_FIELDS}
    table["rel"] = pick
    table["n"] = n.astype(np.int64)
    table["day"] = day
    b = len(pick)
    table["scheme"] = np.full(b, -1, dtype=np.int64)
    table["p"] = np.zeros(b, dtype=np.float64)
    table["late"] = rng.random(b) < 0.03
    table["amend_late"] = np.zeros(b, dtype=bool)
    table["reefer_odd"] = rng.random(b) < 0.004
    table["cites"] = rng.random(b) < world.goods.cites[table["good"]]
    table["value_factor"] = np.ones(b, dtype=np.float64)
    return table
