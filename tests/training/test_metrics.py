"""Evaluation at capacity: a perfect ranking finds everything it has room for, random finds the
capacity share, and the random-control slice is reported on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.selection import port_day
from training.evaluate import evaluate_period
from training.metrics import (
    calibration_warning,
    capacity_curve,
    capacity_table,
    control_metrics,
    label_metrics,
    selected_at_capacity,
)
from training.splits import SplitConfig, learned_label_delay, time_splits
from training.train import period_frame


def _world(seed: int = 0) -> tuple[pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    groups = pd.Series(np.repeat([f"VNHPH|2025-01-{d:02d}" for d in range(1, 11)], 500))
    hits = pd.Series((rng.random(len(groups)) < 0.01).astype(float))
    return groups, hits, pd.Series(rng.random(len(groups)))


def test_perfect_ranking_finds_all_hits_that_fit_and_random_finds_the_capacity_share() -> None:
    groups, hits, noise = _world()
    table = capacity_table(groups, {"perfect": hits + 0.001 * noise, "noise": noise}, hits)
    at2 = table[table["capacity"] == 0.02].set_index("scorer")
    assert at2.loc["perfect", "recall"] == 1.0
    assert abs(at2.loc["random", "hits"] - 0.02 * hits.sum()) < 1e-9
    assert at2.loc["perfect", "lift_over_random"] > 10
    assert at2.loc["noise", "hits"] < at2.loc["perfect", "hits"]


def test_the_capacity_table_counts_the_selected_lines_that_were_opened() -> None:
    """The "precision" at capacity counted every selected line, the never-opened ones as finding
    nothing: the quickstart read 1.1 % at 2 % where the 513 opened picks found 18 %, and the
    table did not say how many were opened."""
    groups, hits, noise = _world(3)
    opened = pd.Series(np.random.default_rng(8).random(len(groups)) < 0.1)
    observed = hits.where(opened, 0.0)  # a seizure is seen only where a container was opened
    table = capacity_table(groups, {"model": hits + noise}, observed, inspected=opened)
    at2 = table[table["capacity"] == 0.02].set_index("scorer")
    chosen = selected_at_capacity(groups, hits + noise, 0.02)
    both = chosen & opened.to_numpy()
    assert at2.loc["model", "inspected"] == both.sum() > 0
    assert at2.loc["model", "precision_inspected"] == pytest.approx(observed[both].mean())
    assert at2.loc["model", "precision_inspected"] > at2.loc["model", "precision"]
    share = 0.02 * 500 / 500  # the random row's expected opened picks
    assert at2.loc["random", "inspected"] == pytest.approx(share * opened.sum())
    assert "inspected" not in capacity_table(groups, {"model": noise}, hits).columns


def test_capacity_curve_is_monotone_and_reaches_all_hits() -> None:
    groups, hits, noise = _world(1)
    shares, found = capacity_curve(groups, noise, hits, np.linspace(0, 1, 11))
    assert np.all(np.diff(found) >= 0) and found[-1] == hits.sum() and found[0] == 0


def test_the_capacity_curve_reads_what_the_capacity_table_says() -> None:
    """Port-days of a few lines get one slot each, on the curve as in the table."""
    rng = np.random.default_rng(4)
    sizes = rng.integers(3, 140, size=60)
    groups = pd.Series(np.repeat([f"P|{d}" for d in range(60)], sizes))
    hits = pd.Series((rng.random(len(groups)) < 0.05).astype(float))
    score = hits * 0.3 + pd.Series(rng.random(len(groups)))
    table = capacity_table(groups, {"model": score}, hits).set_index(["scorer", "capacity"])
    shares = np.array([0.0, 0.01, 0.02, 0.05])
    _, found = capacity_curve(groups, score, hits, shares)
    assert found[0] == 0
    for share, value in zip(shares[1:], found[1:], strict=True):
        assert value == table.loc[("model", share), "hits"]
    assert found[1] > 0  # most of these port-days have under 50 lines: a slot each all the same


def test_control_metrics_use_only_the_control_slice() -> None:
    groups, hits, noise = _world(2)
    control = hits.where(np.arange(len(hits)) % 10 == 0)
    table = control_metrics(groups, hits + noise * 0.001, control)
    assert (table["control_lines"] == 500).all()
    assert (table["control_seizures"] == int(hits[::10].sum())).all()


def test_control_rates_weight_each_control_by_its_selection_probability() -> None:
    groups = pd.Series(["a"] * 4)
    score = pd.Series([0.9, 0.1, 0.2, 0.3])  # at 25 % capacity only the first is selected
    control = pd.Series([np.nan, 1.0, 0.0, 0.0])
    weight = pd.Series([np.nan, 2.0, 20.0, 20.0])  # drawn with probability 0.5, 0.05, 0.05
    plain = control_metrics(groups, score, control, capacities=(0.25,))
    weighted = control_metrics(groups, score, control, capacities=(0.25,), weight=weight)
    assert plain["rate_not_selected"].item() == pytest.approx(1 / 3)
    assert weighted["rate_not_selected"].item() == pytest.approx(2 / 42)
    assert weighted["control_seizures"].item() == 1  # counts stay counts


def _policy_world(lines: int = 200_000, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipment lines of 50 port-days and the outcomes of a policy that records each line's
    chance of any selection (the simulated history's): its controls are a uniform 2 % draw of
    the traffic, but risky lines, which its rules pick half the time anyway, carry 0.51 and
    quiet ones 0.03. ``seized`` is each line's truth, for the rates a test expects."""
    rng = np.random.default_rng(seed)
    risky = rng.random(lines) < 0.2
    day = pd.Timestamp("2025-03-01 12:00", tz="UTC") + pd.to_timedelta(
        np.arange(lines) % 50, unit="D"
    )
    shipments = pd.DataFrame(
        {
            "bl_number": [f"BL{i}" for i in range(lines)],
            "container_number": "MSCU1234565",
            "port_of_discharge": "VNHPH",
            "eta": day,
            "seized": rng.random(lines) < np.where(risky, 0.05, 0.002),
            "score": (risky + rng.random(lines)) / 2,  # the risky lines ranked first
        }
    )
    drawn = rng.random(lines) < 0.02  # the control: every line alike
    controls = shipments[drawn]
    outcomes = pd.DataFrame(
        {
            "bl_number": controls["bl_number"],
            "container_number": controls["container_number"],
            "selection_reason": "RANDOM_CONTROL",
            "selection_probability": (0.02 + 0.98 * np.where(risky, 0.5, 0.01))[drawn],
            "model_version": None,  # not the engine's draw
            "result": np.where(controls["seized"], "SEIZURE", "NO_FINDING"),
            "inspected_at": controls["eta"],
            "recorded_at": controls["eta"] + pd.Timedelta(days=2),
        }
    )
    return shipments, outcomes.reset_index(drop=True)


