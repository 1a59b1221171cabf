"""Numbers written with a decimal comma in a file read without the mapping's number marks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.files import open_records
from features.ingest import iter_validated, validate_file
from features.mapping import ColumnMapping
from risk_engine.cli import app
from risk_engine.factories import shipment_frame


def _semicolon_csv(tmp_path: Path, weights: list[str], values: list[str], name: str) -> Path:
    frame = shipment_frame(len(weights), seed=21)
    frame["gross_weight_kg"] = weights
    frame["declared_value"] = values
    path = tmp_path / name
    frame.to_csv(path, sep=";", index=False)
    return path


def _read(path: Path, mapping: ColumnMapping | None = None, chunk_rows: int = 200_000) -> tuple:
    results = list(iter_validated(open_records(path, "shipments", mapping, chunk_rows=chunk_rows)))
    accepted = pd.concat([r.accepted for r in results])
    issues = pd.concat([r.issues for r in results], ignore_index=True)
    columns = ["row", "field", "value", "rule", "severity"]
    told = sorted(tuple(values) for values in issues[columns].itertuples(index=False))
    return accepted, told


def test_a_number_written_with_a_decimal_comma_is_told_so_with_the_mapping_that_reads_it(
    tmp_path: Path,
) -> None:
    # "12,5" and "1.234,5" were rejected "malformed", with nothing said of what to do
    path = _semicolon_csv(
        tmp_path, ["12,5", "1.234,5", "950", "0,5"], ["12.500,00", "3", "4", "5"], "s.csv"
    )
    accepted, told = _read(path)
    assert told == [
        (1, "declared_value", "12.500,00", "decimal_comma", "flag"),
        (1, "gross_weight_kg", "12,5", "decimal_comma", "reject"),
        (2, "gross_weight_kg", "1.234,5", "decimal_comma", "reject"),
        (4, "gross_weight_kg", "0,5", "decimal_comma", "reject"),
    ]
    assert accepted.index.tolist() == [3]
    report = validate_file(path).as_dict()
    assert report["hints"] and 'decimal: ","' in report["hints"][0]
    # "12,500" may be twelve thousand five hundred with an English thousands comma: malformed
    _, told = _read(_semicolon_csv(tmp_path, ["12,500"], ["3"], "e.csv"))
    assert [rule for *_, rule, _ in told] == ["malformed"]


def test_validate_tells_how_to_read_numbers_written_with_a_decimal_comma(tmp_path: Path) -> None:
    path = _semicolon_csv(tmp_path, ["12,5", "950"], ["3", "4"], "s.csv")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "gross_weight_kg: decimal_comma" in result.stdout
    assert "note: numbers written with a decimal comma" in result.stdout
    assert 'decimal: ","' in result.stdout


def test_a_thousands_group_after_a_dot_is_not_read_in_a_file_that_writes_decimal_commas(
    tmp_path: Path,
) -> None:
    # "12.500" (twelve thousand five hundred kg) was read as 12.5 kg, the file's other lines
    # plainly written with decimal commas
    path = _semicolon_csv(
        tmp_path,
        ["8.332,9", "12.500", "950", "21.000", "12.5"],
        ["3", "1.500", "2.000", "0.500", "2"],
        "s.csv",
    )
    accepted, told = _read(path)
    assert told == [
        (1, "gross_weight_kg", "8.332,9", "decimal_comma", "reject"),
        (2, "declared_value", "1.500", "thousands_or_decimal", "flag"),
        (2, "gross_weight_kg", "12.500", "thousands_or_decimal", "reject"),
        (3, "declared_value", "2.000", "thousands_or_decimal", "flag"),
        (4, "gross_weight_kg", "21.000", "thousands_or_decimal", "reject"),
    ]
    # an optional value in doubt is dropped and flagged, as a malformed one is; a value with
    # one reading ("12.5", "0.500", no thousands group) is read as written
    assert accepted.index.tolist() == [3, 5]
    assert accepted["gross_weight_kg"].tolist() == [950.0, 12.5]
    assert pd.isna(accepted.loc[3, "declared_value"])
    assert accepted.loc[3, "dq_flags"] == "declared_value:thousands_or_decimal"
    assert accepted.loc[5, "declared_value"] == 2.0
    counts = validate_file(path).as_dict()["counts"]
    assert counts == {"read": 5, "accepted": 1, "flagged": 1, "rejected": 3}


@pytest.mark.parametrize("chunk_rows", [2, 3, 1_000])
def test_the_whole_file_is_the_evidence_whatever_the_chunk_a_line_falls_in(
    tmp_path: Path, chunk_rows: int
) -> None:
    # the one decimal comma is on the last line, chunks after the "12.500" lines
    weights = ["12.500", "950", "1.250", "40", "700", "12,5"]
    path = _semicolon_csv(tmp_path, weights, ["3"] * 6, "s.csv")
    accepted, told = _read(path, chunk_rows=chunk_rows)
    assert [(row, rule) for row, _, _, rule, _ in told] == [
        (1, "thousands_or_decimal"),
        (3, "thousands_or_decimal"),
        (6, "decimal_comma"),
    ]
    assert accepted.index.tolist() == [2, 4, 5]
    # the same lines from Parquet text columns
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    parquet = tmp_path / "s.parquet"
    frame.to_parquet(parquet, index=False)
    _, from_parquet = _read(parquet, chunk_rows=chunk_rows)
    assert from_parquet == told


def test_a_file_without_decimal_commas_reads_12_500_as_twelve_and_a_half(tmp_path: Path) -> None:
    # a file of decimal points may write three decimals: nothing in it says otherwise
    path = _semicolon_csv(tmp_path, ["12.500", "950.125", "1.250"], ["1.500", "3", "4"], "s.csv")
    accepted, told = _read(path, chunk_rows=2)
    assert told == []
    assert accepted["gross_weight_kg"].tolist() == [12.5, 950.125, 1.25]
    # a mapping's decimal "." says the file writes decimal points, whatever else it holds
    path = _semicolon_csv(tmp_path, ["12.500", "12,5"], ["3", "4"], "p.csv")
    points = ColumnMapping.model_validate({"delimiter": ";", "decimal": "."})
    accepted, told = _read(path, points)
    assert accepted["gross_weight_kg"].tolist() == [12.5]
    assert [rule for *_, rule, _ in told] == ["decimal_comma"]


def test_a_mapping_with_a_decimal_comma_alone_reads_dots_grouping_thousands(
    tmp_path: Path,
) -> None:
    # with `decimal: ","` and no thousands mark, "12.500" was twelve and a half and "1.234,5"
    # malformed, shown in the rejects as "1.234.5", a value the file never held
    path = _semicolon_csv(
        tmp_path,
        ["12.500", "1.234,5", "12,5", "12.5", "1.2.3,4"],
        ["1.500", "3", "4", "5", "6"],
        "s.csv",
    )
    comma = ColumnMapping.model_validate({"delimiter": ";", "decimal": ","})
    accepted, told = _read(path, comma)
    assert accepted["gross_weight_kg"].tolist() == [12500.0, 1234.5, 12.5, 12.5]
    assert accepted["declared_value"].tolist() == [1500.0, 3.0, 4.0, 5.0]
    assert told == [(5, "gross_weight_kg", "1.2.3,4", "malformed", "reject")]


def test_a_mapping_with_a_decimal_comma_alone_does_not_read_0_500_as_five_hundred(
    tmp_path: Path,
) -> None:
    # "0.500" groups no thousands: it was read as 500, a thousand times the 0.5 it reads as in
    # a file without the mapping, as "12.5" beside it reads as 12.5
    path = _semicolon_csv(tmp_path, ["0.500", "00.500", "12.500"], ["1", "2", "3"], "s.csv")
    comma = ColumnMapping.model_validate({"delimiter": ";", "decimal": ","})
    accepted, told = _read(path, comma)
    assert accepted["gross_weight_kg"].tolist() == [0.5, 0.5, 12500.0]
    assert told == []


def test_a_thousands_group_with_a_plus_sign_is_in_doubt_as_one_without(tmp_path: Path) -> None:
    # "+12.500" was read as 12.5 kg beside "12.500" held in doubt: a plus sign reads as none
    path = _semicolon_csv(tmp_path, ["12,5", "+12.500", "12.500", "950"], ["1"] * 4, "s.csv")
    accepted, told = _read(path)
    assert [(row, value, rule) for row, _, value, rule, _ in told] == [
        (1, "12,5", "decimal_comma"),
        (2, "+12.500", "thousands_or_decimal"),
        (3, "12.500", "thousands_or_decimal"),
    ]
    assert accepted["gross_weight_kg"].tolist() == [950.0]


@pytest.mark.parametrize(
    ("marks", "written", "read", "malformed"),
    [
        # an English export: "12,5" was read as 125 without a word
        ({"thousands": ","}, ["1,234.5", "12,500", "12,5", "1,2345"], [1234.5, 12500.0], [3, 4]),
        # a Swiss one
        ({"thousands": "'"}, ["1'234.5", "12'5", "950"], [1234.5, 950.0], [2]),
        # a French one, no-break spaces included
        (
            {"thousands": " ", "decimal": ","},
            ["12 500,5", "1\u00a0234", "12 5", "3,25"],
            [12500.5, 1234.0, 3.25],
            [3],
        ),
        # a German one
        ({"thousands": ".", "decimal": ","}, ["12.500,5", "1.2,5", "7"], [12500.5, 7.0], [2]),
    ],
)
def test_a_thousands_mark_is_read_only_where_it_groups_thousands(
    tmp_path: Path, marks: dict[str, str], written: list[str], read: list[float], malformed: list[int]
) -> None:
    path = _semicolon_csv(tmp_path, written, ["1"] * len(written), "s.csv")
    mapping = ColumnMapping.model_validate({"delimiter": ";", **marks})
    accepted, told = _read(path, mapping)
    assert accepted["gross_weight_kg"].tolist() == read
    # the value the file held, named as it was written
    assert told == [
        (row, "gross_weight_kg", written[row - 1], "malformed", "reject") for row in malformed
    ]
