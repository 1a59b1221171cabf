"""Carriers, their weekly services into the destination ports, and the vessels that run them.

A service belongs to one carrier and one trade, calls a few destination ports on fixed weekdays and
is run by a pool of vessels in weekly rotation: in week ``w`` vessel ``pool[w % size]`` makes the
call, on its voyage ``base + w // size``. All containers of one call share vessel and voyage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from risk_engine.reference import imo_check_digit
from training.simulation.geography import DESTINATION_PORTS, TRADES, Ports
from training.simulation.names import NameMaker

__all__ = ["CARRIERS", "LEASING_OWNERS", "Fleet", "build_fleet"]

# SCAC, container owner prefixes (ISO 6346 owner codes without the category letter), seal prefix
CARRIERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("MAEU", ("MSK", "MRK", "MAE"), "ML"),
    ("MSCU", ("MSC", "MED"), "FX"),
    ("CMDU", ("CMA", "CGM"), "CM"),
    ("COSU", ("CSN", "CBH"), "CS"),
    ("HLCU", ("HLX", "HLB"), "HL"),
    ("ONEY", ("ONE", "NYK"), "ON"),
    ("EGLV", ("EGH", "EMC"), "EG"),
    ("YMLU", ("YML",), "YM"),
    ("HDMU", ("HDM",), "HD"),
    ("OOLU", ("OOL",), "OO"),
    ("ZIMU", ("ZCS",), "ZM"),
    ("PABV", ("PCI",), "PI"),
    ("WHLC", ("WHS",), "WH"),
)
LEASING_OWNERS: tuple[str, ...] = ("TGH", "TCL", "TRH", "SEG", "CAI", "FCI", "GES", "BMO")
_SERVICES_PER_TRADE = {
    "west_africa": 4,
    "east_africa": 4,
    "south_america": 5,
    "europe": 5,
    "middle_east_south_asia": 5,
    "intra_asia": 10,
}
_POOL_SIZE = {"intra_asia": (3, 6)}
_DEFAULT_POOL = (7, 12)


@dataclass(frozen=True)
class Fleet:
    service_carrier: npt.NDArray[np.int64]
    service_trade: npt.NDArray[np.int64]
    weekday: npt.NDArray[np.int64]  # [service, port] weekday of the call, -1 when not called
    hour: npt.NDArray[np.int64]  # [service, port] hour of day of the call
    pool_start: npt.NDArray[np.int64]  # first vessel of the service's pool
    pool_size: npt.NDArray[np.int64]
    vessel_imo: npt.NDArray[np.object_]
    vessel_name: npt.NDArray[np.object_]
    voyage_base: npt.NDArray[np.int64]
    voyage_suffix: npt.NDArray[np.object_]  # per service

    def services_calling(self, trade: int, port: int) -> npt.NDArray[np.int64]:
        return np.flatnonzero((self.service_trade == trade) & (self.weekday[:, port] >= 0))


def _imo_numbers(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct valid IMO numbers of modern ships (9xxxxxx)."""
    stems = rng.choice(100_000, size=n, replace=False)
    out = []
    for stem in stems:
        six = f"9{int(stem):05d}"
        out.append(six + str(imo_check_digit(six)))
    return out


def build_fleet(ports: Ports, rng: np.random.Generator, names: NameMaker) -> Fleet:
    dest = list(DESTINATION_PORTS)
    dest_idx = ports.idx(dest)
    dest_weight = np.array([DESTINATION_PORTS[d] for d in dest], dtype=np.float64)
    dest_weight /= dest_weight.sum()
    n_ports = len(ports.codes)
    carriers, trades, weekdays, hours, sizes, suffixes = [], [], [], [], [], []
    for t, trade in enumerate(TRADES):
        n_services = _SERVICES_PER_TRADE[trade.name]
        calls: list[list[int]] = []
        for _ in range(n_services):
            k = int(rng.integers(3, 7))
            calls.append(list(rng.choice(len(dest), size=k, replace=False, p=dest_weight)))
        for d in range(len(dest)):  # every destination port is served by every trade
            if not any(d in c for c in calls):
                min(calls, key=len).append(d)
        for call in calls:
            wd = np.full(n_ports, -1, dtype=np.int64)
            hr = np.zeros(n_ports, dtype=np.int64)
            day = int(rng.integers(7))
            for d in call:
                wd[dest_idx[d]] = day % 7
                hr[dest_idx[d]] = int(rng.integers(0, 24))
                day += int(rng.integers(1, 3))
            carriers.append(int(rng.integers(len(CARRIERS))))
            trades.append(t)
            weekdays.append(wd)
            hours.append(hr)
            lo, hi = _POOL_SIZE.get(trade.name, _DEFAULT_POOL)
            sizes.append(int(rng.integers(lo, hi + 1)))
            suffixes.append(trade.voyage_suffix)
    size = np.array(sizes, dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    n_vessels = int(size.sum())
    return Fleet(
        service_carrier=np.array(carriers, dtype=np.int64),
        service_trade=np.array(trades, dtype=np.int64),
        weekday=np.vstack(weekdays),
        hour=np.vstack(hours),
        pool_start=start,
        pool_size=size,
        vessel_imo=np.array(_imo_numbers(rng, n_vessels), dtype=object),
        vessel_name=np.array([names.vessel() for _ in range(n_vessels)], dtype=object),
        voyage_base=rng.integers(100, 800, size=n_vessels).astype(np.int64),
        voyage_suffix=np.array(suffixes, dtype=object),
    )
