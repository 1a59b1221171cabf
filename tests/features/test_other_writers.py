"""Files made by other tools than pandas: the Parquet types other writers choose and the CSV
dialects of office tools, read without losing a row, or refused with what to do."""

from __future__ import annotations

import decimal
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.files import open_records
from features.ingest import iter_validated
from features.mapping import ColumnMapping
from risk_engine.errors import InputUnreadable
from risk_engine.factories import shipment_frame

_TIMES = ["filed_at", "booking_created_at", "etd", "eta"]


def _text_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as a Parquet writer with string columns writes it (blank cells as nulls)."""
    table = pa.Table.from_pandas(frame.replace("", None), preserve_index=False)
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def _with(table: pa.Table, name: str, column: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, column)


def _read(path: Path) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    """(rows read, accepted lines, issues) of a shipments file."""
    results = list(iter_validated(open_records(path, "shipments")))
    accepted = pd.concat([result.accepted for result in results])
    issues = pd.concat([result.issues for result in results], ignore_index=True)
    return sum(result.read for result in results), accepted, issues


def _write(tmp_path: Path, table: pa.Table, name: str = "s.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _decimals(values: pd.Series, precision: int, scale: int) -> pa.Array:
    quantum = decimal.Decimal(1).scaleb(-scale)
    return pa.array(
        [decimal.Decimal(value).quantize(quantum) for value in values],
        pa.decimal128(precision, scale),
    )


def _timestamps(unit: str, zone: str | None) -> Callable[[pd.Series], pa.Array]:
    def make(values: pd.Series) -> pa.Array:
        # Arrow keeps UTC moments: a zone only says how to show them
        utc = pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy()
        return pa.array(utc).cast(pa.timestamp(unit)).cast(pa.timestamp(unit, tz=zone))

    return make


def _every_column(kind: pa.DataType) -> Callable[[pa.Table], pa.Table]:
    return lambda table: table.cast(pa.schema([pa.field(n, kind) for n in table.column_names]))


def _columns(names: list[str], make: Callable[[pd.Series], pa.Array]) -> Callable[..., pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        for name in names:
            table = _with(table, name, make(table[name].to_pandas()))
        return table

    return change


def _typed(**makes: Callable[[pd.Series], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    def change(table: pa.Table) -> pa.Table:
        for name, make in makes.items():
            table = _with(table, name, make(table[name].to_pandas()))
        return table

    return change


def _row_groups(table: pa.Table, path: Path) -> None:
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table.slice(0, 2))
        writer.write_table(table.slice(2, 0))  # an empty row group between two others
        writer.write_table(table.slice(2))


# How other writers store the contract's fields; each file must read as the text one does.
_WRITERS: dict[str, Callable[[pa.Table], pa.Table]] = {
    "large_string": _every_column(pa.large_string()),
    "string_view": _every_column(pa.string_view()),
    "dictionary": _columns(
        ["port_of_loading", "port_of_discharge", "currency", "shipper_name", "bl_number"],
        lambda values: pa.array(values).dictionary_encode(),
    ),
    "decimal128": _typed(
        gross_weight_kg=lambda values: _decimals(values, 18, 3),
        declared_value=lambda values: _decimals(values, 18, 2),
    ),
    "int32 and uint64": _typed(
        package_count=lambda values: pa.array(values.astype(int), pa.int32()),
        amendment_count=lambda values: pa.array(values.astype(int), pa.uint64()),
    ),
    **{
        f"timestamp[{unit}, {zone}]": _columns(_TIMES, _timestamps(unit, zone))
        for unit in ("s", "ms", "us", "ns")
        for zone in (None, "UTC", "Asia/Ho_Chi_Minh")
    },
    "bytes": _every_column(pa.binary()),
    "null-typed empty columns": _columns(
        ["master_bl_number", "cites_permit_ref", "place_of_delivery"],
        lambda values: pa.nulls(len(values), pa.null()),
    ),
    "columns in another order": lambda table: table.select(table.column_names[::-1]),
    "extra columns": lambda table: table.append_column("REMARKS", pa.array(["x"] * len(table))),
    "upper-case names": lambda table: table.rename_columns(
        [name.upper() for name in table.column_names]
    ),
}


@pytest.mark.parametrize("writer", list(_WRITERS))
def test_a_parquet_file_of_other_writers_types_reads_as_its_text_does(
    tmp_path: Path, writer: str
) -> None:
    frame = shipment_frame(12, seed=3)
    text = _text_table(frame)
    _, expected, _ = _read(_write(tmp_path, text, "text.parquet"))
    read, accepted, issues = _read(_write(tmp_path, _WRITERS[writer](text)))
    assert read == 12 and issues.empty
    pd.testing.assert_frame_equal(accepted, expected, check_dtype=False)


def test_row_groups_one_of_them_empty_lose_no_row(tmp_path: Path) -> None:
    frame = shipment_frame(12, seed=3)
    _, expected, _ = _read(_write(tmp_path, _text_table(frame), "text.parquet"))
    path = tmp_path / "groups.parquet"
    _row_groups(_text_table(frame), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    read, accepted, _ = _read(path)
    assert read == 12
    pd.testing.assert_frame_equal(accepted, expected)


def test_float32_numbers_read_as_the_decimals_written_not_their_binary_value(
    tmp_path: Path,
) -> None:
    """A float32 19.99 was read as 19.989999771118164 (its binary value widened), and an HS
    code 4403.1 in a float32 column was told as 4403.10009765625."""
    frame = shipment_frame(3, seed=1)
    table = _text_table(frame)
    table = _with(table, "declared_value", pa.array([19.99, 12000.37, 0.1], pa.float32()))
    table = _with(table, "gross_weight_kg", pa.array([27476.1, 12.5, 3000.3], pa.float32()))
    table = _with(table, "hs_code", pa.array([847130, 4403.1, 50790], pa.float32()))
    _, accepted, issues = _read(_write(tmp_path, table))
    assert accepted["declared_value"].tolist() == [19.99, 0.1]
    assert accepted["gross_weight_kg"].tolist() == [27476.1, 3000.3]
    assert accepted["hs_code"].tolist() == ["847130", "050790"]
    assert issues[["row", "field", "value", "rule"]].values.tolist() == [
        [2, "hs_code", "4403.1", "malformed"]
    ]


def test_a_decimal_hs_code_is_a_number_that_lost_its_leading_zero(tmp_path: Path) -> None:
    """0507.90 (ivory) stored as decimal(6, 2) is 507.90: it was read as the HS code 50790,
    accepted; it is a number with a fraction, as a float one is: malformed, send it as text.
    A whole decimal gets its zero back as a whole number does."""
    frame = shipment_frame(2, seed=1)
    table = _with(_text_table(frame), "hs_code", _decimals(pd.Series(["507.90", "4403.10"]), 6, 2))
    _, accepted, issues = _read(_write(tmp_path, table))
    assert accepted.empty
    assert issues[["row", "field", "value", "rule"]].values.tolist() == [
        [1, "hs_code", "507.9", "malformed"],
        [2, "hs_code", "4403.1", "malformed"],
    ]
    whole = _with(_text_table(frame), "hs_code", _decimals(pd.Series(["50790", "440310"]), 10, 0))
    _, accepted, issues = _read(_write(tmp_path, whole, "whole.parquet"))
    assert issues.empty and accepted["hs_code"].tolist() == ["050790", "440310"]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([b"ACME", b"\xc9COLE"], pa.binary()),
        pa.array([b"ACME", b"\xc9COLE"], pa.binary()).dictionary_encode(),
        pa.array([b"ACME", b"\xc9COLE"], pa.large_binary()),
    ],
    ids=["binary", "dictionary", "large_binary"],
)
def test_a_column_of_bytes_that_are_not_utf8_is_refused_naming_row_and_column(
    tmp_path: Path, column: pa.Array
) -> None:
    """Bytes in a Latin-1 name stopped the read with a UnicodeDecodeError traceback."""
    table = _with(_text_table(shipment_frame(2, seed=1)), "shipper_name", column)
    with pytest.raises(InputUnreadable, match=r"row 2, column shipper_name: .*not UTF-8.*0xc9"):
        _read(_write(tmp_path, table))


def test_a_list_of_bytes_that_are_not_utf8_is_refused_naming_row_and_column(
    tmp_path: Path,
) -> None:
    ports = pa.array([["SGSIN"], [b"SG\xffSIN"]], pa.list_(pa.binary()))
    table = _with(_text_table(shipment_frame(2, seed=1)), "transshipment_ports", ports)
    with pytest.raises(InputUnreadable, match=r"row 2, column transshipment_ports: .*0xff"):
        _read(_write(tmp_path, table))


def test_a_list_of_objects_or_of_lists_is_malformed_not_a_crash(tmp_path: Path) -> None:
    """A list of structs stopped the read: "Unsupported cast from struct to utf8"."""
    table = _text_table(shipment_frame(2, seed=1))
    table = _with(table, "transshipment_ports", pa.array([[{"port": "SGSIN"}], None]))
    table = _with(table, "seal_numbers", pa.array([[["S1"]], [["S2", "S3"]]]))
    read, accepted, issues = _read(_write(tmp_path, table))
    assert read == 2 and len(accepted) == 2  # optional fields: dropped and flagged
    assert issues[["row", "field", "value", "rule"]].values.tolist() == [
        [1, "seal_numbers", '[["S1"]]', "malformed"],
        [1, "transshipment_ports", '[{"port": "SGSIN"}]', "malformed"],
        [2, "seal_numbers", '[["S2", "S3"]]', "malformed"],
    ]


def test_a_list_view_or_fixed_size_list_of_ports_is_read_as_a_list(tmp_path: Path) -> None:
    table = _text_table(shipment_frame(2, seed=1))
    ports = [["SGSIN", "MYPKG"], ["CNSHA", "HKHKG"]]
    for kind in (pa.list_(pa.string(), 2), pa.list_view(pa.string())):
        path = _write(tmp_path, _with(table, "transshipment_ports", pa.array(ports, kind)))
        _, accepted, issues = _read(path)
        assert issues.empty
        assert accepted["transshipment_ports"].tolist() == ["SGSIN;MYPKG", "CNSHA;HKHKG"]


def _dialect(frame: pd.DataFrame, delimiter: str, newline: str = "\n") -> str:
    lines = [delimiter.join(frame.columns)]
    lines += [delimiter.join(str(value) for value in row) for row in frame.itertuples(False)]
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    "delimiter, newline, encoding",
    [
        (";", "\r\n", "utf-8"),  # European Excel's "CSV (semicolon)"
        (";", "\r\n", "utf-8-sig"),  # its "CSV UTF-8"
        ("\t", "\r\n", "utf-16"),  # Excel's "Unicode text": UTF-16 with its mark, tabs
        ("\t", "\n", "utf-8"),
        ("|", "\n", "utf-8"),
    ],
    ids=["semicolon", "semicolon-utf8-bom", "unicode-text", "tab", "bar"],
)
def test_a_file_delimited_otherwise_than_by_commas_reads_without_a_mapping(
    tmp_path: Path, delimiter: str, newline: str, encoding: str
) -> None:
    """Each was refused, asking for a mapping file naming the delimiter its header shows."""
    frame = shipment_frame(7, seed=2)
    frame.loc[3, "goods_description"] = "BOLTS, NUTS AND WASHERS"  # a comma inside a value
    path = tmp_path / "export.csv"
    path.write_bytes(_dialect(frame, delimiter, newline).encode(encoding))
    expected_path = tmp_path / "commas.csv"
    frame.to_csv(expected_path, index=False)
    _, expected, _ = _read(expected_path)
    read, accepted, issues = _read(path)
    assert read == 7 and issues.empty
    pd.testing.assert_frame_equal(accepted, expected)


@pytest.mark.parametrize("encoding, order", [("utf-16-le", "little"), ("utf-16-be", "big")])
def test_a_utf16_file_without_its_mark_is_refused_saying_so_and_what_to_do(
    tmp_path: Path, encoding: str, order: str
) -> None:
    """Read as UTF-8 it was a header of one column with NUL bytes between the letters, told as
    a file delimited by tabs; with the encoding named it reads."""
    frame = shipment_frame(4, seed=2)
    path = tmp_path / "unicode.txt"
    path.write_bytes(_dialect(frame, "\t", "\r\n").encode(encoding))
    with pytest.raises(InputUnreadable) as told:
        open_records(path, "shipments")
    assert f"UTF-16 ({order}-endian) without its byte-order mark" in str(told.value)
    assert "save it as UTF-8 CSV" in str(told.value)
    assert f"'encoding: {encoding}'" in str(told.value)
    results = list(
        iter_validated(open_records(path, "shipments", ColumnMapping(encoding=encoding)))
    )
    assert sum(len(result.accepted) for result in results) == 4


def test_blank_looking_lines_and_a_repeated_header_are_no_rows_and_the_rows_keep_their_place(
    tmp_path: Path,
) -> None:
    """A line of spaces was a reject with too few fields, a line of delimiters (a row Excel
    cleared) a reject missing every required field, and the header again (two exports joined,
    the second with its own header and its byte-order mark) a reject with every field
    malformed: "read 9, rejected 5" for five lines, one bad. Each is left out now; the rows
    are numbered by their place among the file's lines, these counted, as a reject after them
    shows."""
    frame = shipment_frame(5, seed=8)
    frame.loc[3, "gross_weight_kg"] = "heavy"
    lines = frame.to_csv(index=False).splitlines()
    blank = "," * (len(frame.columns) - 1)
    text = "\n".join(
        [lines[0], lines[1], "   ", lines[2], blank, "\ufeff" + lines[0].upper()]
        + [lines[3], lines[4], ' , "" ,', lines[5]]
    )
    path = tmp_path / "joined.csv"
    path.write_text(text + "\n", encoding="utf-8")
    read, accepted, issues = _read(path)
    assert read == 5
    assert accepted.index.tolist() == [1, 3, 6, 9]
    assert issues[["row", "field", "value", "rule"]].values.tolist() == [
        [7, "gross_weight_kg", "heavy", "malformed"]
    ]


def test_a_header_of_other_columns_inside_a_file_is_refused_naming_its_row(
    tmp_path: Path,
) -> None:
    """Two exports of different columns joined into one: the second's rows were read under the
    first's names, every field in the wrong place."""
    frame = shipment_frame(4, seed=8)
    first = frame.head(2).to_csv(index=False)
    second = frame.tail(2)[frame.columns[::-1]].to_csv(index=False)
    path = tmp_path / "joined.csv"
    path.write_text(first + second, encoding="utf-8")
    with pytest.raises(InputUnreadable, match=r"row 3 is a header of other columns"):
        _read(path)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_delimiter_after_each_data_lines_last_field_loses_no_row(
    tmp_path: Path, delimiter: str
) -> None:
    """An export that ends every record with a delimiter, but not its header line: every line
    was rejected as one field too many. The header again (a second export joined on) is no
    row, and a bad value is told by its row."""
    frame = shipment_frame(4, seed=9)
    frame.loc[2, "gross_weight_kg"] = "heavy"
    rows = [delimiter.join(map(str, row)) + delimiter for row in frame.itertuples(False)]
    header = delimiter.join(frame.columns)
    path = tmp_path / "ended.csv"
    path.write_text("\r\n".join([header, *rows[:2], header, *rows[2:]]) + "\r\n")
    read, accepted, issues = _read(path)
    assert read == 4
    assert accepted.index.tolist() == [1, 2, 5]
    assert issues[["row", "field", "value", "rule"]].values.tolist() == [
        [4, "gross_weight_kg", "heavy", "malformed"]
    ]
    assert open_records(path, "shipments").ignored_columns == [""]
