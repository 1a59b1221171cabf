"""Each kind of bad input the foundation issue lists: rejected or flagged, never lost."""

from __future__ import annotations

import pandas as pd
import pytest

from risk_engine.columns import DESCRIPTION_MAX
from risk_engine.contract import ShipmentLine, check_record
from risk_engine.factories import shipment_frame, valid_outcome_row, valid_shipment_row
from risk_engine.validation import validate_frame


def _verdict(**changes: str) -> tuple[bool, set[tuple[str, str, str]]]:
    row = {**valid_shipment_row(1), **changes}
    result = validate_frame(pd.DataFrame([row]))
    assert sum(result.counts[k] for k in ("accepted", "flagged", "rejected")) == result.read == 1
    issues = set(
        zip(result.issues["field"], result.issues["rule"], result.issues["severity"], strict=False)
    )
    return result.counts["rejected"] == 1, issues


@pytest.mark.parametrize("number", ["CSQU305438", "CSQX3054383", "1SQU3054383", "CSQU30543835"])
def test_malformed_container_number_is_rejected(number: str) -> None:
    rejected, issues = _verdict(container_number=number)
    assert rejected and ("container_number", "malformed", "reject") in issues


def test_wrong_container_check_digit_is_flagged_not_rejected() -> None:
    rejected, issues = _verdict(container_number="CSQU3054384")
    assert not rejected and ("container_number", "check_digit", "flag") in issues


def test_wrong_imo_check_digit_is_flagged_not_rejected() -> None:
    rejected, issues = _verdict(vessel_imo="9074728")
    assert not rejected and ("vessel_imo", "check_digit", "flag") in issues


@pytest.mark.parametrize("field", ["bl_number", "filed_at", "eta", "shipper_name", "hs_code"])
def test_missing_required_field_is_rejected_naming_the_field(field: str) -> None:
    rejected, issues = _verdict(**{field: ""})
    assert rejected and (field, "required", "reject") in issues


@pytest.mark.parametrize("stamp", ["31/02/2025", "2025-02-30", "yesterday", "2025-13-01T00:00"])
def test_unparseable_timestamp_is_rejected(stamp: str) -> None:
    rejected, issues = _verdict(filed_at=stamp)
    assert rejected and ("filed_at", "malformed", "reject") in issues


@pytest.mark.parametrize("weight", ["0", "-12.5"])
def test_zero_or_negative_weight_is_rejected(weight: str) -> None:
    rejected, issues = _verdict(gross_weight_kg=weight)
    assert rejected and ("gross_weight_kg", "out_of_range", "reject") in issues


def test_hs_code_with_letters_is_rejected_and_dots_are_removed() -> None:
    rejected, issues = _verdict(hs_code="08A1.32")
    assert rejected and ("hs_code", "malformed", "reject") in issues
    assert check_record({**valid_shipment_row(1), "hs_code": "0801.32"}).record.hs_code == "080132"


@pytest.mark.parametrize("count", [10**12, 2**63, 1e30])
def test_a_count_past_twelve_digits_is_out_of_range_in_files_and_records(count: float) -> None:
    # A file's text past twelve digits is malformed; a number past them (Parquet, JSON) is out
    # of range, on the vectorised path and the per-record one alike.
    row = {**valid_shipment_row(1), "package_count": count}
    result = validate_frame(pd.DataFrame([row]))
    assert result.counts["rejected"] == 1
    assert set(zip(result.issues["field"], result.issues["rule"], strict=True)) == {
        ("package_count", "out_of_range")
    }
    verdict = check_record(row, "shipments")
    assert verdict.record is None
    assert [(i.field, i.rule.value) for i in verdict.issues] == [("package_count", "out_of_range")]
    largest = {**valid_shipment_row(1), "package_count": 10**12 - 1}
    assert check_record(largest, "shipments").record is not None


