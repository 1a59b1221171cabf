"""Inspection capacity per port: how many containers each port's teams can open in a day.

A port control unit knows its capacity as a number of containers a day ("25 at Cat Lai"), not as a
share of what arrives. A capacity file is a CSV or Parquet file with the columns
``port_of_discharge`` (UN/LOCODE) and ``slots_per_day`` (a whole number, 0 or more): each port-day
of a listed port gets that many slots (or its number of lines, when fewer); a port that is not
listed keeps the share given by ``--capacity``. Watch-list and mandatory rule hits are selected
whatever the slots, as with a share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.files import read_table
from risk_engine.errors import ConfigError
from risk_engine.reference.checks import LOCODE_PATTERN

__all__ = ["PortCapacity", "load_port_capacity"]

_COLUMNS = ("port_of_discharge", "slots_per_day")
_MAX_SLOTS = 1_000_000


@dataclass(frozen=True)
class PortCapacity:
    """Slots per day of the listed ports."""

    slots: dict[str, int] = field(default_factory=dict)

    def per_line(self, ports: pd.Series) -> np.ndarray:
        """For each line, the daily slots of its port; -1 where the port is not listed."""
        codes = ports.astype("string").fillna("").to_numpy(dtype=object)
        return np.fromiter(
            (self.slots.get(code, -1) for code in codes), dtype=np.int64, count=len(codes)
        )


def load_port_capacity(path: Path | None) -> PortCapacity | None:
    """The capacity file at ``path`` (None without one). A file that cannot be read, lacks a
    column, or has a bad row is a `ConfigError` (exit 2) naming the file, the row, the field and
    the value; a port listed twice too."""
    if path is None:
        return None
    path = Path(path)
    frame = read_table(path, "capacity file")
    missing = [name for name in _COLUMNS if name not in frame.columns]
    if missing:
        raise ConfigError(
            f"capacity file {path} needs the columns {list(_COLUMNS)}; "
            f"{missing} missing (has {list(frame.columns)})"
        )
    slots: dict[str, int] = {}
    pattern = re.compile(LOCODE_PATTERN)
    for row, (port, count) in enumerate(
        zip(frame["port_of_discharge"], frame["slots_per_day"], strict=True), start=2
    ):
        where = f"capacity file {path}, row {row}"
        code = str(port).strip().upper().replace(" ", "")
        if not pattern.fullmatch(code):
            raise ConfigError(f"{where}: port_of_discharge={port!r} is not a UN/LOCODE")
        text = str(count).strip()
        if not text.isdigit() or int(text) > _MAX_SLOTS:
            raise ConfigError(
                f"{where}: slots_per_day={count!r} is not a whole number from 0 to {_MAX_SLOTS:,}"
            )
        if code in slots:
            raise ConfigError(f"{where}: port_of_discharge={code} is listed twice")
        slots[code] = int(text)
    return PortCapacity(slots)
