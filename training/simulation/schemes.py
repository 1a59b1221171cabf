"""The smuggling schemes at work in one phase: their bookings, and drugs added to legit boxes.

`SchemeState` remembers each scheme's current generation of tactics; `adapt` moves a scheme to
its next generation after a phase in which it was seized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from training.simulation.bookings import Table
from training.simulation.config import Phase, SimulationConfig
from training.simulation.geography import trade_of_country
from training.simulation.tactics import SCHEMES, Tactic
from training.simulation.world import World

__all__ = ["SchemeState", "mark_rip_on", "scheme_bookings"]


@dataclass
class SchemeState:
    """Current tactic generation of each scheme, and the history of switches."""

    generation: list[int] = field(default_factory=lambda: [0] * len(SCHEMES))

    def tactic(self, world: World, scheme: int) -> Tactic:
        seq = world.tactics[scheme]
        return seq[min(self.generation[scheme], len(seq) - 1)]

    def adapt(self, seized: npt.NDArray[np.bool_]) -> None:
        for s, hit in enumerate(seized.tolist()):
            if hit:
                self.generation[s] += 1


def _expected_lines(config: SimulationConfig, scheme: int, n_lines: int) -> float:
    return config.contraband_rate * n_lines * config.scheme_share(SCHEMES[scheme].name)


def scheme_bookings(
    world: World, state: SchemeState, phase: Phase, n_lines: int, rng: np.random.Generator
) -> Table:
    """Bookings of the front-company schemes in this phase (each is active from phase 1 on)."""
    parts: list[Table] = []
    for s, spec in enumerate(SCHEMES):
        if spec.rip_on:
            continue
        lo, hi = spec.containers
        per_booking = 1.0 + ((lo + hi) / 2 - 1.0) * spec.p_container
        k = int(rng.poisson(_expected_lines(world.config, s, n_lines) / per_booking))
        k = max(k, 1) if phase.index == 1 else k
        parts.append(_bookings_of(world, state.tactic(world, s), phase, k, rng))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _pick(rng: np.random.Generator, options: tuple[int, ...], k: int) -> npt.NDArray[np.int64]:
    return np.array(options, dtype=np.int64)[rng.integers(len(options), size=k)]


def _bookings_of(
    world: World, tactic: Tactic, phase: Phase, k: int, rng: np.random.Generator
) -> Table:
    spec = SCHEMES[tactic.scheme]
    fleet = world.fleet
    good = _pick(rng, tactic.covers, k)
    pod = _pick(rng, tactic.pods, k)
    trade = trade_of_country(tactic.source)
    service = np.array(
        [
            (opts := fleet.services_calling(trade, int(p)))[int(rng.integers(len(opts)))]
            for p in pod
        ],
        dtype=np.int64,
    )
    first = np.searchsorted(world.desc_good[world.desc_good >= 0], good)
    count = np.bincount(world.desc_good[world.desc_good >= 0], minlength=len(world.goods.hs))
    desc = first + (rng.random(k) * count[good]).astype(np.int64)
    vague_rows = np.flatnonzero(world.desc_good < 0)
    desc = np.where(
        rng.random(k) < spec.vague, vague_rows[rng.integers(len(vague_rows), size=k)], desc
    )
    to_order = rng.random(k) < spec.to_order
    forwarder = np.where(rng.random(k) < spec.forwarder, tactic.forwarder, -1)
    notify = np.where(to_order | (rng.random(k) < 0.5), tactic.notify, -2)
    lo, hi = spec.containers
    return {
        "shipper": _pick(rng, tactic.shippers, k),
        "consignee": _pick(rng, tactic.consignees, k),
        "good": good,
        "desc": desc,
        "hs_good": good,
        "origin": np.full(k, tactic.source, dtype=object),
        "pol": _pick(rng, tactic.pols, k),
        "hub1": np.full(k, tactic.hub, dtype=np.int64),
        "hub2": np.full(k, -1, dtype=np.int64),
        "pod": pod,
        "service": service,
        "forwarder": forwarder.astype(np.int64),
        "house": (forwarder >= 0) & (rng.random(k) < 0.8),
        "to_order": to_order,
        "notify": notify.astype(np.int64),
        "agent_consignee": np.zeros(k, dtype=bool),
        "freight": rng.choice(3, size=k, p=[0.4, 0.5, 0.1]).astype(np.int64),
        "price": np.ones(k),
        "rel": np.full(k, -1, dtype=np.int64),
        "n": rng.integers(lo, hi + 1, size=k).astype(np.int64),
        "day": rng.integers(phase.first_day, phase.end_day, size=k).astype(np.int64),
        "scheme": np.full(k, tactic.scheme, dtype=np.int64),
        "p": np.full(k, spec.p_container),  # the first container always carries: see lines
        "late": rng.random(k) < spec.late,
        "amend_late": rng.random(k) < spec.amend_late,
        "reefer_odd": (rng.random(k) < spec.reefer_odd) & ~world.goods.reefer[good],
        "cites": np.zeros(k, dtype=bool),
        "value_factor": np.full(k, spec.value_factor),
    }


def mark_rip_on(world: World, state: SchemeState, lines: Table, n_lines: int) -> None:
    """Give legitimate lines on the cocaine lane of the moment their chance of a rip-on load."""
    for s, spec in enumerate(SCHEMES):
        if not spec.rip_on:
            continue
        tactic = state.tactic(world, s)
        legit = lines["scheme"] < 0
        on_lane = legit & (world.ports.country == tactic.source)[lines["pol"]]
        eligible = on_lane & np.isin(lines["good"], tactic.covers)
        if not eligible.any():
            trade = world.fleet.service_trade[lines["service"]] == trade_of_country(tactic.source)
            eligible = on_lane if on_lane.any() else legit & trade
        count = int(eligible.sum())
        if not count:
            continue
        chance = min(0.5, _expected_lines(world.config, s, n_lines) / count)
        lines["scheme"] = np.where(eligible, s, lines["scheme"])
        lines["p"] = np.where(eligible, chance, lines["p"])
