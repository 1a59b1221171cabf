"""Reasons by path attribution against LightGBM's exact TreeSHAP (``pred_contrib``): time per
line, and how often both name the same top feature family (the first reason an officer reads).

    .venv/bin/python benchmarks/reasons_bench.py [--days 150] [--per-day 2000] [--lines 5000]

A model is trained on the first two thirds of a simulated world; both methods then explain the
same lines after its cut-off (one LightGBM thread, as on the request path).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from models.booster import predict_contrib, predict_leaves
from models.reasons import group_contributions
from models.scorer import to_matrix
from risk_engine.validation import validate_frame
from training.config import TrainConfig
from training.simulation import SimulationConfig, simulate
from training.train import fit_scorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--max-rounds", type=int, default=1500)
    args = parser.parse_args()
    world = simulate(
        SimulationConfig(
            days=args.days, arrivals_per_day=args.per_day, seed=5, contraband_rate=0.01
        )
    )
    shipments = validate_frame(world.shipments).accepted.reset_index(drop=True)
    outcomes = validate_frame(world.outcomes, "outcomes").accepted.reset_index(drop=True)
    cut = pd.Timestamp(world.meta["config"]["start"], tz="UTC") + pd.Timedelta(
        days=args.days * 2 // 3
    )
    config = TrainConfig(seed=5, booster={"max_rounds": args.max_rounds})
    scorer = fit_scorer(
        shipments[shipments["filed_at"] < cut],
        outcomes[outcomes["recorded_at"] < cut],
        config=config,
    ).scorer
    later = shipments[shipments["filed_at"] >= cut].head(args.lines)
    matrix = to_matrix(scorer.features(later), scorer.feature_names)
    booster = scorer.booster
    print(f"model: {booster.num_trees()} trees; explaining {len(matrix):,} lines")
    started = time.perf_counter()
    attribution = scorer.attribution
    built = time.perf_counter() - started
    started = time.perf_counter()
    ours = attribution.contributions(predict_leaves(booster, matrix))
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    shap = predict_contrib(booster, matrix)
    shap_s = time.perf_counter() - started
    print(
        f"path attribution: {ours_s / len(matrix) * 1e6:,.0f} us/line (tables built in {built:.2f} s)"
    )
    print(f"TreeSHAP (pred_contrib): {shap_s / len(matrix) * 1e6:,.0f} us/line")
    _, by_shap = group_contributions(shap, scorer.feature_names)
    _, by_ours = group_contributions(ours, scorer.feature_names)
    same = by_shap.argmax(axis=1) == by_ours.argmax(axis=1)
    bands = scorer.band(scorer.calibrator.transform(shap.sum(axis=1)))
    risky = np.isin(bands, ["red", "amber"])
    print(f"same top family: {same.mean():.1%} of all lines", end="")
    if risky.any():
        print(f", {same[risky].mean():.1%} of the {int(risky.sum()):,} red and amber lines")
    else:
        print()
    top3 = [
        len(set(np.argsort(-a)[:3]) & set(np.argsort(-b)[:3]))
        for a, b in zip(by_shap[risky], by_ours[risky], strict=True)
    ]
    if top3:
        print(f"top-3 families shared among red and amber lines: {np.mean(top3):.2f} of 3")
    print(
        f"per-feature correlation: {np.corrcoef(shap[:, :-1].ravel(), ours[:, :-1].ravel())[0, 1]:.3f}"
    )


if __name__ == "__main__":
    main()
