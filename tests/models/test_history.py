"""The feature history screenings keep current: advanced by each batch, read back by the next
screening and the service, never adding a line twice, one screening at a time."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from features.keys import NAME_RULES
from models.history import ModelHistory
from models.screening import screen_file
from risk_engine.errors import ConfigError
from risk_engine.validation import validate_frame
from training.fixtures import small_training, small_world


@pytest.fixture(scope="module")
def scorer() -> Any:
    trained = copy.copy(small_training().scorer)
    trained.version = "7"
    return trained


@pytest.fixture(scope="module")
def days(scorer: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two consecutive days of filings after the model's cut-off."""
    world, _, _ = small_world()
    lines = world.shipments
    later = lines[lines["filed_at"] >= scorer.pipeline.as_of_]
    day = later["filed_at"].dt.floor("D")
    first, second = sorted(day.unique())[:2]
    return (
        later[day == first].reset_index(drop=True),
        later[day == second].reset_index(drop=True),
    )


def _screen(scorer: Any, lines: pd.DataFrame, folder: Path, kept: list[Any]) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    lines.to_parquet(folder / "in.parquet", index=False)
    return screen_file(
        folder / "in.parquet", folder / "out.parquet", scorer=scorer, keep_history=kept.append
    )


def test_a_screened_batch_becomes_history_for_the_next_one(
    scorer: Any, days: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    first, second = days
    histories = ModelHistory(tmp_path / "home")
    assert histories.current(scorer) is scorer and histories.info("7") is None
    trained_lines = scorer.pipeline.state_.lines_seen
    kept: list[Any] = []
    _screen(histories.current(scorer), first, tmp_path / "a", kept)
    assert scorer.pipeline.state_.lines_seen == trained_lines  # the model is left as it was
    info = histories.save("7", kept[0], source="day-1.csv", lines_before=trained_lines)
    assert info.lines == trained_lines + len(first) and info.lines_added == len(first)
    assert [b["file"] for b in info.batches] == ["day-1.csv"] and "@" in info.batches[0]["by"]
    assert json.loads((tmp_path / "home/history/model-7.json").read_text())["lines"] == info.lines
    # how its names are keyed is kept in the record, and `risk-engine history` tells it
    assert info.name_rules == scorer.pipeline.state_.params.name_rules == NAME_RULES
    from risk_engine.cli import _history_line

    assert f"; name rules {NAME_RULES})" in _history_line(info, 1_000_000)
    assert "name rules" not in _history_line(dataclasses.replace(info, name_rules=0), 1)
    # and which release added the batch (a record written before 0.31 says nothing of it)
    from risk_engine.version import engine_version

    assert info.batches[-1]["release"] == engine_version() != "unknown"
    assert _history_line(info, 1).endswith(f" with release {engine_version()}")
    older = [{k: v for k, v in info.batches[-1].items() if k != "release"}]
    assert "release" not in _history_line(dataclasses.replace(info, batches=older), 1)
    current = histories.current(scorer)
    assert current is not scorer and current.pipeline.state_.lines_seen == info.lines
    assert pd.Timestamp(info.as_of) == current.pipeline.as_of_ > scorer.pipeline.as_of_
    # The second day's parties seen on the first day now have a history: their features move.
    with_history = current.features(second)
    as_trained = scorer.features(second)
    assert (with_history["shipper_lines_30d"] >= as_trained["shipper_lines_30d"]).all()
    assert (with_history["shipper_lines_30d"] > as_trained["shipper_lines_30d"]).any()
    # The same day screened again adds nothing; the record counts it as offered again. Its
    # lines get the scores and the selection they had, and the service's path (one manifest)
    # gives them too: a line already in the history does not count itself a second time.
    again: list[Any] = []
    _screen(current, first, tmp_path / "b", again)
    ranked = pd.read_parquet(tmp_path / "a/out.parquet").set_index(
        ["bl_number", "container_number"]
    )
    rerun = pd.read_parquet(tmp_path / "b/out.parquet").set_index(["bl_number", "container_number"])
    rerun = rerun.loc[ranked.index]
    assert (rerun["risk_score"] == ranked["risk_score"]).all()
    assert (rerun["selected"] == ranked["selected"]).all() and ranked["selected"].any()
    # the lines as the service checks them (its data-quality flags included: the raw world's
    # lines have none, and an unknown port's flag is a feature)
    manifest = first.head(40)
    served = current.score(validate_frame(manifest, "shipments").accepted).set_index(
        manifest.set_index(["bl_number", "container_number"]).index
    )
    assert (served["risk_score"] == ranked.loc[served.index, "risk_score"]).all()
    info = histories.save("7", again[0], source="day-1.csv", lines_before=info.lines)
    assert info.lines == trained_lines + len(first) and info.lines_added == len(first)
    assert info.lines_repeated == len(first) and len(info.batches) == 2
    assert histories.all() == [info]
    assert histories.reset("7") and not histories.reset("7")
    assert histories.current(scorer) is scorer


def test_one_screening_at_a_time_advances_a_history(tmp_path: Path) -> None:
    histories = ModelHistory(tmp_path / "home")
    with histories.advancing("7"):
        with pytest.raises(ConfigError, match=r"another screening .* model 7 .*--no-history"):
            with histories.advancing("7"):
                pass
        with histories.advancing("8"):  # another version's history is free
            pass
    with histories.advancing("7"):  # released
        pass


def test_a_reset_leaves_the_lock_a_waiting_screening_holds_and_no_partial_file(
    tmp_path: Path,
) -> None:
    """The lock file was removed once a reset released it: a screening that had opened it and
    waited locked a file no longer there, while a second made a new one and ran too (its lines
    were lost). And a save a kill stopped left its partial history, which a reset kept."""
    import fcntl

    histories = ModelHistory(tmp_path / "home")
    with histories.advancing("7"):
        pass
    lock = histories.folder / "model-7.lock"
    partial = histories.folder / "model-7.pkl.partial"
    partial.write_bytes(b"a save stopped by a kill")
    with open(lock, "a", encoding="utf-8") as waiting:  # screening A opened it, then waited
        assert not histories.forget("7")
        assert not partial.exists()
        fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)  # A runs now
        with pytest.raises(ConfigError, match="another screening"):
            with histories.advancing("7"):  # screening B
                pass