def test_training_weighs_the_random_control_as_review_does() -> None:
    """Training's evaluation weighed every control by 1 / selection_probability, where `review`
    weighs only those the engine drew (they name the model_version whose ranked list drew
    them, and their probability is their chance of the draw). The simulated history's controls
    are a uniform draw whose probability is their chance of any selection: weighted by it, a
    risky control stood for a seventeenth of the lines a quiet one did, and the rate of the
    lines the model would not pick at 1 % (1.10 % in the population) read 0.24 % (0.12-0.47 %);
    counted alike, 0.95 % (0.69-1.29 %)."""
    shipments, outcomes = _policy_world()
    everything = np.ones(len(shipments), dtype=bool)
    score = shipments["score"].to_numpy()
    period = period_frame(shipments, outcomes, everything, score, np.zeros(len(score)), None)
    evaluation = evaluate_period(period, scores={"model": period["probability"]})
    groups = port_day(shipments["port_of_discharge"], shipments["eta"])
    seized = shipments["seized"].to_numpy()
    for row in evaluation.control.itertuples():
        chosen = selected_at_capacity(groups, shipments["score"], row.capacity)
        population = seized[~chosen].mean()  # the rate of the lines the model leaves
        assert row.rate_not_selected_low < population < row.rate_not_selected_high
        assert row.control_lines == len(outcomes)
    # each control counted alike, as `review` counts another policy's
    weights = period["control_weight"].dropna()
    assert len(weights) == len(outcomes) and (weights == 1).all()
    # beside controls the engine drew (model_version named, probability its chance of the
    # draw), those are weighted and the other policy's left out (weight 0), as in `review`
    engine = outcomes.index < 100
    outcomes.loc[engine, "model_version"] = "4"
    outcomes.loc[engine, "selection_probability"] = 0.1
    period = period_frame(shipments, outcomes, everything, score, np.zeros(len(score)), None)
    weights = period["control_weight"].dropna()
    assert (weights == 10).sum() == 100 and (weights == 0).sum() == len(outcomes) - 100


