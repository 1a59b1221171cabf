"""JSON lines of a request -> the scorer's input: the same as the batch path gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest
from serve_fakes import manifest

from risk_engine.contract import ShipmentLine
from risk_engine.factories import shipment_frame
from risk_engine.validation import validate_frame
from serve.records import RecordChecker, _arrays_maker, accepted_layout
from serve.schemas import contract_example


@pytest.fixture(scope="module")
def checker() -> RecordChecker:
    return RecordChecker("shipments")


def _with_problems() -> pd.DataFrame:
    frame = shipment_frame(120, seed=3)
    frame.loc[3, "container_number"] = "CSQU3054384"  # wrong check digit: flag
    frame.loc[4, "port_of_loading"] = "XXQQQ"  # well formed, unknown: flag
    frame.loc[5, "gross_weight_kg"] = "-3"  # reject
    frame.loc[6, ["bl_number", "container_number"]] = frame.loc[
        7, ["bl_number", "container_number"]
    ]
    frame.loc[8, "country_of_origin"] = "ZZ"  # optional field unreadable: flag
    frame.loc[9, "goods_description"] = "X" * 600  # truncated: flag
    frame.loc[10, "transshipment_ports"] = "SGSIN;MYPKG"
    frame.loc[11, "eta"] = "2020-01-01T00:00:00Z"  # before etd: reject
    return frame


def test_accepted_lines_are_laid_out_exactly_as_the_batch_validator_lays_them_out(
    checker: RecordChecker,
) -> None:
    frame = _with_problems()
    lines = [{str(k): v for k, v in row.items() if v != ""} for row in frame.to_dict("records")]
    checked = checker.check(lines)
    batch = validate_frame(frame.astype("string[pyarrow]"), "shipments")
    pd.testing.assert_frame_equal(checked.accepted, batch.accepted)
    assert sorted(checked.rejects) == sorted(int(r) for r in batch.rejected_rows)


def test_a_repeated_key_in_one_manifest_rejects_the_later_line(checker: RecordChecker) -> None:
    lines = manifest(3)
    lines[2] = {
        **lines[2],
        "bl_number": lines[0]["bl_number"],
        "container_number": lines[0]["container_number"],
    }
    checked = checker.check(lines)
    assert list(checked.accepted.index) == [1, 2]
    assert [(i.field, i.rule.value) for i in checked.rejects[3]] == [
        ("container_number", "duplicate_key")
    ]


def test_json_numbers_and_lists_are_read_like_their_text(checker: RecordChecker) -> None:
    line = contract_example(ShipmentLine)
    assert isinstance(line["package_count"], int) and isinstance(line["transshipment_ports"], list)
    checked = checker.check([line])
    assert not checked.rejects
    row = checked.accepted.iloc[0]
    assert row["package_count"] == 400 and row["transshipment_ports"] == "MYPKG"
    assert row["hs_code"] == "080132"


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"favourite_colour": "red"}, "favourite_colour", "unknown_field"),
        ({"container_number": "CSQU305438"}, "container_number", "malformed"),
        ({"container_number": None}, "container_number", "required"),
        ({"package_count": {"nested": 1}}, "package_count", "malformed"),
        ({"bl_number": True}, "bl_number", "malformed"),  # was scored as the B/L "TRUE"
        ({"goods_description": False}, "goods_description", "malformed"),
        ({"gross_weight_kg": "heavy"}, "gross_weight_kg", "malformed"),
        ({"filed_at": [1, 2]}, "filed_at", "malformed"),
        ({"port_of_discharge": "NGAPP"}, "port_of_discharge", "discharge_equals_loading"),
    ],
)
def test_a_bad_line_is_rejected_with_field_value_and_rule_and_never_raises(
    checker: RecordChecker, change: dict[str, Any], field: str, rule: str
) -> None:
    line = {**contract_example(ShipmentLine), **change}
    checked = checker.check([line, contract_example(ShipmentLine) | {"bl_number": "OTHER1"}])
    assert list(checked.accepted.index) == [2]
    assert (field, rule) in {(i.field, i.rule.value) for i in checked.rejects[1]}


def test_a_json_boolean_in_an_optional_text_field_is_dropped_and_told_as_sent(
    checker: RecordChecker,
) -> None:
    """``"notify_party_name": true`` was read as the name "True", with no flag; an error's value
    read "True" and "{'kg': 21500}", Python's text, not the JSON the client sent."""
    line = {**contract_example(ShipmentLine), "notify_party_name": True}
    checked = checker.check([line, {**line, "bl_number": "OTHER1", "gross_weight_kg": {"kg": 1}}])
    assert list(checked.accepted.index) == [1]
    assert pd.isna(checked.accepted["notify_party_name"].iloc[0])
    assert checked.accepted["dq_flags"].tolist() == ["notify_party_name:malformed"]
    shown = {(i.field, i.value) for i in checked.rejects[2] + checked.rejected_flags[2]}
    assert shown == {("gross_weight_kg", '{"kg": 1}'), ("notify_party_name", "true")}


def test_a_value_far_over_the_text_limit_is_told_by_its_start_and_length(
    checker: RecordChecker,
) -> None:
    """A 100,000-character name came back whole in its error: a 100 kB line of the answer."""
    line = {**contract_example(ShipmentLine), "shipper_name": "A" * 100_000}
    (issue,) = checker.check([line]).rejects[1]
    assert (issue.field, issue.rule.value) == ("shipper_name", "too_long")
    assert issue.value == "A" * 1_024 + "... (100,000 characters)"
    just_over = {**line, "shipper_name": "B" * 513}  # what was too long, shown whole
    assert checker.check([just_over]).rejects[1][0].value == "B" * 513