def test_an_hs_code_sent_as_a_number_gets_back_the_leading_zero_it_lost() -> None:
    # 0507 (ivory, pangolin scales) written by a spreadsheet or JSON as the number 50790 read as
    # chapter 50 (silk). A number of 3, 5 or 7 digits gets its zero back, on both paths; text is
    # taken as sent.
    rows = [{**valid_shipment_row(i), "hs_code": code} for i, code in enumerate([50790, 610910])]
    frame = pd.DataFrame(rows)
    assert frame["hs_code"].dtype == "int64"
    result = validate_frame(frame)
    assert result.accepted["hs_code"].tolist() == ["050790", "610910"]
    record = check_record({**valid_shipment_row(1), "hs_code": 5079010}, "shipments").record
    assert record is not None and record.hs_code == "05079010"
    text = check_record({**valid_shipment_row(1), "hs_code": "50790"}, "shipments").record
    assert text is not None and text.hs_code == "50790"
    # 9 digits as a number: a 9-digit national code, or a 10-digit one of chapters 01-09 that
    # lost its zero (507900010 read as silk was an ivory line, scored without its CITES rule);
    # it cannot be told, so it is malformed on both paths, and a 9-digit text is taken as sent
    nine = {**valid_shipment_row(5), "hs_code": 507900010}
    told = validate_frame(pd.DataFrame([nine, *rows]))
    assert told.accepted["hs_code"].tolist() == ["050790", "610910"]
    assert set(zip(told.issues["field"], told.issues["rule"], strict=True)) == {
        ("hs_code", "malformed")
    }
    sent = check_record(nine, "shipments")
    assert sent.rejected and [(i.field, i.rule.value) for i in sent.issues] == [
        ("hs_code", "malformed")
    ]
    as_text = check_record({**nine, "hs_code": "507900010"}, "shipments").record
    assert as_text is not None and as_text.hs_code == "507900010"


def test_eta_before_etd_is_rejected() -> None:
    rejected, issues = _verdict(etd="2025-05-02T00:00:00Z", eta="2025-05-01T00:00:00Z")
    assert rejected and ("eta", "eta_not_after_etd", "reject") in issues


@pytest.mark.parametrize("code", ["VN-HPH", "VNHP", "V1HPH", "VNHP1"])
def test_malformed_unlocode_is_rejected(code: str) -> None:
    rejected, issues = _verdict(port_of_loading=code)
    assert rejected and ("port_of_loading", "malformed", "reject") in issues


def test_well_formed_unknown_port_is_flagged() -> None:
    rejected, issues = _verdict(port_of_loading="NGZZZ")
    assert not rejected and ("port_of_loading", "unknown_port", "flag") in issues


def test_declared_value_without_currency_is_rejected() -> None:
    rejected, issues = _verdict(declared_value="5000", currency="")
    assert rejected and ("currency", "currency_required_with_value", "reject") in issues


def test_long_description_is_truncated_and_flagged() -> None:
    long_text = "SAID TO CONTAIN " + "PARTS " * 200
    row = {**valid_shipment_row(1), "goods_description": long_text}
    result = validate_frame(pd.DataFrame([row]))
    assert result.counts["flagged"] == 1
    kept = result.accepted["goods_description"].iloc[0]
    assert kept == long_text[:DESCRIPTION_MAX]
    assert "goods_description:description_truncated" in result.accepted["dq_flags"].iloc[0]


def test_formula_text_is_kept_as_data() -> None:
    formula = '=HYPERLINK("http://example.invalid","x")'
    result = validate_frame(pd.DataFrame([{**valid_shipment_row(1), "shipper_name": formula}]))
    assert result.counts["accepted"] == 1
    assert result.accepted["shipper_name"].iloc[0] == formula


def test_unicode_names_are_accepted_unchanged() -> None:
    name = "Công ty TNHH Thương mại Hải Phòng 海防"
    result = validate_frame(pd.DataFrame([{**valid_shipment_row(1), "consignee_name": name}]))
    assert result.counts["accepted"] == 1
    assert result.accepted["consignee_name"].iloc[0] == name


def test_duplicate_keys_keep_the_first_and_report_the_rest() -> None:
    frame = shipment_frame(5, seed=2)
    frame = pd.concat([frame, frame.iloc[[1, 3, 1]]], ignore_index=True)
    result = validate_frame(frame)
    assert result.counts == {"read": 8, "accepted": 5, "flagged": 0, "rejected": 3}
    duplicates = result.issues[result.issues["rule"] == "duplicate_key"]
    assert list(duplicates["row"]) == [6, 7, 8]
    assert list(result.accepted.index) == [1, 2, 3, 4, 5]


def test_house_bill_without_master_is_rejected() -> None:
    rejected, issues = _verdict(bl_type="HOUSE", master_bl_number="")
    assert rejected and ("master_bl_number", "master_bl_required_for_house", "reject") in issues


