"""The pydantic models and the vectorised frame validator give the same verdict on any row.

Rows start valid (from the package factories) and get broken by hypothesis, field by field, with
values drawn both from a list of realistic mistakes and from arbitrary text.
"""

from __future__ import annotations

import enum
import math
import numbers
from datetime import datetime
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk_engine.columns import OUTCOME_FIELDS, SHIPMENT_FIELDS
from risk_engine.contract import check_record
from risk_engine.factories import valid_outcome_row, valid_shipment_row
from risk_engine.validation import validate_frame

MISTAKES = [
    "",
    "   ",
    "0",
    "-1",
    "1e400",
    "nan",
    "3.5",
    "12",
    "CSQU3054383",
    "CSQU3054384",
    "csqu 305438-3",
    "CSQU305438",
    "9074729",
    "IMO 9074729",
    "9074728",
    "VNHPH",
    "vn hph",
    "XXZZZ",
    "VN1PH",
    "MYPKG;SGSIN",
    "MYPKG;XX",
    "VN",
    "vn",
    "ZZ",
    "USD",
    "XXX",
    "0801.32",
    "08A1",
    "9901",
    "2025-02-30",
    "2025-03-01T08:00:00Z",
    "2025-03-01 08:00",
    "2025-03-01T08:00:00+07:00",
    "1899-01-01",
    "01/03/2025",
    "HOUSE",
    "house",
    "SEIZURE",
    "FULL",
    "PREPAID",
    '=HYPERLINK("x")',
    "Công ty TNHH",
    "ACME\x00LTD",  # a NUL: no text (PostgreSQL cannot store it)
    "MYPKG;SG\x00SIN",
    "ı",
    "ß",
    "x" * 600,
    "22G1",
    "L5R1",
    "35000",
    "400.0",
    "400.5",
    "2025-03-01T23:59:60Z",
    "2025-03-01T08:00:00.1234567Z",
    "2025-03-01T08:00:00+0700",
    "2025-03-01T08:00:00+07",
    "2025-03-01T08:00:00+07:99",
    "2025-03-01T08:00:00+07:",
    "2025-03-01t08:00z",
    "1.000",
    "2025-03-01T24:00:00Z",
    # full-width, as a Chinese, Japanese or Korean input method types them
    "ＣＳＱＵ３０５４３８３",
    "ｃｓｑｕ\u3000３０５４３８－３",
    "０３０５．７１",
    "ＶＮＨＰＨ",
    "ＭＹＰＫＧ；ＳＧＳＩＮ",
    "１２５００",
    "１２，５００",
    "２０２５－０３－０１Ｔ０８：００：００Ｚ",
    "ＨＯＵＳＥ",
    "\u2003",
    "Ô",
    "\ua7f1",  # Arrow's NFKC (a later Unicode) reads it as S, Python's 3.11 leaves it
]

value_strategy = st.one_of(
    st.sampled_from(MISTAKES),
    st.text(max_size=20),
    st.text(alphabet="0123456789.-+eE :TZ/", max_size=26),
)


