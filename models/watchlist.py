"""Watch lists of parties and containers: lines that hit one are always selected.

A watch list is a CSV or Parquet file with any of the columns ``party_name`` (matched against
shipper, consignee, notify party and forwarder names, case and spacing ignored), ``country``
(optional, narrows a party match), ``container_number`` and ``bl_number``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from risk_engine.errors import ConfigError

__all__ = ["Watchlist", "load_watchlist"]

_PARTIES = (
    ("shipper_name", "shipper_country"),
    ("consignee_name", "consignee_country"),
    ("notify_party_name", "notify_party_country"),
    ("freight_forwarder_name", None),
)


def _norm(values: pd.Series) -> pd.Series:
    return (
        values.astype("string")
        .fillna("")
        .str.upper()
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


@dataclass
class Watchlist:
    parties: set[tuple[str, str]] = field(default_factory=set)  # (name, country or "")
    containers: set[str] = field(default_factory=set)
    bills: set[str] = field(default_factory=set)

    def hits(self, lines: pd.DataFrame) -> pd.Series:
        """True where a line names a watched party, container or B/L."""
        hit = np.zeros(len(lines), dtype=bool)
        names = {name for name, _ in self.parties}
        any_country = {name for name, country in self.parties if not country}
        for name_column, country_column in _PARTIES:
            if name_column not in lines.columns:
                continue
            name = _norm(lines[name_column])
            candidate = name.isin(names).to_numpy(dtype=bool)
            if not candidate.any():
                continue
            loose = name.isin(any_country).to_numpy(dtype=bool)
            if country_column is not None and country_column in lines.columns:
                country = _norm(lines[country_column])
                pairs = pd.Series(list(zip(name, country, strict=True)), index=lines.index)
                exact = pairs.isin(self.parties).to_numpy(dtype=bool)
            else:
                exact = np.zeros(len(lines), dtype=bool)
            hit |= candidate & (loose | exact)
        if self.containers and "container_number" in lines.columns:
            hit |= _norm(lines["container_number"]).isin(self.containers).to_numpy(dtype=bool)
        if self.bills and "bl_number" in lines.columns:
            hit |= _norm(lines["bl_number"]).isin(self.bills).to_numpy(dtype=bool)
        return pd.Series(hit, index=lines.index)


def load_watchlist(path: Path | None) -> Watchlist | None:
    if path is None:
        return None
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read watch list {path}: {error}") from error
    known = {"party_name", "country", "container_number", "bl_number"}
    if not known & set(frame.columns):
        raise ConfigError(
            f"watch list {path} needs one of the columns {sorted(known)}, has {list(frame.columns)}"
        )
    watch = Watchlist()
    if "party_name" in frame.columns:
        names = _norm(frame["party_name"])
        countries = (
            _norm(frame["country"])
            if "country" in frame.columns
            else pd.Series("", index=frame.index)
        )
        watch.parties = {(n, c) for n, c in zip(names, countries, strict=True) if n}
    if "container_number" in frame.columns:
        watch.containers = {
            c for c in _norm(frame["container_number"]).str.replace(r"[\s-]", "", regex=True) if c
        }
    if "bl_number" in frame.columns:
        watch.bills = {b for b in _norm(frame["bl_number"]) if b}
    return watch