def test_invalid_optional_value_is_dropped_and_flagged_not_rejected() -> None:
    rejected, issues = _verdict(country_of_origin="XX", amendment_count="many")
    assert not rejected
    assert ("country_of_origin", "unknown_country", "flag") in issues
    assert ("amendment_count", "malformed", "flag") in issues


def test_overweight_for_a_twenty_foot_box_is_flagged() -> None:
    rejected, issues = _verdict(container_size_type="22G1", gross_weight_kg="31000")
    assert not rejected and ("gross_weight_kg", "weight_above_container_max", "flag") in issues


def test_extra_fields_are_forbidden_in_the_api_model() -> None:
    check = check_record({**valid_shipment_row(1), "favourite_colour": "red"})
    assert check.rejected
    assert ("favourite_colour", "unknown_field") in {(i.field, i.rule.value) for i in check.issues}


def test_a_field_sent_in_capitals_is_named_unknown_not_only_the_one_it_misses() -> None:
    """A line sending BL_NUMBER was told "bl_number: required" alone: the rejecting field rule
    stopped pydantic before it looked for unknown fields, so the real cause went unnamed."""
    row = valid_shipment_row(1)
    sent = {("BL_NUMBER" if name == "bl_number" else name): value for name, value in row.items()}
    check = check_record(sent)
    found = {(i.field, i.rule.value, i.value) for i in check.issues}
    assert check.rejected and ("bl_number", "required", "") in found
    assert ("BL_NUMBER", "unknown_field", str(row["bl_number"])) in found
    # an unknown field is named once, however it was found
    check = check_record({**row, "favourite_colour": "red"})
    assert [i.field for i in check.issues].count("favourite_colour") == 1


def test_seizure_without_category_is_rejected() -> None:
    row = {**valid_outcome_row(1), "seizure_category": ""}
    result = validate_frame(pd.DataFrame([row]), "outcomes")
    assert result.counts["rejected"] == 1
    assert "category_required_for_seizure" in set(result.issues["rule"])


def test_outcome_recorded_before_inspection_is_rejected() -> None:
    row = {**valid_outcome_row(1), "recorded_at": "2000-01-01T00:00:00Z"}
    assert check_record(row, "outcomes").rejected
    result = validate_frame(pd.DataFrame([row]), "outcomes")
    assert "recorded_before_inspected" in set(result.issues["rule"])


def test_rejection_message_names_field_and_value() -> None:
    with pytest.raises(Exception) as caught:
        ShipmentLine.model_validate({**valid_shipment_row(1), "hs_code": "08A1"})
    assert "hs_code" in str(caught.value) and "08A1" in str(caught.value)


def test_counts_add_up_on_a_mixed_frame() -> None:
    frame = shipment_frame(50, seed=4)
    frame.loc[3, "gross_weight_kg"] = "-1"
    frame.loc[7, "container_number"] = "CSQU3054384"
    frame.loc[9, "filed_at"] = "not a date"
    result = validate_frame(frame)
    counts = result.counts
    assert counts["accepted"] + counts["flagged"] + counts["rejected"] == counts["read"] == 50
    assert counts["rejected"] == 2 and counts["flagged"] == 1
    assert set(result.rejected_rows) == {4, 10}


@pytest.mark.parametrize(
    "field", ["shipper_name", "goods_description", "bl_number", "shipper_country", "hs_code"]
)
def test_a_lone_surrogate_is_malformed_through_both_paths(field: str) -> None:
    # JSON's "\ud800" escape alone: no UTF-8 writer can store it (it failed whole requests).
    value = "\ud800" + str(valid_shipment_row(1)[field])
    # pandas cannot make a text column of it, only an object one (an API frame, say)
    result = validate_frame(pd.DataFrame([{**valid_shipment_row(1), field: value}], dtype=object))
    assert result.counts["rejected"] == 1
    assert list(result.issues[["field", "rule"]].itertuples(index=False, name=None)) == [
        (field, "malformed")
    ]
    check = check_record({**valid_shipment_row(1), field: value})
    assert check.rejected and [(i.field, i.rule.value) for i in check.issues] == [
        (field, "malformed")
    ]
    assert check.issues[0].value == value.encode("utf-8", "backslashreplace").decode()


