"""The drift check: PSI against a model's reference, counted chunk by chunk, told in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.drift import SCORE_COLUMN, DriftReference, drift_notes, with_families

NAMES = ["log_value_per_kg", "amendment_count", "hub_seizure_rate", SCORE_COLUMN]


def _lines(n: int, seed: int, *, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = np.column_stack(
        [
            rng.normal(shift, 1.0, n),
            rng.poisson(1.0, n).astype(float),
            rng.beta(2, 30, n),
            rng.beta(1, 40, n),
        ]
    )
    matrix[rng.random(n) < 0.1, 1] = np.nan  # a field often missing
    return matrix


def test_lines_like_the_reference_show_no_shift_and_no_note() -> None:
    reference = DriftReference.fit(_lines(20_000, 1), NAMES)
    tally = reference.tally()
    tally.add(_lines(20_000, 2))
    table = tally.compare()
    assert set(table["feature"]) == set(NAMES) and (table["psi"] < 0.01).all()
    assert drift_notes(table, {"red": (0.03, 0.031)}) == ([], [])


def test_a_shifted_feature_is_found_and_named_and_the_others_are_not() -> None:
    reference = DriftReference.fit(_lines(20_000, 1), NAMES)
    tally = reference.tally()
    tally.add(_lines(20_000, 2, shift=1.0))  # values per kg one SD higher
    table = tally.compare().set_index("feature")
    assert table.loc["log_value_per_kg", "psi"] > 0.25
    assert (table.drop(index="log_value_per_kg")["psi"] < 0.01).all()
    assert table.loc["log_value_per_kg", "mean_batch"] == pytest.approx(1.0, abs=0.05)
    warnings, notes = drift_notes(table.reset_index(), {})
    assert warnings == []  # the scores did not move: a note, not a warning
    assert len(notes) == 1 and notes[0].startswith("1 features shifted since training")
    assert "log_value_per_kg (" in notes[0]


def test_counting_in_chunks_gives_what_counting_at_once_gives() -> None:
    # Past the first 100,000 lines one line in ten is counted, ten times, by its position in
    # the batch: the chunks still add up to the whole, and to every line.
    reference = DriftReference.fit(_lines(5_000, 1), NAMES)
    batch = _lines(160_000, 3, shift=0.3)
    whole, chunked = reference.tally(), reference.tally()
    whole.add(batch)
    for part in np.array_split(batch, 7):
        chunked.add(part)
    assert chunked.lines == whole.lines == 160_000
    assert all(counts.sum() == 160_000 for counts in chunked.counts)
    pd.testing.assert_frame_equal(chunked.compare(), whole.compare())
    every = reference.tally()
    every.add(batch[:100_000])  # counted line by line
    sampled = whole.compare().set_index("feature")
    exact = every.compare().set_index("feature")
    assert np.allclose(sampled["psi"], exact.loc[sampled.index, "psi"], atol=0.02)


def test_missing_values_have_their_own_bin_and_share() -> None:
    reference = DriftReference.fit(_lines(10_000, 1), NAMES)
    batch = _lines(10_000, 2)
    batch[:5_000, 1] = np.nan  # half the lines now lack the field
    tally = reference.tally()
    tally.add(batch)
    row = tally.compare().set_index("feature").loc["amendment_count"]
    assert row["missing_reference"] == pytest.approx(0.1, abs=0.02)
    assert row["missing_batch"] == pytest.approx(0.55, abs=0.02)
    assert row["psi"] > 0.25


def test_values_beyond_the_reference_range_fall_in_its_end_bins() -> None:
    reference = DriftReference.fit(np.arange(100, dtype=float).reshape(-1, 1), ["x"])
    tally = reference.tally()
    tally.add(np.array([[-1e9], [1e9], [np.nan]]))
    counts = tally.counts[0]
    assert counts[0] == 1 and counts[-2] == 1 and counts[-1] == 1 and counts.sum() == 3


def test_a_constant_or_empty_column_still_has_a_bin() -> None:
    matrix = np.column_stack([np.full(50, 3.0), np.full(50, np.nan)])
    reference = DriftReference.fit(matrix, ["a", "b"])
    tally = reference.tally()
    tally.add(matrix)
    assert (tally.compare()["psi"].abs() < 1e-9).all()


def test_a_matrix_of_the_wrong_width_is_refused_naming_both_sizes() -> None:
    reference = DriftReference.fit(_lines(100, 1), NAMES)
    with pytest.raises(ValueError, match=r"4 columns is needed, not \(10, 3\)"):
        reference.tally().add(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="4 columns"):
        DriftReference.fit(np.zeros((10, 2)), NAMES)


def test_a_large_reference_keeps_a_uniform_sample() -> None:
    reference = DriftReference.fit(_lines(30_000, 1), NAMES, sample=5_000)
    assert reference.lines == 5_000 and int(reference.counts[0].sum()) == 5_000


def test_the_notes_tell_the_score_the_bands_and_the_outcome_rates_apart() -> None:
    table = pd.DataFrame(
        {
            "feature": [SCORE_COLUMN, "hub_seizure_rate", "shipper_days_known", "reefer"],
            "psi": [0.3, 0.9, 0.5, 0.01],
        }
    )
    warnings, notes = drift_notes(table, {"red": (0.03, 0.08), "amber": (0.05, 0.06)})
    assert warnings[0] == (
        "the scores are distributed unlike the training reference's (PSI 0.30, above 0.1)"
    )
    assert warnings[1].startswith("8.0% of the lines are red, against 3.0%")
    assert len(warnings) == 2  # amber within half to twice its share
    assert notes[0].startswith("1 features shifted") and "shipper_days_known (0.50)" in notes[0]
    assert notes[1].startswith("1 features learned from outcomes shifted")
    assert "hub_seizure_rate (0.90)" in notes[1] and "retraining" in notes[1]
    assert len(notes) == 2  # reefer unmoved
    # a PSI just over the level is told with the decimals that show it over: "PSI 0.10" read
    # as below the warning's "above 0.1"
    near = table.assign(psi=[0.1006, 0.9, 0.2503, 0.01])
    warnings, notes = drift_notes(near, {})
    assert warnings == [
        "the scores are distributed unlike the training reference's (PSI 0.101, above 0.1)"
    ]
    assert "shipper_days_known (0.2503)" in notes[0]
    quiet = table.assign(psi=[0.05, 0.9, 0.5, 0.01])
    assert drift_notes(quiet, {"red": (0.03, 0.02)})[0] == []  # 0.05 and two thirds: no warning
    described = with_families(table).set_index("feature")
    assert described.loc[SCORE_COLUMN, "family"] == "score"
    assert described.loc["hub_seizure_rate", "from_outcomes"]
    assert described.loc["shipper_days_known", "family"] == "parties"


def test_the_reference_of_some_columns_compares_as_the_whole_does() -> None:
    reference = DriftReference.fit(_lines(20_000, 1), NAMES)
    reference.bands = {"red": 0.02, "amber": 0.03}
    scores = reference.only([SCORE_COLUMN])
    assert scores.names == [SCORE_COLUMN] and scores.bands == reference.bands
    assert scores.lines == reference.lines
    batch = _lines(5_000, 2)
    batch[:, 3] *= 3  # the scores tripled
    whole, alone = reference.tally(), scores.tally()
    whole.add(batch)
    alone.add(batch[:, [3]])
    psi = whole.compare().set_index("feature").loc[SCORE_COLUMN, "psi"]
    assert alone.compare()["psi"].iloc[0] == pytest.approx(psi) and psi > 0.25
    with pytest.raises(KeyError, match="no column 'nope'"):
        reference.only(["nope"])
