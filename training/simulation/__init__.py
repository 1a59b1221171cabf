"""A simulated port world for training, testing, demonstrating and benchmarking the engine.

`simulate` makes contract shipment lines of Asia-Pacific destination ports over enforcement
operation phases, the historical inspection outcomes (labels: only for inspected containers, late
and biased by past rules), and the hidden truth; `write_world` writes them to disk. See
docs/simulation.md for the world, its knobs and the smuggling schemes.
"""

from training.simulation.config import SCHEME_NAMES, Phase, SimulationConfig
from training.simulation.engine import Progress, SimulatedWorld, simulate
from training.simulation.writer import FORMATS, write_world

__all__ = [
    "FORMATS",
    "SCHEME_NAMES",
    "Phase",
    "Progress",
    "SimulatedWorld",
    "SimulationConfig",
    "simulate",
    "write_world",
]
