"""Ports, trades and routes of the simulated world, on the bundled reference port table.

A *trade* groups origin countries that reach the Asia-Pacific destination ports the same way
(West Africa, East Africa, South America, Europe, Middle East and South Asia, intra-Asia). Each
trade has its usual transshipment hubs; real hubs from `risk_engine.reference`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from risk_engine import reference

__all__ = [
    "DESTINATION_PORTS",
    "TRADES",
    "Ports",
    "Trade",
    "load_world_ports",
    "trade_of_country",
    "transit_days",
]


@dataclass(frozen=True)
class Trade:
    name: str
    countries: tuple[str, ...]
    transship_share: float  # share of routes with at least one hub
    two_hub_share: float  # share of transshipped routes with two hubs
    hubs: dict[str, float]  # hub LOCODE -> weight
    voyage_suffix: str


TRADES: tuple[Trade, ...] = (
    Trade(
        "west_africa",
        ("NG", "TG", "GH", "CI", "BJ", "CM", "GA", "CG", "CD", "AO", "SN", "GN", "GW", "NA"),
        0.8,
        0.1,
        {"SGSIN": 3, "MYPKG": 2, "TGLFW": 1.5, "LKCMB": 1, "MYTPP": 1, "KHKOS": 0.5, "HKHKG": 0.5},
        "E",
    ),
    Trade(
        "east_africa",
        ("KE", "TZ", "MZ", "MG", "MU", "ZA", "DJ"),
        0.7,
        0.05,
        {"SGSIN": 3, "MYPKG": 2, "LKCMB": 1.5, "OMSLL": 1, "AEJEA": 1, "MYTPP": 1, "DJJIB": 0.5},
        "E",
    ),
    Trade(
        "south_america",
        ("CO", "EC", "PA", "PE", "CL", "BR", "AR", "UY", "CR", "GY", "VE", "MX"),
        0.65,
        0.35,
        {
            "PAONX": 1.5,
            "PABLB": 1,
            "PAMIT": 0.5,
            "SGSIN": 2,
            "KRPUS": 1.5,
            "HKHKG": 1,
            "JMKIN": 0.5,
        },
        "W",
    ),
    Trade(
        "europe",
        ("NL", "BE", "DE", "GB", "FR", "ES", "IT", "PT", "TR"),
        0.4,
        0.05,
        {"SGSIN": 3.5, "MYPKG": 1.5, "ESALG": 1, "GRPIR": 1, "AEJEA": 1, "LKCMB": 1, "MAPTM": 0.5},
        "E",
    ),
    Trade(
        "middle_east_south_asia",
        ("AE", "OM", "SA", "EG", "IN", "PK", "BD", "LK"),
        0.4,
        0.0,
        {"SGSIN": 3.5, "LKCMB": 3, "MYPKG": 2, "AEJEA": 1.5},
        "E",
    ),
    Trade(
        "intra_asia",
        ("JP", "KR", "TW", "CN", "HK", "SG", "MY", "ID", "PH", "TH", "MM", "KH", "VN"),
        0.25,
        0.0,
        {"HKHKG": 3, "SGSIN": 3, "KRPUS": 1.5, "TWKHH": 1, "MYPKG": 1, "KHKOS": 0.5},
        "S",
    ),
)

# Discharge ports of the screening administrations and their share of arrivals.
DESTINATION_PORTS: dict[str, float] = {
    "VNHPH": 13,
    "VNCLI": 13,
    "VNCMT": 6,
    "VNDAD": 3,
    "CNSHA": 9,
    "CNNGB": 6,
    "CNYTN": 5,
    "CNXMN": 4,
    "CNCAN": 4,
    "CNTAO": 3,
    "HKHKG": 10,
    "THLCH": 8,
    "PHMNL": 4,
}

_SEA_DETOUR = 1.4  # sea route over great-circle distance
_KM_PER_DAY = 640.0  # about 14.5 knots


@dataclass(frozen=True)
class Ports:
    """The reference port table as arrays; a port is addressed by its row index."""

    codes: npt.NDArray[np.object_]
    name: npt.NDArray[np.object_]
    country: npt.NDArray[np.object_]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    index: dict[str, int]

    def idx(self, codes: list[str] | tuple[str, ...]) -> npt.NDArray[np.int64]:
        return np.array([self.index[c] for c in codes], dtype=np.int64)


@cache
def load_world_ports() -> Ports:
    table = reference.load_ports()
    codes = table["locode"].to_numpy(dtype=object)
    missing = sorted(
        {*DESTINATION_PORTS, *(h for t in TRADES for h in t.hubs)} - set(codes.tolist())
    )
    if missing:
        raise RuntimeError(f"the reference port table lacks simulated ports {missing}")
    return Ports(
        codes=codes,
        name=table["name"].to_numpy(dtype=object),
        country=table["country"].to_numpy(dtype=object),
        lat=table["lat"].to_numpy(dtype=np.float64),
        lon=table["lon"].to_numpy(dtype=np.float64),
        index={str(c): i for i, c in enumerate(codes)},
    )


def trade_of_country(country: str) -> int:
    """Index in TRADES of the trade that ships from ``country``; -1 if none."""
    for i, trade in enumerate(TRADES):
        if country in trade.countries:
            return i
    return -1


def transit_days(
    ports: Ports,
    pol: npt.NDArray[np.int64],
    hub1: npt.NDArray[np.int64],
    hub2: npt.NDArray[np.int64],
    pod: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """Door-less port-to-port days along pol -> hubs -> pod (hub index -1: no hub).

    Sea distance is the great-circle distance times a detour factor; each hub adds a dwell.
    """
    stops = [pol, hub1, hub2, pod]
    total = np.zeros(len(pol), dtype=np.float64)
    prev = pol
    for stop in stops[1:]:
        present = stop >= 0
        nxt = np.where(present, stop, prev)
        km = reference.great_circle_km(
            ports.lat[prev], ports.lon[prev], ports.lat[nxt], ports.lon[nxt]
        )
        total += np.asarray(km, dtype=np.float64) * _SEA_DETOUR / _KM_PER_DAY
        prev = nxt
    hubs = (hub1 >= 0).astype(np.float64) + (hub2 >= 0).astype(np.float64)
    return total + 1.0 + 3.0 * hubs
