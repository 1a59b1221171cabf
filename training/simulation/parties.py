"""Trading parties with stable profiles and the trade relationships between them.

A relationship is one shipper selling one good to one buyer over one route: it fixes the ports,
hubs, service, forwarder, description, the TO ORDER habit and a price level. Bookings are drawn
from relationships by volume, so a party's history looks the same from month to month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import numpy.typing as npt

from training.simulation.catalog import GOODS, VAGUE_DESCRIPTIONS
from training.simulation.config import SimulationConfig
from training.simulation.fleet import Fleet
from training.simulation.geography import DESTINATION_PORTS, TRADES, Ports, trade_of_country
from training.simulation.names import NameMaker

__all__ = [
    "Parties",
    "Relationships",
    "build_parties",
    "build_relationships",
    "country_name",
    "description_table",
]

Array = npt.NDArray[np.int64]
_TRADE_WEIGHT = {
    "west_africa": 0.11,
    "east_africa": 0.09,
    "south_america": 0.13,
    "europe": 0.12,
    "middle_east_south_asia": 0.12,
    "intra_asia": 0.43,
}
_ASIAN_HUBS = ("SGSIN", "HKHKG", "KRPUS", "TWKHH")
_COUNTRY_NAMES = {"CD": "DR CONGO", "CG": "REPUBLIC OF CONGO", "VN": "VIETNAM", "KR": "SOUTH KOREA"}
_REEXPORT_COUNTRIES = ("SG", "MY", "AE", "HK", "PA")


@dataclass(frozen=True)
class Parties:
    """Shippers or consignees; a party is addressed by its row index."""

    name: npt.NDArray[np.object_]
    address: npt.NDArray[np.object_]  # None when the party files none
    country: npt.NDArray[np.object_]
    party_id: npt.NDArray[np.object_]  # None when unknown
    start_day: Array  # first day of trading; negative: trading before the world starts
    front: Array  # scheme index of a front company, -1 for a legitimate party

    def __len__(self) -> int:
        return len(self.name)

    def extend(self, other: Parties) -> Parties:
        return replace(
            self,
            **{
                f: np.concatenate([getattr(self, f), getattr(other, f)])
                for f in ("name", "address", "country", "party_id", "start_day", "front")
            },
        )


@dataclass(frozen=True)
class Relationships:
    shipper: Array
    consignee: Array
    good: Array  # what is really shipped (weights, values)
    desc: Array  # row of the description table
    hs_good: Array  # good whose HS code is declared (differs for a few sloppy filers)
    origin: npt.NDArray[np.object_]  # country of origin of the goods
    pol: Array
    hub1: Array  # -1: none
    hub2: Array
    pod: Array
    service: Array
    forwarder: Array  # -1: none
    house: npt.NDArray[np.bool_]
    to_order: npt.NDArray[np.bool_]
    notify: Array  # consignee row, -1 none, -2 "SAME AS CONSIGNEE"
    agent_consignee: npt.NDArray[np.bool_]  # the forwarder's agent is named as consignee
    freight: Array  # 0 PREPAID, 1 COLLECT, 2 not given
    price: npt.NDArray[np.float64]
    start_day: Array
    weight: npt.NDArray[np.float64]


@cache
def country_name(code: str) -> str:
    import pycountry

    if code in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    name = getattr(country, "common_name", None) or getattr(country, "name", code)
    return str(name).split(",")[0].upper()


@cache
def description_table() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """All description texts and the good each describes (-1: vague text)."""
    texts: list[str] = []
    goods: list[int] = []
    for g, good in enumerate(GOODS):
        texts.extend(good.descriptions)
        goods.extend([g] * len(good.descriptions))
    texts.extend(VAGUE_DESCRIPTIONS)
    goods.extend([-1] * len(VAGUE_DESCRIPTIONS))
    return tuple(texts), tuple(goods)


def _ports_by_country(ports: Ports) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, cc in enumerate(ports.country.tolist()):
        out.setdefault(str(cc), []).append(i)
    return out


def _city(ports: Ports, by_country: dict[str, list[int]], cc: str, rng: np.random.Generator) -> str:
    rows = by_country.get(cc)
    if not rows:
        return country_name(cc)
    return str(ports.name[rows[int(rng.integers(len(rows)))]])


def _start_days(rng: np.random.Generator, n: int, days: int, new_share: float) -> Array:
    new = rng.random(n) < new_share
    before = -rng.integers(30, 2000, size=n)
    return np.where(new, rng.integers(0, days, size=n), before).astype(np.int64)


def _make(
    names: NameMaker,
    ports: Ports,
    countries: list[str],
    rng: np.random.Generator,
    days: int,
    *,
    new_share: float,
    id_share: float,
) -> Parties:
    by_country = _ports_by_country(ports)
    name, address, party_id = [], [], []
    for cc in countries:
        city = _city(ports, by_country, cc, rng)
        name.append(names.company(cc, city))
        po_box = bool(rng.random() < 0.03)
        missing = bool(rng.random() < 0.05)
        address.append(None if missing else names.address(city, country_name(cc), po_box))
        has_id = bool(rng.random() < id_share)
        party_id.append(f"{cc}{int(rng.integers(10**8, 10**10))}" if has_id else None)
    n = len(countries)
    return Parties(
        name=np.array(name, dtype=object),
        address=np.array(address, dtype=object),
        country=np.array(countries, dtype=object),
        party_id=np.array(party_id, dtype=object),
        start_day=_start_days(rng, n, days, new_share),
        front=np.full(n, -1, dtype=np.int64),
    )


def _exporter_weights() -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for g, good in enumerate(GOODS):
        for cc, w in good.exporters.items():
            out.setdefault(cc, {})[g] = w * good.volume
    return out


def build_parties(
    config: SimulationConfig, ports: Ports, rng: np.random.Generator, names: NameMaker
) -> tuple[Parties, Parties, npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Shippers, consignees, and the names and countries of freight forwarders."""
    exporters = _exporter_weights()
    trade_names = [t.name for t in TRADES]
    trade_p = np.array([_TRADE_WEIGHT[t] for t in trade_names])
    shipper_countries = []
    for t in rng.choice(len(TRADES), size=config.n_shippers, p=trade_p / trade_p.sum()):
        options = [cc for cc in TRADES[int(t)].countries if cc in exporters]
        w = np.array([sum(exporters[cc].values()) for cc in options])
        shipper_countries.append(options[int(rng.choice(len(options), p=w / w.sum()))])
    dest_countries = sorted({code[:2] for code in DESTINATION_PORTS})
    dw = np.array(
        [sum(v for k, v in DESTINATION_PORTS.items() if k[:2] == cc) for cc in dest_countries]
    )
    consignee_countries = [
        dest_countries[int(i)]
        for i in rng.choice(len(dest_countries), config.n_consignees, p=dw / dw.sum())
    ]
    shippers = _make(
        names, ports, shipper_countries, rng, config.days, new_share=0.12, id_share=0.6
    )
    consignees = _make(
        names, ports, consignee_countries, rng, config.days, new_share=0.12, id_share=0.75
    )
    n_fwd = max(20, config.n_shippers // 60)
    fwd_countries = [
        shipper_countries[int(rng.integers(len(shipper_countries)))]
        if rng.random() < 0.5
        else consignee_countries[int(rng.integers(len(consignee_countries)))]
        for _ in range(n_fwd)
    ]
    forwarders = np.array([names.forwarder(cc) for cc in fwd_countries], dtype=object)
    return shippers, consignees, forwarders, np.array(fwd_countries, dtype=object)


def _choose(weights: npt.NDArray[np.float64], rng: np.random.Generator) -> Array:
    """One column per row with probability proportional to the row's weights; -1 if all zero."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    u = rng.random(len(weights)) * total
    pick = (cum <= u[:, None]).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, weights.shape[1] - 1), -1).astype(np.int64)


def _routes(
    ports: Ports, trade: Array, pol: Array, pod: Array, rng: np.random.Generator
) -> tuple[Array, Array]:
    n = len(pol)
    hub1 = np.full(n, -1, dtype=np.int64)
    hub2 = np.full(n, -1, dtype=np.int64)
    pol_cc, pod_cc = ports.country[pol], ports.country[pod]
    asian = ports.idx(_ASIAN_HUBS)
    for t, spec in enumerate(TRADES):
        rows = np.flatnonzero((trade == t) & (rng.random(n) < spec.transship_share))
        if not len(rows):
            continue
        hubs = ports.idx(list(spec.hubs))
        w = np.array(list(spec.hubs.values()))[None, :].repeat(len(rows), axis=0)
        hub_cc = ports.country[hubs][None, :]
        w = w * (hub_cc != pol_cc[rows, None]) * (hub_cc != pod_cc[rows, None])
        pick = _choose(w, rng)
        hub1[rows] = np.where(pick >= 0, hubs[np.maximum(pick, 0)], -1)
        two = rows[(rng.random(len(rows)) < spec.two_hub_share) & (hub1[rows] >= 0)]
        if len(two):
            a_cc = ports.country[asian][None, :]
            w2 = (
                (a_cc != pol_cc[two, None])
                * (a_cc != pod_cc[two, None])
                * (asian != hub1[two, None])
            ).astype(np.float64)
            pick2 = _choose(w2, rng)
            hub2[two] = np.where(pick2 >= 0, asian[np.maximum(pick2, 0)], -1)
    return hub1, hub2


def _padded(groups: list[list[int]]) -> tuple[Array, Array]:
    width = max(len(g) for g in groups)
    out = np.zeros((len(groups), width), dtype=np.int64)
    for i, g in enumerate(groups):
        out[i, : len(g)] = g
    return out, np.array([len(g) for g in groups], dtype=np.int64)


def build_relationships(
    config: SimulationConfig,
    ports: Ports,
    fleet: Fleet,
    shippers: Parties,
    consignees: Parties,
    n_forwarders: int,
    rng: np.random.Generator,
) -> Relationships:
    exporters = _exporter_weights()
    by_country = _ports_by_country(ports)
    n_s = len(shippers)
    # goods and loading ports of each shipper
    goods_of: list[list[int]] = []
    for cc in shippers.country.tolist():
        offer = exporters[str(cc)]
        goods = list(offer)
        gw = np.array([offer[g] for g in goods])
        k = min(len(goods), 1 + int(rng.random() < 0.4) + int(rng.random() < 0.15))
        goods_of.append(
            [goods[int(i)] for i in rng.choice(len(goods), k, replace=False, p=gw / gw.sum())]
        )
    goods_pad, goods_n = _padded(goods_of)
    countries = sorted(by_country)
    pols_pad, pols_n = _padded([by_country[c] for c in countries])
    shipper_cix = np.searchsorted(np.array(countries, dtype=object), shippers.country)
    # relationships: 1-7 per shipper
    n_rel = 1 + np.minimum(rng.poisson(1.2, size=n_s), 6)
    shipper = np.repeat(np.arange(n_s), n_rel)
    share = rng.gamma(1.0, size=len(shipper))
    share /= np.bincount(shipper, weights=share)[shipper]
    volume = rng.lognormal(0.0, 1.2, size=n_s)[shipper] * share
    good = goods_pad[shipper, (rng.random(len(shipper)) * goods_n[shipper]).astype(np.int64)]
    # buyer country, buyer, port of discharge
    dest_cc = np.array(sorted({code[:2] for code in DESTINATION_PORTS}), dtype=object)
    imp = np.array(
        [[GOODS[g].importers.get(str(c), 0.0) for c in dest_cc] for g in range(len(GOODS))]
    )
    w = imp[good] * (dest_cc[None, :] != shippers.country[shipper][:, None])
    pick = _choose(w, rng)
    keep = pick >= 0
    shipper, volume, good, pick = shipper[keep], volume[keep], good[keep], pick[keep]
    n = len(shipper)
    volume_c = rng.lognormal(0.0, 1.0, size=len(consignees))
    consignee = np.zeros(n, dtype=np.int64)
    for i, cc in enumerate(dest_cc.tolist()):
        rows = np.flatnonzero(pick == i)
        pool = np.flatnonzero(consignees.country == cc)
        cum = np.cumsum(volume_c[pool])
        consignee[rows] = pool[np.searchsorted(cum, rng.random(len(rows)) * cum[-1], side="right")]
    dest_by_cc = [[ports.index[d] for d in DESTINATION_PORTS if d[:2] == cc] for cc in dest_cc]
    dest_pad, dest_n = _padded(dest_by_cc)
    cons_cix = np.searchsorted(dest_cc, consignees.country)
    dest_w = np.array(
        [[DESTINATION_PORTS.get(str(ports.codes[p]), 0.0) for p in row] for row in dest_pad],
        dtype=float,
    ) * (np.arange(dest_pad.shape[1])[None, :] < dest_n[:, None])
    cons_pod = dest_pad[cons_cix, _choose(dest_w[cons_cix], rng)]
    pod = cons_pod[consignee]
    cix = shipper_cix[shipper]
    pol = pols_pad[cix, (rng.random(n) * pols_n[cix]).astype(np.int64)]
    trade = np.array([trade_of_country(str(c)) for c in countries], dtype=np.int64)[cix]
    hub1, hub2 = _routes(ports, trade, pol, pod, rng)
    service = np.zeros(n, dtype=np.int64)
    for t in range(len(TRADES)):
        for p in np.unique(pod[trade == t]):
            rows = np.flatnonzero((trade == t) & (pod == p))
            options = fleet.services_calling(t, int(p))
            service[rows] = options[rng.integers(len(options), size=len(rows))]
    route = {"pol": pol, "hub1": hub1, "hub2": hub2, "pod": pod, "service": service}
    parties = {"shipper": shipper, "consignee": consignee}
    return _profiles(config, shippers, consignees, n_forwarders, rng, good, volume, route, parties)


def _profiles(
    config: SimulationConfig,
    shippers: Parties,
    consignees: Parties,
    n_forwarders: int,
    rng: np.random.Generator,
    good: Array,
    volume: npt.NDArray[np.float64],
    route: dict[str, Array],
    parties: dict[str, Array],
) -> Relationships:
    """The habits of each relationship: paperwork, forwarder, description, price, start."""
    n = len(good)
    shipper, consignee = parties["shipper"], parties["consignee"]
    _, desc_goods = description_table()
    desc_goods_arr = np.array(desc_goods)
    first = np.searchsorted(desc_goods_arr[desc_goods_arr >= 0], np.arange(len(GOODS)))
    count = np.bincount(desc_goods_arr[desc_goods_arr >= 0], minlength=len(GOODS))
    desc = first[good] + (rng.random(n) * count[good]).astype(np.int64)
    vague = rng.random(n) < 0.04
    vague_rows = np.flatnonzero(desc_goods_arr < 0)
    desc[vague] = vague_rows[rng.integers(len(vague_rows), size=int(vague.sum()))]
    mismatch = rng.random(n) < 0.01
    hs_good = np.where(mismatch, rng.integers(len(GOODS), size=n), good)
    origin = shippers.country[shipper].copy()
    reexport = np.isin(origin, _REEXPORT_COUNTRIES) & (rng.random(n) < 0.5)
    for i in np.flatnonzero(reexport):
        makers = list(GOODS[int(good[i])].exporters)
        origin[i] = makers[int(rng.integers(len(makers)))]
    forwarder = np.where(rng.random(n) < 0.4, rng.integers(n_forwarders, size=n), -1)
    to_order = rng.random(n) < np.array([g.to_order for g in GOODS])[good]
    roll = rng.random(n)
    notify = np.where(to_order | (roll < 0.3), consignee, np.where(roll < 0.8, -2, -1))
    own_start = np.where(rng.random(n) < 0.15, rng.integers(0, config.days, size=n), -1)
    start = np.maximum.reduce(
        [shippers.start_day[shipper], consignees.start_day[consignee], own_start]
    )
    return Relationships(
        shipper=shipper,
        consignee=consignee,
        good=good,
        desc=desc,
        hs_good=hs_good,
        origin=origin,
        pol=route["pol"],
        hub1=route["hub1"],
        hub2=route["hub2"],
        pod=route["pod"],
        service=route["service"],
        forwarder=forwarder,
        house=(forwarder >= 0) & (rng.random(n) < 0.8),
        to_order=to_order,
        notify=notify.astype(np.int64),
        agent_consignee=(forwarder >= 0) & ~to_order & (rng.random(n) < 0.05),
        freight=rng.choice(3, size=n, p=[0.7, 0.25, 0.05]).astype(np.int64),
        price=rng.lognormal(0.0, 0.15, size=n),
        start_day=start.astype(np.int64),
        weight=volume,
    )
