"""Training on a small simulated world: honest splits, determinism, calibration, reasons that add
up, a registered version, and a champion that moves only on improvement."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from models.booster import predict_contrib, predict_leaves, predict_raw
from models.registry import champion_version, configure_mlflow, list_versions, load_scorer
from models.scorer import to_matrix
from risk_engine.errors import ConfigError
from risk_engine.factories import seizure_after_filing
from risk_engine.settings import Settings
from risk_engine.validation import validate_frame
from training.config import TrainConfig
from training.fixtures import small_training, small_world
from training.metrics import calibration_warning
from training.retrain import champion_features, retrain
from training.tracking import log_training
from training.train import fit_scorer


@pytest.fixture(scope="module")
def outcome():  # type: ignore[no-untyped-def]
    return small_training()


def test_model_finds_more_true_contraband_than_rules_and_random_at_two_percent(outcome) -> None:  # type: ignore[no-untyped-def]
    truth = outcome.evaluation.truth
    at2 = truth[truth["capacity"] == 0.02].set_index("scorer")["hits"]
    assert at2["model"] > at2["random"]
    assert at2["model"] >= at2["rules"]
    assert at2["optimum"] >= at2["model"]


def test_test_period_comes_after_everything_the_model_learned_from(outcome) -> None:  # type: ignore[no-untyped-def]
    test_from = pd.Timestamp(outcome.boundaries["test_from"])
    assert (outcome.test_lines["filed_at"] >= test_from).all()
    assert (
        outcome.sizes["train"] > 0
        and outcome.sizes["valid"] > 0
        and outcome.sizes["test_lines"] > 0
    )


def test_contributions_add_up_to_the_raw_log_odds(outcome) -> None:  # type: ignore[no-untyped-def]
    scorer = outcome.scorer
    lines = outcome.test_lines.head(200)
    matrix = to_matrix(scorer.features(lines), scorer.feature_names)
    raw = predict_raw(scorer.booster, matrix)
    assert np.allclose(predict_contrib(scorer.booster, matrix).sum(axis=1), raw, atol=1e-6)
    leaves = predict_leaves(scorer.booster, matrix)
    assert np.allclose(scorer.attribution.contributions(leaves).sum(axis=1), raw, atol=1e-9)


def test_scores_are_probabilities_with_bands_and_reasons(outcome) -> None:  # type: ignore[no-untyped-def]
    scored = outcome.scorer.score(outcome.test_lines.head(300))
    assert scored["risk_score"].between(0, 1).all()
    assert set(scored["band"]) <= {"red", "amber", "green"}
    top = scored.sort_values("risk_score", ascending=False).head(5)
    assert all(isinstance(r, list) and r for r in top["reasons"])
    assert all(isinstance(text, str) and text for r in top["reasons"] for text in r)


def test_calibration_beats_a_constant_on_inspected_lines(outcome) -> None:  # type: ignore[no-untyped-def]
    labels = outcome.evaluation.labels
    base = labels["base_rate"]
    assert labels["brier"] < base * (1 - base) * 1.05


def test_a_calibration_slice_with_few_seizures_gives_way_to_out_of_fold_scores() -> None:
    """Without a label delay the small world's calibration slice holds few seizures (its late
    ones left out; with the delay it holds 17): a Platt fit on it sets the scores' level by
    chance. The out-of-fold fit uses every labelled line before the test period and puts the
    test period's mean score nearer its seizure rate."""
    folded = _quick_fit(label_delay_days=0)
    on_slice = _quick_fit(label_delay_days=0, min_calibration_seizures=1, min_calibration_lines=1)
    sizes = folded.sizes
    assert on_slice.params["calibration_fit"] == "calibration slice"
    assert on_slice.params["calibration_seizures"] < 10
    assert folded.params["calibration_fit"] == "out-of-fold (4 folds)"
    assert (
        folded.params["calibration_lines"] == sizes["train"] + sizes["valid"] + sizes["calibration"]
    )
    assert folded.params["calibration_seizures"] > 30
    assert folded.scorer.booster_text == on_slice.scorer.booster_text  # only the scale moved
    rate = folded.evaluation.labels["base_rate"]
    gap = {
        name: abs(fit.evaluation.labels["mean_probability"] - rate)
        for name, fit in (("folded", folded), ("slice", on_slice))
    }
    assert gap["folded"] < gap["slice"], gap


