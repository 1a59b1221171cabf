"""Smuggling schemes drawn from documented cases, and how each one changes its tactics.

Each scheme has a sequence of tactics (generation 0, 1, ...). A scheme moves to its next
generation after a phase in which it was seized: new hub, new cover load, often a new source port,
and new front companies (sometimes still linked to the old ones by an address or a notify party).
Cocaine is different: it is added to containers of legitimate shippers, so its tactic is a lane
(source country and cover goods) rather than a set of front companies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.simulation.catalog import goods_index
from training.simulation.geography import Ports
from training.simulation.names import NameMaker
from training.simulation.parties import Parties, country_name

__all__ = ["SCHEMES", "SchemeSpec", "Tactic", "plan_tactics"]


@dataclass(frozen=True)
class SchemeSpec:
    name: str
    category: str  # contract seizure_category
    commodity: str
    kg: tuple[float, float]  # contraband per container
    sources: dict[str, tuple[str, ...]]  # source country -> loading ports
    covers: tuple[str, ...]  # goods keys of cover loads (declared goods)
    hubs: tuple[str, ...] = ()  # "" means a direct route
    dests: tuple[str, ...] = ()
    containers: tuple[int, int] = (1, 1)
    p_container: float = 0.8  # chance that a container of a smuggling B/L carries contraband
    concealment: float = 1.0  # multiplies the detection rate of an inspection
    to_order: float = 0.0
    vague: float = 0.0
    late: float = 0.0
    amend_late: float = 0.0
    reefer_odd: float = 0.0
    value_factor: float = 1.0  # declared value against the cover good's usual price
    forwarder: float = 0.0
    po_box: float = 0.0
    rip_on: bool = False  # added to legitimate containers instead of sent by front companies
    trade_word: str = ""


SCHEMES: tuple[SchemeSpec, ...] = (
    SchemeSpec(
        "ivory", "WILDLIFE", "ivory", (150, 3500),
        {"NG": ("NGAPP", "NGTIN", "NGONN"), "CG": ("CGPNR",), "CD": ("CDMAT",),
         "MZ": ("MZBEW", "MZMNC", "MZPOL"), "KE": ("KEMBA",), "TZ": ("TZDAR", "TZZNZ"),
         "TG": ("TGLFW",)},
        ("sawn_timber", "cashew", "sesame", "plastic_scrap", "seashells", "tea", "logs", "horn",
         "ginger"),
        hubs=("SGSIN", "MYPKG", "KHKOS", "LKCMB", "MYTPP", "TGLFW", "OMSLL"),
        dests=("VNHPH", "VNCLI", "VNDAD", "VNCMT", "HKHKG", "CNXMN"),
        containers=(1, 3), p_container=0.75, concealment=0.9, to_order=0.5, vague=0.3, late=0.3,
        amend_late=0.3, reefer_odd=0.02, value_factor=0.6, forwarder=0.5, po_box=0.3,
        trade_word="GENERAL TRADING",
    ),
    SchemeSpec(
        "pangolin", "WILDLIFE", "pangolin scales", (300, 8000),
        {"NG": ("NGAPP", "NGTIN", "NGONN", "NGLOS"), "CM": ("CMDLA", "CMKBI"), "CG": ("CGPNR",),
         "CD": ("CDMAT",), "GH": ("GHTEM",), "CI": ("CIABJ",)},
        ("ginger", "cashew", "sesame", "sawn_timber", "cocoa", "seashells", "frozen_fish",
         "plastic_scrap"),
        hubs=("SGSIN", "MYPKG", "HKHKG", "TGLFW", "LKCMB", "MYTPP"),
        dests=("VNHPH", "VNCLI", "VNCMT", "HKHKG", "CNYTN", "CNCAN"),
        containers=(1, 2), p_container=0.8, concealment=0.95, to_order=0.4, vague=0.25, late=0.25,
        amend_late=0.2, reefer_odd=0.1, value_factor=0.7, forwarder=0.4, po_box=0.25,
        trade_word="AGRO",
    ),
    SchemeSpec(
        "cocaine", "DRUGS", "cocaine", (30, 600),
        {"EC": ("ECGYE",), "CO": ("COBUN", "COCTG", "COSMR"), "PA": ("PAONX", "PABLB", "PAMIT"),
         "BR": ("BRSSZ", "BRPNG", "BRITJ", "BRRIG"), "PE": ("PECLL",)},
        ("bananas", "shrimp", "frozen_fish", "beef", "coffee", "sugar", "soybeans", "pulp"),
        concealment=0.75, rip_on=True,
    ),
    SchemeSpec(
        "rosewood", "TIMBER", "rosewood", (15000, 26000),
        {"NG": ("NGAPP", "NGONN"), "GH": ("GHTEM",), "SN": ("SNDKR",), "GW": ("GWOXB",),
         "MZ": ("MZBEW", "MZMNC", "MZPOL"), "MG": ("MGTMM",)},
        ("sawn_timber", "logs", "furniture", "flooring"),
        hubs=("", "SGSIN", "MYPKG", "TGLFW", "LKCMB", "HKHKG"),
        dests=("CNSHA", "CNCAN", "CNXMN", "HKHKG", "VNHPH", "VNCLI"),
        containers=(2, 8), p_container=0.95, concealment=1.0, to_order=0.3, vague=0.1, late=0.15,
        amend_late=0.1, value_factor=0.9, forwarder=0.3, po_box=0.1, trade_word="TIMBER",
    ),
    SchemeSpec(
        "precursors", "PRECURSORS", "ephedrine", (200, 3000),
        {"IN": ("INNSA", "INMUN"), "CN": ("CNSHA", "CNNGB", "CNCAN")},
        ("carboxylic", "chem_prep", "heterocyclic", "supplements", "medicaments"),
        hubs=("", "SGSIN", "KHKOS", "MYPKG", "HKHKG"),
        dests=("VNHPH", "VNCLI", "THLCH", "PHMNL", "HKHKG"),
        containers=(1, 1), p_container=0.9, concealment=0.7, to_order=0.1, vague=0.3, late=0.3,
        amend_late=0.3, value_factor=0.5, forwarder=0.6, po_box=0.2, trade_word="CHEMICALS",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Tactic:
    scheme: int
    generation: int
    source: str  # source country
    pols: tuple[int, ...]
    covers: tuple[int, ...]  # goods declared (cocaine: legitimate goods it hides in)
    hub: int  # -1: direct (cocaine: whatever the legitimate line does)
    pods: tuple[int, ...]
    shippers: tuple[int, ...]  # rows of the shipper table (front companies)
    consignees: tuple[int, ...]  # rows of the consignee table (front companies)
    notify: int  # consignee row of the real buyer, -1 none
    forwarder: int  # -1 none


def _cycle(rng: np.random.Generator, items: list[str], n: int) -> list[str]:
    """``n`` items cycling through a shuffled list, so consecutive picks differ."""
    order = [items[int(i)] for i in rng.permutation(len(items))]
    return [order[g % len(order)] for g in range(n)]


class _Fronts:
    """Collects front companies to append to the shipper and consignee tables."""

    def __init__(self, names: NameMaker, n_shippers: int, n_consignees: int, days: int) -> None:
        self.names = names
        self.rows: dict[str, list[tuple[str, str | None, str, int]]] = {"s": [], "c": []}
        self.base = {"s": n_shippers, "c": n_consignees}
        self.days = days

    def add(
        self,
        side: str,
        cc: str,
        city: str,
        scheme: int,
        spec: SchemeSpec,
        rng: np.random.Generator,
        address: str | None = None,
    ) -> int:
        name = self.names.company(cc, city, spec.trade_word)
        if address is None and rng.random() >= 0.15:
            address = self.names.address(city, country_name(cc), bool(rng.random() < spec.po_box))
        self.rows[side].append((name, address, cc, scheme))
        return self.base[side] + len(self.rows[side]) - 1

    def parties(self, side: str, rng: np.random.Generator) -> Parties:
        rows = self.rows[side]
        n = len(rows)
        has_id = rng.random(n) < 0.2
        return Parties(
            name=np.array([r[0] for r in rows], dtype=object),
            address=np.array([r[1] for r in rows], dtype=object),
            country=np.array([r[2] for r in rows], dtype=object),
            party_id=np.array(
                [
                    f"{r[2]}{int(rng.integers(10**8, 10**10))}" if h else None
                    for r, h in zip(rows, has_id, strict=True)
                ],
                dtype=object,
            ),
            start_day=np.full(n, self.days, dtype=np.int64),  # first seen when first used
            front=np.array([r[3] for r in rows], dtype=np.int64),
        )


@dataclass
class _Lineage:
    """Links between a scheme's generations of front companies (shared address, buyer, agent)."""

    address: str | None = None
    notify: int = -1
    forwarder: int = -1