def _plain(value: Any) -> Any:
    """Comparable form of a parsed value from either path."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, pd.Timestamp | datetime):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return float(value)
    return str(value)


def _scalar_verdict(row: dict[str, str], kind: str) -> tuple[Any, Any]:
    check = check_record(row, kind)
    issues = sorted({(i.field, i.rule.value, i.severity.value) for i in check.issues})
    values = check.record.model_dump() if check.record is not None else None
    return (check.rejected, issues), values


def _check(rows: list[dict[str, Any]], kind: str, dtype: str = "string[pyarrow]") -> None:
    """Validate the rows, repeated past 1,000 so the per-distinct-value path runs too, as one
    frame; then compare each row with its pydantic verdict."""
    repeats = -(-1_000 // len(rows))
    frame = pd.DataFrame(rows * repeats).astype(dtype)
    result = validate_frame(frame, kind, dedupe=False)
    accepted = result.accepted
    by_row = {row: group for row, group in result.issues.groupby("row")}
    empty = result.issues.iloc[:0]
    for index, row in enumerate(rows):
        scalar, dumped = _scalar_verdict(row, kind)
        for number in (index + 1, index + 1 + len(rows) * (repeats - 1)):
            mine = by_row.get(number, empty)
            frame_verdict = (
                number not in accepted.index,
                sorted(set(zip(mine["field"], mine["rule"], mine["severity"], strict=True))),
            )
            assert scalar == frame_verdict, f"pydantic {scalar} vs frame {frame_verdict} on {row}"
            if dumped is not None:
                differing = [
                    (name, _plain(value), _plain(accepted.at[number, name]))
                    for name, value in dumped.items()
                    if _plain(value) != _plain(accepted.at[number, name])
                ]
                assert not differing, f"parsed values differ: {differing}"


def _rows(kind: str) -> st.SearchStrategy[list[dict[str, str]]]:
    fields = [s.name for s in (SHIPMENT_FIELDS if kind == "shipments" else OUTCOME_FIELDS)]
    factory = valid_shipment_row if kind == "shipments" else valid_outcome_row
    bases = [factory(seed) for seed in range(30)]
    change = st.tuples(st.sampled_from(fields), value_strategy)
    row = st.builds(
        lambda base, changes: {**base, **dict(changes)},
        st.sampled_from(bases),
        st.lists(change, max_size=4),
    )
    return st.lists(row, min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows("shipments"))
def test_pydantic_and_frame_validator_agree_on_shipment_lines(rows: list[dict[str, str]]) -> None:
    _check(rows, "shipments")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows("outcomes"))
def test_pydantic_and_frame_validator_agree_on_outcomes(rows: list[dict[str, str]]) -> None:
    _check(rows, "outcomes")


# a JSON boolean is no value of any field: read as its text it made the B/L "TRUE"
NESTED = [
    {"a": 1},
    {},
    [1, 2],
    ["MYPKG", {"b": 2}],
    [["SGSIN"]],
    ("VNHPH",),
    ["MYPKG", "SGSIN"],
    True,
    False,
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.builds(
            lambda base, changes: {**base, **dict(changes)},
            st.sampled_from([valid_shipment_row(seed) for seed in range(10)]),
            st.lists(
                st.tuples(
                    st.sampled_from([s.name for s in SHIPMENT_FIELDS]), st.sampled_from(NESTED)
                ),
                min_size=1,
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_an_object_or_a_list_where_a_value_belongs_is_malformed_through_both_paths(
    rows: list[dict[str, Any]],
) -> None:
    """JSON sent by a client, or a Parquet struct column: an object in a name field is not a
    name. Both paths call it malformed (a list is still fine in a list field)."""
    _check(rows, "shipments", dtype="object")
    line = valid_shipment_row(1)
    for value in ({"a": 1}, ["ACME", "LTD"]):
        check = check_record({**line, "shipper_name": value})
        assert check.rejected
        assert [(i.field, i.rule.value) for i in check.issues] == [("shipper_name", "malformed")]
    ports = check_record({**line, "transshipment_ports": ["MYPKG", "SGSIN"]})
    assert not ports.issues and ports.record is not None
    assert ports.record.transshipment_ports == ["MYPKG", "SGSIN"]


def test_a_boolean_column_is_malformed_in_any_field() -> None:
    """A Parquet boolean column mapped to a field: each value is malformed, not "True"."""
    rows = [valid_shipment_row(seed) for seed in range(3)]
    frame = pd.DataFrame(rows).astype("string")
    frame["notify_party_name"] = pd.array([True, False, None], dtype="boolean")
    frame["bl_number"] = pd.Series([True, False, True])
    result = validate_frame(frame, "shipments", dedupe=False)
    assert result.accepted.empty
    issues = result.issues
    told = set(zip(issues["field"], issues["rule"], issues["row"], strict=True))
    assert told == {
        ("bl_number", "malformed", 1),
        ("bl_number", "malformed", 2),
        ("bl_number", "malformed", 3),
        ("notify_party_name", "malformed", 1),
        ("notify_party_name", "malformed", 2),
    }
    # shown as the API shows it: JSON's true, not Python's True; a long text by its start
    shown = issues[issues["field"] == "bl_number"]["value"].tolist()
    assert shown == ["true", "false", "true"]
    long = pd.DataFrame([{**rows[0], "shipper_name": "A" * 5_000}]).astype("string")
    (told,) = validate_frame(long, "shipments").issues["value"].tolist()
    assert told == "A" * 1_024 + "... (5,000 characters)"


def test_characters_that_show_as_nothing_are_dropped_through_both_paths() -> None:
    """A zero-width space, a soft hyphen, a bidi override or a byte-order mark inside a value
    shows as nothing: "IVO\u200bRY" reads IVORY on screen but missed the CITES words, and a
    description of zero-width spaces alone passed for one."""
    import sys
    import unicodedata

    from risk_engine.parsing import unformatted, visible

    every = (chr(c) for c in range(sys.maxunicode + 1))
    format_characters = "".join(c for c in every if unicodedata.category(c) == "Cf")
    assert unformatted(f"A{format_characters}B") == "AB"  # compared without any of them
    assert visible("ZÁMBEZE\u00a0NORTE") == "ZÁMBEZE\u00a0NORTE"  # letters and spaces stay
    # what is stored keeps the format characters that change what is shown: the joiners of a
    # Persian name (it rendered joined) and of emoji, an Arabic number sign, a flag's tags
    for kept in (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        "\U0001f468\u200d\U0001f469",
        "\u0600\u0661",
        "\U0001f3f4\U000e0067\U000e0062\U000e007f",
    ):
        assert visible(kept) == kept
    line = valid_shipment_row(3)
    rows = [
        {**line, "goods_description": "IVO\u200bRY CAR\u00adVINGS\ufeff"},
        {**line, "shipper_name": "\u202eACME\u202c", "container_number": "CSQU\u200b3054383"},
        {**line, "gross_weight_kg": "21\u200b500", "hs_code": "\u20600507"},
        {**line, "goods_description": "\u200b\u2060"},
    ]
    # codes, numbers and identifiers are read without any format character, a joiner included
    # (a container with one was rejected); names keep their script's joiner; a value of joiners
    # alone is blank
    rows += [
        {
            **line,
            "container_number": "CSQU\u200d3054383",
            "hs_code": "0507\u200c90",
            "voyage_number": "0305S\u200d",
            "shipper_name": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        },
        {**line, "consignee_name": "\u200d"},
    ]
    _check(rows, "shipments")
    joined = check_record(rows[4]).record
    assert joined is not None
    assert (joined.container_number, joined.hs_code, joined.voyage_number) == (
        "CSQU3054383",
        "050790",
        "0305S",
    )
    assert joined.shipper_name == "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert [(i.field, i.rule.value) for i in check_record(rows[5]).issues] == [
        ("consignee_name", "required")
    ]
    first = check_record(rows[0]).record
    assert first is not None and first.goods_description == "IVORY CARVINGS"
    second = check_record(rows[1]).record
    assert second is not None
    assert (second.shipper_name, second.container_number) == ("ACME", "CSQU3054383")
    assert [(i.field, i.rule.value) for i in check_record(rows[3]).issues] == [
        ("goods_description", "required")
    ]


def test_factory_rows_are_valid_through_both_paths() -> None:
    rows = [valid_shipment_row(seed) for seed in range(5)]
    assert all(not check_record(row).issues for row in rows)
    assert all(not check_record(valid_outcome_row(s), "outcomes").issues for s in range(5))
    _check(rows, "shipments")


def test_parse_fields_reads_each_field_as_parsing_it_alone_does() -> None:
    # parse_fields loops over a record with the remembered verdicts of texts: the second
    # reading of each value comes from them, and both readings must equal a fresh parse.
    from risk_engine.parsing import _parse_scalar, parse_fields, parse_scalar

    values: list[Any] = [*MISTAKES, None, 7, 3.5, True, ["MYPKG", " sgsin "], ("VNHPH",), []]
    for specs in (SHIPMENT_FIELDS, OUTCOME_FIELDS):
        for value in values:
            record = {spec.name: value for spec in specs}
            fresh = []
            for spec in specs:
                parsed, rules = _parse_scalar(spec, value)
                fresh.append((spec.default if parsed is None else parsed, rules))
            for _ in range(2):
                parsed_values, broken = parse_fields(specs, record)
                assert parsed_values == {s.name: v for s, (v, _) in zip(specs, fresh, strict=True)}
                assert broken == [
                    (s, value, rule)
                    for s, (_, rules) in zip(specs, fresh, strict=True)
                    for rule in rules
                ]
                assert [parse_scalar(spec, value) for spec in specs] == fresh


def test_a_remembered_list_is_a_list_of_each_records_own() -> None:
    # The seals and transits a line sends as one text are remembered as other texts are: each
    # record still gets a list (as a fresh parse gives), and one it changes is no other's.
    from risk_engine.parsing import parse_fields, parse_scalar

    specs = {spec.name: spec for spec in SHIPMENT_FIELDS}
    record = {"transshipment_ports": "MYPKG;SGSIN", "seal_numbers": "SL1; SL2"}
    first, _ = parse_fields(SHIPMENT_FIELDS, record)
    first["transshipment_ports"].append("CNSHA")
    first["seal_numbers"].clear()
    second, _ = parse_fields(SHIPMENT_FIELDS, record)
    assert second["transshipment_ports"] == ["MYPKG", "SGSIN"]
    assert second["seal_numbers"] == ["SL1", "SL2"]
    ports, rules = parse_scalar(specs["transshipment_ports"], "MYPKG;SGSIN")
    assert type(ports) is list and ports == ["MYPKG", "SGSIN"] and rules == []
    ports.append("CNSHA")
    assert parse_scalar(specs["transshipment_ports"], "MYPKG;SGSIN")[0] == ["MYPKG", "SGSIN"]


FULL_WIDTH = {  # each value as an East Asian input method types it, and as the contract reads it
    "container_number": ("ＣＳＱＵ３０５４３８３", "CSQU3054383"),
    "bl_number": ("ｍｅｄｕ１２３４５６７", "MEDU1234567"),
    "hs_code": ("０３０５．７１", "030571"),
    "port_of_loading": ("ＣＮＳＨＡ", "CNSHA"),
    "port_of_discharge": ("ＶＮ\u3000ＨＰＨ", "VNHPH"),
    "transshipment_ports": ("ＭＹＰＫＧ；ＳＧＳＩＮ", "MYPKG;SGSIN"),
    "vessel_imo": ("ＩＭＯ\u3000９０７４７２９", "9074729"),
    "shipper_country": ("ＣＮ", "CN"),
    "currency": ("ＵＳＤ", "USD"),
    "declared_value": ("２００００", 20000.0),
    "gross_weight_kg": ("１２５００", 12500.0),
    "package_count": ("４００", 400),
    "filed_at": ("２０２５－０３－０１Ｔ０８：００：００Ｚ", "2025-03-01T08:00:00+00:00"),
    "bl_type": ("ＳＩＭＰＬＥ", "SIMPLE"),
}


def test_full_width_codes_numbers_and_times_read_as_ascii_through_both_paths() -> None:
    """An IME's full-width "ＭＳＣＵ…", "０３０５．７１" or "ＣＮＳＨＡ" was malformed and the line
    rejected; the contract reads them in their plain form (NFKC), not flagged, as it reads a
    lower-case code. Free text keeps what was typed."""
    line = {**valid_shipment_row(2), "etd": "", "booking_created_at": "", "last_amended_at": ""}
    line.update(currency="USD", declared_value="1")
    line["eta"] = "2025-04-01T08:00:00Z"
    typed = {**line, **{name: typed for name, (typed, _) in FULL_WIDTH.items()}}
    typed["shipper_name"] = "ＧＯＬＤＥＮ\u3000ＬＯＴＵＳ"
    check = check_record(typed)
    assert not check.issues and check.record is not None
    read = check.record.model_dump()
    assert {name: _plain(read[name]) for name in FULL_WIDTH} == {
        name: _plain(value) for name, (_, value) in FULL_WIDTH.items()
    }
    assert read["shipper_name"] == "ＧＯＬＤＥＮ\u3000ＬＯＴＵＳ"  # a name as written
    plain = check_record({**line, **{name: str(value) for name, (_, value) in FULL_WIDTH.items()}})
    assert plain.record is not None
    assert {name: read[name] for name in FULL_WIDTH} == {
        name: plain.record.model_dump()[name] for name in FULL_WIDTH
    }
    # a thousands mark typed full width is the ASCII one: rejected without a mapping that names it
    comma = check_record({**line, "gross_weight_kg": "１２，５００"})
    assert [(i.field, i.rule.value) for i in comma.issues] == [("gross_weight_kg", "malformed")]
    rows = [typed, {**typed, "container_number": "ＣＳＱＵ３０５４３８４"}, line]
    rows.append({**line, "bl_number": "BL\ua7f1"})  # Arrow's NFKC reads an S, Python's not
    _check(rows, "shipments")
    _check(rows, "shipments", dtype="object")