def test_out_of_fold_scores_come_from_boosters_that_did_not_see_the_line() -> None:
    """Labels of pure noise: a booster scores the seizures it learned from above the others,
    while out-of-fold scores do not tell them apart."""
    from models.booster import BoosterParams, fit_rounds
    from training.train import _out_of_fold

    rng = np.random.default_rng(5)
    x = rng.normal(size=(1_200, 6))
    y = (rng.random(1_200) < 0.1).astype("float64")
    params = BoosterParams(num_threads=1, min_data_in_leaf=5, num_leaves=15)
    names = [f"f{i}" for i in range(6)]
    seen = fit_rounds(
        pd.DataFrame(x, columns=names), y, params=params, seed=1, rounds=150, categorical=[]
    )

    def separation(raw: np.ndarray) -> float:  # mean raw score of seizures minus the others'
        return float(raw[y == 1].mean() - raw[y == 0].mean())

    held = _out_of_fold(x, y, None, names=names, params=params, seed=1, folds=4, rounds=150)
    assert held.shape == (1_200,) and np.isfinite(held).all()
    assert separation(predict_raw(seen, x)) > 1.0
    assert abs(separation(held)) < 0.3


@pytest.mark.slow
def test_same_seed_gives_the_same_model() -> None:
    world, shipments, outcomes = small_world()
    config = TrainConfig(seed=3, booster={"max_rounds": 40, "num_threads": 2})
    a = fit_scorer(shipments, outcomes, config=config)
    b = fit_scorer(shipments, outcomes, config=config)
    assert a.scorer.booster_text == b.scorer.booster_text


def test_the_champion_is_judged_with_its_history_brought_up_to_the_held_out_period() -> None:
    """retrain scored the champion with the feature history it was trained with: the lines and
    outcomes since its cut-off were missing from its party, route and goods counts, and a
    challenger that found no more than the champion was promoted. Brought up to the held-out
    period's start, its history features are those of a history learned up to it."""
    from features.catalogue import CATALOGUE
    from features.pipeline import FeaturePipeline

    world, shipments, outcomes = small_world()
    phases = world.meta["phases"]
    end_1 = pd.Timestamp(phases[0]["end"]) + pd.Timedelta(days=1)
    end_2 = pd.Timestamp(phases[1]["end"]) + pd.Timedelta(days=1)
    # a week's label delay: the learned one (22 days) leaves the 40-day first phase no validation
    config = TrainConfig(seed=1, booster={"max_rounds": 30, "num_threads": 2}, label_delay_days=7)
    end_2 = end_2.tz_localize("UTC") if end_2.tzinfo is None else end_2
    champion = fit_scorer(shipments, outcomes, config=config, until=end_1).scorer
    untouched = copy.deepcopy(champion)  # champion_features brings the one it is given up
    filed = shipments["filed_at"]
    lines = shipments[(filed >= end_2).to_numpy()].head(2_000)
    stale = champion.features(lines)
    judged = champion_features(champion, shipments, outcomes, lines, end_2)
    current = FeaturePipeline(**champion.pipeline.get_params()).fit(
        shipments, outcomes, until=end_2
    )
    expected = current.transform(lines)
    history = [f.name for f in CATALOGUE if not f.label_based and f.kind != "category"]
    pd.testing.assert_frame_equal(judged[history], expected[history])
    assert not stale[history].equals(expected[history])
    # the outcomes recorded since its cut-off count too: an update that left them out passed
    # the test above (it reads no label-based feature), the champion's seizure rates stale
    rates = [f.name for f in CATALOGUE if f.label_based]
    blind = champion_features(untouched, shipments, outcomes.iloc[0:0], lines, end_2)
    assert not judged[rates].equals(blind[rates])