def test_control_rates_come_with_an_interval_from_their_effective_count() -> None:
    """The training report's random-control rates had no interval: at 2 % the quickstart's
    "rate_selected" read 0 from 16 controls, where 0-29 % holds."""
    groups = pd.Series(["a"] * 200)
    score = pd.Series(np.linspace(1.0, 0.0, 200))
    control = pd.Series(np.where(np.arange(200) % 10 == 0, 0.0, np.nan))
    control[np.arange(200) % 40 == 0] = 1.0
    table = control_metrics(groups, score, control, capacities=(0.1,)).iloc[0]
    picked = control[:20].dropna()  # the model's 20 picks at 10 %: 2 controls, 1 seizure
    assert table["rate_selected"] == pytest.approx(picked.mean())
    low, high = table["rate_selected_low"], table["rate_selected_high"]
    assert 0 < low < table["rate_selected"] < high < 1 and high - low > 0.5  # 2 controls
    rest = table["rate_not_selected_high"] - table["rate_not_selected_low"]
    assert 0 < rest < high - low  # 18 controls: narrower
    # equal weights: the effective count is the count, the interval Wilson's own
    from training.review import wilson_interval

    assert (low, high) == pytest.approx(wilson_interval(1, 2))


def test_label_metrics_handle_a_single_class() -> None:
    assert np.isnan(label_metrics(np.zeros(5), np.full(5, 0.1))["pr_auc"])
    metrics = label_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]))
    assert metrics["pr_auc"] == 1.0 and metrics["brier"] < 0.05
    assert metrics["base_brier"] == 0.25 and metrics["mean_probability"] == pytest.approx(0.5)


def test_scores_no_better_than_the_base_rate_are_told_as_not_calibrated() -> None:

    # ranked right (PR-AUC 1) but a tenth of the seizure rate: no probability
    under = label_metrics(np.array([0, 1, 0, 1] * 5), np.array([0.01, 0.09, 0.02, 0.08] * 5))
    told = calibration_warning(under)
    assert told is not None and "not calibrated" in told and "(50.00%)" in told
    calibrated = label_metrics(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]))
    assert calibration_warning(calibrated) is None
    assert calibration_warning(label_metrics(np.zeros(5), np.full(5, 0.1))) is None


def test_scores_that_rank_well_at_a_fraction_of_the_rate_found_are_told_too() -> None:
    """A retrained challenger ranked well (Brier 0.0254 against the base rate's 0.0290) with a
    mean score of 0.68 % where 2.99 % of the inspections found something: unwarned before."""
    y = np.array([1] * 3 + [0] * 97)
    low = np.array([0.2] * 3 + [0.0001] * 97)  # mean 0.6 % against 3 %
    metrics = label_metrics(y, low)
    assert metrics["brier"] < metrics["base_brier"]
    told = calibration_warning(metrics)
    assert told is not None and "under the inspected lines' seizure rate 3.00%" in told
    assert "factor of 4.9" in told
    near = label_metrics(y, np.array([0.5] * 3 + [0.0005] * 97))  # mean 1.55 %: within 2x
    assert near["brier"] < near["base_brier"] and calibration_warning(near) is None
    high = label_metrics(y, np.array([0.9] * 3 + [0.05] * 97))  # mean 7.6 %: over, 2.5x
    assert "over the inspected lines' seizure rate" in (calibration_warning(high) or "")


