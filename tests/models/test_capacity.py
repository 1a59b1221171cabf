"""Capacity files: slots per day by port, read with errors that name the row, field and value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.capacity import load_port_capacity
from risk_engine.errors import ConfigError


def test_a_capacity_file_gives_each_listed_port_its_slots_and_the_others_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text("Port_of_Discharge,slots_per_day\nvncli,25\nVN HPH,0\n")
    capacity = load_port_capacity(path)
    assert capacity is not None and capacity.slots == {"VNCLI": 25, "VNHPH": 0}
    ports = pd.Series(["VNCLI", "SGSIN", None, "VNHPH"])
    assert capacity.per_line(ports).tolist() == [25, -1, -1, 0]
    assert load_port_capacity(None) is None
    assert capacity.documentary == {}


def test_a_capacity_file_may_give_ports_their_document_checks_a_day(tmp_path: Path) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(
        "port_of_discharge,slots_per_day,Documentary_Slots_Per_Day\nVNCLI,25,60\nVNHPH,10,\n"
    )
    capacity = load_port_capacity(path)
    assert capacity is not None and capacity.slots == {"VNCLI": 25, "VNHPH": 10}
    assert capacity.documentary == {"VNCLI": 60}  # blank: Hai Phong keeps --documentary
    ports = pd.Series(["VNCLI", "VNHPH", "SGSIN"])
    assert capacity.per_line(ports, documentary=True).tolist() == [60, -1, -1]
    # A Parquet file whose column has a gap reads its numbers as floats: 60.0 is 60.
    frame = pd.DataFrame(
        {
            "port_of_discharge": ["VNCLI", "VNHPH"],
            "slots_per_day": [25, 10],
            "documentary_slots_per_day": [60.0, None],
        }
    )
    frame.to_parquet(tmp_path / "capacity.parquet")
    again = load_port_capacity(tmp_path / "capacity.parquet")
    assert again is not None and again.documentary == {"VNCLI": 60}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port,slots\nVNCLI,3\n", "needs the columns"),
        ("port_of_discharge,slots_per_day\nHai Phong,3\n", "row 1: port_of_discharge='Hai Phong'"),
        ("port_of_discharge,slots_per_day\nVNCLI,-3\n", "row 1: slots_per_day='-3'"),
        ("port_of_discharge,slots_per_day\nVNCLI,2.5\n", "slots_per_day='2.5' is not a whole"),
        # a traceback (isdigit passed, int failed), and an Arabic-Indic three read as 3 slots
        (
            "port_of_discharge,slots_per_day\nVNCLI,\u00b2\n",
            "slots_per_day='\u00b2' is not a whole",
        ),
        (
            "port_of_discharge,slots_per_day\nVNCLI,\u0663\n",
            "slots_per_day='\u0663' is not a whole",
        ),
        ("port_of_discharge,slots_per_day\nVNCLI,3\nvncli,4\n", "row 2: port_of_discharge=VNCLI"),
        (
            "port_of_discharge,slots_per_day,documentary_slots_per_day\nVNCLI,3,4\nVNHPH,3,many\n",
            "row 2: documentary_slots_per_day='many' is not a whole number",
        ),
    ],
)
def test_a_bad_capacity_file_names_the_row_field_and_value(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "capacity.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"capacity file .*capacity.csv") as raised:
        load_port_capacity(path)
    assert message in str(raised.value)


def test_a_missing_capacity_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read capacity file"):
        load_port_capacity(tmp_path / "none.csv")


def test_a_capacity_file_in_another_encoding_is_a_clear_error_naming_where(
    tmp_path: Path,
) -> None:
    # Python's "'utf-8' codec can't decode byte 0xa0 in position 45" named no line or column
    path = tmp_path / "capacity.csv"
    path.write_bytes(
        "port_of_discharge;slots_per_day\nVNCLI;25\nVNHPH;1\xa0200\n".encode("latin-1")
    )
    with pytest.raises(
        ConfigError,
        match=r"cannot read capacity file .*capacity.csv: line 3 \(row 2, column slots_per_day, "
        r"character 8\) is not valid UTF-8: byte 0xa0",
    ):
        load_port_capacity(path)


def test_a_capacity_file_saved_with_semicolons_is_read(tmp_path: Path) -> None:
    # as spreadsheets in many locales save CSV: it failed as "missing columns"
    path = tmp_path / "capacity.csv"
    path.write_bytes("\ufeffport_of_discharge;slots_per_day\r\nVNCLI;25\r\n".encode())
    capacity = load_port_capacity(path)
    assert capacity is not None and capacity.slots == {"VNCLI": 25}


def test_a_capacity_file_or_a_watch_list_with_a_header_alone_is_warned_of(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Read silently: an export that lost its rows left every port on the share, and no
    # container on the watch list, without a word.
    from models.watchlist import load_watchlist

    (tmp_path / "capacity.csv").write_text("port_of_discharge,slots_per_day\n")
    (tmp_path / "watch.csv").write_text("party_name,container_number,note\n")
    with caplog.at_level("WARNING"):
        capacity = load_port_capacity(tmp_path / "capacity.csv")
        watch = load_watchlist(tmp_path / "watch.csv")
    assert capacity is not None and capacity.slots == {}
    assert watch is not None
    assert "capacity.csv lists no port" in caplog.text
    assert "watch.csv has no entry: no line will be selected as WATCHLIST" in caplog.text
