"""Inspection capacity per port: how many containers each port's teams can open in a day.

A port control unit knows its capacity as a number of containers a day ("25 at Cat Lai"), not as a
share of what arrives. A capacity file is a CSV or Parquet file with the columns
``port_of_discharge`` (UN/LOCODE) and ``slots_per_day`` (a whole number, 0 or more): each port-day
of a listed port gets that many slots (or its number of lines, when fewer); a port that is not
listed keeps the share given by ``--capacity``. Watch-list and mandatory rule hits are selected
whatever the slots, as with a share. An optional column ``documentary_slots_per_day`` gives the
port's document checks a day (the yellow lane); where it is blank, the port keeps the share given
by ``--documentary``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.files import read_table
from risk_engine.errors import ConfigError
from risk_engine.reference.checks import LOCODE_PATTERN

__all__ = ["PortCapacity", "load_port_capacity"]

log = logging.getLogger(__name__)

_COLUMNS = ("port_of_discharge", "slots_per_day")
_DOCUMENTARY = "documentary_slots_per_day"
_MAX_SLOTS = 1_000_000


@dataclass(frozen=True)
class PortCapacity:
    """Slots per day of the listed ports."""

    slots: dict[str, int] = field(default_factory=dict)
    # Document checks a day (the yellow lane) of the ports whose file gives them.
    documentary: dict[str, int] = field(default_factory=dict)

    def per_line(self, ports: pd.Series, *, documentary: bool = False) -> np.ndarray:
        """For each line, the daily slots of its port (physical inspections, or with
        ``documentary`` document checks); -1 where the port has none listed."""
        table = self.documentary if documentary else self.slots
        codes = ports.astype("string").fillna("").to_numpy(dtype=object)
        return np.fromiter(
            (table.get(code, -1) for code in codes), dtype=np.int64, count=len(codes)
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
    documentary: dict[str, int] = {}
    pattern = re.compile(LOCODE_PATTERN)
    papers = frame[_DOCUMENTARY] if _DOCUMENTARY in frame.columns else [None] * len(frame)
    for row, (port, count, checks) in enumerate(
        zip(frame["port_of_discharge"], frame["slots_per_day"], papers, strict=True), start=1
    ):
        where = f"capacity file {path}, row {row}"
        code = str(port).strip().upper().replace(" ", "")
        if not pattern.fullmatch(code):
            raise ConfigError(f"{where}: port_of_discharge={port!r} is not a UN/LOCODE")
        if code in slots:
            raise ConfigError(f"{where}: port_of_discharge={code} is listed twice")
        slots[code] = _whole(count, f"{where}: slots_per_day")
        if not _blank(checks):
            documentary[code] = _whole(checks, f"{where}: {_DOCUMENTARY}")
    if not slots:  # a header alone: an export that lost its rows, more likely than meant
        log.warning("capacity file %s lists no port: every port keeps the --capacity share", path)
    return PortCapacity(slots, documentary)


def _blank(value: object) -> bool:
    """No value: None, NaN or NA (Parquet), or empty text (CSV)."""
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or not str(value).strip()


_DIGITS = re.compile(r"[0-9]+")


def _whole(value: object, where: str) -> int:
    """A count of slots, or a `ConfigError` naming ``where`` (row and field) and the value."""
    text = str(value).strip()
    if text.endswith(".0") and _DIGITS.fullmatch(text[:-2]):  # whole, read from a float column
        text = text[:-2]
    # ASCII digits only: "²" passed isdigit() and failed int() with a traceback, and "٣" was
    # read as 3 slots
    if not _DIGITS.fullmatch(text) or int(text) > _MAX_SLOTS:
        raise ConfigError(f"{where}={value!r} is not a whole number from 0 to {_MAX_SLOTS:,}")
    return int(text)