def test_a_challenger_discarded_while_its_retrain_runs_is_neither_kept_nor_promoted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`models --discard` cannot tell a running retrain from a stopped one: the discard was
    overwritten by "kept" when the retrain decided, and a winning challenger became champion."""
    import training.retrain as retraining
    from models.registry import DECISION_TAG, DISCARDED, PENDING

    settings = Settings(home=tmp_path / "home")
    configure_mlflow(settings)
    world, shipments, outcomes = small_world()
    end_1 = pd.Timestamp(world.meta["phases"][0]["end"]) + pd.Timedelta(days=1)
    tagged = retraining.tag_version

    def discarded_at_once(version: str, tags: dict[str, str]) -> None:
        tagged(version, tags)
        if tags.get(DECISION_TAG) == PENDING:  # an analyst's `models --discard` meanwhile
            tagged(version, {DECISION_TAG: DISCARDED})

    monkeypatch.setattr(retraining, "tag_version", discarded_at_once)
    quick = TrainConfig(seed=1, booster={"max_rounds": 5, "num_threads": 2}, label_delay_days=7)
    decision = retrain(
        shipments, outcomes, phase="p1", until=end_1, settings=settings, config=quick, data_info={}
    )
    assert not decision.promoted and "was discarded" in decision.reason
    assert champion_version() is None  # no champion before: it would have become the first
    # a version decided without a champion has its phase report too (it had none at all)
    assert decision.report is not None and decision.report.exists()
    page = decision.report.read_text(encoding="utf-8")
    assert (
        "Per port: the challenger&#x27;s hits" in page or "Per port: the challenger's hits" in page
    )
    assert "()" not in page.split("<h2>")[0]  # the decision's earlier challengers: "none"
    (info,) = list_versions()
    assert info.tags[DECISION_TAG] == DISCARDED


def test_training_registers_versions_and_champion_moves_only_on_improvement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(home=tmp_path / "home")
    configure_mlflow(settings)
    world, shipments, outcomes = small_world()
    phases = world.meta["phases"]
    end_1 = pd.Timestamp(phases[0]["end"]) + pd.Timedelta(days=1)
    end_2 = pd.Timestamp(phases[1]["end"]) + pd.Timedelta(days=1)
    # a week's label delay: the learned one (22 days) leaves the 40-day first phase no validation
    weak = TrainConfig(
        seed=1,
        booster={"max_rounds": 2, "min_data_in_leaf": 10**6, "num_threads": 2},
        label_delay_days=7,
    )
    good = TrainConfig(
        seed=1,
        booster={"max_rounds": 150, "num_threads": 2},
        bootstrap_rounds=50,
        label_delay_days=7,
    )
    # A deliberately weak first model: registered and, being first, champion.
    first = fit_scorer(shipments, outcomes, config=weak, until=end_1)
    _, v1, _ = log_training(first, settings=settings, config=weak, data_info={}, run_name="weak")
    assert champion_version() == v1
    # A good challenger after phase 1 finds more on the held-out period: promoted.
    promoted = retrain(
        shipments,
        outcomes,
        phase="phase-1",
        until=end_1,
        eval_until=end_2,
        settings=settings,
        config=good,
        data_info={},
        truth=world.truth,
    )
    assert promoted.promoted and champion_version() == promoted.challenger_version
    assert promoted.challenger_hits > promoted.champion_hits
    assert promoted.report is not None and promoted.report.exists()
    # A weak challenger after phase 2 must not move the alias.
    kept = retrain(
        shipments,
        outcomes,
        phase="phase-2",
        until=end_2,
        settings=settings,
        config=weak,
        data_info={},
        truth=world.truth,
    )
    assert not kept.promoted and champion_version() == promoted.challenger_version
    assert "kept champion" in kept.reason
    # each challenger is checked for calibration on its test period, as train checks a model
    for decision in (promoted, kept):
        info = next(v for v in list_versions() if v.version == decision.challenger_version)
        run = MlflowClient().get_run(info.run_id).data
        logged = run.metrics
        # the paired bootstrap's share of resamples in which the challenger finds more, with
        # the decision's reason, recorded and printed (the reason is what `retrain` prints)
        assert logged["decision_probability_better"] == decision.probability_better
        assert logged["decision_min_probability_better"] == 0.0
        assert run.tags["decision.reason"] == decision.reason
        rounds = 50 if decision is promoted else 500
        assert f"more in {decision.probability_better:.1%} of {rounds} paired bootstrap" in (
            decision.reason
        )
        assert decision.calibration == (
            calibration_warning({name[len("test_") :]: value for name, value in logged.items()})
            or ""
        )
        # and says how its calibration was fitted, as train does
        params = MlflowClient().get_run(info.run_id).data.params
        assert decision.calibrated_on.startswith(
            f"calibration: {params['calibration_fit']}, {int(params['calibration_lines']):,} "
            f"labelled lines ({int(params['calibration_seizures']):,} seizures)"
        )
        late = sum(int(params[f"late_{name}_lines"]) for name in ("training", "calibration"))
        told = "left out as recorded after their slice ended" in decision.calibrated_on
        assert told is (late > 0)
        # and the label delay its slices ended before the held-out period
        assert params["label_delay_days"] == "7.0" and params["label_delay_learned"] == "False"
        assert "; label delay 7 days (set): " in decision.calibrated_on
    # the cut each challenger learned to, whoever calls retrain: its run named the phase alone
    for decision, until, eval_until in ((promoted, end_1, str(end_2)), (kept, end_2, "")):
        info = next(v for v in list_versions() if v.version == decision.challenger_version)
        params = MlflowClient().get_run(info.run_id).data.params
        assert (params["data.until"], params["data.eval_until"]) == (str(until), eval_until)
    # An --until before the champion's own cut-off judged it on lines it learned from (it won
    # "6 vs 8" so); refused before any training, as a challenger that cannot be trained is.
    before = pd.Timestamp(phases[0]["start"]) + pd.Timedelta(days=3)
    for until, known, told in (
        (before, outcomes, "before the champion's own cut-off"),
        (end_2, outcomes.iloc[:0], "cannot train the challenger: "),  # a traceback before
    ):
        with pytest.raises(ConfigError, match=told):
            retrain(
                shipments,
                known,
                phase="early",
                until=until,
                settings=settings,
                config=weak,
                data_info={},
            )
    # Nothing to compare them on (the held-out period ends before it starts): the champion
    # stays, whatever the challenger (it was promoted unseen before).
    blind = retrain(
        shipments,
        outcomes,
        phase="phase-2b",
        until=end_2,
        eval_until=end_1,
        settings=settings,
        config=weak,
        data_info={},
    )
    assert not blind.promoted and champion_version() == promoted.challenger_version
    assert blind.reason.startswith("kept champion: no held-out period to compare on")
    # The same phase retrained (more outcomes came in, say): the challenger is registered beside
    # the first one, which is named, and each keeps its report (the second overwrote the first).
    again = retrain(
        shipments,
        outcomes,
        phase="phase-2",
        until=end_2,
        settings=settings,
        config=weak,
        data_info={},
    )
    assert again.earlier == (kept.challenger_version,) and promoted.earlier == ()
    assert kept.report is not None and again.report is not None
    assert kept.report != again.report and kept.report.exists() and again.report.exists()
    assert promoted.held_out.startswith("lines filed ") and promoted.note == ""
    # Retrained as soon as the last phase ends, nothing was filed after --until: the last part
    # of the data was held out and the challenger learned up to its start, said nowhere.
    end_3 = pd.Timestamp(phases[-1]["end"]) + pd.Timedelta(days=1)
    last = retrain(
        shipments,
        outcomes,
        phase="phase-3",
        until=end_3,
        settings=settings,
        config=weak,
        data_info={},
    )
    assert last.note.startswith(f"nothing was filed after --until {end_3}: ")
    held_from = pd.Timestamp(last.held_out.split()[2])
    assert held_from < end_3 - pd.Timedelta(days=7)
    decided = [
        v1,
        promoted.challenger_version,
        kept.challenger_version,
        blind.challenger_version,
        again.challenger_version,
        last.challenger_version,
    ]
    assert [v.version for v in list_versions()] == decided
    # The registered pyfunc scores raw contract records (text as in a file).
    import mlflow.pyfunc

    from models.registry import MODEL_NAME

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    scored = model.predict(world.shipments.tail(30).astype(str))
    assert len(scored) == 30 and scored["risk_score"].between(0, 1).all()
    # typed columns read as a file's are: a decimal HS code number is malformed, not 44031
    typed = world.shipments.tail(30).reset_index(drop=True)
    typed["hs_code"] = typed["hs_code"].astype(object)
    typed.loc[0, "hs_code"] = 4403.1
    scored = model.predict(typed)
    assert len(scored) == 29 and scored["risk_score"].between(0, 1).all()
    # A retrain stopped after registering its challenger (Ctrl-C, a crash) left a version
    # nothing marked: listed like the others, served without a word, and not named as an
    # earlier challenger of its phase. It is now pending until its decision.
    from training.commands import discard_version, models_command

    def retrain_phase_2() -> Any:
        return retrain(
            shipments, outcomes, phase="phase-2", until=end_2, settings=settings,
            config=weak, data_info={},
        )  # fmt: skip

    def stopped(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("training.retrain.compare", stopped)
    with pytest.raises(KeyboardInterrupt):
        retrain_phase_2()
    monkeypatch.undo()
    pending = [v for v in list_versions() if v.version not in decided]
    assert len(pending) == 1 and pending[0].tags["engine.decision"] == "pending"
    assert champion_version() == promoted.challenger_version
    listed = models_command(settings)
    assert f"warning: version {pending[0].version} was never compared with the champion" in listed
    assert [v.tags.get("engine.decision") for v in list_versions()][1:3] == ["promoted", "kept"]
    once_more = retrain_phase_2()
    assert once_more.earlier == (
        kept.challenger_version,
        again.challenger_version,
        pending[0].version,
    )
    with caplog.at_level("WARNING", logger="models.registry"):
        load_scorer(pending[0].version)
    assert f"model version {pending[0].version} was never compared" in caplog.text
    # An operator closes it: kept for the record, no longer warned of; only a pending one
    assert "discarded" in discard_version(pending[0].version, settings)
    assert "never compared" not in models_command(settings)
    tags = {v.version: v.tags for v in list_versions()}
    assert tags[pending[0].version]["engine.decision"] == "discarded"
    closed, champion = pending[0].version, str(champion_version())
    for version, why in ((closed, "decision is discarded"), (champion, "champion")):
        with pytest.raises(ConfigError, match=why):
            discard_version(str(version), settings)

    # A retrain whose report cannot be written (a full disk) has decided: not pending
    def full(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("training.retrain.write_phase_report", full)
    with pytest.raises(OSError):
        retrain_phase_2()
    monkeypatch.undo()
    assert list_versions()[-1].tags["engine.decision"] == "kept"


@cache
def _quick_fit(**config: float) -> Any:
    """A small world's model with a few boosting rounds, ``config`` overriding TrainConfig
    fields (fitted once per module; copy what a test changes)."""
    _, shipments, outcomes = small_world()
    quick = {"max_rounds": 40, "num_threads": 2}
    return fit_scorer(shipments, outcomes, config=TrainConfig(seed=3, booster=quick, **config))


def test_the_label_delay_reaches_the_splits_and_is_named_with_the_run() -> None:
    """The slices end the label delay before the test period, learned unless the config sets
    it; the run's parameters and its words say which, and what it left out."""
    from training.train import describe_calibration

    learned, fixed = _quick_fit(), _quick_fit(label_delay_days=3)
    for fit, days in ((learned, learned.params["label_delay_days"]), (fixed, 3.0)):
        test_from = pd.Timestamp(fit.boundaries["test_from"])
        assert pd.Timestamp(fit.boundaries["delay_from"]) == test_from - pd.Timedelta(days=days)
        how = "learned" if fit is learned else "set"
        assert fit.params["label_delay_learned"] is (fit is learned)
        assert (
            f"; label delay {days:g} days ({how}): left out as filed within it before the test "
            f"period {fit.params['delay_lines']:,} lines ({fit.params['delay_seizures']:,} "
            "seizures)"
        ) in describe_calibration(fit.params)
    assert learned.params["label_delay_days"] > 3  # seizures take longer in the small world
    assert fixed.params["delay_lines"] < learned.params["delay_lines"]


