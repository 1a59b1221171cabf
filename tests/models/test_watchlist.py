"""Watch lists: what a file may hold, which lines hit, and the sentence told for each hit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.watchlist import load_watchlist
from risk_engine.errors import ConfigError


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "shipper_name": ["Golden  Lotus trading", "ACME", "GOLDEN LOTUS TRADING", None],
            "shipper_country": ["VN", "VN", "TH", None],
            "consignee_name": ["X", "blue  heron ltd", "Y", "Z"],
            "consignee_country": ["CN", "HK", "CN", "CN"],
            "freight_forwarder_name": [None, None, None, "Fast Fwd"],
            "container_number": ["CSQU3054383", "MWCU6059784", "CBHU3202732", "MSKU1234565"],
            "bl_number": ["B1", "B2", "B3", "bl 4"],
        },
        index=[11, 12, 13, 14],
    )


def test_each_hit_names_the_role_the_entry_and_its_note(tmp_path: Path) -> None:
    path = tmp_path / "watch.csv"
    path.write_text(
        "Party_Name,country,container_number,bl_number,note\n"
        "golden lotus trading,VN,,,case HPH-24-117\n"
        "Blue Heron Ltd,,,,\n"
        ",,CBHU 320273-2,,seal tampering 2024\n"
        ",,,BL 4,\n"
        "fast fwd,,,,linked to seizure S-9\n"
    )
    watch = load_watchlist(path)
    assert watch is not None
    told = watch.matches(_lines())
    assert told[0] == [
        "shipper GOLDEN LOTUS TRADING (Vietnam) is on the watch list: case HPH-24-117"
    ]
    assert told[1] == ["consignee BLUE HERON LTD is on the watch list"]
    # The entry names Viet Nam: the same name shipping from Thailand is not that party.
    assert told[2] == ["container CBHU3202732 is on the watch list: seal tampering 2024"]
    assert told[3] == [
        "freight forwarder FAST FWD is on the watch list: linked to seizure S-9",
        "B/L BL 4 is on the watch list",
    ]
    assert watch.entries == {"parties": 3, "containers": 1, "bills": 1}


def test_a_forwarder_listed_with_a_country_matches_by_name_and_says_so(tmp_path: Path) -> None:
    """A forwarder declares no country on a line: an entry listed with one matched no
    forwarder line at all, and nothing said so (13 lines of a sample carried it)."""
    path = tmp_path / "watch.csv"
    path.write_text("party_name,country,note\nFast Fwd,CN,case 7\nGolden Lotus Trading,TH,\n")
    watch = load_watchlist(path)
    assert watch is not None
    told = watch.matches(_lines())
    assert told[3] == [
        "freight forwarder FAST FWD (listed for China; a forwarder's country is not declared) "
        "is on the watch list: case 7"
    ]
    # a shipper or consignee still has to be of the country listed
    assert told[0] == [] and told[2] == [
        "shipper GOLDEN LOTUS TRADING (Thailand) is on the watch list"
    ]
    # one sentence for a name listed for two countries; none for a country that is no code
    # (warned as matching nothing), nor when the line names the party in another country
    path.write_text("party_name,country\nFast Fwd,CN\nFast Fwd,VN\nGolden Lotus Trading,China\n")
    lines = _lines()
    lines.loc[11, "freight_forwarder_name"] = "Golden Lotus Trading"  # its shipper is from VN
    lines.loc[12, "freight_forwarder_name"] = "Golden Lotus Trading"
    lines.loc[13, "shipper_name"], lines.loc[13, "shipper_country"] = "Fast Fwd", "US"
    lines.loc[13, "freight_forwarder_name"] = "Fast Fwd"
    again = load_watchlist(path)
    assert again is not None
    told = again.matches(lines)
    assert told[3] == [
        "freight forwarder FAST FWD (listed for China, Vietnam; a forwarder's country is not "
        "declared) is on the watch list"
    ]
    assert told[0] == told[1] == told[2] == []


def test_accented_names_match_however_the_accents_are_stored(tmp_path: Path) -> None:
    """A name typed on a Mac keeps the letter and its accent apart (NFD): the entry matched no
    line of the same name, and nothing said so."""
    import unicodedata

    composed = "ZÁMBEZE NORTE COMERCIAL LDA"
    apart = unicodedata.normalize("NFD", composed)
    assert apart != composed
    path = tmp_path / "watch.csv"
    path.write_text(f"party_name,note\n{apart},case 7\n", encoding="utf-8")
    watch = load_watchlist(path)
    assert watch is not None
    lines = _lines().assign(
        shipper_name=["zámbeze norte comercial lda", apart, "ZAMBEZE NORTE COMERCIAL LDA", None]
    )
    told = watch.matches(lines)
    assert told[0] == told[1] == [f"shipper {composed} is on the watch list: case 7"]
    # an entry written with accents means them: without its accent, another name
    assert told[2] == told[3] == []


def test_full_width_and_unaccented_spellings_meet_their_entries(tmp_path: Path) -> None:
    """A listed party passed its entry by typing its name in full-width letters
    ("ＧＯＬＤＥＮ　ＬＯＴＵＳ", an East Asian keyboard's) or by its accents ("CÔNG TY TNHH SEN VÀNG"
    against the entry CONG TY TNHH SEN VANG), and a rejected line's full-width container number
    was not told as a watch-list hit."""
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,container_number,note\n"
        "GOLDEN LOTUS TRADING,VN,,case 1\n"
        "CONG TY TNHH SEN VANG,,,case 2\n"
        "CÔNG TY TNHH THÀNH ĐẠT,,,case 4\n"
        ",,MSCU1131510,case 3\n",
        encoding="utf-8",
    )
    watch = load_watchlist(path)
    assert watch is not None
    sent = [
        {"shipper_name": "ＧＯＬＤＥＮ　ＬＯＴＵＳ　ＴＲＡＤＩＮＧ", "shipper_country": "VN"},
        {"consignee_name": "Công ty TNHH Sen Vàng"},
        {"container_number": "ＭＳＣＵ１１３１５１０"},  # rejected by the contract: matched as sent
        {"shipper_name": "GOLDEN LOTUS", "shipper_country": "VN"},
        {"consignee_name": "CÔNG TY TNHH THẠNH ĐẠT"},  # another firm than THÀNH ĐẠT
        {"consignee_name": "Công ty TNHH Thành Đạt"},
    ]
    told = watch.matches_records(sent)
    assert told[0] == ["shipper GOLDEN LOTUS TRADING (Vietnam) is on the watch list: case 1"]
    # an entry written without accents meets the name with them, and says how the line wrote it
    assert told[1] == [
        "consignee CONG TY TNHH SEN VANG (written CÔNG TY TNHH SEN VÀNG) is on the watch list: "
        "case 2"
    ]
    assert told[2] == ["container MSCU1131510 is on the watch list: case 3"]
    assert told[3] == []
    # an entry written with accents means them (tone marks tell Vietnamese names apart)
    assert told[4] == []
    assert told[5] == ["consignee CÔNG TY TNHH THÀNH ĐẠT is on the watch list: case 4"]
    # a Thai name is told in the characters it was written in ("จำกัด", Ltd, came back with
    # its "am" taken apart by NFKC, which an officer's search would not find)
    thai = tmp_path / "thai.csv"
    thai.write_text("party_name\nบริษัท ไดฮวา จำกัด\n", encoding="utf-8")
    listed = load_watchlist(thai)
    assert listed is not None
    (said,) = listed.matches_records([{"consignee_name": "บริษัท ไดฮวา จำกัด"}])
    assert said == ["consignee บริษัท ไดฮวา จำกัด is on the watch list"]


def test_characters_that_show_as_nothing_hide_no_entry(tmp_path: Path) -> None:
    """A zero-width space in a rejected line's container or B/L number ("HLBU\u200b1021044"
    looks like the listed box), or in an entry or a line's name, missed the entry without a
    word; a no-break space already matched."""
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,container_number,bl_number\n"
        "ACME IVORY TRADERS LTD,,\n"
        ",HLBU1021044,\n"
        ",,SBFL5590204203\n"
        "GOLDEN LOTUS\u2060,,\n",
        encoding="utf-8",
    )
    watch = load_watchlist(path)
    assert watch is not None
    told = watch.matches_records(
        [
            {"shipper_name": "ACME IVO\u200bRY TRADERS LTD"},
            {"container_number": "HLBU\u200b1021044"},
            {"bl_number": "SBFL\u200b5590204203\ufeff"},
            {"consignee_name": "GOLDEN LO\u00adTUS"},
            {"shipper_name": "ACME IVORY TRADERS"},
        ]
    )
    assert [len(sentences) for sentences in told] == [1, 1, 1, 1, 0]
    assert "ACME IVORY TRADERS LTD" in told[0][0] and "GOLDEN LOTUS" in told[3][0]


def test_a_line_that_hits_nothing_is_told_nothing(tmp_path: Path) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("party_name,country\nNOBODY,VN\n")
    watch = load_watchlist(path)
    assert watch is not None
    assert watch.matches(_lines()) == [[], [], [], []]


def test_two_entries_for_one_party_keep_both_notes(tmp_path: Path) -> None:
    path = tmp_path / "watch.parquet"
    pd.DataFrame({"party_name": ["ACME", "acme"], "note": ["case 1", "case 2"]}).to_parquet(path)
    watch = load_watchlist(path)
    assert watch is not None
    assert watch.matches(_lines())[1] == ["shipper ACME is on the watch list: case 1; case 2"]


def test_a_file_without_a_known_column_or_unreadable_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("name,reason\nACME,x\n")
    with pytest.raises(ConfigError, match=r"watch list .*watch.csv needs one of the columns"):
        load_watchlist(path)
    with pytest.raises(ConfigError, match="cannot read watch list"):
        load_watchlist(tmp_path / "missing.csv")
    assert load_watchlist(None) is None


def test_a_watch_list_saved_in_another_encoding_names_line_row_column_and_byte(
    tmp_path: Path,
) -> None:
    """Saved as Windows text, it stopped with Python's "'utf-8' codec can't decode byte 0xc9 in
    position 38", a place in the file's bytes; a shipment file's error names the line, the row,
    the column, the character and the byte."""
    path = tmp_path / "watch.csv"
    path.write_bytes('party_name,country\nACME,VN\n"SOCIÉTÉ, X",FR\n'.encode("cp1252"))
    with pytest.raises(
        ConfigError,
        match=r"cannot read watch list .*watch.csv: line 3 \(row 2, column party_name, "
        r"character 6\) is not valid UTF-8: byte 0xc9 \(the line reads as .*cp1252\); save "
        r"the file as UTF-8",
    ):
        load_watchlist(path)
    # a quoted name with a line break is one row: the rows are counted as CSV counts them
    path.write_bytes('party_name,note\nACME,"two\nlines"\nSOCIÉTÉ,x\n'.encode("cp1252"))
    with pytest.raises(ConfigError, match=r"line 4 \(row 2, column party_name, character 5\)"):
        load_watchlist(path)


def test_a_missing_name_never_matches_an_entry_spelled_like_a_missing_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("party_name\nNone\nnan\n<NA>\n")
    watch = load_watchlist(path)
    assert watch is not None
    lines = pd.DataFrame({"shipper_name": [None, float("nan"), pd.NA, "nan"]}, dtype=object)
    assert watch.matches(lines) == [[], [], [], ["shipper NAN is on the watch list"]]
    assert watch.matches_records([{"shipper_name": None}, {"shipper_name": {"x": 1}}]) == [[], []]


def test_phrases_many_lines_carry_are_named_as_not_parties(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("party_name\nTo Order of Bank\nsame as consignee\nORDERLY TRADING CO\nACME\n")
    watch = load_watchlist(path)
    assert watch is not None
    assert watch.generic_parties() == ["SAME AS CONSIGNEE", "TO ORDER OF BANK"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 2 and "'TO ORDER OF BANK' is a phrase, not a party" in warned[1]

    # With a country that is none, the entry can match nothing: told so, and not also that
    # every line naming it is selected.
    caplog.clear()
    path.write_text("party_name,country\nSAME AS CONSIGNEE,ZZ\nTO ORDER,VN\n")
    watch = load_watchlist(path)
    assert watch is not None and watch.generic_parties() == ["TO ORDER"]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 2 and "'ZZ' is not an ISO 3166 country code" in warned[0]
    assert "'TO ORDER' is a phrase" in warned[1]


def test_the_watchlist_command_counts_each_entrys_hits_and_warns_about_broad_ones(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from risk_engine.cli import app
    from risk_engine.factories import shipment_frame

    lines = shipment_frame(200, seed=3)
    lines.loc[:59, "consignee_name"] = "TO ORDER"
    lines.loc[0, "notify_party_name"] = "TO ORDER"  # two sentences, one line to inspect
    lines.to_parquet(tmp_path / "arrivals.parquet", index=False)
    container = str(lines.loc[100, "container_number"])
    path = tmp_path / "watch.csv"
    path.write_text(
        f"party_name,container_number,note\nto order,,\n,{container},case 5\x1b[2J\u202e\n"
        "NOBODY LTD,,\n,,no entry\n"
    )
    result = CliRunner().invoke(
        app, ["watchlist", str(path), "--against", str(tmp_path / "arrivals.parquet")]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"watch list {path}: 2 parties, 1 containers, 0 B/Ls" in out
    assert "warning: party 'TO ORDER' is a phrase, not a party" in out
    assert "warning: row 4 names no party_name, container_number or bl_number: left out" in out
    assert "200 lines of" in out and ": 61 hit by 2 of 3 entries" in out  # lines, not sentences
    assert "       60  30.000%  consignee TO ORDER is on the watch list" in out
    # a note's escape sequence (clear the screen) is shown, not obeyed; its direction mark,
    # which shows as nothing, is dropped as the contract drops it from a line
    assert f"        1   0.500%  container {container} is on the watch list: case 5\\x1b[2J" in out
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "warning: 60 of 200 lines (30.00%) hit: consignee TO ORDER" in out
    # an entry no line hits is named: a misspelt name or a wrong country would be
    assert "1 of 3 entries hit no line of" in out and out.rstrip().endswith(
        "(check their spelling and country): party NOBODY LTD"
    )
    broken = CliRunner().invoke(app, ["watchlist", str(tmp_path / "none.csv")])
    assert broken.exit_code == 2 and "cannot read watch list" in broken.stderr


def test_rows_that_name_no_entry_are_told_not_dropped_silently(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,container_number,note\n"
        "ACME,VN,,case 1\n"
        ",VN,,a country alone\n"
        ",,CBHU 320-2732,\n"
        ",,,a note alone\n"
    )
    with caplog.at_level("WARNING", logger="models.watchlist"):
        watch = load_watchlist(path)
    assert watch is not None
    assert watch.entries == {"parties": 1, "containers": 1, "bills": 0}
    assert watch.unused_rows == [2, 4]
    assert "2 rows name no party_name, container_number or bl_number" in caplog.text
    assert "(rows 2, 4)" in caplog.text
    quiet = load_watchlist(path, warn=False)
    assert quiet is not None and quiet.unused_rows == [2, 4]


def test_entries_no_accepted_line_can_match_are_told_with_their_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A container number missing its check digit, or a country that is no ISO code, made an
    entry that could never select anything, without a word."""
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,container_number,bl_number\n"
        "ACME,VN,CSQU305438,\n"  # ten characters: the check digit is missing
        "GOLDEN LOTUS,XV,,\n"
        ",,csqu 305438-4,\n"  # a wrong check digit still matches the line that carries it
        ",,,MEDU 1234567\n"  # the contract keeps a B/L's inner space: no line has one
        ",,,medu-12/34\n"  # upper-cased as lines are
    )
    with caplog.at_level("WARNING", logger="models.watchlist"):
        watch = load_watchlist(path)
    assert watch is not None
    assert [row for row, _ in watch.unmatchable] == [1, 2, 4]
    assert "row 4: bl_number 'MEDU 1234567' is not a B/L number" in caplog.text
    assert "row 1: container_number 'CSQU305438' is not a container number" in caplog.text
    assert "row 2: country 'XV' is not an ISO 3166 country code" in caplog.text
    from typer.testing import CliRunner

    from risk_engine.cli import app

    shown = CliRunner().invoke(app, ["watchlist", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "warning: row 2: country 'XV'" in shown.stdout


def test_a_country_column_alone_is_not_a_watch_list(tmp_path: Path) -> None:
    path = tmp_path / "watch.csv"
    path.write_text("country,note\nVN,everything from Vietnam\n")
    with pytest.raises(ConfigError, match=r"country only narrows a party_name"):
        load_watchlist(path)


def test_a_name_with_an_unquoted_comma_is_an_error_not_a_shifted_list(tmp_path: Path) -> None:
    # With the bad row first, pandas took the first column for an index and read the list one
    # column over: the parties ("LTD", "CN") and ("HK", "OK"), exit 0.
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,note\nGUANGZHOU JINDA IMP. & EXP. CO., LTD,CN,case 7\nX HK,HK,OK\n"
    )
    with pytest.raises(ConfigError, match="more fields than the header"):
        load_watchlist(path)


def test_a_watch_list_saved_with_semicolons_and_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Spreadsheets in many locales save CSV so; it failed as "missing columns".
    path = tmp_path / "watch.csv"
    path.write_bytes("\ufeffparty_name;country;note\r\nACME TRADING;VN;case 9\r\n".encode())
    listed = load_watchlist(path)
    assert listed is not None and ("ACME TRADING", "VN") in listed.parties
    with pytest.raises(ConfigError, match="no such file"):
        load_watchlist(tmp_path / "missing.parquet")


def test_the_entries_a_batch_hits_are_told_apart_from_those_it_does_not() -> None:
    from models.watchlist import Watchlist

    watch = Watchlist(
        parties={("ACME", "VN"), ("GHOST TRADING", "VN"), ("SWIFT LOGISTICS", "TH"), ("ACME", "")},
        containers={"MSCU6061062"},
        bills={"BL404"},
    )
    lines = pd.DataFrame(
        {
            "shipper_name": ["ACME", "ACME"],
            "shipper_country": ["VN", "KH"],
            "freight_forwarder_name": ["SWIFT LOGISTICS", None],
            "container_number": ["MSCU6061062", "TGHU1234567"],
            "bl_number": ["BL1", "BL2"],
        }
    )
    hit: set[tuple[str, str, str]] = set()
    told = watch.matches(lines, hit=hit)
    assert len(told[0]) == 4 and len(told[1]) == 1  # ACME (any country) on both lines
    assert hit == {
        ("party", "ACME", "VN"),
        ("party", "ACME", ""),
        ("party", "SWIFT LOGISTICS", "TH"),  # a forwarder, matched by name
        ("container", "MSCU6061062", ""),
    }
    unhit = [watch.shown(entry) for entry in watch.every_entry() if entry not in hit]
    assert unhit == ["party GHOST TRADING (Vietnam)", "B/L BL404"]


def test_a_party_listed_with_a_country_is_matched_by_name_where_the_line_gives_none(
    tmp_path: Path,
) -> None:
    # A watched notify party was missed when the line left its country blank or gave one the
    # contract cannot read ("Vietnam"): a consignment slipped past by leaving it out. A
    # forwarder, declaring none, was already matched by name.
    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,note\nVIET DUC TRADING JSC,VN,case HPH-12\n"
        "VIET DUC TRADING JSC,VN,case HPH-1\n"
    )
    watch = load_watchlist(path)
    assert watch is not None
    lines = pd.DataFrame(
        {
            "notify_party_name": ["Viet Duc Trading JSC"] * 4,
            "notify_party_country": [None, "VN", "Vietnam", "TH"],
        }
    )
    told = watch.matches(lines)
    assert [len(t) for t in told] == [1, 1, 1, 0]
    assert "the line gives no country for it" in told[0][0] and "(Vietnam)" in told[1][0]
    # both notes are kept: the second, shorter one, replaced the first ("HPH-1" of "HPH-12")
    assert told[1][0].endswith("case HPH-12; case HPH-1")


def test_a_services_log_names_no_listed_party_or_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every start and reload of the service logged listed parties by name ("party 'SHUNHUI
    (HK) LIMITED' can match no accepted line"): intelligence in the journal."""
    import logging

    path = tmp_path / "watch.csv"
    path.write_text(
        "party_name,country,bl_number\nSHUNHUI (HK) LIMITED,XX,\nSAME AS CONSIGNEE,,\n,,BL WITH SPACE\n"
    )
    with caplog.at_level(logging.WARNING, logger="models.watchlist"):
        load_watchlist(path, name_values=False)
    said = caplog.text
    assert "2 entries no accepted line can match (rows 1, 3)" in said
    assert "1 party entries are phrases" in said
    for listed in ("SHUNHUI", "SAME AS CONSIGNEE", "BL WITH SPACE"):
        assert listed not in said