def test_time_splits_leave_out_labels_recorded_after_the_boundary() -> None:
    filed = pd.Series(pd.date_range("2024-01-01", periods=400, freq="D", tz="UTC"))
    recorded = filed + pd.Timedelta(days=20)
    splits = time_splits(filed, recorded, config=SplitConfig(gap_days=7))
    b1 = splits.boundaries["valid_from"]
    # every slice ends the label delay (learned: 20 days) before the test period
    delay_from = splits.boundaries["delay_from"]
    assert delay_from == splits.boundaries["test_from"] - pd.Timedelta(days=20)
    assert (filed[splits.train | splits.valid | splits.calibration] < delay_from).all()
    assert filed[splits.valid].min() >= b1 + pd.Timedelta(days=7)
    assert filed[splits.train].max() < filed[splits.valid].min() <= filed[splits.calibration].min()
    assert filed[splits.calibration].max() < filed[splits.test].min()
    assert not (splits.train & splits.test).any()
    # the test slice is what evaluation judges: every line filed from test_from (a gap there
    # made the printed test count another set than the one the metrics were on)
    assert splits.test.sum() == (filed >= splits.boundaries["test_from"]).sum()
    # no label of the validation or calibration slice was recorded after the test period began
    # (dropping that cut passed every test: 20 of 40 calibration labels from the test period)
    test_from = splits.boundaries["test_from"]
    assert (recorded[splits.calibration] < test_from).all() and splits.calibration.any()
    assert (recorded[splits.train | splits.valid] < test_from).all()
    slow = filed + pd.Timedelta(days=90)  # labels as late as a field unit sends them
    late = time_splits(filed, slow, config=SplitConfig(gap_days=7))
    for name in ("valid", "calibration"):
        chosen = getattr(late, name)
        assert (slow[chosen] < late.boundaries["test_from"]).all()


def test_time_splits_with_until_test_on_the_later_period() -> None:
    filed = pd.Series(pd.date_range("2024-01-01", periods=300, freq="D", tz="UTC"))
    recorded = filed + pd.Timedelta(days=10)
    until = pd.Timestamp("2024-09-01", tz="UTC")
    splits = time_splits(filed, recorded, until=until)
    assert (filed[splits.test] >= until).all() and splits.test.sum() == (filed >= until).sum()
    for name in ("train", "valid", "calibration"):
        assert (recorded[getattr(splits, name)] < until).all()


def test_a_slice_a_model_cannot_be_made_from_is_named_with_its_period() -> None:
    # Before, LightGBM said "Input data must be 2 dimensional and non empty" for an empty
    # validation slice, and a calibration slice without a seizure failed in scikit-learn.
    filed = pd.Series(pd.date_range("2024-01-01", periods=300, freq="D", tz="UTC"))
    recorded = filed + pd.Timedelta(days=10)
    splits = time_splits(filed, recorded, config=SplitConfig(gap_days=7))
    labels = (np.arange(300) % 10 == 0).astype(int)
    splits.check(labels)  # seizures and clean inspections in every slice: no error
    calibration_only_clean = labels.copy()
    calibration_only_clean[splits.calibration] = 0
    with pytest.raises(
        ValueError,
        match=r"the calibration slice \(lines filed from .* has \d+ "
        r"labelled lines and no seizure",
    ):
        splits.check(calibration_only_clean)
    # ... unless the lines before the test period can be folded: the calibration is fitted on
    # their out-of-fold scores, as for a slice with one seizure (refused with none before)
    splits.check(calibration_only_clean, folds=4)
    with pytest.raises(ValueError, match="the calibration slice .* no seizure"):
        splits.check(calibration_only_clean, folds=100)  # too few to fold: refused still
    training_only_seizures = labels.copy()
    training_only_seizures[splits.train] = 1
    with pytest.raises(
        ValueError,
        match=r"the training slice \(lines filed from the start to "
        r".*and only seizures",
    ):
        splits.check(training_only_seizures)
    short = time_splits(filed[:40], recorded[:40], config=SplitConfig(gap_days=7))
    with pytest.raises(
        ValueError,
        match=r"the validation slice .* has no labelled line: more "
        r"history is needed .*or a shorter label_delay_days: the slices end 10 days \(learned\)",
    ):
        short.check(labels[:40])
    # a label delay longer than the history leaves no line to split: said, naming it
    with pytest.raises(ValueError, match=r"the label delay \(400 days, set\) before the test"):
        time_splits(filed, recorded, config=SplitConfig(label_delay_days=400))


