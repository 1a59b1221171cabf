"""`risk-engine samples DIR`: starter input files, each read by the loader that reads it in use.

An engine installed from a wheel gave no way to see what its input files look like. Each file
the command writes is read here by the engine's own loader and accepted, so the starters
cannot drift from what the engine reads.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from features.files import RecordFile, open_records
from features.ingest import iter_validated, validate_file
from features.mapping import load_mapping
from models.booster import BoosterParams
from models.capacity import load_port_capacity
from models.profiles import load_profiles
from models.watchlist import load_watchlist
from risk_engine.cli import app
from risk_engine.factories import shipment_frame
from risk_engine.reference import known_port_codes
from risk_engine.starter import SAMPLE_FILES, sample_bytes
from training.config import TrainConfig, load_config

runner = CliRunner()
ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "risk_engine" / "samples"
NAMES = [name for name, _ in SAMPLE_FILES]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("starter") / "new" / "inputs"  # made, parents too
    result = runner.invoke(app, ["samples", str(folder)])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert str(folder / name) in result.stdout  # each file written is named
    return folder


def test_samples_writes_each_shipped_starter_file_as_shipped(written: Path) -> None:
    assert sorted(path.name for path in written.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (written / name).read_bytes() == sample_bytes(name) == (SHIPPED / name).read_bytes()


def test_every_file_of_the_samples_folder_is_written_and_goes_into_the_wheel() -> None:
    shipped = sorted(path.name for path in SHIPPED.iterdir() if path.is_file())
    assert shipped == sorted(NAMES)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["risk_engine.samples"]
    for name in NAMES:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_the_mapping_reads_an_export_with_other_column_names(written: Path, tmp_path: Path) -> None:
    mapping = load_mapping(written / "mapping.yaml")
    assert any(rule.column not in (None, name) for name, rule in mapping.fields.items())
    lines = shipment_frame(6, seed=11)
    export = lines.copy()
    for name, rule in mapping.fields.items():  # the export the mapping describes
        assert rule.column is not None
        column = export.pop(name)
        if rule.date_format:
            column = pd.to_datetime(column, utc=True).dt.strftime(rule.date_format)
        if rule.separator:
            column = column.str.replace(";", rule.separator, regex=False)
        if rule.factor:
            column = (pd.to_numeric(column) / rule.factor).map(repr)
        export[rule.column] = column
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False, sep=mapping.delimiter, encoding=mapping.encoding)

    report = validate_file(path, "shipments", mapping=mapping).as_dict()
    assert report["counts"] == {"read": 6, "accepted": 6, "flagged": 0, "rejected": 0}
    assert report["ignored_columns"] == []
    through = pd.concat(
        r.accepted for r in iter_validated(open_records(path, "shipments", mapping))
    ).reset_index(drop=True)
    direct = pd.concat(r.accepted for r in iter_validated(open_records_of(lines, tmp_path)))
    direct = direct.reset_index(drop=True)
    for name in mapping.fields:
        if name == "gross_weight_kg":
            pd.testing.assert_series_equal(through[name], direct[name], rtol=1e-9)
        else:
            assert through[name].tolist() == direct[name].tolist(), name


def test_the_starter_mapping_reads_numbers_as_a_mapping_without_number_marks(
    written: Path, tmp_path: Path
) -> None:
    # The starter said `decimal: "."` was "at its default", but a mapping that names it says
    # the file writes decimal points: a European export's "12.500" (kg) was read as 12.5 kg
    # beside its "12,5" told as a decimal comma, where a mapping without it holds it in doubt.
    mapping = load_mapping(written / "mapping.yaml")
    lines = shipment_frame(3, seed=11)
    lines["declared_value"] = ["12,5", "12.500", "950"]
    path = tmp_path / "european.csv"
    lines.to_csv(path, index=False)  # "12,5" quoted
    plain = mapping.model_copy(update={"fields": {}})
    results = list(iter_validated(open_records(path, "shipments", plain)))
    told = pd.concat(r.issues for r in results)
    assert sorted(zip(told["row"], told["rule"], strict=True)) == [
        (1, "decimal_comma"),
        (2, "thousands_or_decimal"),
    ]
    assert pd.concat(r.accepted for r in results)["declared_value"].isna().tolist() == [
        True,
        True,
        False,
    ]


def open_records_of(lines: pd.DataFrame, folder: Path) -> RecordFile:
    path = folder / "direct.csv"
    lines.to_csv(path, index=False)
    return open_records(path, "shipments", load_mapping(None))


def test_the_training_config_is_read_and_holds_every_setting_at_its_default(
    written: Path,
) -> None:
    config = load_config(written / "train_config.yaml")
    assert config.model_dump(exclude={"booster"}) == TrainConfig().model_dump(exclude={"booster"})
    assert config.booster_params() == BoosterParams()
    data = yaml.safe_load((written / "train_config.yaml").read_text(encoding="utf-8"))
    # a setting added to the engine is added here, with what it means
    assert set(data) == set(TrainConfig.model_fields)
    assert set(data["booster"]) == {f.name for f in fields(BoosterParams)}
    assert set(data["promotion"]) == set(type(config.promotion).model_fields)


def test_the_watch_list_is_read_with_an_entry_of_each_kind_and_no_warning(
    written: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watch = load_watchlist(written / "watchlist.csv")
    assert watch is not None
    assert watch.parties and watch.containers and watch.bills
    assert watch.unmatchable == [] and watch.unused_rows == [] and watch.generic_parties() == []
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    # as README.txt says: its container entry names a line of the sample manifest
    checked = runner.invoke(
        app,
        [
            "watchlist",
            str(written / "watchlist.csv"),
            "--against",
            str(written / "shipments_sample.csv"),
        ],
    )
    assert checked.exit_code == 0, checked.output
    assert "1 hit by 1 of 4 entries" in checked.stdout
    assert "hits one line" in (written / "README.txt").read_text(encoding="utf-8")


def test_the_risk_profiles_are_read_with_one_of_each_action(written: Path) -> None:
    profiles = load_profiles(written / "profiles.yaml")
    assert profiles is not None
    assert profiles.entries == {"inspect": 1, "flag": 1}


def test_the_capacity_file_is_read_by_screening_for_ports_the_engine_knows(
    written: Path,
) -> None:
    capacity = load_port_capacity(written / "capacity.csv")
    assert capacity is not None and capacity.slots and capacity.documentary
    assert set(capacity.slots) <= known_port_codes()
    assert set(capacity.slots) > set(capacity.documentary)  # a blank keeps the share


def test_the_outcomes_pass_the_contract_whole_and_name_lines_of_the_sample_manifest(
    written: Path,
) -> None:
    report = validate_file(written / "outcomes_sample.csv", "outcomes").as_dict()
    assert report["counts"] == {"read": 4, "accepted": 4, "flagged": 0, "rejected": 0}
    assert report["ignored_columns"] == []
    outcomes = pd.concat(
        r.accepted
        for r in iter_validated(
            open_records(written / "outcomes_sample.csv", "outcomes", load_mapping(None))
        )
    )
    lines = pd.concat(
        r.accepted
        for r in iter_validated(
            open_records(written / "shipments_sample.csv", "shipments", load_mapping(None))
        )
    )
    keys = set(zip(lines["bl_number"], lines["container_number"], strict=True))
    assert set(zip(outcomes["bl_number"], outcomes["container_number"], strict=True)) <= keys
    assert set(outcomes["result"]) == {"SEIZURE", "NO_FINDING", "INCONCLUSIVE"}


def test_the_sample_manifest_validates_as_its_readme_says(written: Path) -> None:
    report = validate_file(written / "shipments_sample.csv", "shipments").as_dict()
    assert report["counts"] == {"read": 40, "accepted": 30, "flagged": 3, "rejected": 7}
    readme = (written / "README.txt").read_text(encoding="utf-8")
    assert "accepts 30, flags 3" in readme and "rejects 7" in readme


def test_the_readme_explains_every_file_and_every_column_of_the_starter_csv_files(
    written: Path,
) -> None:
    readme = (written / "README.txt").read_text(encoding="utf-8")
    for name in NAMES[1:]:
        assert name in readme, name
    for name in ("watchlist.csv", "capacity.csv", "outcomes_sample.csv"):
        for column in pd.read_csv(written / name, nrows=0).columns:
            assert column in readme, (name, column)


def test_a_file_already_there_is_never_overwritten_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "capacity.csv").write_text("port_of_discharge,slots_per_day\nVNHPH,3\n")
    (tmp_path / "mapping.yaml").write_text("fields: {}\n")
    result = runner.invoke(app, ["samples", str(tmp_path)])
    assert result.exit_code == 2
    assert str(tmp_path / "capacity.csv") in result.stderr
    assert str(tmp_path / "mapping.yaml") in result.stderr
    assert "never overwrites" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["capacity.csv", "mapping.yaml"]
    assert (tmp_path / "capacity.csv").read_text() == "port_of_discharge,slots_per_day\nVNHPH,3\n"


def test_a_folder_that_cannot_be_made_is_named_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    for folder in (tmp_path / "a-file", tmp_path / "a-file" / "inputs"):
        result = runner.invoke(app, ["samples", str(folder)])
        assert result.exit_code == 2, result.output
        assert f"cannot write {folder}" in result.stderr
        assert "Traceback" not in result.output


def test_a_folder_this_user_may_not_write_in_is_named_with_exit_2(
    tmp_path: Path, obeying_modes: list[str]
) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*obeying_modes, sys.executable, "-m", "risk_engine", "samples", str(folder)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 2, result.stderr
    assert f"(in the folder {folder}; nothing was written)" in result.stderr
    assert "Permission denied" in result.stderr
    assert list(folder.iterdir()) == []

