"""Run the world phase by phase: bookings, lines, inspections, seizures, adaptation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from training.simulation.bookings import Table, legit_bookings
from training.simulation.config import Phase, SimulationConfig
from training.simulation.inspections import inspect
from training.simulation.lines import expand, plant_defects
from training.simulation.outputs import (
    meta_record,
    outcome_frame,
    scheme_record,
    shipment_frame,
    truth_frame,
)
from training.simulation.policy import PolicyState
from training.simulation.schemes import SchemeState, mark_rip_on, scheme_bookings
from training.simulation.tactics import SCHEMES
from training.simulation.timing import DAY, schedule
from training.simulation.world import World, build_world, stream

__all__ = ["Progress", "SimulatedWorld", "simulate"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SimulatedWorld:
    """Contract shipment lines, inspection outcomes, the hidden truth and a description."""

    shipments: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame
    meta: dict[str, Any]


def _concat(parts: list[Table]) -> Table:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _phase_lines(
    world: World, phase: Phase, state: SchemeState, offset: int
) -> tuple[Table, np.ndarray]:
    config = world.config
    n_lines = (phase.end_day - phase.first_day) * config.arrivals_per_day
    smuggling = scheme_bookings(
        world, state, phase, n_lines, stream(config.seed, "schemes", phase.index)
    )
    rng = stream(config.seed, "bookings", phase.index)
    legit = legit_bookings(world, phase, n_lines - int(smuggling["n"].sum()), rng)
    bookings = _concat([legit, smuggling])
    bookings["booking"] = offset + np.arange(len(bookings["n"]), dtype=np.int64)
    schedule(world, bookings, phase, rng)
    rng = stream(config.seed, "lines", phase.index)
    lines = expand(world, bookings, rng)
    mark_rip_on(world, state, lines, n_lines)
    front_first = (lines["rel"] < 0) & (lines["k"] == 0)  # a smuggling B/L's first box carries
    lines["p"] = np.where(front_first, 1.0, lines["p"])
    lines["has"] = rng.random(len(lines["p"])) < lines["p"]
    lines["phase"] = np.full(len(lines["p"]), phase.index, dtype=np.int64)
    return lines, plant_defects(config, lines, rng)


class _Run:
    """The state carried from phase to phase: tactics, the targeting unit's knowledge, output."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.schemes = SchemeState()
        self.policy = PolicyState.initial(world)
        self.lines: list[Table] = []
        self.outcomes: list[Table] = []
        self.defects: list[np.ndarray] = []
        self.history: list[dict[str, Any]] = []
        self.bookings = 0
        self.line_count = 0

    def phase(self, phase: Phase) -> None:
        world, config = self.world, self.world.config
        lines, defect = _phase_lines(world, phase, self.schemes, self.bookings)
        self.bookings = int(lines["booking"].max()) + 1
        self.policy.see(lines)
        rng = stream(config.seed, "inspections", phase.index)
        outcomes = inspect(world, phase, lines, defect, self.policy, rng)
        seizure = outcomes["result"] == 1
        seized = outcomes["line"][seizure]
        # the targeting unit learns of a seizure when it is recorded; smugglers at once
        self.policy.watch(lines, seized[outcomes["recorded"][seizure] < phase.end_day * DAY])
        hit = np.bincount(lines["scheme"][seized], minlength=len(SCHEMES)) > 0
        self.history.append(_phase_record(world, phase, self.schemes, lines, outcomes, hit))
        self.schemes.adapt(hit)
        outcomes["line"] = outcomes["line"] + self.line_count
        self.line_count += len(lines["k"])
        self.lines.append(lines)
        self.outcomes.append(outcomes)
        self.defects.append(defect)
        logger.info(
            "%s: %d lines, %d inspections, %d seizures",
            phase.name,
            len(lines["k"]),
            len(outcomes["line"]),
            len(seized),
        )

    def assemble(self) -> SimulatedWorld:
        """All phases' lines in filing order, outcomes in inspection order, as frames."""
        world = self.world
        lines, outcomes = _concat(self.lines), _concat(self.outcomes)
        order = np.lexsort((lines["k"], lines["booking"], lines["filed"]))
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        lines = {key: value[order] for key, value in lines.items()}
        defect = np.concatenate(self.defects)[order]
        outcomes["line"] = position[outcomes["line"]]
        by_time = np.lexsort((outcomes["line"], outcomes["inspected"]))
        outcomes = {key: value[by_time] for key, value in outcomes.items()}
        shipments = shipment_frame(world, lines, defect)
        phases = world.config.phase_list()
        return SimulatedWorld(
            shipments=shipments,
            outcomes=outcome_frame(world, lines, outcomes, shipments),
            truth=truth_frame(world, lines, shipments),
            meta=meta_record(world, phases, self.history, lines, outcomes, defect),
        )


def simulate(
    config: SimulationConfig | None = None, progress: Progress | None = None
) -> SimulatedWorld:
    """Simulate a port world; the same config (seed included) always gives the same data.

    ``progress``, when given, is called with a step name and the fraction of work done.
    """
    config = config or SimulationConfig()
    report: Progress = progress or (lambda step, fraction: None)
    report("world", 0.0)
    run = _Run(build_world(config))
    phases = config.phase_list()
    for phase in phases:
        report(phase.name, 0.05 + 0.8 * (phase.index - 1) / len(phases))
        run.phase(phase)
    report("assemble", 0.85)
    world = run.assemble()
    report("done", 1.0)
    return world


def _phase_record(
    world: World, phase: Phase, state: SchemeState, lines: Table, outcomes: Table, hit: np.ndarray
) -> dict[str, Any]:
    """What each scheme did in this phase, for meta.json and the adaptation tests."""
    return {
        "phase": phase.index,
        "schemes": [
            scheme_record(world, state.tactic(world, s), lines, outcomes, bool(hit[s]))
            for s in range(len(SCHEMES))
        ],
    }
