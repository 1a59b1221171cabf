"""Screen 1,000,000 lines end to end; print lines/s, the bare LightGBM predict throughput of the
same model on the same rows, and peak memory.

    .venv/bin/python benchmarks/screen_bench.py [--lines 1000000] [--chunk-rows 200000]
        [--keep DIR] [--screen DIR [--without-reference]] [--engine local|dask]

``--keep DIR`` keeps the prepared world (model and arrivals) in DIR; ``--screen DIR`` screens a
kept world again without preparing it, and ``--without-reference`` screens it as a model without
a training reference would be (no drift check), to measure what the check costs.

A model is trained on the first 120 days of a simulated world and pickled; a fresh process then
screens the next 1,000,000 lines from a Parquet file (validation, point-in-time features,
booster, calibration, reasons for red and amber lines, selection per port-day, output and
report), so its peak resident memory is the screening's own, not the training's. The same
process then times the bare LightGBM predict on 200,000 of the same rows.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM starts afresh at exec, unlike ru_maxrss,
    which Linux carries over from the parent)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(folder: Path, lines: int) -> None:
    """Simulate, train on the first 120 days, write the scorer and the next ``lines`` lines."""
    from risk_engine.validation import validate_frame
    from training.config import TrainConfig
    from training.simulation import SimulationConfig, simulate
    from training.train import fit_scorer

    per_day, train_days = 3000, 120
    days = train_days + -(-lines // per_day)
    world = simulate(
        SimulationConfig(days=days, arrivals_per_day=per_day, seed=7, contraband_rate=0.005)
    )
    raw = world.shipments
    cut = pd.Timestamp(world.meta["config"]["start"], tz="UTC") + pd.Timedelta(days=train_days)
    shipments = validate_frame(raw[raw["filed_at"] < cut]).accepted.reset_index(drop=True)
    outcomes = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    outcomes = outcomes[outcomes["recorded_at"] < cut]
    started = time.perf_counter()
    scorer = fit_scorer(shipments, outcomes, config=TrainConfig(seed=7)).scorer
    print(
        f"trained on {len(shipments):,} lines in {time.perf_counter() - started:.1f} s "
        f"({scorer.booster.num_trees()} trees)",
        flush=True,
    )
    raw[raw["filed_at"] >= cut].head(lines).to_parquet(folder / "arrivals.parquet", index=False)
    with open(folder / "scorer.pkl", "wb") as out:
        pickle.dump(scorer, out)


def screen(folder: Path, chunk_rows: int, *, reference: bool = True, engine: str = "local") -> None:
    """Screen the prepared file in this (fresh) process, then time bare predict."""
    from models.booster import predict_raw
    from models.scorer import to_matrix
    from models.screening import screen_file
    from risk_engine.validation import validate_frame

    with open(folder / "scorer.pkl", "rb") as source:
        scorer = pickle.load(source)
    _ = scorer.attribution  # built once per process, as the service does at load
    if not reference:
        scorer.reference = None
    started = time.perf_counter()
    summary = screen_file(
        folder / "arrivals.parquet",
        folder / "ranked.parquet",
        scorer=scorer,
        capacity=0.03,
        random_control=0.1,
        report_path=folder / "report.html",
        chunk_rows=chunk_rows,
        engine=engine,
    )
    seconds = time.perf_counter() - started
    rate = summary.read / seconds
    print(f"screened {summary.read:,} lines in {seconds:.1f} s: {rate:,.0f} lines/s end to end")
    print(f"selected {dict(summary.selected)}; peak RSS of screening {_peak_mb():,.0f} MB")
    if summary.drift is None:
        print("drift check: none (the model keeps no training reference)")
    for note in [*summary.drift_warnings, *summary.drift_notes]:
        print(f"drift check: {note}")
    sample = validate_frame(pd.read_parquet(folder / "arrivals.parquet").head(200_000)).accepted
    matrix = to_matrix(scorer.features(sample), scorer.feature_names)
    booster = scorer.booster
    started = time.perf_counter()
    booster.predict(matrix, raw_score=True, num_iteration=booster.best_iteration or None)
    bare = len(matrix) / (time.perf_counter() - started)
    started = time.perf_counter()
    predict_raw(booster, matrix[:50_000])
    one_thread = 50_000 / (time.perf_counter() - started)
    print(
        f"bare LightGBM predict on the same rows: {bare:,.0f} rows/s (all threads), "
        f"{one_thread:,.0f} rows/s (one thread); {booster.num_trees()} trees"
    )
    print(f"end to end / bare predict: {rate / bare:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="prepare the world in this folder and keep it")
    parser.add_argument("--screen", type=Path, help="screen a kept world again")
    parser.add_argument("--without-reference", action="store_true", help="no drift check")
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    args = parser.parse_args()
    if args.screen is not None:
        screen(
            args.screen, args.chunk_rows, reference=not args.without_reference, engine=args.engine
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        folder.mkdir(parents=True, exist_ok=True)
        prepare(folder, args.lines)
        print(f"peak RSS of simulation and training {_peak_mb():,.0f} MB", flush=True)
        command = [sys.executable, __file__, "--screen", str(folder), "--engine", args.engine]
        subprocess.run([*command, "--chunk-rows", str(args.chunk_rows)], check=True)


if __name__ == "__main__":
    main()
