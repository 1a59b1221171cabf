"""Reading files: formats, mapping, and one clear error before any row for unreadable files."""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.files import csv_safe, open_records, row_numbers, write_frame
from features.ingest import iter_validated, validate_file
from features.mapping import ColumnMapping, load_mapping
from risk_engine.contract import check_record
from risk_engine.errors import InputUnreadable, MappingError
from risk_engine.factories import shipment_frame, valid_outcome_row
from risk_engine.yaml_text import load_yaml


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "s.csv", **kwargs: object) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False, **kwargs)
    return path


def test_csv_gzip_and_parquet_give_the_same_counts(tmp_path: Path) -> None:
    frame = shipment_frame(300, seed=5)
    frame.loc[10, "gross_weight_kg"] = "0"
    plain = _csv(tmp_path, frame)
    gz = _csv(tmp_path, frame, "s.csv.gz", compression="gzip")
    parquet = tmp_path / "s.parquet"
    frame.to_parquet(parquet, index=False)
    counts = [validate_file(p, chunk_rows=1000).as_dict()["counts"] for p in (plain, gz, parquet)]
    assert counts[0] == counts[1] == counts[2]
    assert counts[0] == {"read": 300, "accepted": 299, "flagged": 0, "rejected": 1}


def test_a_parquet_list_column_of_ports_is_read_and_names_no_extra_column(tmp_path: Path) -> None:
    frame = shipment_frame(5, seed=4)
    frame["transshipment_ports"] = [["SGSIN", "MYPKG"], [], None, ["CNSHA"], ["sg sin"]]
    path = tmp_path / "s.parquet"
    frame.to_parquet(path, index=False)
    source = open_records(path, "shipments")
    assert source.ignored_columns == []  # the list's item ("element") is not a column
    report = validate_file(path)
    assert report.as_dict()["counts"]["rejected"] == 0
    assert report.ignored_columns == []
    (chunk,) = list(iter_validated(source))
    assert chunk.accepted["transshipment_ports"].tolist() == [
        "SGSIN;MYPKG",
        pd.NA,
        pd.NA,
        "CNSHA",
        "SGSIN",
    ]


def test_a_parquet_list_with_a_null_item_keeps_its_other_items(tmp_path: Path) -> None:
    """Arrow's join of a list with a null item is null: every port and seal of such a line was
    lost without a word, where the API drops the null item alone."""
    frame = shipment_frame(4, seed=8)
    frame["transshipment_ports"] = [["SGSIN", None, "MYPKG"], [None], None, [None, "CNSHA"]]
    frame["seal_numbers"] = [["SL1", None], None, [None], ["SL2"]]
    path = tmp_path / "s.parquet"
    frame.to_parquet(path, index=False)
    (chunk,) = list(iter_validated(open_records(path, "shipments")))
    assert chunk.read == 4 and len(chunk.accepted) == 4 and chunk.issues.empty
    assert chunk.accepted["transshipment_ports"].tolist() == ["SGSIN;MYPKG", pd.NA, pd.NA, "CNSHA"]
    assert chunk.accepted["seal_numbers"].tolist() == ["SL1", pd.NA, pd.NA, "SL2"]
    for position, line in enumerate(frame.to_dict("records")):
        record = check_record(line)
        assert record.record is not None and not record.issues
        assert record.record.transshipment_ports == (
            None
            if chunk.accepted["transshipment_ports"].iloc[position] is pd.NA
            else chunk.accepted["transshipment_ports"].iloc[position].split(";")
        )


@pytest.mark.parametrize("item", ["SGSIN;MYPKG", "SGSIN\uff1bMYPKG"])
def test_a_list_item_holding_the_separator_is_malformed_in_parquet_as_in_json(
    tmp_path: Path, item: str
) -> None:
    """The contract's ";" separates a list's items in the CSV form; in a JSON or Parquet list
    each item is one UN/LOCODE, and "SGSIN;MYPKG" (or with a full-width "；", read as ";") is
    none: the API drops it and flags the line, where a Parquet file read it as two ports."""
    frame = shipment_frame(3, seed=9)
    frame["transshipment_ports"] = [[item], [item, "CNSHA"], ["SGSIN", "MYPKG"]]
    path = tmp_path / "s.parquet"
    frame.to_parquet(path, index=False)
    (chunk,) = list(iter_validated(open_records(path, "shipments")))
    assert chunk.read == 3 and len(chunk.accepted) == 3
    assert chunk.accepted["transshipment_ports"].tolist() == [pd.NA, "CNSHA", "SGSIN;MYPKG"]
    told = chunk.issues[["row", "field", "value", "rule", "severity"]].to_dict("records")
    assert told == [
        {
            "row": 1,
            "field": "transshipment_ports",
            "value": f'["{item}"]',
            "rule": "malformed",
            "severity": "flag",
        },
        {
            "row": 2,
            "field": "transshipment_ports",
            "value": f'["{item}", "CNSHA"]',
            "rule": "malformed",
            "severity": "flag",
        },
    ]
    for position, line in enumerate(frame.to_dict("records")[:2]):
        record = check_record(line)
        assert [(i.field, i.value, i.rule.value) for i in record.issues] == [
            (told[position]["field"], told[position]["value"], "malformed")
        ]


def test_a_parquet_list_of_structs_is_malformed_not_a_crash(tmp_path: Path) -> None:
    """Arrow cannot cast a struct to text: the read stopped with ArrowNotImplementedError, where
    the API calls such a list malformed; a null list or struct is no value."""
    frame = shipment_frame(3, seed=10)
    table = pa.Table.from_pandas(frame.drop(columns=["transshipment_ports"]), preserve_index=False)
    ports = pa.array(
        [[{"code": None}], None, [{"code": "SGSIN"}, None]],
        type=pa.list_(pa.struct([("code", pa.string())])),
    )
    path = tmp_path / "s.parquet"
    pq.write_table(table.append_column("transshipment_ports", ports), path)
    (chunk,) = list(iter_validated(open_records(path, "shipments")))
    assert chunk.read == 3 and len(chunk.accepted) == 3
    assert chunk.issues[["row", "value", "rule"]].to_dict("records") == [
        {"row": 1, "value": '[{"code": null}]', "rule": "malformed"},
        {"row": 3, "value": '[{"code": "SGSIN"}, null]', "rule": "malformed"},
    ]
    line = {**frame.iloc[0].to_dict(), "transshipment_ports": [{"code": None}]}
    assert [(i.value, i.rule.value) for i in check_record(line).issues] == [
        ('[{"code": null}]', "malformed")
    ]


def test_chunked_reading_numbers_rows_and_catches_duplicates_across_chunks(tmp_path: Path) -> None:
    frame = shipment_frame(2500, seed=6)
    frame.loc[2400] = frame.loc[5]
    path = _csv(tmp_path, frame)
    rejects = tmp_path / "rejects.csv"
    report = validate_file(path, chunk_rows=1000, rejects_path=rejects)
    assert report.rejected == 1 and report.read == 2500
    written = pd.read_csv(rejects)
    assert list(written["row"]) == [2401] and list(written["rule"]) == ["duplicate_key"]


@pytest.mark.parametrize("name", ["rejects.parquet", "rejects.csv.gz"])
def test_a_rejects_file_holds_the_rejects_of_every_chunk(tmp_path: Path, name: str) -> None:
    """A Parquet rejects file was written over by each chunk: 269 of 17,827 rows were left, the
    last chunk's. And a run stopped half-way left a cut-off rejects file under its name."""
    frame = shipment_frame(2500, seed=6)
    frame.loc[::7, "eta"] = "not a time"
    path = _csv(tmp_path, frame)
    rejects = tmp_path / name
    report = validate_file(path, chunk_rows=1000, rejects_path=rejects)
    written = pd.read_parquet(rejects) if name.endswith(".parquet") else pd.read_csv(rejects)
    bad = written[written["rule"] == "malformed"]
    assert report.rejected == len(range(0, 2500, 7)) == bad["row"].nunique()
    assert sorted(bad["row"]) == [row + 1 for row in range(0, 2500, 7)]
    assert not list(tmp_path.glob(".partial-*"))