@pytest.mark.parametrize("number", [4403.10, 507.90, 8471.3])
def test_an_hs_code_sent_as_a_decimal_number_is_malformed_through_both_paths(
    number: float,
) -> None:
    # 4403.10 as a number is 4403.1: read as 044031 (dairy) before, and 507.90 (ivory) as 5079.
    row = {**valid_shipment_row(1), "hs_code": number}
    assert check_record(row).rejected
    frame = pd.DataFrame([row, {**valid_shipment_row(2), "hs_code": 50790.0}])
    result = validate_frame(frame)
    assert list(result.issues[["row", "field", "rule"]].itertuples(index=False, name=None)) == [
        (1, "hs_code", "malformed")
    ]
    assert result.accepted["hs_code"].tolist() == ["050790"]  # a whole number keeps its zero
    # numbers among objects (an API frame) read as the scalar path reads them: 4403.0 was
    # 044030 and 50790.0 was 507900 there
    mixed = [{**valid_shipment_row(i), "hs_code": v} for i, v in enumerate([4403.0, 50790.0])]
    objects = validate_frame(pd.DataFrame(mixed, dtype=object))
    assert objects.accepted["hs_code"].tolist() == ["4403", "050790"]
    assert [check_record(r).record.hs_code for r in mixed] == ["4403", "050790"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("2025-03-01T08:00:00.0000000Z", "2025-03-01T08:00:00+00:00"),  # .NET's round trip
        ("2025-03-01T08:00:00.123456789+07:00", "2025-03-01T01:00:00.123456+00:00"),  # Java
        ("2025-03-01T08:00:00+0700", "2025-03-01T01:00:00+00:00"),
        ("2025-03-01T08:00:00+07", "2025-03-01T01:00:00+00:00"),
        ("2025-03-01 08:00-0330", "2025-03-01T11:30:00+00:00"),
        ("2025-03-01t08:00:00z", "2025-03-01T08:00:00+00:00"),
    ],
)
def test_iso_timestamps_as_other_systems_write_them_are_read_through_both_paths(
    stamp: str, utc: str
) -> None:
    row = {**valid_shipment_row(1), "filed_at": stamp}
    check = check_record(row)
    assert not check.rejected and check.record is not None
    assert check.record.filed_at.isoformat() == utc
    result = validate_frame(pd.DataFrame([row]).astype("string[pyarrow]"))
    assert result.counts["rejected"] == 0
    assert result.accepted["filed_at"].iloc[0].isoformat() == utc


def test_a_line_filed_after_it_was_read_is_rejected_through_both_paths() -> None:
    # A year typed 2062 for 2026 was scored, and screening moved the feature history's cut-off
    # to 2062. A day's slack is left for clocks and local times written without their offset.
    now = pd.Timestamp.now(tz="UTC")
    typo = {**valid_shipment_row(1), "filed_at": "2062-03-01T08:00:00Z", "eta": "2062-03-09"}
    soon = {**valid_shipment_row(2), "filed_at": (now + pd.Timedelta(hours=20)).isoformat()}
    soon["eta"] = (now + pd.Timedelta(days=9)).isoformat()
    result = validate_frame(pd.DataFrame([typo, soon]).astype("string[pyarrow]"))
    assert list(result.issues[["row", "field", "rule"]].itertuples(index=False, name=None)) == [
        (1, "filed_at", "filed_after_receipt")
    ]
    assert result.counts["rejected"] == 1 and list(result.accepted.index) == [2]
    check = check_record(typo)
    assert check.rejected and [(i.field, i.value, i.rule.value) for i in check.issues] == [
        ("filed_at", "2062-03-01T08:00:00Z", "filed_after_receipt")
    ]
    assert not check_record(soon).rejected


@pytest.mark.parametrize(
    ("text", "count"), [("400.0", 400), ("400.", 400), ("+3.0", 3), ("12.00", 12)]
)
def test_a_count_written_as_a_whole_decimal_is_read_through_both_paths(
    text: str, count: int
) -> None:
    # pandas writes an integer column with a gap as floats: every line of such an export was
    # rejected for its package count.
    row = {**valid_shipment_row(1), "package_count": text}
    check = check_record(row)
    assert check.record is not None and check.record.package_count == count
    result = validate_frame(pd.DataFrame([row]).astype("string[pyarrow]"))
    assert result.counts["rejected"] == 0
    assert int(result.accepted["package_count"].iloc[0]) == count
    assert check_record({**row, "package_count": "400.5"}).rejected
    # a thousand with a European separator is not 1: malformed, as before
    thousand = {**row, "package_count": "1.000"}
    assert check_record(thousand).rejected
    assert validate_frame(pd.DataFrame([thousand]).astype("string[pyarrow]")).counts["rejected"]


