"""Screen 1,000,000 lines end to end; print lines/s, the bare LightGBM predict throughput of the
same model on the same rows, and peak memory.

    .venv/bin/python benchmarks/screen_bench.py [--lines 1000000]

A model is trained on the first 120 days of a simulated world; screening then reads the next
1,000,000 lines from a Parquet file (validation, point-in-time features, booster, calibration,
reasons, selection per port-day, output and report). Peak memory is the process's maximum
resident set size, which also holds the training data of the model (printed before screening).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from models.booster import predict_raw
from models.scorer import to_matrix
from models.screening import screen_file
from risk_engine.validation import validate_frame
from training.config import TrainConfig
from training.simulation import SimulationConfig, simulate
from training.train import fit_scorer


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    args = parser.parse_args()
    per_day = 3000
    train_days = 120
    days = train_days + -(-args.lines // per_day)
    world = simulate(
        SimulationConfig(days=days, arrivals_per_day=per_day, seed=7, contraband_rate=0.005)
    )
    raw = world.shipments
    cut = pd.Timestamp(world.meta["config"]["start"], tz="UTC") + pd.Timedelta(days=train_days)
    history = raw[raw["filed_at"] < cut]
    later = raw[raw["filed_at"] >= cut].head(args.lines)
    shipments = validate_frame(history).accepted.reset_index(drop=True)
    outcomes = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    outcomes = outcomes[outcomes["recorded_at"] < cut]
    started = time.perf_counter()
    scorer = fit_scorer(shipments, outcomes, config=TrainConfig(seed=7)).scorer
    print(
        f"trained on {len(shipments):,} lines in {time.perf_counter() - started:.1f} s; peak RSS so far {_peak_mb():,.0f} MB"
    )
    del shipments, outcomes, history
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "arrivals.parquet"
        later.to_parquet(source, index=False)
        del raw
        started = time.perf_counter()
        summary = screen_file(
            source,
            Path(tmp) / "ranked.parquet",
            scorer=scorer,
            capacity=0.03,
            random_control=0.1,
            report_path=Path(tmp) / "report.html",
            chunk_rows=args.chunk_rows,
        )
        seconds = time.perf_counter() - started
        print(
            f"screened {summary.read:,} lines in {seconds:.1f} s: {summary.read / seconds:,.0f} lines/s end to end"
        )
        print(f"selected {dict(summary.selected)}; peak RSS {_peak_mb():,.0f} MB")
        sample = validate_frame(later.head(200_000)).accepted
        matrix = to_matrix(scorer.features(sample), scorer.feature_names)
        started = time.perf_counter()
        booster = scorer.booster
        booster.predict(matrix, raw_score=True, num_iteration=booster.best_iteration or None)
        bare = len(matrix) / (time.perf_counter() - started)
        started = time.perf_counter()
        predict_raw(booster, matrix[:50_000])
        one_thread = 50_000 / (time.perf_counter() - started)
        print(
            f"bare LightGBM predict on the same rows: {bare:,.0f} rows/s (all threads), {one_thread:,.0f} rows/s (one thread)"
        )
        print(f"end to end / bare predict: {summary.read / seconds / bare:.2f}")


if __name__ == "__main__":
    main()