def _new_fronts(
    fronts: _Fronts,
    lineage: _Lineage,
    scheme: int,
    where: tuple[str, str, str, str],  # source country and city, destination country and city
    n_forwarders: int,
    rng: np.random.Generator,
) -> tuple[tuple[int, ...], tuple[int, ...], int, int]:
    """Two shippers, two consignees, the real buyer (notify party) and the forwarder."""
    spec = SCHEMES[scheme]
    source, city, dest_cc, dcity = where
    link = lineage.address if rng.random() < 0.4 else None
    shippers = tuple(
        fronts.add("s", source, city, scheme, spec, rng, link if i == 0 else None) for i in range(2)
    )
    lineage.address = fronts.rows["s"][shippers[0] - fronts.base["s"]][1]
    consignees = tuple(fronts.add("c", dest_cc, dcity, scheme, spec, rng) for _ in range(2))
    if lineage.notify < 0 or rng.random() >= 0.5:
        lineage.notify = fronts.add("c", dest_cc, dcity, scheme, spec, rng)
    if lineage.forwarder < 0 or rng.random() >= 0.5:
        lineage.forwarder = int(rng.integers(n_forwarders))
    return shippers, consignees, lineage.notify, lineage.forwarder


def _hub(ports: Ports, spec: SchemeSpec, wanted: str, avoid: tuple[str, str]) -> int:
    """The wanted hub, or the first listed one outside the source and destination countries."""
    usable = [h for h in spec.hubs if h and ports.country[ports.index[h]] not in avoid]
    code = wanted if wanted in usable else (usable[0] if wanted and usable else "")
    return ports.index[code] if code else -1