def test_flags_stay_with_the_accepted_line_as_dq_flags(checker: RecordChecker) -> None:
    line = {**contract_example(ShipmentLine), "container_number": "CSQU3054384"}
    checked = checker.check([line])
    assert checked.accepted["dq_flags"].tolist() == ["container_number:check_digit"]
    assert checked.values(1)["dq_flags"] == "container_number:check_digit"


def test_an_empty_manifest_gives_an_empty_frame_with_every_column(
    checker: RecordChecker,
) -> None:
    checked = checker.check([])
    assert checked.accepted.empty and "dq_flags" in checked.accepted.columns


@pytest.mark.parametrize("n", [1, 2, 50])
def test_a_small_manifest_is_laid_out_as_the_batch_validator_lays_it_out(
    checker: RecordChecker, n: int
) -> None:
    frame = shipment_frame(n, seed=n)
    lines = [{str(k): v for k, v in row.items() if v != ""} for row in frame.to_dict("records")]
    batch = validate_frame(frame.astype("string[pyarrow]"), "shipments")
    pd.testing.assert_frame_equal(checker.check(lines).accepted, batch.accepted)


def test_columns_built_together_equal_pd_array_of_each() -> None:
    # Text and UTC times are built as one array for all their columns, cut into views;
    # integers from NumPy: each must equal what pd.array makes of the column alone.
    moment = datetime(2025, 3, 1, 8, 0, 1, 123456, tzinfo=UTC)
    samples: dict[str, list[list[Any]]] = {
        "string": [["a", None, "Công ty"], [None, None, None], ["x", "", "z"]],
        "datetime64[us, UTC]": [
            [moment, None, moment.astimezone(timezone(timedelta(hours=7)))],
            [None, None, None],
            [moment - timedelta(days=9000), moment, moment + timedelta(microseconds=1)],
        ],
        "Int64": [[1, None, 3], [None, None, None], [0, 2**40, 5]],
        "float64": [[1.5, None, 2.0], [None, None, None], [0.0, -0.0, 1e300]],
    }
    dtypes = {*accepted_layout("shipments").values(), *accepted_layout("outcomes").values()}
    assert {str(dtype) for dtype in dtypes} == set(samples)
    for dtype in dtypes:
        for columns in (samples[str(dtype)], [[], []]):
            built = _arrays_maker(dtype)(columns)
            assert len(built) == len(columns)
            for array, values in zip(built, columns, strict=True):
                pd.testing.assert_extension_array_equal(
                    pd.array(array), pd.array(values, dtype=dtype)
                )


def test_a_thousands_group_in_a_manifest_writing_decimal_commas_is_not_read(
    checker: RecordChecker,
) -> None:
    """The officers' page sends a spreadsheet's cells as text: a semicolon export's "12.500"
    (twelve thousand five hundred kg) was scored as 12.5 kg, its "12,5" on the next line
    rejected. In a manifest whose number text shows a decimal comma, such a value is told as in
    doubt, as in a file; one sent as a JSON number, or in a manifest without a decimal comma,
    is read as before."""
    lines = manifest(4)
    lines[0] = {**lines[0], "gross_weight_kg": "12,5"}
    lines[1] = {**lines[1], "gross_weight_kg": "12.500"}
    lines[2] = {**lines[2], "gross_weight_kg": 12.5, "declared_value": "1.500", "currency": "USD"}
    checked = checker.check(lines)
    assert [(i.field, i.value, i.rule.value) for i in checked.rejects[1]] == [
        ("gross_weight_kg", "12,5", "malformed")  # the API's rule, as before
    ]
    assert [(i.field, i.value, i.rule.value, i.severity.value) for i in checked.rejects[2]] == [
        ("gross_weight_kg", "12.500", "thousands_or_decimal", "reject")
    ]
    assert list(checked.accepted.index) == [3, 4]
    third = checked.accepted.loc[3]
    assert third["gross_weight_kg"] == 12.5 and pd.isna(third["declared_value"])
    assert third["dq_flags"] == "declared_value:thousands_or_decimal"
    plain = checker.check(lines[1:])
    assert not plain.rejects
    assert plain.accepted["gross_weight_kg"].tolist()[:2] == [12.5, 12.5]
    assert plain.accepted["declared_value"].tolist()[1] == 1.5


@pytest.mark.parametrize("evidence", ["12,5", "1.234.567", "１２，５", " 3,25 "])
def test_every_writing_of_a_decimal_comma_puts_a_thousands_group_in_doubt(
    checker: RecordChecker, evidence: str
) -> None:
    """The request's quick look for decimal-comma text (no comma, no two dots, nothing outside
    ASCII: no look further) must see each writing the full reading tells."""
    lines = manifest(3)
    lines[0] = {**lines[0], "declared_value": evidence, "currency": "USD"}
    lines[1] = {**lines[1], "gross_weight_kg": "12.500"}
    checked = checker.check(lines)
    assert [(i.field, i.rule.value) for i in checked.rejects[2]] == [
        ("gross_weight_kg", "thousands_or_decimal")
    ]


def test_a_thousands_group_with_a_plus_sign_is_in_doubt_in_a_manifest_as_in_a_file(
    checker: RecordChecker,
) -> None:
    lines = manifest(3)
    lines[0] = {**lines[0], "gross_weight_kg": "12,5"}
    lines[1] = {**lines[1], "gross_weight_kg": "+12.500"}
    checked = checker.check(lines)
    assert [(i.field, i.value, i.rule.value) for i in checked.rejects[2]] == [
        ("gross_weight_kg", "+12.500", "thousands_or_decimal")
    ]