def test_wrong_delimiter_is_one_clear_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, shipment_frame(5), sep=";")
    with pytest.raises(InputUnreadable, match="delimited by ';'"):
        open_records(path, "shipments", ColumnMapping(delimiter=","))


def test_semicolon_file_reads_with_a_mapping(tmp_path: Path) -> None:
    path = _csv(tmp_path, shipment_frame(5), sep=";")
    report = validate_file(path, mapping=ColumnMapping(delimiter=";"))
    assert report.accepted == 5


def test_bad_encoding_is_one_clear_error_and_latin1_reads_with_a_mapping(tmp_path: Path) -> None:
    frame = shipment_frame(5)
    frame.loc[0, "consignee_name"] = "Société Générale Import"
    path = tmp_path / "latin.csv"
    frame.to_csv(path, index=False, encoding="latin-1")
    with pytest.raises(InputUnreadable, match="not valid utf-8"):
        open_records(path, "shipments")
    report = validate_file(path, mapping=ColumnMapping(encoding="latin-1"))
    assert report.accepted == 5


def test_a_file_in_an_east_asian_encoding_is_pointed_at_the_encodings_that_read_it(
    tmp_path: Path,
) -> None:
    """A GBK export (a Chinese system's) was told "e.g. latin-1 or cp1252": declared so, every
    row was accepted as accented Latin letters ("ÉîÛÚ»ª·á" for a consignee's name)."""
    frame = shipment_frame(5)
    frame.loc[:, "consignee_name"] = "深圳华丰国际贸易有限公司"
    path = tmp_path / "gbk.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(InputUnreadable) as told:
        open_records(path, "shipments")
    assert "not valid utf-8" in str(told.value)
    assert "its first bytes read as gbk" in str(told.value)
    assert "on line 2, column consignee_name, character " in str(told.value)  # first data line
    assert "e.g. latin-1 or cp1252" not in str(told.value)
    report = validate_file(path, mapping=ColumnMapping(encoding="gbk"))
    assert report.accepted == 5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-marked"])
def test_a_utf16_file_with_its_byte_order_mark_reads_without_a_mapping(
    tmp_path: Path, encoding: str
) -> None:
    """Excel's "Unicode text" is UTF-16 with a byte-order mark: the mark says the encoding, so
    no mapping is needed; a mapping that names another encoding is still obeyed."""
    frame = shipment_frame(6, seed=14)
    frame.loc[0, "consignee_name"] = "Công ty TNHH Nhập khẩu"
    path = tmp_path / "unicode.csv"
    text = frame.to_csv(index=False)
    if encoding == "utf-16":
        path.write_bytes(text.encode("utf-16"))  # little-endian, with its mark
    else:
        path.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    report = validate_file(path)
    assert report.accepted == 6
    _, chunk = next(open_records(path, "shipments").chunks())
    assert chunk.loc[0, "consignee_name"] == "Công ty TNHH Nhập khẩu"
    with pytest.raises(InputUnreadable, match="not valid utf-8"):
        open_records(path, "shipments", ColumnMapping(encoding="utf-8"))
    tabbed = tmp_path / "tabbed.csv"
    tabbed.write_bytes(frame.to_csv(index=False, sep="\t").encode("utf-16"))
    assert validate_file(tabbed).accepted == 6  # Excel's "Unicode text" is tab separated
    with pytest.raises(InputUnreadable, match=r"set 'delimiter: \"\\t\"' in a mapping file"):
        open_records(tabbed, "shipments", ColumnMapping(delimiter=","))


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"\n  \n", "empty")])
def test_empty_file_is_one_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputUnreadable, match=message):
        open_records(path, "shipments")


def test_header_only_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(shipment_frame(1).columns) + "\n")
    with pytest.raises(InputUnreadable, match="no data rows"):
        open_records(path, "shipments")


def test_unmapped_required_column_is_named_before_any_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, shipment_frame(5).drop(columns=["vessel_imo"]))
    with pytest.raises(MappingError, match="vessel_imo"):
        open_records(path, "shipments")


def test_unknown_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(InputUnreadable, match="unknown file type"):
        open_records(path, "shipments")


def test_mapping_renames_parses_dates_splits_lists_scales_and_sets_constants(
    tmp_path: Path,
) -> None:
    frame = shipment_frame(20, seed=8)
    frame = frame.rename(columns={"bl_number": "BL_NO", "gross_weight_kg": "WEIGHT_T"})
    frame["WEIGHT_T"] = (frame["WEIGHT_T"].astype(float) / 1000).round(4).astype(str)
    frame["filed_at"] = pd.to_datetime(frame["filed_at"]).dt.strftime("%d/%m/%Y %H:%M")
    frame["transshipment_ports"] = frame["transshipment_ports"].str.replace(";", "|")
    frame = frame.drop(columns=["port_of_discharge"])
    data = _csv(tmp_path, frame)
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "fields:\n"
        "  bl_number: BL_NO\n"
        "  gross_weight_kg: {column: WEIGHT_T, factor: 1000}\n"
        "  filed_at: {column: filed_at, date_format: '%d/%m/%Y %H:%M'}\n"
        "  transshipment_ports: {column: transshipment_ports, separator: '|'}\n"
        "  port_of_discharge: {value: VNHPH}\n"
    )
    mapping = load_mapping(mapping_file)
    source = open_records(data, "shipments", mapping)
    _, chunk = next(source.chunks())
    assert chunk["port_of_discharge"].eq("VNHPH").all()
    assert float(chunk["gross_weight_kg"].iloc[0]) > 100
    report = validate_file(data, mapping=mapping)
    rejected_same_port = report.reasons[("reject", "port_of_discharge", "discharge_equals_loading")]
    assert report.read == 20 and report.rejected == rejected_same_port


def test_a_mapped_date_format_keeps_the_fraction_of_a_second(tmp_path: Path) -> None:
    """Two inspections of one container in one second (10:00:00.750 and 10:00:00.250) were one
    key once the mapping dropped the fraction: the second rejected as a duplicate, and the API's
    10:00:00.750Z another inspection than the file's."""
    rows = [valid_outcome_row(0), valid_outcome_row(0)]
    for row, fraction in zip(rows, ("750", "250"), strict=True):
        row["INSP"] = f"28/03/2025 10:00:00.{fraction}"
        row["recorded_at"] = "2025-03-29T00:00:00Z"
        del row["inspected_at"]
    path = tmp_path / "outcomes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    mapping = ColumnMapping.model_validate(
        {"fields": {"inspected_at": {"column": "INSP", "date_format": "%d/%m/%Y %H:%M:%S.%f"}}}
    )
    report = validate_file(path, kind="outcomes", mapping=mapping)
    assert (report.read, report.rejected) == (2, 0)
    _, chunk = next(open_records(path, "outcomes", mapping).chunks())
    assert chunk["inspected_at"].tolist() == [
        "2025-03-28T10:00:00.750000+00:00",
        "2025-03-28T10:00:00.250000+00:00",
    ]


def test_mapping_that_names_a_missing_column_is_an_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, shipment_frame(3))
    mapping = ColumnMapping.model_validate({"fields": {"bl_number": "NO_SUCH"}})
    with pytest.raises(MappingError, match="NO_SUCH"):
        open_records(path, "shipments", mapping)


def test_mapping_with_unknown_contract_field_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("fields:\n  colour: COLOUR\n")
    with pytest.raises(MappingError, match="colour"):
        load_mapping(path).source_columns("shipments")


