"""Bundled reference data: the port table, HS chapters, ISO codes and great-circle distances."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pycountry
import pytest

import risk_engine.reference as reference
from risk_engine.reference import (
    LOCODE_PATTERN,
    PORT_ROLES,
    checks,
    country_codes,
    currency_codes,
    great_circle_km,
    hs_chapter_name,
    hub_port_codes,
    is_country,
    is_currency,
    is_known_port,
    known_port_codes,
    load_ports,
    port_coordinates,
)

# Destination markets of the operation: their ports are discharge ports or hubs.
ASIA_PACIFIC = {"VN", "CN", "HK", "TH", "MY", "KH", "PH", "ID", "TW", "KR", "JP", "SG"}
DOMAIN_PORTS = {
    "VNHPH": "VN",
    "VNCLI": "VN",
    "VNDAD": "VN",
    "SGSIN": "SG",
    "MYPKG": "MY",
    "HKHKG": "HK",
    "CNSHA": "CN",
    "NGAPP": "NG",
    "TZDAR": "TZ",
    "KEMBA": "KE",
    "ESALG": "ES",
    "THLCH": "TH",
}


def test_port_table_has_the_documented_columns_and_a_hundred_or_so_rows() -> None:
    ports = load_ports()
    assert list(ports.columns) == ["locode", "name", "country", "lat", "lon", "role", "hub", "tz"]
    assert 80 <= len(ports) <= 120
    assert ports["hub"].dtype == bool


def test_every_port_has_a_well_formed_locode_of_a_real_country() -> None:
    ports = load_ports()
    pattern = re.compile(LOCODE_PATTERN)
    for locode, country in zip(ports["locode"], ports["country"], strict=True):
        assert pattern.fullmatch(locode), locode
        assert locode[:2] == country, locode
        assert pycountry.countries.get(alpha_2=country) is not None, locode


def test_port_codes_are_unique() -> None:
    assert load_ports()["locode"].is_unique


def test_port_coordinates_are_in_range() -> None:
    ports = load_ports()
    assert ports["lat"].between(-90, 90).all()
    assert ports["lon"].between(-180, 180).all()
    assert ports[["lat", "lon"]].notna().all().all()


def test_port_names_are_non_empty() -> None:
    assert (load_ports()["name"].str.strip().str.len() > 0).all()


def test_namibia_country_code_is_read_as_a_string_not_missing() -> None:
    ports = load_ports()
    assert ports.loc[ports["locode"] == "NAWVB", "country"].tolist() == ["NA"]


def test_ports_named_in_the_domain_notes_are_present_with_their_country() -> None:
    ports = load_ports().set_index("locode")
    for locode, country in DOMAIN_PORTS.items():
        assert is_known_port(locode), locode
        assert ports.loc[locode, "country"] == country


def test_every_port_has_a_known_role_and_hubs_carry_the_hub_flag() -> None:
    ports = load_ports()
    assert set(ports["role"]) == set(PORT_ROLES)
    assert ports.loc[ports["role"] == "hub", "hub"].all()


def test_discharge_ports_are_exactly_the_non_hub_ports_of_the_destination_markets() -> None:
    ports = load_ports()
    in_market = ports["country"].isin(ASIA_PACIFIC)
    assert (ports.loc[in_market, "role"] != "loading").all()
    assert (ports.loc[~in_market, "role"] != "discharge").all()


def test_hub_codes_include_the_transshipment_hubs_of_the_domain_notes() -> None:
    hubs = hub_port_codes()
    assert {"SGSIN", "MYPKG", "HKHKG", "KHKOS", "ESALG"} <= hubs
    assert hubs <= known_port_codes()
    assert "VNHPH" not in hubs


def test_known_port_lookups_reject_unknown_or_unnormalised_codes() -> None:
    assert is_known_port("VNHPH")
    assert not is_known_port("XXAAA")
    assert not is_known_port("vnhph")
    assert port_coordinates("XXAAA") is None
    assert port_coordinates("SGSIN") == pytest.approx((1.26, 103.84), abs=0.05)


def test_load_ports_returns_a_copy_so_callers_cannot_corrupt_the_cache() -> None:
    ports = load_ports()
    ports.loc[:, "lat"] = 0.0
    assert load_ports()["lat"].abs().max() > 0


def test_country_codes_come_from_iso_3166() -> None:
    assert {"VN", "CN", "HK", "NG", "NA", "CD", "CG"} <= country_codes()
    assert len(country_codes()) == len(pycountry.countries)
    assert is_country("VN")
    assert not is_country("XX")
    assert not is_country("vn")


def test_currency_codes_come_from_iso_4217() -> None:
    assert {"USD", "EUR", "VND", "CNY", "HKD"} <= currency_codes()
    assert is_currency("VND")
    assert not is_currency("XYZ")
    assert not is_currency("usd")


def test_all_97_hs_chapters_have_names_and_77_is_reserved() -> None:
    for chapter in range(1, 98):
        assert hs_chapter_name(chapter), chapter
    assert hs_chapter_name(77) == "Reserved for possible future use"
    assert hs_chapter_name("05") == hs_chapter_name(5) == hs_chapter_name("5")
    assert "Wood" in (hs_chapter_name("44") or "")


@pytest.mark.parametrize("chapter", [0, 98, 100, -1, "00", "98", "440", "4a", "", True])
def test_hs_chapter_name_is_none_outside_chapters_1_to_97(chapter: str | int) -> None:
    assert hs_chapter_name(chapter) is None


def test_singapore_to_hong_kong_is_about_2580_km() -> None:
    singapore, hong_kong = port_coordinates("SGSIN"), port_coordinates("HKHKG")
    assert singapore is not None and hong_kong is not None
    distance = great_circle_km(*singapore, *hong_kong)
    assert isinstance(distance, float)
    assert distance == pytest.approx(2580, rel=0.05)


def test_a_quarter_meridian_is_a_quarter_of_the_earth_circumference() -> None:
    assert great_circle_km(0.0, 0.0, 90.0, 0.0) == pytest.approx(
        math.pi / 2 * reference.EARTH_RADIUS_KM
    )


def test_great_circle_is_vectorised_symmetric_and_zero_on_the_diagonal() -> None:
    ports = load_ports()
    lat, lon = ports["lat"].to_numpy(), ports["lon"].to_numpy()
    there = great_circle_km(lat, lon, lat[::-1], lon[::-1])
    back = great_circle_km(lat[::-1], lon[::-1], lat, lon)
    assert there.shape == lat.shape
    np.testing.assert_allclose(there, back)
    np.testing.assert_allclose(great_circle_km(lat, lon, lat, lon), 0.0, atol=1e-9)
    assert (there <= math.pi * reference.EARTH_RADIUS_KM + 1e-6).all()


def test_great_circle_broadcasts_one_point_against_many_and_propagates_nan() -> None:
    distances = great_circle_km(1.26, 103.84, np.array([22.30, np.nan]), np.array([114.17, 0.0]))
    assert distances.shape == (2,)
    assert distances[0] == pytest.approx(2580, rel=0.05)
    assert np.isnan(distances[1])


def test_package_reexports_the_public_names_of_checks() -> None:
    assert set(checks.__all__) <= set(reference.__all__)
    for name in reference.__all__:
        assert hasattr(reference, name), name


def test_importing_the_package_reads_no_reference_file() -> None:
    probe = (
        "import risk_engine.reference as r; "
        "assert r._ports_table.cache_info().currsize == 0; "
        "assert r._hs_chapters.cache_info().currsize == 0"
    )
    subprocess.run(
        [sys.executable, "-c", probe], check=True, cwd=Path(__file__).resolve().parents[2]
    )
