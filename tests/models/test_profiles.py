"""Risk profiles: an analyst's targeting criteria, matched on the contract's normalised lines,
told in the rule hits and, for `inspect` profiles, making a line mandatory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.profiles import PROFILE_FIELDS, load_profiles
from risk_engine.errors import ConfigError
from risk_engine.factories import shipment_frame
from risk_engine.validation import validate_frame
from training.fixtures import small_trained_scorer

PROFILES = """
profiles:
  - name: pangolin-klang
    note: phase 3 intelligence
    action: inspect
    valid_from: 2025-01-01
    valid_until: 2025-07-01
    when:
      country_of_origin: [ng, CM]
      hs_code: ["0507", "05.08"]
      transshipment_ports: [MYPKG]
  - name: fish-maw
    action: flag
    when:
      goods_description: [fish maw]
"""


def _lines() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "country_of_origin": ["NG", "NG", "NG", "VN", "CM", None],
            "hs_code": ["050790", "050710", "050790", "050790", "050800", "050790"],
            "transshipment_ports": ["SGSIN;MYPKG", "MYPKG", "SGSIN", "MYPKG", "MYPKG", "MYPKG"],
            "goods_description": [
                "DRIED FISH MAW",
                "FISH MAWS",
                "FISH MAW, DRIED",
                "CATFISH MAW",
                "SCALES",
                None,
            ],
            "filed_at": pd.to_datetime(
                [
                    "2025-03-01T00:00",
                    "2025-06-30T23:59",
                    "2025-03-01T00:00",
                    "2025-03-01T00:00",
                    "2025-07-01T00:00",
                    "2025-03-01T00:00",
                ],
                utc=True,
            ),
        }
    )
    return frame.astype({c: "string" for c in frame.columns if c != "filed_at"})


def _load(tmp_path: Path, text: str = PROFILES):  # type: ignore[no-untyped-def]
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    return load_profiles(path)


def test_a_line_meets_a_profile_only_when_every_criterion_holds_within_its_validity(
    tmp_path: Path,
) -> None:
    profiles = _load(tmp_path)
    assert profiles is not None and profiles.entries == {"inspect": 1, "flag": 1}
    told, inspect = profiles.hits(_lines())
    klang = "risk profile pangolin-klang: phase 3 intelligence"
    maw = "risk profile fish-maw"
    assert told == [
        [klang, maw],  # origin, HS prefix, a port of the route, and a word of the text
        [klang],  # 'MAWS' is another word; filed a minute before valid_until
        [maw],  # not through Port Klang
        [],  # origin VN; 'CATFISH' does not contain the word MAW
        [],  # filed on valid_until (exclusive)
        [],  # no origin: a missing value meets nothing
    ]
    assert inspect.tolist() == [True, True, False, False, False, False]  # flag only tells


def test_text_criteria_meet_lines_whatever_their_spacing_and_accent_form(
    tmp_path: Path,
) -> None:
    # "TROPICAL  HARDWOOD" (two spaces), a line break in a quoted cell, an accent typed apart
    # (NFD) on either side, full-width HS digits, a character that shows as nothing: each missed.
    profiles = _load(
        tmp_path,
        "profiles:\n"
        "  - {name: logs, action: flag, when: {goods_description: ['tropical hard\u200bwood logs']}}\n"
        "  - {name: bois, action: flag, when: {goods_description: ['BOIS SCIE\u0301']}}\n"
        "  - {name: nuts, action: flag, when: {hs_code: ['\uff10\uff18\uff10\uff11']}}\n",
    )
    assert profiles is not None
    lines = pd.DataFrame(
        {
            "goods_description": [
                "Tropical  Hardwood Logs",
                "TROPICAL HARD\u00adWOOD\nLOGS",  # a soft hyphen shows as nothing
                "BOIS SCI\u00c9",
                "BOIS SCIE\u0301 DE CHENE",
                "HARDWOOD LOGS",
            ],
            "hs_code": ["440349", "440349", "440799", "440799", "080132"],
        },
        dtype="string",
    )
    told, _ = profiles.hits(lines)
    assert told == [
        ["risk profile logs"],
        ["risk profile logs"],
        ["risk profile bois"],
        ["risk profile bois"],
        ["risk profile nuts"],
    ]


def test_text_criteria_meet_words_of_unspaced_scripts_anywhere_and_full_width_text(
    tmp_path: Path,
) -> None:
    """Chinese and Thai write no space between words: the profile word 象牙 (ivory) met "象牙"
    and "象牙 雕刻品" but not "象牙雕刻品"; "IVORY象牙" met neither IVORY nor 象牙; full-width
    "ＩＶＯＲＹ　ＣＡＲＶＩＮＧＳ" and "ngà voi" (typed as NGA VOI) met nothing."""
    profiles = _load(
        tmp_path,
        "profiles:\n"
        "  - {name: ivory, action: inspect, when: {goods_description: ['象牙', IVORY, 'nga voi']}}\n"
        "  - {name: pangolin, action: flag, when: {goods_description: ['穿山甲', 'งาช้าง']}}\n"
        "  - {name: tea, action: flag, when: {goods_description: ['THÉ']}}\n",
    )
    assert profiles is not None
    lines = pd.DataFrame(
        {
            "goods_description": [
                "象牙雕刻品",
                "IVORY象牙",
                "ＩＶＯＲＹ　ＣＡＲＶＩＮＧＳ",
                "ngà voi",
                "穿山甲鳞片",
                "งาช้างแกะสลัก",
                "IVORYX BUTTONS",  # a spaced word still stands alone
                "象 牙",
                "PARTS FOR THE MACHINE",  # a word written with accents means them
                "Thé vert",
            ],
        },
        dtype="string",
    )
    told, _ = profiles.hits(lines)
    assert told == [
        ["risk profile ivory"],
        ["risk profile ivory"],
        ["risk profile ivory"],
        ["risk profile ivory"],
        ["risk profile pangolin"],
        ["risk profile pangolin"],
        [],
        [],
        [],
        ["risk profile tea"],
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "profiles:\n  - name: a\n    when: {consignee_id: [X]}\n",
            "profile 1 (a): when: field 'consignee_id' cannot be a criterion",
        ),
        (  # pydantic read 1 as a second after 1970: "should have zero time"
            "profiles:\n  - name: a\n    valid_from: 1\n    when: {hs_code: ['0507']}\n",
            "profile 1 (a): valid_from: 1 is not a day: write it as YYYY-MM-DD",
        ),
        (
            "profiles:\n  - name: a\n    valid_until: 2025-01-01T10:00:00\n"
            "    when: {hs_code: ['0507']}\n",
            "valid_until: '2025-01-01T10:00:00' is not a day",
        ),
        ("profiles:\n  - name: a\n    when: {hs_code: []}\n", "needs one or more non-blank"),
        (
            "profiles:\n  - name: a\n    action: seize\n    when: {hs_code: ['0507']}\n",
            "profile 1 (a): action:",
        ),
        (
            "profiles:\n  - name: a\n    valid_from: 2025-02-01\n    valid_until: 2025-01-01\n"
            "    when: {hs_code: ['0507']}\n",
            "valid_until 2025-01-01 is not after valid_from",
        ),
        (
            "profiles:\n  - {name: a, when: {hs_code: ['0507']}}\n"
            "  - {name: a, when: {hs_code: ['0508']}}\n",
            "profile 2 (a): the name 'a' is used twice",
        ),
        ("profiles:\n  - {name: a, when: {}}\n", "profile 1 (a): when:"),
        (
            "profiles:\n  - {name: a, when: {hs_code: [0507]}}\n",
            "quote the values of 'hs_code', as in ['0507']",
        ),
        (
            "profiles:\n  - {name: a, when: {hs_code: ['ab']}}\n",
            "hs_code 'AB' is not an HS code prefix (digits, with dots or spaces)",
        ),
        (  # a letter O for a zero: read as 081 it met other goods (0810-0819)
            "profiles:\n  - {name: a, when: {hs_code: ['08O1']}}\n",
            "hs_code '08O1' is not an HS code prefix",
        ),
        (
            "profiles:\n  - {name: a, when: {hs_code: ['5']}}\n",
            "each value of 'hs_code' needs at least two digits",
        ),
        (
            "profiles:\n  - {name: a, when: {hs_code: ['98']}}\n",
            "hs_code '98' names no HS chapter (01-97): no line could meet it",
        ),
        (
            "profiles:\n  - {name: a, when: {country_of_origin: [NG, XX]}}\n",
            "country_of_origin 'XX' is not a value the contract accepts (unknown_country)",
        ),
        (
            "profiles:\n  - {name: a, when: {transshipment_ports: [MYPKG, Port Klang]}}\n",
            "transshipment_ports 'PORT KLANG' is not a value the contract accepts (malformed)",
        ),
        (
            "profiles:\n  - {name: a, when: {freight_terms: [free]}}\n",
            "freight_terms 'FREE' is not a value the contract accepts (not_a_choice)",
        ),
        ("rules: []\n", "expected a list under 'profiles:'"),
        ("version: 2\nprofiles: []\n", "unknown top-level key 'version'"),
        (  # an impossible date stopped the command with a traceback
            "profiles:\n  - {name: a, valid_from: 2024-13-01, when: {hs_code: ['0507']}}\n",
            "profile 1 (a): valid_from:",
        ),
        (
            "profiles:\n  - {name: a, valid_until: 2024-02-30, when: {hs_code: ['0507']}}\n",
            "profile 1 (a): valid_until:",
        ),
        ("profiles: [\n", "cannot read"),
        (  # YAML booleans: NO (Norway) became 0, ON became 1 and met "HMS 1 AND 2 SCRAP"
            "profiles:\n  - {name: a, when: {country_of_origin: [NO, IS]}}\n",
            "country_of_origin: a value YAML read as False, not as text: quote the values",
        ),
        (
            "profiles:\n  - {name: a, when: {goods_description: [ON]}}\n",
            "goods_description: a value YAML read as True",
        ),
        ("profiles:\n  - {name: a, when: {hs_code: [4403.10]}}\n", "read as 4403.1"),
    ],
)
def test_a_profiles_file_that_cannot_be_used_names_the_profile_and_the_field(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        _load(tmp_path, text)
    assert message in str(raised.value) and "profiles.yaml" in str(raised.value)


def test_code_criteria_are_read_as_the_contract_reads_the_lines_they_are_matched_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (
        "profiles:\n  - name: a\n    when:\n"
        "      vessel_imo: ['IMO 9321483']\n"
        "      transshipment_ports: ['my pkg']\n"
        "      port_of_loading: [XXQQQ]\n"
    )
    with caplog.at_level("WARNING", logger="models.profiles"):
        profiles = _load(tmp_path, text)
    assert profiles is not None
    (profile,) = profiles.profiles
    # the contract keeps the seven digits of an IMO number and writes a port without spaces
    assert profile.when == {
        "vessel_imo": ["9321483"],
        "transshipment_ports": ["MYPKG"],
        "port_of_loading": ["XXQQQ"],
    }
    assert "port_of_loading 'XXQQQ' is not a known UN/LOCODE port" in caplog.text
    lines = pd.DataFrame(
        {
            "vessel_imo": ["9321483", "9321483"],
            "transshipment_ports": ["MYPKG", "SGSIN"],
            "port_of_loading": ["XXQQQ", "XXQQQ"],
        },
        dtype="string",
    )
    told, inspect = profiles.hits(lines)
    assert told == [["risk profile a"], []] and inspect.tolist() == [True, False]


def test_every_usable_field_is_a_contract_field_and_no_file_means_no_profiles() -> None:
    from risk_engine.columns import fields_for

    names = {spec.name for spec in fields_for("shipments")}
    assert set(PROFILE_FIELDS) <= names
    assert load_profiles(None) is None


def test_the_scorer_tells_a_profile_first_and_an_inspect_profile_makes_the_line_mandatory(
    tmp_path: Path,
) -> None:
    scorer = small_trained_scorer()
    lines = validate_frame(shipment_frame(40, seed=3)).accepted
    origin, hs = str(lines["country_of_origin"].iloc[0]), str(lines["hs_code"].iloc[0])
    text = (
        "profiles:\n"
        f"  - {{name: first-line, when: {{country_of_origin: [{origin}], hs_code: ['{hs}']}}}}\n"
    )
    profiles = _load(tmp_path, text)
    without = scorer.score(lines, explain_reasons=False)
    with_profiles = scorer.score(lines, explain_reasons=False, profiles=profiles)
    meets = profiles.profiles[0].holds(lines) if profiles else np.zeros(0, dtype=bool)
    assert meets[0] and meets.sum() < len(lines)
    for i in range(len(lines)):
        told, before = with_profiles["rule_hits"].iloc[i], without["rule_hits"].iloc[i]
        assert told == (["risk profile first-line", *before] if meets[i] else before)
    assert (with_profiles["mandatory_rule"] == (without["mandatory_rule"] | meets)).all()
    # the score itself is the model's: a profile does not change it
    np.testing.assert_array_equal(with_profiles["risk_score"], without["risk_score"])


def test_the_profiles_command_counts_the_lines_each_profile_meets_and_warns_of_a_wide_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from risk_engine.cli import app

    monkeypatch.setenv("RISK_ENGINE_HOME", str(tmp_path / "home"))
    shipments = shipment_frame(60, seed=4)
    path = tmp_path / "lines.csv"
    shipments.to_csv(path, index=False)
    accepted = validate_frame(shipments).accepted
    origin = str(accepted["country_of_origin"].mode().iloc[0])
    expected = int((accepted["country_of_origin"] == origin).sum())
    rules = tmp_path / "profiles.yaml"
    rules.write_text(
        "profiles:\n"
        f"  - {{name: wide, when: {{country_of_origin: [{origin}]}}}}\n"
        "  - {name: none, action: flag, valid_until: 2099-05-05, when: {carrier_code: [ZZZZ]}}\n"
    )
    result = CliRunner().invoke(app, ["profiles", str(rules), "--against", str(path)])
    assert result.exit_code == 0, result.output
    # the end day is the first that no longer holds: "to 2099-05-05" read as inclusive
    assert "none (flag, from ..., before 2099-05-05)" in result.stdout
    out = result.stdout
    assert "1 inspect, 1 flag" in out and f"{len(accepted):,} accepted lines" in out
    assert f"  {expected:>9,}  {expected / len(accepted):7.3%}  wide (inspect)" in out
    assert "        0   0.000%  none (flag)" in out
    assert f"warning: inspect profile 'wide' meets {expected:,} of {len(accepted):,}" in out
    narrow = CliRunner().invoke(
        app, ["profiles", str(rules), "--against", str(path), "--share", "1.0"]
    )
    assert narrow.exit_code == 0 and "warning" not in narrow.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles:\n  - {name: a, when: {hs_code: [507]}}\n")
    refused = CliRunner().invoke(app, ["profiles", str(bad)])
    assert refused.exit_code == 2 and "quote the values of 'hs_code'" in refused.stderr
