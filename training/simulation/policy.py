"""The historical targeting rules: red-flag points per line, from what was known at filing.

These are the frozen lists and simple rules of a targeting unit before it had a model. They find
some smuggling and miss the rest: schemes that move to a cover load, hub or source country that
is not on the lists slip through, and many legitimate lines score as high as smuggling ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from training.simulation.bookings import Table
from training.simulation.geography import TRADES
from training.simulation.timing import DAY
from training.simulation.world import World

__all__ = ["PolicyState", "RULES", "rule_points"]

WILDLIFE_SOURCES = ("NG", "CD", "CG", "MZ", "KE", "TZ", "TG", "CM", "GA", "AO")
COCAINE_SOURCES = ("CO", "EC", "PA", "BR")
COVER_HEADINGS = ("4403", "4407", "0801", "1207", "3915", "0508", "0902", "0303", "0202", "0507")
CITES_HEADINGS = ("0507", "0305", "4403", "4407")
DEMAND_COUNTRIES = ("VN", "CN", "HK")
RISKY_HUBS = ("MYPKG", "KHKOS", "ESALG", "SGSIN", "HKHKG")
PRECURSOR_HEADINGS = ("2939", "3824", "2106", "2915")
# rule name -> points (documented in docs/simulation.md)
RULES: dict[str, int] = {
    "source_cover_demand": 2,
    "cocaine_origin": 1,
    "cocaine_origin_reefer": 1,
    "to_order": 1,
    "vague_description": 1,
    "cites_without_permit": 1,
    "late_filing": 1,
    "african_cargo_via_risky_hub": 1,
    "chemicals_to_new_consignee": 2,
    "new_shipper": 1,
    "data_quality": 1,
    "reefer_for_dry_goods": 1,
    "po_box_address": 1,
}


@dataclass
class PolicyState:
    """What the targeting unit knows about parties: first sight and its watch list."""

    first_seen_shipper: npt.NDArray[np.int64]
    first_seen_consignee: npt.NDArray[np.int64]
    watch_shipper: npt.NDArray[np.bool_]
    watch_consignee: npt.NDArray[np.bool_]

    @classmethod
    def initial(cls, world: World) -> PolicyState:
        return cls(
            first_seen_shipper=world.shippers.start_day.copy(),
            first_seen_consignee=world.consignees.start_day.copy(),
            watch_shipper=np.zeros(len(world.shippers), dtype=bool),
            watch_consignee=np.zeros(len(world.consignees), dtype=bool),
        )

    def see(self, lines: Table) -> None:
        """Record first sightings of the parties in ``lines`` (by arrival day)."""
        np.minimum.at(self.first_seen_shipper, lines["shipper"], lines["day"])
        np.minimum.at(self.first_seen_consignee, lines["consignee"], lines["day"])

    def watch(self, lines: Table, rows: npt.NDArray[np.int64]) -> None:
        """Put the parties of the seized ``rows`` on the watch list."""
        self.watch_shipper[lines["shipper"][rows]] = True
        self.watch_consignee[lines["consignee"][rows]] = True
        notify = lines["notify"][rows]
        self.watch_consignee[notify[notify >= 0]] = True

    def watched(self, lines: Table) -> npt.NDArray[np.bool_]:
        notify = lines["notify"]
        return (
            self.watch_shipper[lines["shipper"]]
            | self.watch_consignee[lines["consignee"]]
            | ((notify >= 0) & self.watch_consignee[np.maximum(notify, 0)])
        )


def _po_box(address: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    return np.array([isinstance(a, str) and a.startswith("P.O. BOX") for a in address], dtype=bool)


def rule_points(
    world: World, lines: Table, defect: npt.NDArray[np.int64], state: PolicyState
) -> npt.NDArray[np.int64]:
    """Sum of the points of the rules each line triggers."""
    ports, goods = world.ports, world.goods
    pol, pod, hs = lines["pol"], lines["pod"], lines["hs_good"]

    def port_in(countries: tuple[str, ...], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        return np.isin(ports.country, countries)[rows]

    def hs_in(headings: tuple[str, ...]) -> npt.NDArray[np.bool_]:
        return np.isin(goods.heading, headings)[hs]

    codes, uniques = pd.factorize(lines["origin"])
    origin_source = np.isin(np.asarray(uniques, dtype=object), WILDLIFE_SOURCES)[codes]
    reefer_box = np.isin(lines["size"], (3, 4))
    african = port_in(TRADES[0].countries + TRADES[1].countries, pol)
    risky = np.concatenate([np.isin(ports.codes, RISKY_HUBS), [False]])  # index -1: no hub
    via_risky = risky[lines["hub1"]] | risky[lines["hub2"]]
    cocaine = port_in(COCAINE_SOURCES, pol)
    new_consignee = lines["day"] - state.first_seen_consignee[lines["consignee"]] < 90
    hits = {
        "source_cover_demand": (origin_source | port_in(WILDLIFE_SOURCES, pol))
        & hs_in(COVER_HEADINGS)
        & port_in(DEMAND_COUNTRIES, pod),
        "cocaine_origin": cocaine,
        "cocaine_origin_reefer": cocaine & reefer_box,
        "to_order": lines["to_order"],
        "vague_description": world.desc_good[lines["desc"]] < 0,
        "cites_without_permit": hs_in(CITES_HEADINGS) & ~lines["cites"] & african,
        "late_filing": lines["eta"] - lines["filed"] < DAY,
        "african_cargo_via_risky_hub": african & via_risky,
        "chemicals_to_new_consignee": hs_in(PRECURSOR_HEADINGS) & new_consignee,
        "new_shipper": lines["day"] - state.first_seen_shipper[lines["shipper"]] < 60,
        "data_quality": defect > 0,
        "reefer_for_dry_goods": reefer_box & ~goods.reefer[lines["good"]],
        "po_box_address": _po_box(world.shippers.address)[lines["shipper"]],
    }
    points = np.zeros(len(lines["day"]), dtype=np.int64)
    for name, mask in hits.items():
        points += RULES[name] * np.asarray(mask, dtype=np.int64)
    return points