def test_a_mapping_that_names_a_field_twice_is_refused_naming_the_field_and_lines(
    tmp_path: Path,
) -> None:
    # YAML kept the last of the two silently: every B/L number read from the container column.
    path = tmp_path / "m.yaml"
    path.write_text("fields:\n  bl_number: bl_number\n  bl_number: container_number\n")
    with pytest.raises(MappingError, match=r"'bl_number' is given twice .*lines 2 and 3"):
        load_mapping(path)
    path.write_text("fields: {bl_number: {column: A}, bl_number: {column: B}}\n")
    with pytest.raises(MappingError, match=r"'bl_number' is given twice .*\(line 1\)"):
        load_mapping(path)
    # a key a merge (<<) brought in may still be overridden, as YAML means it
    assert load_yaml("x: &b {a: 1}\ny:\n  <<: *b\n  a: 2\n") == {"x": {"a": 1}, "y": {"a": 2}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fields:\n  filed_at: {column: FILED, date_format: '%d/%Q/%Y'}\n",
            "mapping .*m.yaml: fields.filed_at.date_format: .*date_format '%d/%Q/%Y' cannot be "
            "used: 'Q' is a bad directive",
        ),
        ("encoding: klingon\n", "mapping .*m.yaml: encoding: .*unknown encoding 'klingon'"),
    ],
)
def test_a_mapping_pandas_or_python_cannot_use_is_refused_when_read_naming_the_setting(
    tmp_path: Path, text: str, message: str
) -> None:
    # Before, both passed the mapping's check and broke with a traceback at the first chunk.
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=message):
        load_mapping(path)
    good = tmp_path / "good.yaml"
    good.write_text("encoding: cp1252\nfields:\n  filed_at: {column: F, date_format: '%d/%m/%Y'}\n")
    assert load_mapping(good).encoding == "cp1252"


def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    # `validate day.csv --rejects day.csv` deleted the day's file before reading it.
    from features.build import build_feature_frame
    from risk_engine.errors import OutputUnwritable

    path = _csv(tmp_path, shipment_frame(20, seed=2))
    before = path.read_bytes()
    with pytest.raises(OutputUnwritable, match=r"it is the input .*s.csv: writing it would"):
        validate_file(path, rejects_path=tmp_path / "." / "s.csv")
    with pytest.raises(OutputUnwritable, match="it is the input"):
        build_feature_frame(path, path, path)
    assert path.read_bytes() == before
    with pytest.raises(InputUnreadable, match="a folder, not a file"):  # was "no such file"
        open_records(tmp_path, "shipments")
    report = validate_file(path, rejects_path=tmp_path / "rejects.csv")  # another name: fine
    assert report.rejects_path == str(tmp_path / "rejects.csv")


def test_csv_line_with_wrong_field_count_is_rejected_not_lost(tmp_path: Path) -> None:
    frame = shipment_frame(4, seed=9)
    path = _csv(tmp_path, frame)
    lines = path.read_text().splitlines()
    lines.insert(3, "ONLY,THREE,FIELDS")
    path.write_text("\n".join(lines) + "\n")
    report = validate_file(path, rejects_path=tmp_path / "r.csv")
    assert report.read == 5 and report.accepted == 4 and report.rejected == 1
    assert report.reasons[("reject", "record", "wrong_field_count")] == 1


def test_rows_after_a_bad_line_keep_their_place_and_the_bad_line_names_its_row_and_key(
    tmp_path: Path,
) -> None:
    """Rows are numbered by their place among the file's rows (1 = first data row), bad lines
    and a quoted value with a line break counted in; a bad line names its row and key."""
    frame = shipment_frame(12, seed=9)
    frame.loc[1, "shipper_address"] = "1 Harbour Road\nBlock 7"  # one row on two lines
    frame.loc[9, "hs_code"] = "08O1"  # rejected: the 12th row once two bad lines go in
    path = _csv(tmp_path, frame)
    text = path.read_text()
    records = text.split("\n")
    # records[0] is the header; data row k starts at records[k + 1] (row 2 spans two lines)
    header_and_rows, rest = records[:6], records[6:]
    too_few = ",".join([frame.loc[3, "bl_number"], "SIMPLE", "", frame.loc[3, "container_number"]])
    too_many = records[5] + ",EXTRA,MORE"
    path.write_text("\n".join([*header_and_rows, too_few, too_many, *rest]))
    rejects = tmp_path / "r.csv"
    report = validate_file(path, rejects_path=rejects, chunk_rows=3)
    assert report.read == 14 and report.rejected == 3
    issues = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    bad = issues[issues["rule"] == "wrong_field_count"].set_index("row")
    # data rows: 1, 2 (two lines), 3, 4 are good; 5 and 6 are the bad lines; 7... the rest
    assert sorted(bad.index.astype(int)) == [5, 6]
    assert bad.loc["5", "bl_number"] == frame.loc[3, "bl_number"]
    assert bad.loc["5", "container_number"] == frame.loc[3, "container_number"]
    assert bad.loc["6", "container_number"] == frame.loc[3, "container_number"]
    hs = issues[issues["field"] == "hs_code"]
    assert hs["row"].tolist() == ["12"] and hs["bl_number"].tolist() == [frame.loc[9, "bl_number"]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.integers(min_value=1, max_value=9))
def test_row_numbers_count_the_bad_rows_in_wherever_they_are(
    is_bad: list[bool], chunk: int
) -> None:
    """Good rows numbered chunk by chunk, the bad rows set aside, get their places in the file."""
    places = [i + 1 for i, bad in enumerate(is_bad) if not bad]
    bad_rows = [i + 1 for i, bad in enumerate(is_bad) if bad]
    got: list[int] = []
    for start in range(0, len(places), chunk):
        count = min(chunk, len(places) - start)
        got += row_numbers(start, count, bad_rows).tolist()
    assert got == places


@pytest.mark.parametrize("spell", [str.upper, lambda name: f" {name} ", str.title])
def test_columns_in_other_case_or_padded_with_spaces_are_read_as_the_contract_names_them(
    tmp_path: Path, spell: Any
) -> None:
    """Customs systems export ``BL_NUMBER``; a header padded with spaces passed the header
    check but every row then lacked every field (all rejected as required)."""
    frame = shipment_frame(20, seed=12)
    frame.loc[3, "gross_weight_kg"] = "0"
    frame["remarks"] = "x"  # not in the contract: ignored, under its own spelling
    plain = validate_file(_csv(tmp_path, frame), chunk_rows=7).as_dict()["counts"]
    assert plain == {"read": 20, "accepted": 19, "flagged": 0, "rejected": 1}
    spelled = frame.rename(columns=spell)
    parquet = tmp_path / "spelled.parquet"
    spelled.to_parquet(parquet, index=False)
    for path in (_csv(tmp_path, spelled, "spelled.csv"), parquet):
        report = validate_file(path, chunk_rows=7)
        assert report.as_dict()["counts"] == plain
        assert report.ignored_columns == [spell("remarks")]
        _, chunk = next(open_records(path, "shipments").chunks())
        assert chunk.loc[0, "bl_number"] == frame.loc[0, "bl_number"]


def test_a_column_the_contract_reads_twice_is_ambiguous_and_an_unread_one_is_not(
    tmp_path: Path,
) -> None:
    frame = shipment_frame(5, seed=13)
    path = tmp_path / "twice.csv"
    header = ",".join([*frame.columns, "HS_CODE", "note", "note"])
    body = [",".join([*map(str, row), "9999", "a", "b"]) for row in frame.itertuples(index=False)]
    path.write_text("\n".join([header, *body]) + "\n")
    with pytest.raises(MappingError, match=r"'hs_code' appears 2 times .*\['hs_code', 'HS_CODE'\]"):
        open_records(path, "shipments")
    unread = tmp_path / "unread.csv"
    unread.write_text("\n".join([header.replace("HS_CODE", "other"), *body]) + "\n")
    assert validate_file(unread).as_dict()["counts"]["accepted"] == 5