def plan_tactics(
    ports: Ports,
    shippers: Parties,
    consignees: Parties,
    n_forwarders: int,
    generations: int,
    days: int,
    rng: np.random.Generator,
    names: NameMaker,
) -> tuple[tuple[tuple[Tactic, ...], ...], Parties, Parties]:
    """Tactic sequences of every scheme, and the shipper and consignee tables with fronts added."""
    gidx = goods_index()
    fronts = _Fronts(names, len(shippers), len(consignees), days)
    plans = []
    for s, spec in enumerate(SCHEMES):
        src = _cycle(rng, list(spec.sources), generations)
        cov = _cycle(rng, list(spec.covers), generations)
        hubs = _cycle(rng, list(spec.hubs) or [""], generations)
        lineage = _Lineage()
        seq: list[Tactic] = []
        for g in range(generations):
            source = src[g] if g == 0 or spec.rip_on or rng.random() < 0.5 else seq[-1].source
            pols = tuple(ports.idx(list(spec.sources[source])).tolist())
            dests = [d for d in spec.dests if d[:2] != source]
            dest_cc = dests[int(rng.integers(len(dests)))][:2] if dests else ""
            pods = tuple(ports.index[d] for d in dests if d[:2] == dest_cc)
            pods = pods[: 1 + int(rng.integers(2))]
            covers: tuple[int, ...] = (gidx[cov[g]],)
            parties: tuple[tuple[int, ...], tuple[int, ...], int, int] = ((), (), -1, -1)
            if spec.rip_on:
                covers = tuple(sorted({gidx[cov[g]], gidx[cov[(g + 1) % generations]]}))
            else:
                where = (source, str(ports.name[pols[0]]), dest_cc, str(ports.name[pods[0]]))
                parties = _new_fronts(fronts, lineage, s, where, n_forwarders, rng)
            seq.append(
                Tactic(
                    scheme=s,
                    generation=g,
                    source=source,
                    pols=pols,
                    covers=covers,
                    hub=_hub(ports, spec, hubs[g], (source, dest_cc)),
                    pods=pods,
                    shippers=parties[0],
                    consignees=parties[1],
                    notify=parties[2],
                    forwarder=parties[3],
                )
            )
        plans.append(tuple(seq))
    return (
        tuple(plans),
        shippers.extend(fronts.parties("s", rng)),
        consignees.extend(fronts.parties("c", rng)),
    )