def test_rescore_days_sets_what_the_state_keeps_exact_and_leaves_training_alone(
    tmp_path: Path,
) -> None:
    from risk_engine.errors import ConfigError
    from training.config import load_config

    usual, longer = _quick_fit(), _quick_fit(rescore_days=30)
    assert usual.scorer.pipeline.state_.params.rescore_days == 7.0
    assert longer.scorer.pipeline.state_.params.rescore_days == 30.0
    assert longer.scorer.booster_text == usual.scorer.booster_text  # the same features learned
    assert longer.scorer.pipeline.state_.nbytes >= usual.scorer.pipeline.state_.nbytes
    (tmp_path / "bad.yaml").write_text("rescore_days: -1\n")
    with pytest.raises(ConfigError, match="rescore_days"):
        load_config(tmp_path / "bad.yaml")


def test_label_lookback_days_sets_how_many_days_of_lines_the_state_keeps_for_outcomes(
    tmp_path: Path,
) -> None:
    from risk_engine.errors import ConfigError
    from training.config import load_config

    _, shipments, _ = small_world()
    usual, short = _quick_fit(), _quick_fit(label_lookback_days=30)
    state, kept = usual.scorer.pipeline.state_, short.scorer.pipeline.state_
    assert state.params.label_lookback_days == 120.0 and kept.params.label_lookback_days == 30.0
    assert short.scorer.booster_text == usual.scorer.booster_text  # training matches them all
    oldest = pd.Timestamp(kept.as_of - 30 * 86_400, unit="s", tz="UTC")
    assert kept.recent["filed_at"].min() >= oldest and len(kept.recent) < len(state.recent)
    # An outcome of a line filed 60 days before the cut-off finds it only in the longer buffer.
    line = shipments[shipments["filed_at"] < oldest - pd.Timedelta(days=30)].iloc[-1]
    late = pd.DataFrame([seizure_after_filing(line)])
    late["recorded_at"] = usual.scorer.pipeline.as_of_.strftime("%Y-%m-%dT%H:%M:%SZ")
    late["inspected_at"] = late["recorded_at"]
    late = validate_frame(late, "outcomes").accepted
    for trained, found in ((usual, 1), (short, 0)):
        pipeline = copy.deepcopy(trained.scorer.pipeline)  # the fit is shared
        seen = pipeline.state_.outcomes_seen
        pipeline.update(None, late)
        assert pipeline.state_.outcomes_seen - seen == found
    (tmp_path / "bad.yaml").write_text("label_lookback_days: 0\n")
    with pytest.raises(ConfigError, match="label_lookback_days"):
        load_config(tmp_path / "bad.yaml")