def test_a_listing_never_refuses_a_screening_while_it_reads_a_history(
    scorer: Any,
    days: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`history` read each history (0.4 s for the quickstart's) under its lock: a nightly
    screening that started meanwhile was refused as if another screening ran."""
    first, _ = days
    histories = ModelHistory(tmp_path / "home")
    kept: list[Any] = []
    _screen(scorer, first, tmp_path / "a", kept)
    histories.save("7", kept[0], source="day-1", lines_before=0)
    read = histories._payload
    screened: list[str] = []

    def reading(version: str) -> Any:
        with histories.advancing(version):  # a screening starts while the listing reads
            screened.append(version)
        return read(version)

    monkeypatch.setattr(histories, "_payload", reading)
    assert not histories.repaired("7")
    assert screened == ["7"]


def test_a_history_that_cannot_be_read_or_is_another_models_is_refused(
    scorer: Any, tmp_path: Path
) -> None:
    histories = ModelHistory(tmp_path / "home")
    histories.save("8", scorer.pipeline, source="x.csv", lines_before=0)
    (tmp_path / "home/history/model-8.pkl").rename(tmp_path / "home/history/model-7.pkl")
    with pytest.raises(ConfigError, match="is not the feature history of model 7"):
        histories.current(scorer)
    (tmp_path / "home/history/model-7.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ConfigError, match=r"cannot read the feature history .*--reset 7"):
        histories.current(scorer)
    (tmp_path / "home/history/model-7.json").write_text("{broken")
    with pytest.raises(ConfigError, match="cannot read the feature history record"):
        histories.info("7")


def test_the_service_scores_with_the_current_history(
    scorer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from risk_engine.settings import Settings
    from serve.model import registry_loader, stamp_for

    settings = Settings(home=tmp_path / "home")
    champion = ["7"]
    monkeypatch.setattr("models.registry.configure_mlflow", lambda settings: None)
    monkeypatch.setattr("models.registry.champion_version", lambda: champion[0])
    monkeypatch.setattr("models.registry.load_scorer", lambda version: copy.copy(scorer))
    assert registry_loader(settings)().pipeline is scorer.pipeline  # no history yet
    stamp = stamp_for(settings, "champion")  # what tells the service to reload
    assert stamp() == ("7", None) and stamp_for(settings, "7")() == ("7", None)
    advanced = copy.deepcopy(scorer.pipeline)
    advanced.update(small_world()[0].shipments.tail(50))
    ModelHistory(settings.home).save("7", advanced, source="d.csv", lines_before=0)
    assert stamp()[0] == "7" and stamp()[1] == ModelHistory(settings.home).stamp("7") is not None
    champion[0] = "8"
    assert stamp() == ("8", None)
    champion[0] = "7"
    served = registry_loader(settings)()
    assert served.pipeline.state_.lines_seen == advanced.state_.lines_seen
    assert served.describe()["history_as_of"] == advanced.as_of_.isoformat()


def test_outcomes_recorded_since_training_raise_their_parties_rates_once(
    scorer: Any, days: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    from risk_engine.factories import seizure_after_filing
    from risk_engine.validation import validate_frame

    first, second = days
    histories = ModelHistory(tmp_path / "home")
    kept: list[Any] = []
    _screen(scorer, first, tmp_path / "a", kept)
    histories.save("7", kept[0], source="day-1", lines_before=0)
    # A shipper of the first day who files again on the second: its line is seized.
    shared = sorted(set(first["shipper_name"]) & set(second["shipper_name"]))[0]
    seized = first[first["shipper_name"] == shared].sort_values("filed_at").iloc[0]
    # Recorded before the second day's lines were filed: they may know of it (point in time).
    outcome = seizure_after_filing(seized)
    old = dict(
        outcome, recorded_at="2000-01-01T00:00:00+00:00", inspected_at="1999-12-31T00:00:00+00:00"
    )
    outcomes = validate_frame(pd.DataFrame([outcome, old]), "outcomes").accepted
    assert len(outcomes) == 2
    later = second[second["shipper_name"] == shared]
    before = histories.current(scorer).features(later)["shipper_seizure_rate"]
    info, counts = histories.add_outcomes(scorer, outcomes.reset_index(drop=True), source="o.csv")
    assert counts == {
        "given": 2,
        "in_training": 1,
        "added_before": 0,
        "future": 0,
        "added": 1,
        "matched": 1,
        "unmatched": 0,
        "waiting": 0,
        "too_old": 0,
        "inconclusive": 0,
    }
    assert info.outcomes_added == 1 and info.batches[-1]["outcomes_added"] == 1
    after = histories.current(scorer).features(later)["shipper_seizure_rate"]
    assert (after > before).all()
    # The same outcomes again: nothing added, the rates as they were.
    info, counts = histories.add_outcomes(scorer, outcomes.reset_index(drop=True), source="o.csv")
    assert counts["added"] == 0 and counts["added_before"] == 1 and info.outcomes_added == 1
    again = histories.current(scorer).features(later)["shipper_seizure_rate"]
    pd.testing.assert_series_equal(again, after)
    assert histories.reset("7") and not (tmp_path / "home/history/model-7.outcomes.npy").exists()


def test_an_outcome_whose_line_the_history_lacks_is_offered_again_once_a_screening_brings_it(
    scorer: Any, days: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    # It was kept as added: a seizure of a line screened by the champion before a promotion
    # never reached the new champion's history, whatever was screened after.
    from risk_engine.factories import seizure_after_filing
    from risk_engine.validation import validate_frame

    first, second = days
    histories = ModelHistory(tmp_path / "home")
    seized = second.sort_values("filed_at").iloc[0]  # a line of a day not screened yet
    outcomes = validate_frame(pd.DataFrame([seizure_after_filing(seized)]), "outcomes").accepted
    outcomes = outcomes.reset_index(drop=True)
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert (counts["added"], counts["waiting"], counts["matched"], counts["unmatched"]) == (
        0,
        1,
        0,
        0,
    )
    assert info.outcomes_added == 0  # nothing kept: it counts for nothing yet
    # offered again before its line comes: still waiting, not counted as unmatched each time
    unmatched = histories.current(scorer).pipeline.state_.outcomes_unmatched
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert (counts["added"], counts["waiting"]) == (0, 1) and info.outcomes_added == 0
    assert histories.current(scorer).pipeline.state_.outcomes_unmatched == unmatched
    kept: list[Any] = []
    _screen(histories.current(scorer), second, tmp_path / "b", kept)  # the line comes
    histories.save("7", kept[0], source="day-2", lines_before=0)
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert (counts["added_before"], counts["added"], counts["matched"]) == (0, 1, 1)
    assert info.outcomes_added == 1
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert counts["added_before"] == 1 and counts["added"] == 0


def test_an_outcome_of_a_line_screened_longer_ago_than_the_lines_kept_is_told_so(
    scorer: Any, days: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    # It was told "not in the history yet, offered again by the next --add-outcomes": no
    # screening can bring a line the history has already let go of.
    from risk_engine.factories import seizure_after_filing
    from risk_engine.validation import validate_frame

    first, second = days
    histories = ModelHistory(tmp_path / "home")
    kept: list[Any] = []
    _screen(histories.current(scorer), first, tmp_path / "a", kept)
    histories.save("7", kept[0], source="day-1", lines_before=0)
    lookback = scorer.pipeline.state_.params.label_lookback_days
    later = second.copy()
    for column in ("filed_at", "booking_created_at", "etd", "eta", "last_amended_at"):
        if column in later.columns:
            later[column] = pd.to_datetime(later[column], utc=True) + pd.Timedelta(
                days=lookback + 5
            )
    kept = []
    _screen(histories.current(scorer), later, tmp_path / "b", kept)
    histories.save("7", kept[0], source="day-2", lines_before=0)
    seized = first.sort_values("filed_at").iloc[0]
    outcome = seizure_after_filing(seized)
    outcomes = validate_frame(pd.DataFrame([outcome]), "outcomes").accepted.reset_index(drop=True)
    _, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert (counts["added"], counts["waiting"], counts["too_old"]) == (0, 0, 1)


def test_a_save_cut_off_between_its_files_neither_adds_outcomes_twice_nor_misleads(
    scorer: Any,
    days: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history was three files renamed one after another: killed after the history file and
    before the outcome keys, a rerun added the same outcomes again (every seizure's rates
    counted twice); killed before the record, `history` told the history before."""
    import models.history as history_module
    from risk_engine.factories import seizure_after_filing
    from risk_engine.validation import validate_frame

    first, _ = days
    histories = ModelHistory(tmp_path / "home")
    kept: list[Any] = []
    _screen(scorer, first, tmp_path / "a", kept)
    histories.save("7", kept[0], source="day-1", lines_before=0)
    seized = first.sort_values("filed_at").iloc[:3]
    outcomes = validate_frame(
        pd.DataFrame([seizure_after_filing(row) for _, row in seized.iterrows()]), "outcomes"
    ).accepted.reset_index(drop=True)
    replace = history_module._replace

    def killed_after_the_history_file(path: Path, data: bytes) -> None:
        replace(path, data)
        if path.suffix == ".pkl":
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(history_module, "_replace", killed_after_the_history_file)
    with pytest.raises(KeyboardInterrupt):
        histories.add_outcomes(scorer, outcomes, source="o.csv")
    monkeypatch.setattr(history_module, "_replace", replace)
    seen = histories.current(scorer).pipeline.state_.outcomes_seen
    assert seen >= 3  # the history file took them
    # the record still tells the history before, until `history` writes it again from the file
    assert histories.info("7") is not None and histories.info("7").outcomes_added == 0
    # an outcome file that adds nothing tells the history's own record, not the stale one
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert counts["added"] == 0 and info.outcomes_added == 3
    # a listing while a run holds the history leaves the record to that run
    with histories.advancing("7"):
        assert not histories.repaired("7")
    assert histories.info("7").outcomes_added == 0
    assert histories.repaired("7") and not histories.repaired("7")
    repaired = histories.info("7")
    assert repaired is not None and repaired.outcomes_added == 3 and repaired.outcome_files == 1
    # run again: the outcomes are told as added before, not added a second time, and the
    # history is not written again (it reloaded the service for nothing every night)
    stamp = histories.stamp("7")
    info, counts = histories.add_outcomes(scorer, outcomes, source="o.csv")
    assert (counts["added_before"], counts["added"]) == (3, 0)
    assert histories.current(scorer).pipeline.state_.outcomes_seen == seen
    assert info.outcomes_added == 3 and info.outcome_files == 1
    assert histories.stamp("7") == stamp


def test_a_history_without_its_record_or_keys_is_found_and_never_counts_outcomes_twice(
    scorer: Any, days: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    """A first save cut off before its record left a history file listed nowhere and never
    pruned; one saved by the engine before the keys went into it, cut off before its keys,
    added the same outcomes again."""
    import pickle

    from risk_engine.factories import seizure_after_filing
    from risk_engine.validation import validate_frame

    first, _ = days
    histories = ModelHistory(tmp_path / "home")
    kept: list[Any] = []
    _screen(scorer, first, tmp_path / "a", kept)
    histories.save("7", kept[0], source="day-1", lines_before=0)
    record = tmp_path / "home" / "history" / "model-7.json"
    record.unlink()
    assert histories.all() == [] and histories.versions() == ["7"]
    assert [i.model_version for i in histories.unnamed(keep=["8"])] == ["7"]
    assert histories.repaired("7") and record.exists() and histories.all()[0].lines_added > 0
    # the same history as the engine wrote it before stop 22: keys beside it, and here lost
    outcomes = validate_frame(
        pd.DataFrame([seizure_after_filing(first.sort_values("filed_at").iloc[0])]), "outcomes"
    ).accepted.reset_index(drop=True)
    histories.add_outcomes(scorer, outcomes, source="o.csv")
    path = tmp_path / "home" / "history" / "model-7.pkl"
    payload = pickle.loads(path.read_bytes())
    del payload["outcome_keys"], payload["record"]
    path.write_bytes(pickle.dumps(payload))
    (tmp_path / "home" / "history" / "model-7.outcomes.npy").unlink()
    with pytest.raises(ConfigError, match="holds 1 outcomes added, but not their keys"):
        histories.add_outcomes(scorer, outcomes, source="o.csv")


def test_a_save_that_fails_leaves_no_partial_file_and_names_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk while saving gave a traceback (exit 1) and left a 9.7 MB partial file.
    import os

    from models import history
    from risk_engine.errors import OutputUnwritable

    target = tmp_path / "model-7.pkl"
    target.write_bytes(b"old")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputUnwritable, match=r"model-7\.pkl: No space left on device"):
        history._replace(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model-7.pkl"]
