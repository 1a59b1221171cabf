"""Training time at 100k, 300k and 1M labelled rows.

    .venv/bin/python benchmarks/train_bench.py [--days 365] [--arrivals-per-day 3000]

A simulated year is featurised once (point in time); then the booster (with early stopping on a
later validation slice) and the calibration are timed on the first 100k / 300k / 1M lines in
filing order, labelled here with the simulator's truth so that every line carries a label (real
data has labels only for inspected lines: a year of a big port is about 30k labelled lines).
"""

from __future__ import annotations

import argparse
import resource
import time

from features.pipeline import FeaturePipeline
from models.booster import BoosterParams, fit_booster
from models.calibration import PlattCalibrator
from models.scorer import to_matrix
from risk_engine.validation import validate_frame
from training.simulation import SimulationConfig, simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--arrivals-per-day", type=int, default=3000)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    args = parser.parse_args()
    started = time.perf_counter()
    world = simulate(
        SimulationConfig(days=args.days, arrivals_per_day=args.arrivals_per_day, seed=7)
    )
    shipments = validate_frame(world.shipments).accepted.reset_index(drop=True)
    outcomes = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    print(
        f"simulated and validated {len(shipments):,} lines in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    pipeline = FeaturePipeline()
    features = pipeline.fit_transform(shipments, outcomes)
    matrix = to_matrix(features, list(pipeline.feature_names_))
    print(
        f"features (fit_transform) of {len(shipments):,} lines: {time.perf_counter() - started:.1f} s"
    )
    truth = shipments[["bl_number", "container_number"]].merge(
        world.truth[["bl_number", "container_number", "has_contraband"]], how="left"
    )
    y = truth["has_contraband"].fillna(False).to_numpy(dtype="float64")
    names = list(pipeline.feature_names_)
    import pandas as pd

    for size in (int(s) for s in args.sizes.split(",")):
        size = min(size, len(matrix))
        cut = int(size * 0.8)
        x_train = pd.DataFrame(matrix[:cut], columns=names)
        x_valid = pd.DataFrame(matrix[cut:size], columns=names)
        started = time.perf_counter()
        booster = fit_booster(
            x_train, y[:cut], x_valid, y[cut:size], params=BoosterParams(), seed=7, categorical=[]
        )
        raw = booster.predict(matrix[cut:size], raw_score=True)
        PlattCalibrator().fit(raw, y[cut:size])
        seconds = time.perf_counter() - started
        print(
            f"labelled rows {size:>9,}: booster + calibration {seconds:6.1f} s "
            f"({booster.best_iteration} rounds, {int(y[:size].sum())} positives)"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
