"""Whole files in, the feature frame with its keys out; realistic data from the simulator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feature_data import random_outcomes, raw_history

from features.build import build_feature_frame
from features.catalogue import feature_names
from features.pipeline import FeaturePipeline
from risk_engine.validation import validate_frame


def test_feature_frame_of_files_keeps_every_accepted_line_with_its_keys(tmp_path: Path) -> None:
    raw = raw_history(120, seed=5)
    raw.loc[4, "gross_weight_kg"] = "0"  # rejected: not counted, not featurised
    raw.loc[6, "vessel_imo"] = "9074728"  # wrong check digit: flagged, featurised
    lines = validate_frame(raw).accepted
    outcomes = random_outcomes(lines, seed=6)
    shipments_path, outcomes_path = tmp_path / "s.csv", tmp_path / "o.csv"
    raw.to_csv(shipments_path, index=False)
    outcome_text = outcomes.copy()
    for name in ("inspected_at", "recorded_at"):
        outcome_text[name] = outcome_text[name].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    outcome_text.to_csv(outcomes_path, index=False)
    out = tmp_path / "features.parquet"

    summary = build_feature_frame(shipments_path, outcomes_path, out)

    frame = pd.read_parquet(out)
    assert summary["shipments"] == {"read": 120, "accepted": 118, "flagged": 1, "rejected": 1}
    assert summary["lines"] == len(frame) == 119
    assert list(frame.columns) == ["bl_number", "container_number", *feature_names()]
    assert frame["bl_number"].tolist() == lines["bl_number"].tolist()
    assert frame["dq_imo_check_digit"].sum() == 1
    assert summary["outcomes"]["accepted"] == len(outcomes)


def test_simulated_world_gets_features_and_the_red_flags_point_at_contraband() -> None:
    simulation = pytest.importorskip("training.simulation")
    world = simulation.simulate(
        simulation.SimulationConfig(days=28, arrivals_per_day=300, phases=2, seed=3)
    )
    lines = validate_frame(world.shipments).accepted
    outcomes = validate_frame(world.outcomes, "outcomes").accepted
    features = FeaturePipeline().fit_transform(lines, outcomes)
    assert len(features) == len(lines)
    truth = world.truth.set_index(["bl_number", "container_number"])["has_contraband"]
    keys = pd.MultiIndex.from_frame(lines[["bl_number", "container_number"]])
    smuggled = truth.reindex(keys).fillna(False).to_numpy(dtype=bool)
    if smuggled.sum() < 5:
        pytest.skip("too few contraband lines in this small world")
    flags = features["red_flag_score"].to_numpy()
    assert np.mean(flags[smuggled]) > np.mean(flags[~smuggled])


def test_a_shipments_file_none_of_whose_lines_passes_is_an_error(tmp_path: Path) -> None:
    # It wrote an empty frame and exited 0, its outcomes all unmatched without a word.
    from risk_engine.errors import ConfigError

    raw = raw_history(20, seed=7)
    raw["filed_at"] = "yesterday"
    shipments_path, outcomes_path = tmp_path / "s.csv", tmp_path / "o.csv"
    raw.to_csv(shipments_path, index=False)
    lines = validate_frame(raw_history(20, seed=8)).accepted
    random_outcomes(lines, seed=9).to_csv(outcomes_path, index=False)
    with pytest.raises(ConfigError, match="no shipment line passed the contract .20 read, 20 re"):
        build_feature_frame(shipments_path, outcomes_path, tmp_path / "f.parquet")


def test_each_file_is_read_with_its_own_mapping(tmp_path: Path) -> None:
    # One mapping was applied to both files: a shipments layout renamed the outcomes' columns,
    # and an outcomes export in another layout could not be read.
    from features.mapping import load_mapping

    raw = raw_history(40, seed=11)
    lines = validate_frame(raw).accepted
    outcomes = random_outcomes(lines, seed=12)
    shipments_path, outcomes_path = tmp_path / "s.csv", tmp_path / "o.csv"
    raw.rename(columns={"bl_number": "BL_NO"}).to_csv(shipments_path, index=False)
    outcomes.rename(columns={"bl_number": "BL_REF"}).to_csv(outcomes_path, index=False)
    for name, column in (("s.yaml", "BL_NO"), ("o.yaml", "BL_REF")):
        (tmp_path / name).write_text(f"fields:\n  bl_number: {column}\n")

    summary = build_feature_frame(
        shipments_path,
        outcomes_path,
        tmp_path / "f.parquet",
        mapping=load_mapping(tmp_path / "s.yaml"),
        outcomes_mapping=load_mapping(tmp_path / "o.yaml"),
    )

    assert summary["shipments"]["read"] == 40 and summary["shipments"]["rejected"] == 0
    assert summary["outcomes"]["accepted"] + summary["outcomes"]["flagged"] == len(outcomes)


def test_an_output_of_no_known_type_is_refused_before_the_files_are_read(tmp_path: Path) -> None:
    # The whole feature build ran, and then "unknown file type" (an input's wording).
    from risk_engine.errors import OutputUnwritable

    with pytest.raises(OutputUnwritable, match=r"fe\.txt2"):
        build_feature_frame(tmp_path / "none.csv", tmp_path / "none.csv", tmp_path / "fe.txt2")