def test_a_seizure_category_on_an_outcome_that_is_no_seizure_is_flagged_through_both_paths() -> (
    None
):
    # A seizure typed as NO_FINDING (its category says what was found) was stored without a
    # word, and teaches the model the opposite of what was found.
    odd = {**valid_outcome_row(1), "result": "NO_FINDING", "seizure_category": "DRUGS"}
    check = check_record(odd, "outcomes")
    assert not check.rejected
    assert [(i.field, i.rule.value, i.severity.value) for i in check.issues] == [
        ("seizure_category", "category_without_seizure", "flag")
    ]
    plain = {**valid_outcome_row(2), "result": "NO_FINDING", "seizure_category": ""}
    result = validate_frame(pd.DataFrame([odd, plain]).astype("string[pyarrow]"), "outcomes")
    assert result.counts == {"read": 2, "accepted": 1, "flagged": 1, "rejected": 0}
    assert result.accepted.loc[1, "dq_flags"] == "seizure_category:category_without_seizure"


def _both_paths(**changes: object) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(field, rule) of the rejects of one line, by the frame validator and the record check."""
    row = {**valid_shipment_row(1), **changes}
    result = validate_frame(pd.DataFrame([row], dtype=object))
    frame = {
        (f, r)
        for f, r, s in zip(
            result.issues["field"], result.issues["rule"], result.issues["severity"], strict=True
        )
        if s == "reject"
    }
    check = check_record(row)
    record = {(i.field, i.rule.value) for i in check.issues if i.severity.value == "reject"}
    return frame, record


@pytest.mark.parametrize(
    ("changes", "rejects"),
    [
        # eta equal to etd is "not after" it: a mutation to < passed every test (the parity
        # test's random pool never drew equal times)
        (
            {"etd": "2025-05-01T00:00:00Z", "eta": "2025-05-01T00:00:00Z"},
            {("eta", "eta_not_after_etd")},
        ),
        ({"etd": "2025-05-01T00:00:00Z", "eta": "2025-05-01T00:00:01Z"}, set()),
        # HS chapters end at 97: 98 and 99 are national chapters, no goods of the contract's
        ({"hs_code": "980100"}, {("hs_code", "out_of_range")}),
        ({"hs_code": "990100"}, {("hs_code", "out_of_range")}),
        ({"hs_code": "970100"}, set()),
        # the last year the contract reads is 2100, whole (2100-06-01 was out of range on one path)
        (
            {"etd": "2100-05-20T00:00:00Z", "eta": "2100-06-01T00:00:00Z"},
            set(),
        ),
        (
            {"etd": "2100-12-30T00:00:00Z", "eta": "2101-01-01T00:00:00Z"},
            {("eta", "out_of_range")},
        ),
        # an ideographic space (a Chinese, Japanese or Korean keyboard's) is trimmed like others
        ({"hs_code": "210690\u3000", "shipper_country": "\u3000VN"}, set()),
    ],
)
def test_the_contract_edges_are_read_alike_through_both_paths(
    changes: dict[str, object], rejects: set[tuple[str, str]]
) -> None:
    frame, record = _both_paths(**changes)
    assert frame == record == rejects


@pytest.mark.parametrize(
    ("ports", "kept"),
    [
        (["SGSIN;MYPKG"], None),  # one item, no UN/LOCODE: dropped and flagged
        (["SGSIN\uff1bMYPKG", "CNSHA"], ["CNSHA"]),  # "；" is ";" in its plain form
        ([None, "SGSIN"], ["SGSIN"]),  # a null item is no item ("None" was read as a port)
        (["SGSIN", "MYPKG"], ["SGSIN", "MYPKG"]),
    ],
)
def test_a_list_of_ports_is_read_item_by_item_through_both_paths(
    ports: list[str | None], kept: list[str] | None
) -> None:
    row = {**valid_shipment_row(1), "transshipment_ports": ports}
    result = validate_frame(pd.DataFrame([row], dtype=object))
    check = check_record(row)
    assert check.record is not None and check.record.transshipment_ports == kept
    assert len(result.accepted) == 1
    value = result.accepted["transshipment_ports"].iloc[0]
    assert (None if value is pd.NA else value.split(";")) == kept
    issues = result.issues
    frame = set(zip(issues["field"], issues["value"], issues["rule"], strict=True))
    record = {(i.field, i.value, i.rule.value) for i in check.issues}
    assert frame == record
