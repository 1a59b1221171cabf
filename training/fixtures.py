"""Small seeded trained models for tests and demos (real training on a small simulated world)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from risk_engine.validation import validate_frame
from training.config import TrainConfig
from training.simulation import SimulatedWorld, SimulationConfig, simulate
from training.train import TrainOutcome, fit_scorer

__all__ = ["small_world", "small_training", "small_trained_scorer"]


@cache
def small_world(
    days: int = 120, arrivals_per_day: int = 600, phases: int = 3, seed: int = 11
) -> tuple[SimulatedWorld, pd.DataFrame, pd.DataFrame]:
    """A simulated world with validated (normalised) shipments and outcomes. Contraband is ten
    times commoner than by default so that a small world still has seizures to learn from."""
    world = simulate(
        SimulationConfig(
            days=days,
            arrivals_per_day=arrivals_per_day,
            phases=phases,
            seed=seed,
            contraband_rate=0.02,
        )
    )
    shipments = validate_frame(world.shipments, "shipments").accepted.reset_index(drop=True)
    outcomes = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    return world, shipments, outcomes


@cache
def small_training(seed: int = 11) -> TrainOutcome:
    world, shipments, outcomes = small_world(seed=seed)
    config = TrainConfig(
        seed=seed, booster={"max_rounds": 150, "num_threads": 2}, bootstrap_rounds=100
    )
    return fit_scorer(shipments, outcomes, config=config, truth=world.truth)


def small_trained_scorer(tmp_path: Path | None = None) -> Any:
    """A real RiskScorer trained on a small simulated world (cached per process)."""
    return small_training().scorer


def sample_lines(n: int = 50, seed: int = 11) -> pd.DataFrame:
    """Raw (text) shipment lines of the small world, as a client would send them."""
    world, _, _ = small_world(seed=seed)
    return world.shipments.tail(n).reset_index(drop=True)
