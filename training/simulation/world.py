"""The static part of the world: ports, fleet, goods, parties and their trade relationships."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from training.simulation.catalog import GOODS
from training.simulation.config import SimulationConfig
from training.simulation.fleet import Fleet, build_fleet
from training.simulation.geography import Ports, load_world_ports
from training.simulation.names import NameMaker
from training.simulation.parties import (
    Parties,
    Relationships,
    build_parties,
    build_relationships,
    description_table,
)
from training.simulation.tactics import Tactic, plan_tactics

__all__ = ["STREAMS", "GoodsTable", "World", "build_world", "stream"]

logger = logging.getLogger(__name__)

# Independent random streams, so that changing one part of the simulator leaves the others' draws.
STREAMS = {"world": 1, "bookings": 2, "schemes": 3, "lines": 4, "inspections": 5, "plan": 6}


def stream(seed: int, name: str, *keys: int) -> np.random.Generator:
    """The random generator of one named part of the simulation (and e.g. one phase)."""
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[name], *keys]))


@dataclass(frozen=True)
class GoodsTable:
    """The catalogue as arrays indexed by good."""

    hs: npt.NDArray[np.object_]
    heading: npt.NDArray[np.object_]
    kg_lo: npt.NDArray[np.float64]
    kg_hi: npt.NDArray[np.float64]
    usd_per_kg: npt.NDArray[np.float64]
    kg_per_package: npt.NDArray[np.float64]
    package_type: npt.NDArray[np.object_]
    reefer: npt.NDArray[np.bool_]
    twenty_share: npt.NDArray[np.float64]
    containers_mean: npt.NDArray[np.float64]
    cites: npt.NDArray[np.float64]

    @classmethod
    def from_catalog(cls) -> GoodsTable:
        def floats(values: list[float]) -> npt.NDArray[np.float64]:
            return np.array(values, dtype=np.float64)

        def texts(values: list[str]) -> npt.NDArray[np.object_]:
            return np.array(values, dtype=object)

        return cls(
            hs=texts([g.hs for g in GOODS]),
            heading=texts([g.hs[:4] for g in GOODS]),
            kg_lo=floats([g.kg[0] for g in GOODS]),
            kg_hi=floats([g.kg[1] for g in GOODS]),
            usd_per_kg=floats([g.usd_per_kg for g in GOODS]),
            kg_per_package=floats([g.kg_per_package for g in GOODS]),
            package_type=texts([g.package_type for g in GOODS]),
            reefer=np.array([g.reefer for g in GOODS], dtype=bool),
            twenty_share=floats([g.twenty_share for g in GOODS]),
            containers_mean=floats([g.containers_mean for g in GOODS]),
            cites=floats([g.cites for g in GOODS]),
        )


@dataclass(frozen=True)
class World:
    config: SimulationConfig
    epoch: datetime  # midnight UTC of the first day
    ports: Ports
    fleet: Fleet
    goods: GoodsTable
    desc_text: npt.NDArray[np.object_]
    desc_good: npt.NDArray[np.int64]
    shippers: Parties
    consignees: Parties
    forwarder_name: npt.NDArray[np.object_]
    forwarder_country: npt.NDArray[np.object_]
    rel: Relationships
    tactics: tuple[tuple[Tactic, ...], ...]  # per scheme, per generation

    @property
    def start_weekday(self) -> int:
        return self.epoch.weekday()


def build_world(config: SimulationConfig) -> World:
    rng = stream(config.seed, "world")
    names = NameMaker(rng)
    ports = load_world_ports()
    fleet = build_fleet(ports, rng, names)
    shippers, consignees, fwd_name, fwd_country = build_parties(config, ports, rng, names)
    rel = build_relationships(config, ports, fleet, shippers, consignees, len(fwd_name), rng)
    tactics, shippers, consignees = plan_tactics(
        ports,
        shippers,
        consignees,
        len(fwd_name),
        generations=config.phases,
        days=config.days,
        rng=stream(config.seed, "plan"),
        names=names,
    )
    texts, desc_goods = description_table()
    logger.info(
        "world: %d shippers, %d consignees, %d relationships, %d services, %d vessels",
        len(shippers),
        len(consignees),
        len(rel.shipper),
        len(fleet.pool_size),
        len(fleet.vessel_imo),
    )
    return World(
        config=config,
        epoch=datetime(config.start.year, config.start.month, config.start.day, tzinfo=UTC),
        ports=ports,
        fleet=fleet,
        goods=GoodsTable.from_catalog(),
        desc_text=np.array(texts, dtype=object),
        desc_good=np.array(desc_goods, dtype=np.int64),
        shippers=shippers,
        consignees=consignees,
        forwarder_name=fwd_name,
        forwarder_country=fwd_country,
        rel=rel,
        tactics=tactics,
    )