def test_rejects_file_escapes_formulas(tmp_path: Path) -> None:
    frame = shipment_frame(3, seed=10)
    frame.loc[1, "hs_code"] = '=HYPERLINK("http://x","y")'
    path = _csv(tmp_path, frame)
    rejects = tmp_path / "rejects.csv"
    validate_file(path, rejects_path=rejects)
    text = rejects.read_text()
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd", "'+cmd"),
        ("-12.5", "-12.5"),
        ("ok", "ok"),
        # a part a spreadsheet splitting on semicolons or tabs reads as a cell of its own
        ("X;=cmd|' /C calc'!A0", "X;'=cmd|' /C calc'!A0"),
        ("=a;@b\t+c", "'=a;'@b\t'+c"),
        ("MYPKG;SGSIN", "MYPKG;SGSIN"),
        # a part after a line break: a reader breaking rows at every line break starts a row
        ("12\n=HYPERLINK(1)", "12\n'=HYPERLINK(1)"),
        ("9\r\n@SUM(1+1)", "9\r\n'@SUM(1+1)"),
        ("a\r-b", "a\r'-b"),
    ],
)
def test_csv_safe_escapes_formula_starts_but_not_numbers(value: str, expected: str) -> None:
    assert csv_safe(value) == expected


def test_write_frame_appends_csv_with_one_header(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_frame(pd.DataFrame({"a": ["x"]}), path)
    write_frame(pd.DataFrame({"a": ["y"]}), path, append=True)
    assert path.read_text().splitlines() == ["a", "x", "y"]


@pytest.mark.parametrize(
    ("suffix", "append"),
    [("csv", False), ("parquet", False), ("csv.gz", False), ("csv", True), ("csv.gz", True)],
)
def test_an_export_cut_off_by_a_full_disk_leaves_the_earlier_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, append: bool
) -> None:
    # `outcomes --out` (and `review --out`, `features --out`) wrote straight to the name: a full
    # disk left 183 of 1,368 lines under it, the last row cut (a Parquet export: 0 bytes), and
    # the good export written before under that name was gone.
    from risk_engine.errors import OutputUnwritable

    target = tmp_path / f"outcomes.{suffix}"
    write_frame(pd.DataFrame({"a": ["earlier"]}), target)
    earlier = target.read_bytes()

    def cut(method: Any, problem: str) -> Any:
        def half(self: pd.DataFrame, where: Any, *args: Any, **kwargs: Any) -> None:
            method(self.head(len(self) // 2), where, *args, **kwargs)
            raise OSError(28, problem)

        return half

    monkeypatch.setattr(pd.DataFrame, "to_csv", cut(pd.DataFrame.to_csv, "No space left on device"))
    arrow = "Error writing bytes to file. Detail: [errno 28] No space left on device"  # as told
    monkeypatch.setattr(pd.DataFrame, "to_parquet", cut(pd.DataFrame.to_parquet, arrow))
    rows = pd.DataFrame({"a": [f"row {i}" for i in range(100)]})
    with pytest.raises(OutputUnwritable, match=f"{target.name}: No space left on device$"):
        write_frame(rows, target, append=append)
    monkeypatch.undo()
    assert target.read_bytes() == earlier
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no partial file left
    write_frame(rows, target, append=append)
    back = pd.read_parquet(target) if suffix == "parquet" else pd.read_csv(target)
    kept = ["earlier"] if append else []
    assert back["a"].tolist() == kept + rows["a"].tolist()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_gzip_with_garbage_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(InputUnreadable):
        open_records(path, "shipments")


def test_gzip_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv.gz"
    with gzip.open(path, "wt") as handle:
        shipment_frame(3).to_csv(handle, index=False)
    assert validate_file(path).accepted == 3


def test_a_mapping_that_names_the_wrong_encoding_or_an_impossible_date_is_told(
    tmp_path: Path,
) -> None:
    # utf-16 named for a file without a byte-order mark, and a constant 2024-02-30: tracebacks
    path = _csv(tmp_path, shipment_frame(5), sep=";")
    big = tmp_path / "big.csv"  # past the sample read for the header, as a day's file is
    big.write_text(path.read_text() + "x" * (1 << 20))
    with pytest.raises(InputUnreadable, match="not utf-16 as the mapping says"):
        open_records(big, "shipments", ColumnMapping(delimiter=";", encoding="utf-16"))
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text('delimiter: ";"\nfields:\n  eta: {value: 2024-02-30}\n')
    report = validate_file(path, mapping=load_mapping(mapping_file))
    assert report.read == report.rejected == 5
    assert report.reasons[("reject", "eta", "malformed")] == 5


@pytest.mark.parametrize("suffix", ["csv", "parquet", "csv.gz"])
def test_a_file_written_chunk_by_chunk_has_its_name_only_once_whole(
    tmp_path: Path, suffix: str
) -> None:
    # An audit archive cut off by a full disk stayed under its name, to be taken for a whole
    # archive of an earlier purge (and a retry was refused because of it).
    from features.files import FrameWriter

    target = tmp_path / f"out.{suffix}"
    with pytest.raises(OSError, match="No space left"):
        with FrameWriter(target) as writer:
            writer.write(pd.DataFrame({"a": ["x", "y"]}))
            assert not target.exists()
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []  # nothing under the name, nothing beside it
    with FrameWriter(target) as writer:
        writer.write(pd.DataFrame({"a": ["=x"]}))
        writer.write(pd.DataFrame({"a": ["y"]}))
    assert list(tmp_path.iterdir()) == [target]
    back = pd.read_parquet(target) if suffix == "parquet" else pd.read_csv(target)
    assert back["a"].tolist() == (["=x", "y"] if suffix == "parquet" else ["'=x", "y"])


def test_a_byte_of_another_encoding_past_the_first_mebibyte_is_named_by_its_row(
    tmp_path: Path,
) -> None:
    # Arrow's "Row #3201: CSV conversion error to string: invalid UTF8 data" counted the
    # header and did not say what to do, where the same byte in the first MiB was told well.
    frame = shipment_frame(6000)
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    lines = path.read_bytes().split(b"\n")
    assert sum(len(line) for line in lines[:5000]) > 1 << 20  # past the sample read first
    lines[5000] = lines[5000].replace(b",", b",Soci\xe9t\xe9 ", 1)  # data row 5,000, cp1252
    path.write_bytes(b"\n".join(lines))
    # the line of the file (the header is line 1), the row, the byte and what the line reads as
    # (it said "cp1252 or latin-1, say", whatever the bytes: a Thai or Chinese export so
    # declared was read as accented Latin letters)
    with pytest.raises(
        InputUnreadable,
        match=r"line 5,001 \(row 5,000, column bl_type, character 12\) is not valid utf-8: "
        r"byte 0xe9; set "
        r"'encoding:' in a mapping file: its bytes read as .*cp1252",
    ):
        validate_file(path)


def test_a_byte_of_another_encoding_is_named_by_its_column_where_the_line_tells_it(
    tmp_path: Path,
) -> None:
    """The error named the line, the row, the character and the byte, and left the officer to
    count commas to the column: in the first MiB (read whole first) and past it (Arrow's row).
    A line that is not a line of fields does not tell one."""
    frame = shipment_frame(6000, seed=3)
    frame.loc[2, "consignee_name"] = "Société Générale"
    early = tmp_path / "early.csv"
    text = frame.to_csv(index=False)
    early.write_bytes(text.encode("utf-8").replace("Société".encode(), "Société".encode("cp1252")))
    with pytest.raises(
        InputUnreadable, match=r"byte 0xe9 on line 4, column consignee_name, character \d+"
    ):
        open_records(early, "shipments")
    frame.loc[2, "consignee_name"] = "ACME"
    frame.loc[5800, "consignee_name"] = "Société Générale"
    late = tmp_path / "late.csv"
    late.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    with pytest.raises(
        InputUnreadable, match=r"line 5,802 \(row 5,801, column consignee_name, character \d+\)"
    ):
        validate_file(late)
    # the second line of a value with a line break is no line of fields: no column is told
    frame.loc[5800, "consignee_name"] = "ACME\nSociété Générale"
    late.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    with pytest.raises(InputUnreadable, match=r"line 5,803 \(row 5,801, character 5\)"):
        validate_file(late)


def test_a_chinese_or_thai_export_past_the_first_mebibyte_is_named_by_its_line(
    tmp_path: Path,
) -> None:
    """Read as UTF-8, or in an encoding declared wrong, a GB18030 or TIS-620 line deep in the
    file was told by a row and "cp1252 or latin-1" or by "'charmap' codec can't decode byte
    0xde in position 7422653", a place in Arrow's buffer."""
    frame = shipment_frame(6000, seed=2)
    frame.loc[5500, "shipper_name"] = "上海金莲花贸易有限公司"
    chinese = tmp_path / "gb18030.csv"
    chinese.write_bytes(frame.to_csv(index=False).encode("gb18030"))
    with pytest.raises(InputUnreadable, match=r"line 5,502 \(row 5,501, .* read as gbk"):
        validate_file(chinese)
    with pytest.raises(
        InputUnreadable,
        match=r"line 5,502 \(column shipper_name, character \d+\) is not valid cp874",
    ):
        validate_file(chinese, mapping=ColumnMapping(encoding="cp874"))
    assert validate_file(chinese, mapping=ColumnMapping(encoding="gb18030")).accepted == 6000
    frame.loc[5500, "shipper_name"] = "บริษัท ดอกบัวทอง จำกัด"
    thai = tmp_path / "tis620.csv"
    thai.write_bytes(frame.to_csv(index=False).encode("tis-620"))
    with pytest.raises(InputUnreadable, match=r"line 5,502 \(row 5,501, .* read as .*cp874"):
        validate_file(thai)
    source = open_records(thai, "shipments", ColumnMapping(encoding="tis-620"))
    names = [n for chunk in iter_validated(source) for n in chunk.accepted["shipper_name"]]
    assert names[5500] == "บริษัท ดอกบัวทอง จำกัด"


def test_a_file_tells_whether_its_lines_come_in_filing_order_from_that_column_alone(
    tmp_path: Path,
) -> None:
    # Screening takes a file in filing order chunk after chunk as read; any other order is set
    # aside by filing day first (`models.filing_order`).
    frame = shipment_frame(300)
    filed = pd.Timestamp("2025-03-01T08:00:00Z") + pd.to_timedelta(range(300), unit="h")
    frame["filed_at"] = filed.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(tmp_path / "in-order.csv", index=False)
    frame.to_parquet(tmp_path / "in-order.parquet", index=False)
    frame.iloc[::-1].to_csv(tmp_path / "reversed.csv", index=False)
    same_day = frame.copy()
    same_day.loc[:15] = same_day.loc[:15].iloc[::-1].to_numpy()  # 08:00-23:00, one day
    same_day.to_csv(tmp_path / "within-a-day.csv", index=False)
    broken = frame.copy()
    broken.loc[7, "filed_at"] = "yesterday"
    broken.to_csv(tmp_path / "broken.csv", index=False)
    european = frame.assign(filed_at=filed.strftime("%d/%m/%Y %H:%M")).rename(
        columns={"filed_at": "FILED"}
    )
    european.to_csv(tmp_path / "european.csv", index=False)
    mapping = ColumnMapping.model_validate(
        {"fields": {"filed_at": {"column": "FILED", "date_format": "%d/%m/%Y %H:%M"}}}
    )

    def ordered(name: str, mapping: ColumnMapping | None = None) -> bool:
        return open_records(tmp_path / name, "shipments", mapping, chunk_rows=1000).filed_in_order()

    assert ordered("in-order.csv") and ordered("in-order.parquet")
    assert ordered("within-a-day.csv") and ordered("european.csv", mapping)
    assert not ordered("reversed.csv") and not ordered("broken.csv")
    source = open_records(tmp_path / "in-order.csv", "shipments")
    source.filed_in_order()
    assert source.bad_lines == []


def test_a_mapping_or_config_saved_in_another_encoding_is_named_with_the_fix(
    tmp_path: Path,
) -> None:
    """Typed on Windows ("N° Connaissement"), it stopped the command with a UnicodeDecodeError
    traceback (exit 1); a BOM is read as UTF-8."""
    from risk_engine.errors import ConfigError
    from training.config import load_config

    mapping = tmp_path / "m.yaml"
    mapping.write_bytes("fields:\n  bl_number: N° Connaissement\n".encode("cp1252"))
    with pytest.raises(
        MappingError, match=r"not UTF-8: byte 0xb0 on line 2; save the file as UTF-8"
    ):
        load_mapping(mapping)
    mapping.write_bytes("\ufefffields:\n  bl_number: N° Connaissement\n".encode("utf-8"))
    assert load_mapping(mapping).fields["bl_number"].column == "N° Connaissement"
    config = tmp_path / "c.yaml"
    config.write_bytes("# réglages\nseed: 3\n".encode("cp1252"))
    with pytest.raises(ConfigError, match=r"not UTF-8: byte 0xe9 on line 1"):
        load_config(config)


def test_a_windows_file_declared_latin_1_is_named_not_read_with_control_characters(
    tmp_path: Path,
) -> None:
    """Read as latin-1, "O’NEILL" (0x92) became "O\\x92NEILL", silently: accepted, unflagged,
    and it missed its watch-list entry."""
    frame = shipment_frame(3, seed=5)
    frame.loc[1, "shipper_name"] = "O’NEILL TRADING"
    path = tmp_path / "export.csv"
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    latin = tmp_path / "latin.yaml"
    latin.write_text("encoding: latin-1\n")
    with pytest.raises(InputUnreadable, match=r"byte 0x92 on line 3 .* set 'encoding: cp1252'"):
        open_records(path, "shipments", load_mapping(latin))
    windows = tmp_path / "windows.yaml"
    windows.write_text("encoding: cp1252\n")
    assert "O’NEILL TRADING" in _names(path, load_mapping(windows))
    # a true latin-1 file (no byte in 0x80-0x9F) is read as before
    frame.loc[1, "shipper_name"] = "MÜLLER HANDEL"
    path.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    assert "MÜLLER HANDEL" in _names(path, load_mapping(latin))


def _names(path: Path, mapping: ColumnMapping) -> list[str]:
    chunks = iter_validated(open_records(path, "shipments", mapping))
    return [name for chunk in chunks for name in chunk.accepted["shipper_name"].tolist()]


def _issues(path: Path, **kwargs: Any) -> tuple[Any, pd.DataFrame]:
    source = open_records(path, "shipments", **kwargs)
    results = list(iter_validated(source))
    issues = pd.concat([r.issues for r in results], ignore_index=True)
    return results, issues


def test_a_stray_quote_loses_no_line_each_line_it_ran_together_is_rejected_by_name(
    tmp_path: Path,
) -> None:
    # A '"' opening a description and never closed made Arrow read every later line into that
    # one record: "read 10, rejected 1" for 200 lines, exit 0, 190 containers in no output.
    frame = shipment_frame(40, seed=8)
    frame.loc[25, "goods_description"] = "MIXED GOODS, SAID TO CONTAIN"  # quoted: "..."
    path = _csv(tmp_path, frame)
    lines = path.read_text().splitlines(keepends=True)
    column = lines[0].rstrip("\n").split(",").index("goods_description")
    cells = lines[10].split(",")  # data row 10
    cells[column] = '"' + cells[column]
    lines[10] = ",".join(cells)
    path.write_text("".join(lines))
    results, issues = _issues(path)
    read = sum(r.read for r in results)
    accepted = pd.concat([r.accepted for r in results])
    assert read == 40
    named = set(accepted["container_number"]) | set(issues["container_number"])
    assert set(frame["container_number"]) <= named  # every container is somewhere
    quoted = issues[issues["rule"] == "unclosed_quote"]
    assert quoted["row"].iloc[0] == 10 and len(quoted) > 1
    assert quoted["row"].tolist() == list(range(10, 10 + len(quoted)))
    assert (
        quoted["container_number"].tolist()
        == frame["container_number"].iloc[9 : 9 + len(quoted)].tolist()
    )
    # the rows after the run keep their own numbers
    assert len(accepted) + issues.loc[issues["severity"] == "reject", "row"].nunique() == 40


def test_a_stray_quote_splits_the_same_whatever_the_container_spelling(tmp_path: Path) -> None:
    # "PCIU-831784-0" (which the contract reads as PCIU8317840) was not taken for a container:
    # the run stayed one reject and the lines in it were lost again.
    frame = shipment_frame(20, seed=19)
    frame["container_number"] = [f"{c[:4]}-{c[4:10]}-{c[10]}" for c in frame["container_number"]]
    path = _csv(tmp_path, frame)
    lines = path.read_text().splitlines(keepends=True)
    column = lines[0].rstrip("\n").split(",").index("goods_description")
    cells = lines[3].split(",")
    cells[column] = '"' + cells[column]
    lines[3] = ",".join(cells)
    path.write_text("".join(lines))
    results, issues = _issues(path)
    assert sum(r.read for r in results) == 20
    quoted = issues[issues["rule"] == "unclosed_quote"]
    assert quoted["row"].tolist() == list(range(3, 21))


def test_a_stray_quote_splits_the_same_with_container_numbers_typed_in_full_width(
    tmp_path: Path,
) -> None:
    # The contract reads "ＰＣＩＵ８３１７８４０" (an East Asian input method's) as PCIU8317840; the
    # stray quote's run did not take it for a container, stayed one reject and lost its lines.
    frame = shipment_frame(20, seed=19)
    frame["container_number"] = [
        "".join(chr(ord(c) + 0xFEE0) for c in number) for number in frame["container_number"]
    ]
    path = _csv(tmp_path, frame)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    column = lines[0].rstrip("\n").split(",").index("goods_description")
    cells = lines[3].split(",")
    cells[column] = '"' + cells[column]
    lines[3] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    results, issues = _issues(path)
    assert sum(r.read for r in results) == 20
    quoted = issues[issues["rule"] == "unclosed_quote"]
    assert quoted["row"].tolist() == list(range(3, 21))


def test_a_bad_line_with_a_field_over_the_csv_size_limit_is_one_reject(tmp_path: Path) -> None:
    # The csv module's 131,072-character field limit raised inside Arrow's bad-line handler:
    # a traceback, and the whole file refused.
    path = _csv(tmp_path, shipment_frame(20, seed=9))
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\n") + ',"' + "X" * 140_000 + '"\n'
    path.write_text("".join(lines))
    results, issues = _issues(path)
    assert sum(r.read for r in results) == 20
    assert issues.loc[issues["rule"] == "wrong_field_count", "row"].tolist() == [5]


def test_a_cut_off_gzip_or_a_damaged_parquet_page_is_one_clear_error(tmp_path: Path) -> None:
    frame = shipment_frame(6_000, seed=10)
    whole = _csv(tmp_path, frame, "s.csv.gz", compression="gzip")
    data = whole.read_bytes()
    whole.write_bytes(data[: int(len(data) * 0.8)])  # past the first MiB read to check it
    with pytest.raises(InputUnreadable, match="cannot be read past some rows"):
        _issues(whole)
    parquet = tmp_path / "s.parquet"
    frame.to_parquet(parquet, index=False)
    data = bytearray(parquet.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8  # its metadata, length and magic
    end = len(data) - footer
    data[end // 2 : end] = bytes(end - end // 2)  # half the pages, not the footer
    parquet.write_bytes(bytes(data))
    with pytest.raises(InputUnreadable, match="cannot be read past some rows"):
        _issues(parquet)


def test_a_file_in_another_encoding_than_declared_is_refused_wherever_it_shows(
    tmp_path: Path,
) -> None:
    # The Windows-quote check looked at the first MiB only: "O'NEILL" past it read as
    # "O\x92NEILL", exit 0, and missed its watch-list entry. A UTF-8 file read as cp1252 gave
    # "SOCIÃ‰TÃ‰" without a word.
    frame = shipment_frame(4_000, seed=11)
    last = len(frame) - 5
    frame.loc[last, "shipper_name"] = "O\u2019NEILL TRADING"
    path = tmp_path / "windows.csv"
    frame.to_csv(path, index=False, encoding="cp1252")
    assert path.stat().st_size > (1 << 20) and b"\x92" not in path.read_bytes()[: 1 << 20]
    latin1 = ColumnMapping.model_validate({"encoding": "latin-1"})
    with pytest.raises(InputUnreadable, match=rf"row {last + 1:,}, column shipper_name: .*cp1252"):
        _issues(path, mapping=latin1)
    cp1252 = ColumnMapping.model_validate({"encoding": "cp1252"})
    results, _ = _issues(path, mapping=cp1252)
    names = pd.concat([r.accepted for r in results])["shipper_name"]
    assert "O\u2019NEILL TRADING" in set(names)

    frame.loc[2, "consignee_name"] = "SOCIÉTÉ GÉNÉRALE"
    utf8 = _csv(tmp_path, frame, "utf8.csv")
    with pytest.raises(InputUnreadable, match="row 3, column consignee_name: .*UTF-8"):
        _issues(utf8, mapping=cp1252)


def test_a_factor_on_a_count_keeps_it_whole_and_an_option_its_field_ignores_is_refused(
    tmp_path: Path,
) -> None:
    # "factor" wrote every count as "581.000000", which the contract rejects for a count:
    # every CSV row rejected; a date_format on an HS code did nothing, silently.
    frame = shipment_frame(30, seed=12)
    path = _csv(tmp_path, frame)
    doubled = ColumnMapping.model_validate(
        {"fields": {"package_count": {"column": "package_count", "factor": 2}}}
    )
    results, issues = _issues(path, mapping=doubled)
    counts = pd.concat([r.accepted for r in results])["package_count"]
    assert len(counts) == 30 and not (issues["field"] == "package_count").any()
    assert counts.tolist() == (frame["package_count"].astype(int) * 2).tolist()
    # a fraction scaled to a whole count: 4.35 x 100 is 434.99999999999994 in binary floats
    frame["package_count"] = "4.35"
    hundred = ColumnMapping.model_validate(
        {"fields": {"package_count": {"column": "package_count", "factor": 100}}}
    )
    results, _ = _issues(_csv(tmp_path, frame, "h.csv"), mapping=hundred)
    assert set(pd.concat([r.accepted for r in results])["package_count"]) == {435}
    for option, value in (("date_format", "%Y"), ("separator", "|"), ("factor", 2)):
        mapping = ColumnMapping.model_validate(
            {"fields": {"hs_code": {"column": "hs_code", option: value}}}
        )
        with pytest.raises(MappingError, match=rf"fields\.hs_code\.{option}: .*would be ignored"):
            open_records(path, "shipments", mapping)


def test_a_european_export_reads_its_numbers_with_the_mappings_decimal_and_thousands(
    tmp_path: Path,
) -> None:
    # "12.500" meant twelve and a half tonnes; read as written it was 12.5 kg, and "8332,9"
    # was rejected with no way to say how the file writes numbers.
    frame = shipment_frame(5, seed=13)
    frame["gross_weight_kg"] = ["12.500", "8.332,9", "950", "1.234.567,25", "0,5"]
    frame["package_count"] = ["1.200", "3", "40", "1.000", "7"]
    path = _csv(tmp_path, frame, sep=";")
    european = ColumnMapping.model_validate({"delimiter": ";", "decimal": ",", "thousands": "."})
    results, issues = _issues(path, mapping=european)
    accepted = pd.concat([r.accepted for r in results])
    assert accepted["gross_weight_kg"].tolist() == [12500.0, 8332.9, 950.0, 1234567.25, 0.5]
    assert accepted["package_count"].tolist() == [1200, 3, 40, 1000, 7]
    # French Excel groups thousands with a no-break or a narrow no-break space
    frame["gross_weight_kg"] = ["12\u00a0500", "8\u202f332,9", "950", "1 234", "0,5"]
    frame["package_count"] = ["1\u00a0200", "3", "40", "1 000", "7"]
    french = ColumnMapping.model_validate({"delimiter": ";", "decimal": ",", "thousands": " "})
    results, _ = _issues(_csv(tmp_path, frame, "f.csv", sep=";"), mapping=french)
    weights = pd.concat([r.accepted for r in results])["gross_weight_kg"].tolist()
    assert weights == [12500.0, 8332.9, 950.0, 1234.0, 0.5]
    with pytest.raises(ValueError, match="both"):
        ColumnMapping.model_validate({"decimal": ",", "thousands": ","})


def test_a_mapping_converts_numbers_and_dates_typed_in_full_width_as_their_ascii_form(
    tmp_path: Path,
) -> None:
    # "１２，５００" kept its full-width comma past the thousands mark and was rejected, and
    # "１２．５" tonnes, read later in plain form, was 12.5 kg: the factor had passed it over.
    frame = shipment_frame(4, seed=13)
    frame["gross_weight_kg"] = ["１２，５００", "１２５００", "950", "１，２００"]
    frame["declared_value"] = ["１２．５", "3", "4", "５"]
    frame["filed_at"] = ["２０２５／０１／０２", "2025/01/03", "２０２５／０１／０４", "2025/01/05"]
    frame["booking_created_at"] = ""
    path = _csv(tmp_path, frame)
    mapping = ColumnMapping.model_validate(
        {
            "thousands": ",",
            "fields": {
                "declared_value": {"column": "declared_value", "factor": 1000},
                "filed_at": {"column": "filed_at", "date_format": "%Y/%m/%d"},
            },
        }
    )
    results, issues = _issues(path, mapping=mapping)
    accepted = pd.concat([r.accepted for r in results])
    assert accepted["gross_weight_kg"].tolist() == [12500.0, 12500.0, 950.0, 1200.0]
    assert accepted["declared_value"].tolist() == [12500.0, 3000.0, 4000.0, 5000.0]
    assert [stamp.day for stamp in accepted["filed_at"]] == [2, 3, 4, 5]
    assert issues.empty


def test_the_rejects_of_a_chunk_come_in_row_order_split_lines_among_the_others(
    tmp_path: Path,
) -> None:
    frame = shipment_frame(30, seed=14).astype(str)
    frame.loc[20, "gross_weight_kg"] = "-1"  # row 21: rejected by the contract
    lines = frame.to_csv(index=False).splitlines()
    lines[5] += ",extra"  # row 5: does not split
    (tmp_path / "s.csv").write_text("\n".join(lines) + "\n")
    _, issues = _issues(tmp_path / "s.csv")
    rejected = issues.loc[issues["severity"] == "reject", "row"].tolist()
    assert rejected == sorted(rejected) and {5, 21} <= set(rejected)


def test_correct_one_byte_and_multi_byte_files_are_not_taken_for_utf8(tmp_path: Path) -> None:
    # The check refused a correct cp1252 "ANDRÉ’S" (bytes C9 92 are UTF-8 for U+0252) and
    # correct GBK files (it took every encoding not named utf* for a one-byte one).
    frame = shipment_frame(200, seed=15)
    for encoding, shipper, consignee in (
        ("cp1252", "ANDRÉ’S SEAFOOD", "CAFÉ\u00a0DU PORT"),
        ("gbk", "茲蹥贸易有限公司", "广州海运"),
    ):
        frame.loc[7, "shipper_name"], frame.loc[8, "consignee_name"] = shipper, consignee
        path = tmp_path / f"{encoding}.csv"
        frame.to_csv(path, index=False, encoding=encoding)
        mapping = ColumnMapping.model_validate({"encoding": encoding})
        results, _ = _issues(path, mapping=mapping)
        assert shipper in set(pd.concat([r.accepted for r in results])["shipper_name"])


def test_a_windows_byte_is_found_past_many_accented_names_and_utf8_gets_its_own_advice(
    tmp_path: Path,
) -> None:
    # Only the first 1,000 accented values of a column were looked at.
    frame = shipment_frame(4_000, seed=16)
    frame["consignee_name"] = [f"SOCIÉTÉ {i}" for i in range(len(frame))]
    frame.loc[3_990, "consignee_name"] = "O\u2019NEILL TRADING"
    path = tmp_path / "w.csv"
    frame.to_csv(path, index=False, encoding="cp1252")
    assert b"\x92" not in path.read_bytes()[: 1 << 20]
    latin1 = ColumnMapping.model_validate({"encoding": "latin-1"})
    with pytest.raises(InputUnreadable, match=r"row 3,991, column consignee_name: .*cp1252"):
        _issues(path, mapping=latin1)
    utf8 = _csv(tmp_path, frame.head(50), "u.csv")  # UTF-8 É is C3 89: 0x89 read in latin-1
    with pytest.raises(InputUnreadable, match="reads as UTF-8 text .*SOCIÉTÉ"):
        _issues(utf8, mapping=latin1)
    # Turkish (İ, Ş) read back as UTF-8 too: it was accepted garbled ("LOJÄ°STÄ°K")
    turkish = frame.head(50).copy()
    turkish["consignee_name"] = "ÖZTÜRK LOJİSTİK"
    turkish["shipper_name"] = "GÜNEŞ İTHALAT"
    path = _csv(tmp_path, turkish, "t.csv")
    cp1252 = ColumnMapping.model_validate({"encoding": "cp1252"})
    with pytest.raises(InputUnreadable, match="reads as UTF-8 text .*ÖZTÜRK LOJİSTİK"):
        _issues(path, mapping=cp1252)
    with pytest.raises(InputUnreadable, match="reads as UTF-8 text"):  # not "set cp1252"
        _issues(path, mapping=latin1)


def test_a_correct_multi_line_value_in_a_line_with_a_field_too_many_stays_one_reject(
    tmp_path: Path,
) -> None:
    # Its second line had the header's field count by chance: it was split into two rejects,
    # and every later row was numbered one too high.
    frame = shipment_frame(30, seed=17).astype(str)
    rest = [c for c in frame.columns if c != "goods_description"]
    frame = frame[[rest[0], "goods_description", *rest[1:]]]  # the value in the 2nd column
    frame.loc[4, "goods_description"] = "LINE A\nLINE B"
    lines = frame.to_csv(index=False).split("\n")
    lines[6] += ",extra"  # the second line of row 5
    lines[20] += ",extra"  # row 19
    (tmp_path / "m.csv").write_text("\n".join(lines))
    _, issues = _issues(tmp_path / "m.csv")
    rejected = issues[issues["severity"] == "reject"]
    assert rejected["row"].tolist() == [5, 19]
    assert set(rejected["rule"]) == {"wrong_field_count"}


def test_outcomes_the_engine_wrote_to_csv_read_back_without_its_formula_guard(
    tmp_path: Path,
) -> None:
    # An export holding "-phase 3" was written "'-phase 3" for spreadsheets, and recorded
    # back (into this store: a conflict; into a partner's: a changed value) as "'-phase 3".
    rows = [valid_outcome_row(i) for i in range(3)]
    rows[0]["operation_phase"], rows[1]["commodity"] = "-phase 3", "+ precursor drums"
    rows[2]["commodity"] = "drums;=2 pallets"
    rows[2]["operation_phase"] = "'-phase 4"  # a quote of its own: kept, written with one more
    path = tmp_path / "export.csv"
    write_frame(pd.DataFrame(rows), path)
    assert "'-phase 3" in path.read_text()  # guarded in the file
    results = list(iter_validated(open_records(path, "outcomes")))
    read = pd.concat([r.accepted for r in results])
    assert read["operation_phase"].iloc[0] == "-phase 3"
    assert read["commodity"].tolist()[1:] == ["+ precursor drums", "drums;=2 pallets"]
    assert read["operation_phase"].iloc[2] == "'-phase 4"


def test_a_quote_closed_lines_further_down_refuses_the_file_naming_the_lines_it_took(
    tmp_path: Path,
) -> None:
    # A stray '"' at a description's start, closed by an inch mark three lines down, made the
    # lines between part of one description with the right number of fields: 57 of 60 read,
    # the two containers between lost, exit 0.
    frame = shipment_frame(30, seed=18)
    frame["goods_description"] = "STEEL PIPES"
    lines = frame.to_csv(index=False).splitlines(keepends=True)
    lines[10] = lines[10].replace("STEEL PIPES", '"STRAY STEEL PIPES', 1)
    lines[13] = lines[13].replace("STEEL PIPES", 'STEEL 12" PIPES', 1)
    path = tmp_path / "s.csv"
    path.write_text("".join(lines))
    between = frame["container_number"].iloc[10:12].tolist()
    with pytest.raises(
        InputUnreadable, match=rf"row 10, column goods_description: .*2 whole lines.*{between[0]}"
    ):
        _issues(path)


def test_a_page_cut_off_by_a_full_disk_leaves_no_file_under_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A report was written straight to its name: a full disk left it cut off mid-table.
    from features.files import write_page
    from risk_engine.errors import OutputUnwritable

    page = tmp_path / "report.html"
    page.write_text("yesterday's")
    real = Path.write_text

    def half(self: Path, text: str, *args: Any, **kwargs: Any) -> int:
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    with pytest.raises(OutputUnwritable, match="No space left"):
        write_page(page, "<html>" + "x" * 1000 + "</html>")
    monkeypatch.undo()
    assert page.read_text() == "yesterday's"  # not a cut-off page under the name
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    write_page(page, "<html>today</html>")
    assert page.read_text() == "<html>today</html>"


def test_a_gzipped_csv_output_names_itself_not_its_partial_file(tmp_path: Path) -> None:
    """Written under its hidden partial name, a .csv.gz carried that name in its gzip header:
    `gunzip -N` gave the hidden .partial-... file."""
    from features.files import FrameWriter

    path = tmp_path / "ranked.csv.gz"
    with FrameWriter(path) as writer:
        writer.write(pd.DataFrame({"row": [1, 2], "note": ["x", "=y"]}))
        writer.write(pd.DataFrame({"row": [3], "note": ["z"]}))
    raw = path.read_bytes()
    assert raw[3] & 0x08  # FNAME: the header names a file
    assert raw[10:].split(b"\x00", 1)[0] == b"ranked.csv"
    back = pd.read_csv(path)
    assert back["row"].tolist() == [1, 2, 3] and back["note"].tolist() == ["x", "'=y", "z"]


@pytest.mark.parametrize("name", ["ranked.csv", "ranked.csv.gz"])
def test_a_csv_output_with_text_beyond_ascii_starts_with_a_byte_order_mark_for_excel(
    tmp_path: Path, name: str
) -> None:
    """Excel on Windows opened the engine's UTF-8 CSV files (a ranked list, rejects, exports)
    in the system's code page: "CÔNG TY TNHH SEN VÀNG" as "CÃ”NG TY TNHH SEN VÃ€NG". A file
    with such text starts with the mark Excel writes in "CSV UTF-8", even when its first chunk
    was ASCII; an ASCII file is written as before, byte for byte; every reader gets it back."""
    from features.files import FrameWriter, read_table

    ascii_rows = pd.DataFrame({"party_name": ["ACME LTD", "=HYPERLINK()"], "n": [1, 2]})
    asian = pd.DataFrame(
        {
            "party_name": ["CÔNG TY TNHH SEN VÀNG", "上海金莲花贸易有限公司", "บริษัท ดอกบัวทอง"],
            "n": [3, 4, 5],
        }
    )
    opener: Any = gzip.open if name.endswith(".gz") else open
    plain = tmp_path / f"plain-{name}"
    write_frame(ascii_rows, plain)
    with opener(plain, "rb") as handle:
        assert handle.read() == b"party_name,n\nACME LTD,1\n'=HYPERLINK(),2\n"
    for chunks in ([asian], [ascii_rows, asian], [ascii_rows, asian, asian]):
        path = tmp_path / name
        with FrameWriter(path) as writer:
            for chunk in chunks:
                writer.write(chunk)
        with opener(path, "rb") as handle:
            data = handle.read()
        assert data.startswith(codecs.BOM_UTF8) and data.count(codecs.BOM_UTF8) == 1
        expected = pd.concat(chunks, ignore_index=True)
        back = pd.read_csv(path, dtype=str)
        assert list(back.columns) == ["party_name", "n"]
        assert (
            back["party_name"].tolist()
            == expected["party_name"].str.replace("=", "'=", regex=False).tolist()
        )
        assert read_table(path, "watch list")["party_name"].tolist() == back["party_name"].tolist()
    appended = tmp_path / f"appended-{name}"
    write_frame(ascii_rows, appended)
    write_frame(asian, appended, append=True)
    assert pd.read_csv(appended, dtype=str)["party_name"].tolist()[-1] == "บริษัท ดอกบัวทอง"
    with opener(appended, "rb") as handle:
        assert handle.read(3) == codecs.BOM_UTF8


def test_a_csv_output_is_written_a_slice_of_rows_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a frame's whole text, then its bytes, at once took about ten times the file's
    size in memory (a 300 MB export of 400,000 rows of 41 columns: 738 MB more at its peak,
    66 MB written straight by pandas, as a slice at a time now): the output goes out a slice of
    rows at a time, as pandas writes one itself, and keeps its byte-order mark when text beyond
    ASCII comes only in its last rows."""
    written: list[int] = []
    to_csv = pd.DataFrame.to_csv

    def counted(self: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        written.append(self.size)
        return to_csv(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", counted)
    rows, name = 20_000, "export.csv.gz"
    frame = pd.DataFrame({f"f{i}": [0.123456789 + i] * rows for i in range(30)})
    frame["name"] = "ACME TRADING CO"
    frame.loc[rows - 1, "name"] = "上海金莲花贸易有限公司"
    path = tmp_path / name
    write_frame(frame, path)
    assert max(written) <= 100_000, f"{max(written):,} values turned into text at once"
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    assert data.startswith(codecs.BOM_UTF8) and data.count(codecs.BOM_UTF8) == 1
    back = pd.read_csv(path, dtype=str)
    assert len(back) == rows and back["name"].iloc[-1] == "上海金莲花贸易有限公司"
    assert back.columns[0] == "f0" and back["f0"].iloc[0] == "0.123456789"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_run_killed_while_marking_a_csv_leaves_no_copy_behind(tmp_path: Path) -> None:
    """The copy that puts the byte-order mark before a file whose first rows were ASCII was
    named "<partial>.bom", which the next run's clean-up of dead runs' partial files did not
    match: a run killed while copying left a hidden copy of the whole output for good."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "ranked.csv"
    script = textwrap.dedent(
        f"""
        import os, shutil, signal
        from pathlib import Path
        import pandas as pd
        from features.files import FrameWriter

        def killed(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)

        with FrameWriter(Path({str(path)!r})) as writer:
            writer.write(pd.DataFrame({{"party_name": ["ACME LTD"]}}))
            shutil.copyfileobj = killed
            writer.write(pd.DataFrame({{"party_name": ["บริษัท ดอกบัวทอง"]}}))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", script], env=env, check=False)
    assert run.returncode == -signal.SIGKILL
    assert any(p.name.startswith(".") for p in tmp_path.iterdir())  # killed mid-copy
    write_frame(pd.DataFrame({"party_name": ["ACME LTD"]}), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranked.csv"]
