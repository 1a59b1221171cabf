"""Recording a file of outcomes in the store (`risk-engine outcomes --record`): every row is
recorded, a duplicate, a conflict or rejected, as through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from serve_fakes import on_each_database
from typer.testing import CliRunner

from features.mapping import load_mapping
from risk_engine.cli import app
from risk_engine.errors import OutputUnwritable
from risk_engine.factories import valid_outcome_row
from risk_engine.settings import Settings
from serve.outcome_files import CONFLICT_RULE, record_outcome_file
from serve.records import RecordChecker
from serve.store import Store, read_outcomes

runner = CliRunner()


def _rows(*seeds: int) -> list[dict[str, str]]:
    return [valid_outcome_row(seed) for seed in seeds]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@on_each_database
def test_a_file_is_recorded_once_and_every_row_is_accounted_for(
    store: Store, tmp_path: Path
) -> None:
    rows = _rows(1, 2, 3, 4)
    rows[1] = {**rows[1], "container_number": "CSQU305438"}  # malformed: rejected
    rows[2] = {**rows[2], "result": "SEIZURE", "seizure_category": ""}  # no category: rejected
    path = _csv(tmp_path / "outcomes.csv", rows)
    left = tmp_path / "not_recorded.csv"

    first = record_outcome_file(path, store, not_recorded=left)
    assert (first.read, first.recorded, first.duplicate, first.conflict, first.rejected) == (
        4,
        2,
        0,
        0,
        2,
    )
    not_recorded = pd.read_csv(left, dtype=str)
    assert not_recorded["row"].tolist() == ["2", "3"]
    assert not_recorded.loc[0, "field"] == "container_number"
    assert not_recorded.loc[0, "value"] == "CSQU305438"
    assert not_recorded.loc[1, "field"] == "seizure_category"
    stored = read_outcomes(store.url)
    assert sorted(stored["bl_number"]) == sorted([rows[0]["bl_number"], rows[3]["bl_number"]])

    again = record_outcome_file(path, store, not_recorded=left)
    assert (again.recorded, again.duplicate, again.rejected) == (0, 2, 2)
    assert len(read_outcomes(store.url)) == 2


@on_each_database
def test_a_file_that_says_otherwise_than_the_store_changes_nothing_and_names_the_row(
    store: Store, tmp_path: Path
) -> None:
    rows = _rows(1, 2)
    record_outcome_file(_csv(tmp_path / "first.csv", rows), store)
    changed = [rows[0], {**rows[1], "result": "INCONCLUSIVE", "seizure_category": ""}]
    left = tmp_path / "not_recorded.parquet"
    told = record_outcome_file(_csv(tmp_path / "second.csv", changed), store, not_recorded=left)
    assert (told.recorded, told.duplicate, told.conflict) == (0, 1, 1)
    assert told.flagged == 0  # nothing recorded now (it counted the duplicate's flags)
    # a row per field told otherwise, with the file's value (it named inspected_at, the key)
    conflicts = pd.read_parquet(left).to_dict("records")
    told_rows = [(c["row"], c["field"], c["value"], c["rule"]) for c in conflicts]
    assert [(r, f, None if pd.isna(v) else v, rule) for r, f, v, rule in told_rows] == [
        (2, "result", "INCONCLUSIVE", CONFLICT_RULE),
        (2, "seizure_category", None, CONFLICT_RULE),
    ]
    assert conflicts[0]["bl_number"] == rows[1]["bl_number"]
    stored = read_outcomes(store.url)
    (kept,) = stored.loc[stored["container_number"] == rows[1]["container_number"], "result"]
    assert kept == rows[1]["result"] == "SEIZURE"  # the stored outcome is kept


def test_an_outcome_recorded_through_the_api_is_a_duplicate_when_a_file_brings_it_again(
    store: Store, tmp_path: Path
) -> None:
    rows = _rows(7, 8)
    sent = [{k: v for k, v in row.items() if v != ""} for row in rows]
    checked = RecordChecker("outcomes").check(sent)  # what POST /v1/outcomes stores
    store.record_outcomes([checked.values(p) for p in sorted(checked.models)], received_by="k1")
    parquet = tmp_path / "outcomes.parquet"
    pd.DataFrame(rows).to_parquet(parquet, index=False)
    told = record_outcome_file(parquet, store)
    assert (told.recorded, told.duplicate, told.conflict) == (0, 2, 0)


def test_a_file_with_other_column_names_is_recorded_through_a_mapping(
    store: Store, tmp_path: Path
) -> None:
    rows = [{f"src_{k}": v for k, v in row.items()} for row in _rows(3)]
    path = _csv(tmp_path / "export.csv", rows)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("fields:\n" + "".join(f"  {k}: src_{k}\n" for k in valid_outcome_row(3)))
    told = record_outcome_file(path, store, mapping=load_mapping(mapping))
    assert told.recorded == 1


def test_an_unwritable_not_recorded_file_stops_before_anything_is_recorded(
    store: Store, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "outcomes.csv", _rows(1))
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(OutputUnwritable):
        record_outcome_file(path, store, not_recorded=tmp_path / "taken" / "left.csv")
    assert store.outcome_count() == 0
    before = path.read_bytes()
    with pytest.raises(OutputUnwritable, match="it is the input"):  # it deleted the file
        record_outcome_file(path, store, not_recorded=path)
    assert path.read_bytes() == before and store.outcome_count() == 0
    # a name that is no table: it read "cannot write r.json: No such file or directory"
    with pytest.raises(OutputUnwritable, match="unknown file type"):
        record_outcome_file(path, store, not_recorded=tmp_path / "r.json")
    assert store.outcome_count() == 0


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("RISK_ENGINE_HOME", str(settings.home))
    return runner.invoke(app, ["outcomes", *args])


def test_the_command_records_a_file_says_what_became_of_it_and_leaves_an_audit_row(
    settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _rows(1, 2, 3)
    rows[2] = {**rows[2], "container_number": "X"}
    path = _csv(tmp_path / "outcomes.csv", rows)
    result = _cli(
        settings, monkeypatch, "--record", str(path), "--rejects", str(tmp_path / "r.csv")
    )
    assert result.exit_code == 0, result.output
    assert "read 3  recorded 2  already stored 0" in result.stdout
    assert (
        "rejected 1" in result.stdout
        and f"rows not recorded (1), and why: {tmp_path / 'r.csv'}\n" in result.stdout
    )
    (entry,) = [e for e in store.audit_entries() if e.route == "outcomes --record"]
    assert entry.method == "CLI" and entry.lines == 3
    assert entry.detail is not None and "recorded 2" in entry.detail and str(path) in entry.detail
    # the export reads back what was recorded
    out = tmp_path / "export.csv"
    assert _cli(settings, monkeypatch, "--out", str(out)).exit_code == 0
    assert len(pd.read_csv(out)) == 2


def test_a_file_whose_every_row_is_rejected_is_told_with_its_reasons(
    settings: Settings, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was a traceback (KeyError: 'bl_number') with --rejects, and no rejects file."""
    rows = [{**row, "container_number": "X"} for row in _rows(1, 2)]
    path = _csv(tmp_path / "outcomes.csv", rows)
    result = _cli(
        settings, monkeypatch, "--record", str(path), "--rejects", str(tmp_path / "r.csv")
    )
    # exit 3 with a warning, as screen does: "recorded 0 ... rejected 2", exit 0, read as a
    # quiet success
    assert result.exit_code == 3, result.output
    assert "read 2  recorded 0" in result.stdout and "rejected 2" in result.stdout
    assert "rejected most often: container_number malformed (2)" in result.stdout
    assert f"rows not recorded (2), and why: {tmp_path / 'r.csv'}\n" in result.stdout
    assert "every outcome of" in result.stderr and "nothing recorded" in result.stderr
    left = pd.read_csv(tmp_path / "r.csv")
    assert set(left["row"]) == {1, 2} and set(left["field"]) == {"container_number"}
    # sent again with one good row: the good one is recorded; then all again, as duplicates
    good = _csv(tmp_path / "more.csv", [*rows, _rows(3)[0]])
    result = _cli(
        settings, monkeypatch, "--record", str(good), "--rejects", str(tmp_path / "r2.csv")
    )
    assert "recorded 1" in result.stdout and "rows not recorded (2), and why" in result.stdout
    result = _cli(
        settings, monkeypatch, "--record", str(good), "--rejects", str(tmp_path / "r3.csv")
    )
    assert "already stored 1" in result.stdout
    assert "rows not recorded (2), and why:" in result.stdout
    assert "; the 1 already stored are not in it" in result.stdout
    assert len(pd.read_csv(tmp_path / "r3.csv")) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give either --out FILE (export) or --record FILE"),
        (("--out", "a.csv", "--record", "b.csv"), "give either --out FILE"),
        (("--out", "a.csv", "--rejects", "r.csv"), "--mapping and --rejects go with --record"),
        (("--record", "b.csv", "--since", "2025-01-01"), "--since and --until go with --out"),
        (("--record", "nowhere.csv"), "nowhere.csv"),
    ],
)
def test_the_command_refuses_options_that_do_not_go_together(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _cli(settings, monkeypatch, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


@on_each_database
def test_a_row_recorded_after_the_store_received_it_is_not_recorded_and_says_why(
    store: Store, tmp_path: Path
) -> None:
    rows = _rows(31, 32)
    future = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows[1] = {**rows[1], "recorded_at": future}
    left = tmp_path / "not_recorded.csv"
    told = record_outcome_file(_csv(tmp_path / "outcomes.csv", rows), store, not_recorded=left)
    assert (told.read, told.recorded, told.duplicate, told.conflict, told.rejected) == (
        2,
        1,
        0,
        0,
        1,
    )
    (row,) = pd.read_csv(left, dtype=str).to_dict("records")
    assert row["row"] == "2" and row["field"] == "recorded_at"
    assert row["rule"] == "recorded_after_receipt" and row["value"].startswith(future[:10])
    assert row["bl_number"] == rows[1]["bl_number"]
    assert read_outcomes(store.url)["bl_number"].tolist() == [rows[0]["bl_number"]]


@on_each_database
def test_a_text_with_a_nul_character_is_malformed_and_the_rest_of_the_file_is_recorded(
    store: Store, tmp_path: Path
) -> None:
    """A NUL (a broken export) cannot be stored by PostgreSQL: before, the whole file failed
    there. An optional text holding one is dropped and flagged, the outcome recorded."""
    rows = _rows(1, 2, 3)
    rows[0] = {**rows[0], "commodity": "IVORY\x00TUSKS"}
    rows[1] = {**rows[1], "operation_phase": "PHASE\x002"}
    path = tmp_path / "outcomes.parquet"
    pd.DataFrame(rows).to_parquet(path, index=False)
    done = record_outcome_file(path, store, not_recorded=tmp_path / "not_recorded.csv")
    assert (done.read, done.recorded, done.rejected, done.flagged) == (3, 3, 0, 2)
    stored = read_outcomes(store.url).set_index("container_number")
    assert pd.isna(stored.loc[rows[0]["container_number"], "commodity"])
    assert pd.isna(stored.loc[rows[1]["container_number"], "operation_phase"])
    assert stored.loc[rows[2]["container_number"], "commodity"] == rows[2]["commodity"]


def test_the_rows_not_recorded_say_what_the_file_held_and_every_reason(
    store: Store, tmp_path: Path
) -> None:
    # A stored outcome sent again with a typo in an optional number was told as
    # "selection_probability,,stored_with_other_values": blank, not the file's value, and
    # without its malformed flag; IVORY was told only as category_required_for_seizure.
    first = _rows(1)[0]
    record_outcome_file(_csv(tmp_path / "a.csv", [first]), store)
    again = {**first, "selection_probability": "0.0085 47"}
    ivory = {**_rows(2)[0], "result": "SEIZURE", "seizure_category": "IVORY"}
    left = tmp_path / "left.csv"
    done = record_outcome_file(
        _csv(tmp_path / "b.csv", [again, ivory]), store, not_recorded=left
    )
    assert (done.conflict, done.rejected) == (1, 1)
    told = pd.read_csv(left, dtype=str, keep_default_na=False)
    assert told["row"].tolist() == sorted(told["row"].tolist(), key=int)
    probability = told[told["field"] == "selection_probability"]
    assert set(probability["value"]) == {"0.0085 47"}
    assert set(probability["rule"]) == {"malformed", "stored_with_other_values"}
    category = told[told["row"] == "2"]
    assert {"not_a_choice", "category_required_for_seizure"} <= set(category["rule"])
    assert "IVORY" in set(category["value"])


def test_an_outcome_repeated_in_a_file_is_judged_as_the_api_judges_it(
    store: Store, tmp_path: Path
) -> None:
    # The file rejected the repeat as duplicate_key naming the container; the API records the
    # first and tells the second a duplicate, or a conflict naming what differs.
    first = _rows(1)[0]
    other = {**first, "result": "SEIZURE", "seizure_category": "DRUGS"}
    left = tmp_path / "left.csv"
    done = record_outcome_file(
        _csv(tmp_path / "a.csv", [first, first, other]), store, not_recorded=left
    )
    assert (done.recorded, done.duplicate, done.conflict, done.rejected) == (1, 1, 1, 0)
    told = pd.read_csv(left, dtype=str, keep_default_na=False)
    assert set(told["row"]) == {"3"} and set(told["rule"]) == {"stored_with_other_values"}
    assert "seizure_category" in set(told["field"])
    assert store.outcome_count() == 1


def test_a_recording_stopped_half_way_keeps_its_audit_row_and_names_no_rejects_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stopped half-way, the rows not recorded so far were given the rejects file's name, as a
    # whole file, and the outcomes stored had no audit row (it was written at the end only).
    import serve.outcome_files as outcome_files

    rows = _rows(*range(1, 7))
    rows[1]["container_number"] = "X"  # a reject in the first chunk
    path = _csv(tmp_path / "outcomes.csv", rows)
    real = outcome_files.iter_validated

    def stopped(*args: Any, **kwargs: Any) -> Any:
        for number, result in enumerate(real(*args, **kwargs)):
            if number == 1:
                raise KeyboardInterrupt
            yield result

    monkeypatch.setattr(outcome_files, "iter_validated", stopped)
    left = tmp_path / "left.csv"
    with pytest.raises(KeyboardInterrupt):
        record_outcome_file(path, store, not_recorded=left, chunk_rows=3)
    stored = store.outcome_count()
    assert 0 < stored < 6
    assert not left.exists() and not list(tmp_path.glob(".partial-*"))
    (entry,) = [e for e in store.audit_entries() if e.route == "outcomes --record"]
    assert f"recorded {stored}" in (entry.detail or "")
    assert "stopped (KeyboardInterrupt) before the file's end" in (entry.detail or "")