def test_a_challenger_that_finds_as_many_seizures_keeps_the_champion() -> None:
    """The promotion rule had no test of a tie: made >=, every test passed, and a challenger
    that found no more would have replaced the champion."""
    from training.retrain import promotes

    assert promotes(champion_hits=19, challenger_hits=20)
    assert not promotes(champion_hits=22, challenger_hits=22)
    assert not promotes(champion_hits=22, challenger_hits=21)


def _port_days(champion_finds: range, challenger_finds: range) -> tuple[pd.Series, ...]:
    """400 port-days of 50 lines, one slot each at 2 %: the champion's top line holds a seizure
    on the days ``champion_finds`` names, the challenger's (another line) on its own."""
    days, lines = 400, 50
    group = pd.Series(np.repeat(np.arange(days), lines))
    line = np.tile(np.arange(lines), days)
    day = group.to_numpy()
    hits = ((line == 0) & np.isin(day, champion_finds)) | (
        (line == 1) & np.isin(day, challenger_finds)
    )
    champion = pd.Series(np.where(line == 0, 0.9, 0.1))
    challenger = pd.Series(np.where(line == 1, 0.9, 0.1))
    return group, pd.Series(hits.astype(float)), champion, challenger


def test_a_challenger_finding_one_seizure_more_by_chance_is_kept_out_when_asked() -> None:
    """Promotion on one count swapped models on noise: 21 seizures against 20, on different
    port-days, is more in about half of the paired bootstrap's resamples. With
    `promotion.min_probability_better` 0.95 the champion stays (the default, 0, promotes it as
    before); a challenger finding 60 against 20 finds more in every resample and is promoted."""
    from training.retrain import compare, decision_reason, promotes

    by_chance = compare(*_port_days(range(20), range(20, 41)), capacity=0.02, rounds=500, seed=7)
    champion_hits, challenger_hits, low, high, better = by_chance
    assert (champion_hits, challenger_hits) == (20, 21) and low < 0 < high
    assert 0.3 < better < 0.8
    assert compare(*_port_days(range(20), range(20, 41)), capacity=0.02, rounds=500, seed=7) == (
        by_chance  # seeded: the same figures again
    )
    assert promotes(20, 21, probability_better=better)  # the default: as before
    assert not promotes(20, 21, probability_better=better, min_probability_better=0.95)
    figures = {"capacity": 0.02, "interval": (low, high), "rounds": 500}
    reason = decision_reason(
        20, 21, probability_better=better, min_probability_better=0.95, **figures
    )
    assert reason.startswith("kept champion: challenger finds 21 seizures at 2% capacity vs 20")
    assert f"more in {better:.1%} of 500 paired bootstrap resamples" in reason
    assert "promotion.min_probability_better 95.0%" in reason and "fewer resamples" in reason
    many = compare(*_port_days(range(20), range(20, 80)), capacity=0.02, rounds=500, seed=7)
    assert many[:2] == (20, 60) and many[4] == 1.0
    assert promotes(20, 60, probability_better=many[4], min_probability_better=0.95)
    reason = decision_reason(
        20,
        60,
        probability_better=many[4],
        min_probability_better=0.95,
        capacity=0.02,
        interval=(many[2], many[3]),
        rounds=500,
    )
    assert reason.startswith("promoted: ") and "more in 100.0% of 500" in reason
