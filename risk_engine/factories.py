"""Small seeded factories of contract records, shipped with the package for tests and benchmarks.

These make plausible, valid records quickly (vectorised); the simulator in `training.simulation`
makes a whole believable world. Values are strings, as read from a CSV file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from risk_engine.columns import SHIPMENT_FIELDS
from risk_engine.reference.checks import iso6346_check_digit

__all__ = ["shipment_frame", "valid_shipment_row", "valid_outcome_row", "container_numbers"]

_LANES = (
    ("NGAPP", "MYPKG", "VNHPH", "NG", "080132", "CASHEW NUTS IN SHELL"),
    ("TZDAR", "SGSIN", "VNCLI", "TZ", "440349", "SAWN TIMBER"),
    ("CNSHA", "", "VNHPH", "CN", "847130", "LAPTOP COMPUTERS"),
    ("ECGYE", "PAONX;SGSIN", "HKHKG", "EC", "080390", "FRESH BANANAS"),
    ("KEMBA", "LKCMB", "CNSHA", "KE", "120740", "SESAME SEEDS"),
    ("NLRTM", "", "THLCH", "NL", "293941", "PHARMACEUTICAL CHEMICALS"),
)
_OWNERS = ("MSC", "CSQ", "MAE", "CMA", "HLX", "ONE", "EVR", "COS")


def container_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid ISO 6346 numbers (category U)."""
    owners = rng.choice(_OWNERS, size=n)
    serials = rng.integers(0, 1_000_000, size=n)
    stems = [f"{o}U{s:06d}" for o, s in zip(owners, serials, strict=True)]
    return np.array([s + str(iso6346_check_digit(s)) for s in stems], dtype=object)


def shipment_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` valid shipment lines with unique keys, every contract column as text."""
    rng = np.random.default_rng(seed)
    lane = rng.integers(0, len(_LANES), size=n)
    lanes = np.array(_LANES, dtype=object)[lane]
    filed = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 365 * 24 * 60, size=n), unit="min"
    )
    etd = filed + pd.to_timedelta(rng.integers(12, 96, size=n), unit="h")
    eta = etd + pd.to_timedelta(rng.integers(5, 40, size=n), unit="D")
    iso = "%Y-%m-%dT%H:%M:%SZ"
    frame = pd.DataFrame(
        {
            "bl_number": np.char.add("BL", np.arange(n).astype(str)),
            "bl_type": "SIMPLE",
            "container_number": container_numbers(rng, n),
            "container_size_type": rng.choice(["22G1", "45G1", "45R1", "42G1"], size=n),
            "full_empty": "FULL",
            "seal_numbers": np.char.add("SL", rng.integers(0, 10**6, size=n).astype(str)),
            "carrier_code": rng.choice(["MSCU", "MAEU", "CMDU", "COSU"], size=n),
            "vessel_imo": "9074729",
            "vessel_name": "SAMPLE STAR",
            "voyage_number": np.char.add("V", rng.integers(100, 999, size=n).astype(str)),
            "port_of_loading": lanes[:, 0],
            "transshipment_ports": lanes[:, 1],
            "port_of_discharge": lanes[:, 2],
            "country_of_origin": lanes[:, 3],
            "filed_at": filed.strftime(iso),
            "booking_created_at": (filed - pd.Timedelta(days=10)).strftime(iso),
            "etd": etd.strftime(iso),
            "eta": eta.strftime(iso),
            "amendment_count": rng.integers(0, 3, size=n).astype(str),
            "shipper_name": np.char.add("Exporter ", rng.integers(0, 5000, size=n).astype(str)),
            "shipper_country": lanes[:, 3],
            "consignee_name": np.char.add("Importer ", rng.integers(0, 5000, size=n).astype(str)),
            "consignee_country": [p[:2] for p in lanes[:, 2]],
            "freight_forwarder_name": rng.choice(["", "Oceanic Logistics", "Blue Freight"], size=n),
            "hs_code": lanes[:, 4],
            "goods_description": lanes[:, 5],
            "package_count": rng.integers(1, 2000, size=n).astype(str),
            "package_type": "BG",
            "gross_weight_kg": np.round(rng.uniform(800, 28000, size=n), 1).astype(str),
            "declared_value": np.round(rng.uniform(1000, 90000, size=n), 2).astype(str),
            "currency": "USD",
            "freight_terms": rng.choice(["PREPAID", "COLLECT"], size=n),
        }
    )
    for spec in SHIPMENT_FIELDS:
        if spec.name not in frame.columns:
            frame[spec.name] = ""
    return frame[[spec.name for spec in SHIPMENT_FIELDS]]


def valid_shipment_row(seed: int = 0) -> dict[str, str]:
    """One valid shipment line as text fields."""
    row = shipment_frame(1, seed).iloc[0].to_dict()
    return {str(key): str(value) for key, value in row.items()}


def valid_outcome_row(seed: int = 0) -> dict[str, str]:
    """One valid inspection outcome (a seizure) matching ``valid_shipment_row(seed)``."""
    ship = valid_shipment_row(seed)
    return {
        "bl_number": ship["bl_number"],
        "container_number": ship["container_number"],
        "selection_reason": "RANDOM_CONTROL",
        "selection_probability": "0.01",
        "model_version": "",
        "inspected_at": ship["eta"],
        "inspection_level": "PHYSICAL",
        "result": "SEIZURE",
        "seizure_category": "WILDLIFE",
        "commodity": "pangolin scales",
        "quantity_kg": "1200",
        "recorded_at": (pd.Timestamp(ship["eta"]) + pd.Timedelta(days=9)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "operation_phase": "phase-1",
    }


def seizure_after_filing(line: Mapping[str, Any], category: str = "WILDLIFE") -> dict[str, str]:
    """A seizure outcome of ``line`` (a shipment line: bl_number, container_number, filed_at),
    inspected a minute after filing and recorded a minute later: lines filed after it may know
    of it, point in time."""
    inspected = pd.Timestamp(line["filed_at"]) + pd.Timedelta(minutes=1)
    return {
        "bl_number": str(line["bl_number"]),
        "container_number": str(line["container_number"]),
        "inspected_at": inspected.isoformat(),
        "recorded_at": (inspected + pd.Timedelta(minutes=1)).isoformat(),
        "inspection_level": "PHYSICAL",
        "result": "SEIZURE",
        "seizure_category": category,
        "selection_reason": "MODEL",
    }
