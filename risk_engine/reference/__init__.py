"""Bundled reference data: ports, HS chapters, ISO country and currency codes, check digits.

Nothing is read at import time: each table is loaded on first use and cached
(``functools.cache``), and pandas and pycountry are imported only then.

``ports.csv`` holds one row per port, keyed by UN/LOCODE, with columns
``locode, name, country, lat, lon, role, hub, tz``:

- ``role`` is the port's main place on the trafficking routes the engine screens:
  ``discharge`` for destination ports in the Asia-Pacific markets of the operation (VN, CN, HK,
  TH, MY, KH, PH, ID, TW, KR, JP, SG), ``hub`` for ports that matter mainly as transshipment
  points (Singapore, Port Klang, Colombo, Algeciras, ...), ``loading`` for everything else.
- ``hub`` (0/1 in the file, bool in the frame) says whether the port is a transshipment hub,
  whatever its main role, so a port can be both: Hong Kong is a ``discharge`` port with
  ``hub`` 1, and Lome a ``loading`` port with ``hub`` 1. Every ``role == "hub"`` port has ``hub`` 1.
  Use ``hub`` (``hub_port_codes``), not ``role``, to ask "is this a transshipment hub".
- ``tz`` is the port's IANA time zone: of the zones the tz database's ``zone.tab`` lists for
  the port's country, the one whose reference point lies nearest the port (Algeciras and
  Manzanillo set by hand). A port-day is a day at the port (`port_timezone`).

The list is a seed (about a hundred ports), not the UN/LOCODE code list: a well-formed code not in
it is "unknown", which the contract flags but never rejects. Routes and risk shift over time, so
features learn port risk from seizure history; this table only supplies names, coordinates (for
detour ratios) and the prior hub/destination split.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, overload

import numpy as np
import numpy.typing as npt

from risk_engine.reference.checks import (
    CONTAINER_PATTERN,
    IMO_PATTERN,
    LOCODE_PATTERN,
    imo_check_digit,
    imo_is_valid,
    imo_valid_array,
    iso6346_check_digit,
    iso6346_is_valid,
    iso6346_valid_array,
    normalise_container,
    normalise_imo,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONTAINER_PATTERN",
    "EARTH_RADIUS_KM",
    "IMO_PATTERN",
    "LOCODE_PATTERN",
    "PORT_ROLES",
    "container_type_name",
    "country_codes",
    "country_name",
    "currency_codes",
    "great_circle_km",
    "hs_chapter_name",
    "hub_port_codes",
    "imo_check_digit",
    "imo_is_valid",
    "imo_valid_array",
    "is_country",
    "is_currency",
    "is_known_port",
    "iso6346_check_digit",
    "iso6346_is_valid",
    "iso6346_valid_array",
    "known_port_codes",
    "load_ports",
    "normalise_container",
    "normalise_imo",
    "port_coordinates",
    "port_name",
]

PORT_ROLES: tuple[str, ...] = ("discharge", "hub", "loading")
# Mean Earth radius (IUGG); the spherical model is within about 0.5 % of the ellipsoid.
EARTH_RADIUS_KM = 6371.0088

_PORT_COLUMNS = ["locode", "name", "country", "lat", "lon", "role", "hub", "tz"]


@cache
def _ports_table() -> pd.DataFrame:
    import pandas as pd

    source = resources.files(__name__).joinpath("ports.csv")
    with source.open("r", encoding="utf-8") as handle:
        # na_filter off: Namibia's country code "NA" must stay a string, not become NaN.
        frame = pd.read_csv(
            handle,
            dtype={"locode": str, "name": str, "country": str, "role": str, "tz": str},
            na_filter=False,
        )
    frame = frame[_PORT_COLUMNS].astype({"lat": "float64", "lon": "float64", "hub": "int64"})
    frame["hub"] = frame["hub"].astype(bool)
    return frame.sort_values("locode", ignore_index=True)


def load_ports() -> pd.DataFrame:
    """The port table with ``locode`` as a column (default RangeIndex, sorted by locode).

    Returns a copy, so callers may modify it without changing the cached table.
    """
    return _ports_table().copy()


@cache
def known_port_codes() -> frozenset[str]:
    """UN/LOCODEs of the bundled port table."""
    return frozenset(_ports_table()["locode"])


def is_known_port(code: str) -> bool:
    """True when ``code`` (already normalised, upper case) is in the bundled port table."""
    return code in known_port_codes()


@cache
def _coordinates() -> dict[str, tuple[float, float]]:
    table = _ports_table()
    return {
        str(code): (float(lat), float(lon))
        for code, lat, lon in zip(table["locode"], table["lat"], table["lon"], strict=True)
    }


def port_coordinates(code: str) -> tuple[float, float] | None:
    """``(lat, lon)`` in decimal degrees of a known port, None for an unknown code."""
    return _coordinates().get(code)


@cache
def _by_port(column: str) -> dict[str, str]:
    """One text column of the port table by UN/LOCODE."""
    table = _ports_table()
    return dict(zip(table["locode"], table[column], strict=True))


def port_name(code: str) -> str | None:
    """Name of a port in the reference table (``CIABJ`` -> Abidjan); None when it is not there."""
    return _by_port("name").get(code)


def port_timezone(code: str) -> str | None:
    """IANA time zone of a known port (``VNHPH`` -> Asia/Ho_Chi_Minh); None for an unknown code."""
    return _by_port("tz").get(code)


@cache
def hub_port_codes() -> frozenset[str]:
    """UN/LOCODEs of transshipment hubs (``hub`` set, whatever the port's main role)."""
    table = _ports_table()
    return frozenset(table.loc[table["hub"], "locode"])


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of current countries (from pycountry)."""
    import pycountry

    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def country_name(code: str) -> str | None:
    """The usual English name of an ISO 3166 alpha-2 country (``VN`` -> Vietnam); None for a
    code that is not a country."""
    import pycountry

    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if country is None:
        return None
    return str(getattr(country, "common_name", None) or country.name)


def is_country(code: str) -> bool:
    """True when ``code`` is an ISO 3166-1 alpha-2 code (upper case)."""
    return code in country_codes()


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 alphabetic codes (from pycountry; includes funds and metals such as XAU)."""
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def is_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 alphabetic code (upper case)."""
    return code in currency_codes()


# ISO 6346 size-type codes (22G1, 45R1): the first character the length, the second the height,
# the third the type group (the fourth, the detail within the group, is not told).
_LENGTHS = {"1": "10 ft", "2": "20 ft", "3": "30 ft", "4": "40 ft", "L": "45 ft", "M": "48 ft"}
_HEIGHTS = {"0": "", "2": "", "5": " high cube", "6": " high cube", "8": " half height"}
_GROUPS = {
    "G": "general purpose",
    "V": "ventilated",
    "B": "dry bulk",
    "S": "named cargo",
    "R": "reefer",
    "H": "insulated",
    "U": "open top",
    "P": "flat rack or platform",
    "T": "tank",
}


def container_type_name(code: str) -> str | None:
    """What an ISO 6346 size-type code says, for an officer: ``45G1`` "40 ft high cube, general
    purpose", ``22R1`` "20 ft, reefer"; None for a code it cannot read (told as it is)."""
    if not isinstance(code, str) or len(code) != 4:
        return None
    length, height, group = _LENGTHS.get(code[0]), _HEIGHTS.get(code[1]), _GROUPS.get(code[2])
    if length is None or height is None or group is None:
        return None
    return f"{length}{height}, {group}"


@cache
def _hs_chapters() -> dict[str, str]:
    text = resources.files(__name__).joinpath("hs_chapters.csv").read_text(encoding="utf-8")
    return {row["chapter"]: row["name"] for row in csv.DictReader(text.splitlines())}


def hs_chapter_name(chapter: str | int) -> str | None:
    """Name of an HS chapter given as ``44``, ``"44"`` or ``"04"``; None when there is no such
    chapter. Chapter 77 exists and is reserved for future use."""
    if isinstance(chapter, bool):
        return None
    if isinstance(chapter, int):
        key = f"{chapter:02d}" if 0 <= chapter <= 99 else ""
    else:
        text = chapter.strip()
        key = text.zfill(2) if text.isascii() and text.isdigit() and len(text) <= 2 else ""
    return _hs_chapters().get(key)


@overload
def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...


@overload
def great_circle_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]: ...


def great_circle_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> float | npt.NDArray[np.float64]:
    """Haversine distance in km between points in decimal degrees; arrays broadcast.

    Scalars give a float, arrays an array; a NaN coordinate (unknown port) gives NaN.
    """
    phi1, lam1, phi2, lam2 = (
        np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1, lon1, lat2, lon2)
    )
    half = (
        np.sin((phi2 - phi1) / 2.0) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2.0) ** 2
    )
    distance = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))
    if np.ndim(distance) == 0:
        return float(distance)
    return np.asarray(distance, dtype=np.float64)
