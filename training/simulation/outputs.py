"""The three frames and the description of a simulated world (what `simulate` returns)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from risk_engine.columns import CONTRACT_VERSION
from training.simulation.bookings import Table
from training.simulation.catalog import GOODS
from training.simulation.config import Phase
from training.simulation.inspections import LEVELS, REASONS, RESULTS
from training.simulation.lines import DEFECTS
from training.simulation.render import render_shipments
from training.simulation.tactics import SCHEMES, Tactic
from training.simulation.world import World

__all__ = [
    "TRUTH_COLUMNS",
    "meta_record",
    "outcome_frame",
    "scheme_record",
    "shipment_frame",
    "to_frame",
    "truth_frame",
]

TRUTH_COLUMNS = (
    "bl_number",
    "container_number",
    "p_contraband",
    "has_contraband",
    "scheme",
    "phase",
)
_DALBERGIA_SOURCES = ("MG", "MZ")
_NONE = np.array(None, dtype=object)


def to_frame(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas: text as ``str``, nullable integers as ``Int64``, UTC timestamps."""
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    return frame


def shipment_frame(world: World, lines: Table, defect: np.ndarray) -> pd.DataFrame:
    return to_frame(render_shipments(world, lines, defect))


def _commodity(world: World, lines: Table, rows: np.ndarray) -> np.ndarray:
    scheme = lines["scheme"][rows]
    names = np.array([s.commodity for s in SCHEMES], dtype=object)[np.maximum(scheme, 0)]
    rosewood = scheme == [s.name for s in SCHEMES].index("rosewood")
    dalbergia = np.isin(lines["origin"][rows], _DALBERGIA_SOURCES)
    names = np.where(rosewood & dalbergia, "rosewood (Dalbergia)", names)
    names = np.where(rosewood & ~dalbergia, "rosewood (Pterocarpus erinaceus)", names)
    precursor = scheme == [s.name for s in SCHEMES].index("precursors")
    return np.where(precursor & (rows % 3 == 0), "pseudoephedrine", names)


def outcome_frame(
    world: World, lines: Table, outcomes: Table, shipments: pd.DataFrame
) -> pd.DataFrame:
    rows = outcomes["line"]
    seizure = outcomes["result"] == 1
    category = np.array([s.category for s in SCHEMES], dtype=object)[
        np.maximum(lines["scheme"][rows], 0)
    ]
    epoch = pd.Timestamp(world.epoch)
    stamp = pd.to_timedelta(outcomes["inspected"], unit="s") + epoch
    recorded = pd.to_timedelta(outcomes["recorded"], unit="s") + epoch
    names = np.array([p.name for p in world.config.phase_list()], dtype=object)
    frame = pd.DataFrame(
        {
            "bl_number": shipments["bl_number"].to_numpy()[rows],
            "container_number": shipments["container_number"].to_numpy()[rows],
            "selection_reason": np.array(REASONS, dtype=object)[outcomes["reason"]],
            "selection_probability": np.round(outcomes["probability"], 8),
            "model_version": pd.Series([None] * len(rows), dtype="str"),
            "inspected_at": stamp.astype("datetime64[us, UTC]"),
            "inspection_level": np.array(LEVELS, dtype=object)[outcomes["level"]],
            "result": np.array(RESULTS, dtype=object)[outcomes["result"]],
            "seizure_category": np.where(seizure, category, _NONE),
            "commodity": np.where(seizure, _commodity(world, lines, rows), _NONE),
            "quantity_kg": outcomes["quantity"],
            "recorded_at": recorded.astype("datetime64[us, UTC]"),
            "operation_phase": names[outcomes["phase"] - 1],
        }
    )
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype({c: "str" for c in text})


def truth_frame(world: World, lines: Table, shipments: pd.DataFrame) -> pd.DataFrame:
    names = np.array([s.name for s in SCHEMES], dtype=object)
    has = lines["has"]
    scheme = np.where(has, names[np.maximum(lines["scheme"], 0)], "")
    return pd.DataFrame(
        {
            "bl_number": shipments["bl_number"],
            "container_number": shipments["container_number"],
            "p_contraband": np.round(lines["p"], 6),
            "has_contraband": has,
            "scheme": pd.Series(scheme, dtype="str"),
            "phase": lines["phase"],
        }
    )


def scheme_record(
    world: World, tactic: Tactic, lines: Table, outcomes: Table, seized: bool
) -> dict[str, Any]:
    """One scheme's tactic in one phase and how it fared."""
    codes = world.ports.codes
    mine = lines["scheme"] == tactic.scheme
    carrying = mine & lines["has"]
    inspected = np.zeros(len(mine), dtype=bool)
    inspected[outcomes["line"]] = True
    found = np.zeros(len(mine), dtype=bool)
    found[outcomes["line"][outcomes["result"] == 1]] = True
    return {
        "scheme": SCHEMES[tactic.scheme].name,
        "generation": tactic.generation,
        "source_country": tactic.source,
        "loading_ports": [str(codes[p]) for p in tactic.pols],
        "hub": str(codes[tactic.hub]) if tactic.hub >= 0 else "",
        "discharge_ports": [str(codes[p]) for p in tactic.pods],
        "cover_goods": [GOODS[g].key for g in tactic.covers],
        "cover_hs": [GOODS[g].hs for g in tactic.covers],
        "front_shippers": [str(world.shippers.name[s]) for s in tactic.shippers],
        "front_consignees": [str(world.consignees.name[c]) for c in tactic.consignees],
        "lines": int(mine.sum()),
        "contraband_lines": int(carrying.sum()),
        "inspected_contraband_lines": int((carrying & inspected).sum()),
        "seized_lines": int((carrying & found).sum()),
        "adapts_next_phase": seized,
    }


def meta_record(
    world: World,
    phases: list[Phase],
    history: list[dict[str, Any]],
    lines: Table,
    outcomes: Table,
    defect: np.ndarray,
) -> dict[str, Any]:
    config = world.config
    reasons = np.bincount(outcomes["reason"], minlength=len(REASONS))
    results = np.bincount(outcomes["result"], minlength=len(RESULTS))
    defects = np.bincount(defect, minlength=len(DEFECTS) + 1)
    return {
        "generator": "training.simulation",
        "contract_version": CONTRACT_VERSION,
        "seed": config.seed,
        "config": config.model_dump(mode="json"),
        "phases": [
            {
                "index": p.index,
                "name": p.name,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
            }
            for p in phases
        ],
        "counts": {
            "shipments": int(len(lines["k"])),
            "bills_of_lading": int(len(pd.unique(lines["booking"]))),
            "outcomes": int(len(outcomes["line"])),
            "seizures": int(results[1]),
            "contraband_lines": int(lines["has"].sum()),
            "selection_reasons": {r: int(c) for r, c in zip(REASONS, reasons, strict=True)},
            "results": {r: int(c) for r, c in zip(RESULTS, results, strict=True)},
            "defects": {name: int(defects[code]) for code, (name, _) in DEFECTS.items()},
            "flagged_lines_expected": int((defect > 0).sum()),
        },
        "schemes": history,
    }
