"""Train the model `screen_bench.py` screens with, and say how large it grew and what it finds.

    .venv/bin/python benchmarks/screen_bench_model.py [--world-seed 7] [--seed 7]

The same world and training as `screen_bench.prepare` (3,000 lines a day, contraband_rate
0.005, `fit_scorer` with `TrainConfig(seed=...)` on the first 120 days); the simulator's truth is
passed for the evaluation alone. Prints the trees, the slices (lines, seizures), the label delay
and the held-out period's figures: observed PR-AUC (a few seizures) and, from the truth, the
average precision of the scores and the contraband found at 2 % and 5 % capacity per port-day;
and the calibration on the held-out lines once every outcome is in (the simulator's later
records): the inspected lines' mean score against their seizure rate, and the Brier score.
Runs with an older checkout's code too (``PYTHONPATH=OLD python benchmarks/...``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from risk_engine.validation import validate_frame
from training.config import TrainConfig
from training.data import label_lines
from training.simulation import SimulationConfig, simulate
from training.splits import time_splits
from training.train import fit_scorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world-seed", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7, help="TrainConfig(seed=...)")
    args = parser.parse_args()
    per_day, train_days, lines = 3000, 120, 1_000_000
    world = simulate(
        SimulationConfig(
            days=train_days + -(-lines // per_day),
            arrivals_per_day=per_day,
            seed=args.world_seed,
            contraband_rate=0.005,
        )
    )
    raw = world.shipments
    cut = pd.Timestamp(world.meta["config"]["start"], tz="UTC") + pd.Timedelta(days=train_days)
    shipments = validate_frame(raw[raw["filed_at"] < cut]).accepted.reset_index(drop=True)
    every = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    outcomes = every[every["recorded_at"] < cut]
    config = TrainConfig(seed=args.seed)
    started = time.perf_counter()
    trained = fit_scorer(shipments, outcomes, config=config, truth=world.truth)
    booster = trained.scorer.booster
    print(
        f"world seed {args.world_seed}, train seed {args.seed}: {len(shipments):,} lines in "
        f"{time.perf_counter() - started:.1f} s, {booster.num_trees()} trees"
    )
    labelled = label_lines(shipments, outcomes)
    filed = shipments["filed_at"].iloc[labelled["position"]].reset_index(drop=True)
    labels = labelled["label"].to_numpy()
    try:
        splits = time_splits(filed, labelled["recorded_at"], config=config.splits(), labels=labels)
    except TypeError:  # code from before the label delay
        splits = time_splits(filed, labelled["recorded_at"], config=config.splits())
    slices = {
        name: f"{int(getattr(splits, name).sum()):,} ({int(labels[getattr(splits, name)].sum())})"
        for name in ("train", "valid", "calibration", "test")
    }
    print(f"slices, lines (seizures): {slices}")
    delay = {k: v for k, v in trained.params.items() if k.startswith(("label_delay", "delay_"))}
    print(
        f"label delay: {delay or 'none (code from before it)'}; calibration: "
        f"{trained.params.get('calibration_fit')}"
    )
    period = trained.period
    metrics = trained.evaluation.metrics() if trained.evaluation is not None else {}
    true = period["has_contraband"].fillna(False).astype(bool).to_numpy()
    print(
        f"held out: {len(period):,} lines, {int(np.nansum(period['label']))} seizures observed, "
        f"PR-AUC {metrics.get('test_pr_auc', float('nan')):.3f}; {int(true.sum())} with "
        f"contraband (truth): average precision {average_precision_score(true, period['probability']):.3f}, "
        f"found at 2 % {metrics.get('truth_model_hits_2pct', float('nan')):.0f}, "
        f"at 5 % {metrics.get('truth_model_hits_5pct', float('nan')):.0f}"
    )
    # Calibration, on the held-out lines' inspections once every outcome is in (the simulator's
    # later records, which training did not see): the mean score of the inspected lines against
    # their seizure rate, and the Brier score; and the mean of all scores against the share with
    # contraband (truth).
    full = label_lines(trained.test_lines.reset_index(drop=True), every)
    prob = period["probability"].to_numpy(dtype="float64")
    scored = prob[full["position"].to_numpy()]
    seized = full["label"].to_numpy(dtype="float64")
    print(
        f"calibration (held out, every outcome in): {len(full):,} inspected, mean score "
        f"{scored.mean():.4f} against seizure rate {seized.mean():.4f}, Brier "
        f"{np.mean((scored - seized) ** 2):.5f} (saying the rate: "
        f"{seized.mean() * (1 - seized.mean()):.5f}); all lines: mean score {prob.mean():.5f} "
        f"against contraband rate {true.mean():.5f}"
    )


if __name__ == "__main__":
    main()