def test_band_thresholds_on_equal_scores_take_the_share_nearer_the_capacity() -> None:
    """A block of equal calibration scores at the 2 % quantile put 14.7 % of the reference lines
    in the red band and none in amber, and every later batch was told its bands had moved."""
    from training.train import band_threshold, band_thresholds, band_warning

    rng = np.random.default_rng(3)
    scores = np.concatenate([rng.uniform(0, 0.05, 843), np.full(147, 0.0577), np.full(10, 0.2)])
    red = band_threshold(scores, 0.02)
    assert red == 0.2 and np.mean(scores >= red) == pytest.approx(0.01)  # not 15.7 %
    spread = rng.uniform(0, 1, 1000)  # no ties: the quantile, as before
    assert band_threshold(spread, 0.02) == pytest.approx(np.quantile(spread, 0.98))
    tied_top = np.concatenate([rng.uniform(0, 0.05, 853), np.full(147, 0.0577)])
    assert band_threshold(tied_top, 0.02) == 0.0577  # nothing above: the block stays
    # chosen apart on tied scores, amber went above red: kept at red at most
    ties = np.concatenate([np.full(583, 0.30), np.full(128, 0.704), np.full(15, 0.958)])
    bands = band_thresholds(ties, 0.02, 0.05)
    assert bands["amber"] <= bands["red"]
    told = band_warning({"red": 0.147, "amber": 0.0}, 0.02, 0.05)
    assert told is not None and "the red band holds 14.7% of the reference lines" in told
    assert band_warning({"red": 0.021, "amber": 0.03}, 0.02, 0.05) is None


def test_the_splits_count_the_labels_left_out_as_recorded_after_their_slice_ended() -> None:
    """Seizures are recorded later than clean results (a median 9 days against 1): a slice
    keeps fewer of its seizures than of its clean inspections, and nothing said how many were
    left out (the quickstart's calibration slice kept 3 of its 10 seizures). Without a label
    delay the calibration slice still loses them; with one, none is left out so."""
    days = pd.date_range("2025-01-01", periods=100, freq="D", tz="UTC")
    filed = pd.Series(days)
    labels = np.zeros(100)
    labels[::10] = 1.0  # a seizure every ten days, recorded 20 days on; clean ones the next day
    recorded = filed + pd.to_timedelta(np.where(labels == 1, 20, 1), unit="D")
    config = SplitConfig(0.6, 0.15, 0.1, 0.0, label_delay_days=0)
    splits = time_splits(filed, recorded, config=config)
    counts = splits.late_counts(labels)
    b2, test_from = splits.boundaries["calibration_from"], splits.boundaries["test_from"]
    late = ((filed >= b2) & (filed < test_from) & (recorded >= test_from)).to_numpy()
    assert counts["calibration"] == (int(late.sum()), int(labels[late].sum()))
    assert counts["calibration"][1] >= 1
    # a late line is in no slice it was left out of
    assert not (splits.calibration & late).any()
    delayed = time_splits(filed, recorded, config=SplitConfig(0.6, 0.15, 0.1, 0.0), labels=labels)
    assert delayed.label_delay_days == 20 and delayed.late_counts(labels)["calibration"] == (0, 0)


