"""Risk profiles: targeting criteria an analyst writes, next to the model and the watch list.

A watch list names parties, containers and B/Ls; a risk profile describes shipments ("scales or
shells declared under 0507/0508, from Nigeria or Cameroon, through Port Klang"), usually from
intelligence during an operation, for a limited time. A line that meets every criterion of a
profile is told so in its rule hits; a profile whose action is ``inspect`` also makes the line
mandatory (selected whatever its score, as a mandatory rule is), one with action ``flag`` only
tells the officer. A profile applies to lines filed within its validity (``valid_from``
inclusive, ``valid_until`` exclusive, dates in UTC).

The file is YAML::

    profiles:
      - name: pangolin-klang
        note: Operation phase 3 intelligence, 2026-11
        action: inspect
        valid_from: 2026-11-01
        valid_until: 2027-02-01
        when:
          country_of_origin: [NG, CM]
          hs_code: ["0507", "0508"]          # a prefix of the HS code
          transshipment_ports: [MYPKG]       # any port of the route
          goods_description: [SCALES, SHELLS]  # words or phrases in the text

Criteria are matched on the contract's normalised values (`risk_engine.validation`), so the
batch and the API, which both score accepted lines, tell the same hits.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from risk_engine.errors import ConfigError

__all__ = ["PROFILE_FIELDS", "ProfileSet", "RiskProfile", "load_profiles"]

log = logging.getLogger(__name__)

# The fields a criterion may name, and how a value matches: the same code, a prefix of the HS
# code, one of the route's ports, or a word or phrase within the text.
_CODES = (
    "bl_type",
    "carrier_code",
    "consignee_country",
    "container_size_type",
    "country_of_origin",
    "currency",
    "freight_terms",
    "notify_party_country",
    "package_type",
    "place_of_delivery",
    "place_of_receipt",
    "port_of_discharge",
    "port_of_loading",
    "shipper_country",
    "vessel_imo",
)
_TEXTS = (
    "consignee_name",
    "freight_forwarder_name",
    "goods_description",
    "notify_party_name",
    "shipper_name",
)
PROFILE_FIELDS: dict[str, str] = {
    **{name: "code" for name in _CODES},
    "hs_code": "prefix",
    "transshipment_ports": "route",
    **{name: "text" for name in _TEXTS},
}


class RiskProfile(BaseModel):
    """One profile: every criterion must hold (a criterion holds when any of its values does)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=80)
    note: str = ""
    action: Literal["inspect", "flag"] = "inspect"
    valid_from: date | None = None
    valid_until: date | None = None
    when: dict[str, list[str | int]] = Field(min_length=1)

    @field_validator("when")
    @classmethod
    def _known_fields(cls, when: dict[str, list[str | int]]) -> dict[str, list[str]]:
        for name, values in when.items():
            if name not in PROFILE_FIELDS:
                usable = ", ".join(sorted(PROFILE_FIELDS))
                raise ValueError(f"field {name!r} cannot be a criterion (usable: {usable})")
            if not values or any(not str(v).strip() for v in values):
                raise ValueError(f"field {name!r} needs one or more non-blank values")
            if PROFILE_FIELDS[name] == "prefix" and any(isinstance(v, int) for v in values):
                raise ValueError(
                    f"quote the values of {name!r}, as in ['0507']: unquoted, YAML reads them "
                    "as numbers and drops their leading zeros"
                )
        return {
            name: [_normal(name, str(value)) for value in values] for name, values in when.items()
        }

    @property
    def sentence(self) -> str:
        told = f"risk profile {self.name}"
        return f"{told}: {self.note}" if self.note else told

    def holds(self, lines: pd.DataFrame) -> np.ndarray:
        """Where a line meets every criterion and was filed within the validity."""
        hold = np.ones(len(lines), dtype=bool)
        for name, values in self.when.items():
            if name not in lines.columns:
                return np.zeros(len(lines), dtype=bool)
            hold &= _matches(lines[name], PROFILE_FIELDS[name], [str(v) for v in values])
        if (self.valid_from or self.valid_until) and "filed_at" in lines.columns:
            filed = pd.to_datetime(lines["filed_at"], utc=True)
            if self.valid_from is not None:
                hold &= (filed >= _midnight(self.valid_from)).fillna(False).to_numpy(dtype=bool)
            if self.valid_until is not None:
                hold &= (filed < _midnight(self.valid_until)).fillna(False).to_numpy(dtype=bool)
        return hold


def _normal(field: str, value: str) -> str:
    text = " ".join(value.split()).upper()
    if PROFILE_FIELDS[field] == "prefix":  # HS codes are digits only after the contract
        text = re.sub(r"[^0-9]", "", text)
    return text


def _midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _matches(column: pd.Series, kind: str, values: list[str]) -> np.ndarray:
    text = column.astype("string").str.upper()
    if kind == "code":
        found = text.isin(values)
    elif kind == "prefix":
        found = text.str.startswith(tuple(values))
    elif kind == "route":
        ports = "|".join(re.escape(v) for v in values)
        found = text.str.contains(f"(?:^|;)(?:{ports})(?:;|$)", regex=True)
    else:
        words = "|".join(re.escape(v) for v in values)
        found = text.str.contains(f"(?:^|\\W)(?:{words})(?:\\W|$)", regex=True)
    return np.asarray(found.fillna(False), dtype=bool)


class ProfileSet:
    """The profiles of one file, applied together."""

    def __init__(self, profiles: list[RiskProfile], source: str = "") -> None:
        self.profiles = profiles
        self.source = source

    @property
    def entries(self) -> dict[str, int]:
        """How many profiles of each action (what the service reports of its set)."""
        inspect = sum(p.action == "inspect" for p in self.profiles)
        return {"inspect": inspect, "flag": len(self.profiles) - inspect}

    def hits(self, lines: pd.DataFrame) -> tuple[list[list[str]], np.ndarray]:
        """For each line, the sentence of every profile it meets, and whether one of them
        requires the inspection."""
        told: list[list[str]] = [[] for _ in range(len(lines))]
        inspect = np.zeros(len(lines), dtype=bool)
        for profile in self.profiles:
            hold = profile.holds(lines)
            for i in np.flatnonzero(hold).tolist():
                told[i].append(profile.sentence)
            if profile.action == "inspect":
                inspect |= hold
        return told, inspect


def load_profiles(path: Path | None) -> ProfileSet | None:
    """The risk profiles of a YAML file, or None without one; `ConfigError` (exit 2) names the
    file, the profile and the field at fault."""
    if path is None:
        return None
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"risk profiles {path}: cannot read: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
        raise ConfigError(f"risk profiles {path}: expected a list under 'profiles:'")
    profiles: list[RiskProfile] = []
    for number, item in enumerate(data["profiles"], start=1):
        label = item.get("name") if isinstance(item, dict) else None
        where = f"risk profiles {path}, profile {number}" + (f" ({label})" if label else "")
        try:
            profile = RiskProfile.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{where}: {at}: {first['msg']}") from error
        if profile.valid_from and profile.valid_until and profile.valid_until <= profile.valid_from:
            raise ConfigError(f"{where}: valid_until {profile.valid_until} is not after valid_from")
        if profile.name in {p.name for p in profiles}:
            raise ConfigError(f"{where}: the name {profile.name!r} is used twice")
        profiles.append(profile)
    log.info("risk profiles %s: %d", path, len(profiles))
    return ProfileSet(profiles, source=str(path))
