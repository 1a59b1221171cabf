"""Bookings to shipment lines: one row per container, with its box, weight, value and seals.

Also plants the data defects that the contract flags (never ones it rejects): wrong check digits,
well-formed unknown ports, overweight boxes, booking after filing. Optional fields go missing
at realistic rates; missing is not a defect.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from risk_engine import reference
from training.simulation.bookings import Table, take
from training.simulation.config import SimulationConfig
from training.simulation.fleet import CARRIERS, LEASING_OWNERS
from training.simulation.timing import HOUR
from training.simulation.world import World

__all__ = [
    "CURRENCIES",
    "DEFECTS",
    "OPTIONAL",
    "OWNERS",
    "SIZE_TYPES",
    "expand",
    "plant_defects",
    "unknown_port_codes",
]

SIZE_TYPES = ("22G1", "42G1", "45G1", "22R1", "45R1")
OWNERS: tuple[str, ...] = tuple(o for _, owners, _ in CARRIERS for o in owners) + LEASING_OWNERS
CURRENCIES = ("USD", "EUR", "CNY")
_RATE = np.array([1.0, 0.92, 7.2])
_EURO = ("NL", "BE", "DE", "FR", "ES", "IT", "PT", "GR")
# Defect code -> (share of defects, contract rule it triggers)
DEFECTS: dict[int, tuple[str, float]] = {
    1: ("container_check_digit", 0.35),
    2: ("imo_check_digit", 0.15),
    3: ("unknown_port", 0.25),
    4: ("overweight", 0.15),
    5: ("booking_after_filing", 0.10),
}
# Optional fields left blank, and how often (per B/L)
OPTIONAL: dict[str, float] = {
    "bl_type": 0.03,
    "container_size_type": 0.02,
    "full_empty": 0.3,
    "seal_numbers": 0.04,
    "vessel_name": 0.05,
    "place_of_receipt": 0.4,
    "place_of_delivery": 0.4,
    "country_of_origin": 0.08,
    "booking_created_at": 0.1,
    "etd": 0.03,
    "amendment_count": 0.05,
    "package_type": 0.05,
    "declared_value": 0.1,
}
_INLAND = {
    "NG": ("NGKAN", "NGABV"),
    "CD": ("CDFIH",),
    "KE": ("KENBO",),
    "ZA": ("ZAJNB",),
    "CN": ("CNCTU", "CNCKG", "CNWUH"),
    "IN": ("INDEL", "INTKD"),
    "BR": ("BRSAO",),
    "CO": ("COBOG",),
    "EC": ("ECUIO",),
    "DE": ("DEMUC",),
    "TH": ("THLKR",),
    "MY": ("MYKUL",),
}


def unknown_port_codes(country: str) -> tuple[str, ...]:
    """Well-formed UN/LOCODEs of inland places in ``country`` that the port table lacks."""
    known = reference.known_port_codes()
    codes = tuple(c for c in _INLAND.get(country, ()) if c not in known)
    return codes or (f"{country}ICD",)


def expand(world: World, b: Table, rng: np.random.Generator) -> Table:
    """One row per container of each booking; booking fields are repeated."""
    goods = world.goods
    nb = len(b["n"])
    reefer_goods = goods.reefer[b["good"]]
    twenty = rng.random(nb) < goods.twenty_share[b["good"]]
    size = np.where(twenty, 0, np.where(rng.random(nb) < 0.6, 2, 1))
    size = np.where(reefer_goods | b["reefer_odd"], np.where(twenty, 3, 4), size)
    missing = np.zeros(nb, dtype=np.int64)
    factor = np.where(b["rel"] < 0, 2.0, 1.0)
    for bit, share in enumerate(OPTIONAL.values()):
        missing |= (rng.random(nb) < share * factor).astype(np.int64) << bit
    carrier = world.fleet.service_carrier[b["service"]]
    b = dict(b, size=size, missing=missing, carrier=carrier, base=rng.integers(0, 10**6, size=nb))
    b["step"] = rng.integers(1, 40, size=nb)
    index = np.repeat(np.arange(nb), b["n"])
    lines = take(b, index)
    first = np.concatenate([[0], np.cumsum(b["n"])[:-1]])
    k = np.arange(len(index)) - first[index]
    lines["k"] = k
    lines["booking_row"] = index
    return _boxes(world, lines, rng)


def _boxes(world: World, lines: Table, rng: np.random.Generator) -> Table:
    goods = world.goods
    n = len(lines["k"])
    own = np.array([len(owners) for _, owners, _ in CARRIERS])
    start = np.concatenate([[0], np.cumsum(own)[:-1]])
    carrier = lines["carrier"]
    leased = rng.random(n) < 0.3
    owner = np.where(
        leased,
        len(OWNERS) - len(LEASING_OWNERS) + rng.integers(len(LEASING_OWNERS), size=n),
        start[carrier] + (rng.random(n) * own[carrier]).astype(np.int64),
    )
    serial = (lines["base"] + lines["k"] * lines["step"]) % 10**6
    g = lines["good"]
    twenty = np.isin(lines["size"], (0, 3))
    raw = rng.uniform(goods.kg_lo[g], goods.kg_hi[g]) * np.where(twenty, 0.85, 1.0)
    raw = np.minimum(raw * rng.normal(1.0, 0.04, size=n), np.where(twenty, 28_000.0, 29_500.0))
    kg = np.round(np.maximum(raw, 50.0), 1)
    packages = np.maximum(1, np.round(kg / goods.kg_per_package[g] * rng.uniform(0.95, 1.05, n)))
    euro = np.isin(world.shippers.country, _EURO)[lines["shipper"]]
    china = (world.shippers.country == "CN")[lines["shipper"]]
    currency = np.where(
        euro & (rng.random(n) < 0.5), 1, np.where(china & (rng.random(n) < 0.15), 2, 0)
    )
    usd = kg * goods.usd_per_kg[g] * lines["price"] * lines["value_factor"]
    usd = usd * rng.lognormal(0.0, 0.08, size=n)
    lines.update(
        owner=owner.astype(np.int64),
        serial=serial.astype(np.int64),
        kg=kg,
        packages=packages.astype(np.int64),
        currency=currency.astype(np.int64),
        value=np.round(usd * _RATE[currency], 2),
        seal1=rng.integers(10**6, 10**7, size=n),
        seal2=np.where(rng.random(n) < 0.1, rng.integers(10**6, 10**7, size=n), -1),
    )
    return lines


def plant_defects(
    config: SimulationConfig, lines: Table, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Defect code per line (0: none); front companies' lines are twice as sloppy."""
    n = len(lines["k"])
    rate = config.defect_rate * np.where(lines["rel"] < 0, 2.0, 1.0)
    has = rng.random(n) < rate
    codes = np.array(list(DEFECTS))
    shares = np.array([s for _, s in DEFECTS.values()])
    kind = codes[np.searchsorted(np.cumsum(shares) / shares.sum(), rng.random(n), side="right")]
    defect = np.where(has, kind, 0).astype(np.int64)
    # booking after filing: move the booking time past the filing time
    late = defect == 5
    shift = np.round(rng.uniform(1.0, 72.0, size=n) * HOUR).astype(np.int64)
    lines["booked"] = np.where(late, lines["filed"] + shift, lines["booked"])
    return defect