def test_the_label_delay_leaves_out_clean_and_seized_lines_filed_within_it_alike() -> None:
    """Seizures recorded 20 days after filing, clean results the next day. Cut at the test
    period alone, the calibration slice kept the clean results of its last 20 days and lost
    their seizures (its seizure rate 11 % against 20 %); the lines filed within the label delay
    before the test period are now in no slice, clean and seized alike."""
    filed = pd.Series(pd.date_range("2025-01-01", periods=400, freq="D", tz="UTC"))
    labels = (np.arange(400) % 5 == 0).astype(float)
    recorded = filed + pd.to_timedelta(np.where(labels == 1, 20, 1), unit="D")
    splits = time_splits(filed, recorded, config=SplitConfig(gap_days=7))  # learned: 20 days
    test_from, delay_from = splits.boundaries["test_from"], splits.boundaries["delay_from"]
    assert delay_from == test_from - pd.Timedelta(days=20)
    for name in ("train", "valid", "calibration"):
        chosen = getattr(splits, name)
        assert (filed[chosen] < delay_from).all()
        assert labels[chosen].mean() == pytest.approx(0.2, abs=0.03), name
    within = ((filed >= delay_from) & (filed < test_from) & (recorded < test_from)).to_numpy()
    lines, seizures = splits.delay_counts(labels)
    assert (lines, seizures) == (int(within.sum()), int(labels[within].sum()))
    assert lines - seizures >= 15  # clean ones left out too, not only the late seizures
    # the test slice as it was: every line filed from test_from
    assert splits.test.sum() == (filed >= test_from).sum()
    fixed = time_splits(filed, recorded, config=SplitConfig(label_delay_days=30))
    assert fixed.boundaries["delay_from"] == fixed.boundaries["test_from"] - pd.Timedelta(days=30)
    assert (fixed.label_delay_days, fixed.label_delay_learned) == (30, False)


def test_the_label_delay_is_learned_from_the_slower_kind_of_outcome() -> None:
    """One seizure in 25, recorded 30 days after filing, clean results 2 days: 95 % of all
    outcomes are in after 2 days, but the delay that keeps the seizures is 30. Outcomes of the
    test period (recorded 90 days on) teach nothing."""
    filed = pd.Series(pd.date_range("2025-01-01", periods=500, freq="D", tz="UTC"))
    labels = (np.arange(500) % 25 == 0).astype(float)
    recorded = filed + pd.to_timedelta(np.where(labels == 1, 30, 2), unit="D")
    assert learned_label_delay(filed, recorded, labels) == 30
    assert learned_label_delay(filed, recorded) == 2  # the kinds mixed: the clean ones decide
    until = pd.Timestamp("2026-01-01", tz="UTC")
    recorded = recorded.where(filed < until, filed + pd.Timedelta(days=90))
    splits = time_splits(filed, recorded, until=until, labels=labels)
    assert (splits.label_delay_days, splits.label_delay_learned) == (30, True)


def test_no_outcome_recorded_before_the_test_period_is_not_blamed_on_the_label_delay() -> None:
    """Every outcome recorded after the cut-off: the error told to shorten the label delay,
    set to 0 or not, where no delay could help."""
    filed = pd.Series(pd.date_range("2025-01-01", periods=100, freq="D", tz="UTC"))
    recorded = pd.Series(pd.Timestamp("2025-12-01", tz="UTC"), index=filed.index)
    for config in (SplitConfig(label_delay_days=0), SplitConfig()):
        with pytest.raises(ValueError, match="filed and recorded before the test period") as e:
            time_splits(filed, recorded, config=config, until=pd.Timestamp("2025-03-01", tz="UTC"))
        assert "label_delay_days" not in str(e.value)
    # a delay longer than the history is still named
    with pytest.raises(ValueError, match="a shorter label_delay_days"):
        time_splits(
            filed,
            filed + pd.Timedelta(days=1),
            config=SplitConfig(label_delay_days=400),
            until=pd.Timestamp("2025-03-01", tz="UTC"),
        )
