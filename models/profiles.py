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
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from features.files import open_records
from features.ingest import iter_validated
from features.keys import UNSPACED_SCRIPTS, folded, plain, unspaced
from features.mapping import ColumnMapping
from risk_engine.columns import FLAG_RULES, FieldSpec, Rule, fields_for
from risk_engine.errors import ConfigError
from risk_engine.parsing import parse_scalar, unformatted
from risk_engine.yaml_text import load_yaml_file

__all__ = ["PROFILE_FIELDS", "ProfileSet", "RiskProfile", "count_profile_hits", "load_profiles"]

log = logging.getLogger(__name__)

# A validity's day as YAML would read it, when quoted.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
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

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _a_date(cls, value: Any) -> Any:
        """A validity is a day written as YYYY-MM-DD (YAML reads it as a date): a number or a
        time of day is refused by name, not read as seconds since 1970 as pydantic would."""
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, str) and _DAY.fullmatch(value.strip()):
            return value.strip()
        shown = value.isoformat() if isinstance(value, datetime) else repr(value)
        raise ValueError(f"{shown} is not a day: write it as YYYY-MM-DD, as in 2026-11-01")

    @field_validator("when", mode="before")
    @classmethod
    def _as_written(cls, when: Any) -> Any:
        """A value YAML read as something else than the analyst wrote is named, with the fix:
        ``NO`` (Norway) and ``ON`` are booleans in YAML, which became 0 and 1 (ON met 19
        lines of "HMS 1 AND 2 SCRAP"), and ``4403.10`` a float."""
        if not isinstance(when, dict):
            return when
        for name, values in when.items():
            for value in values if isinstance(values, list) else [values]:
                if isinstance(value, bool) or isinstance(value, float):
                    raise ValueError(
                        f"{name}: a value YAML read as {value!r}, not as text: quote the values "
                        f"of {name!r}, as in ['NO', 'IS'] or ['4403.10']"
                    )
        return when

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
        normal: dict[str, list[str]] = {
            name: [_normal(name, str(value)) for value in values] for name, values in when.items()
        }
        for name, cleaned in normal.items():
            kind = PROFILE_FIELDS[name]
            if kind == "prefix":
                for value in cleaned:
                    if not value.isdigit():  # "08O1" read as 081 met other goods (0810-0819)
                        raise ValueError(
                            f"{name} {value!r} is not an HS code prefix (digits, with dots or "
                            "spaces): no line could meet it"
                        )
                    if len(value) < 2:  # an empty prefix would meet every line
                        raise ValueError(f"each value of {name!r} needs at least two digits")
                    if not 1 <= int(value[:2]) <= 97:
                        raise ValueError(
                            f"{name} {value!r} names no HS chapter (01-97): no line could meet it"
                        )
            elif kind in ("code", "route"):
                normal[name] = [_as_the_contract_reads(name, value) for value in cleaned]
        return normal

    @property
    def sentence(self) -> str:
        told = f"risk profile {self.name}"
        return f"{told}: {self.note}" if self.note else told

    def holds(self, lines: pd.DataFrame, columns: _Columns | None = None) -> np.ndarray:
        """Where a line meets every criterion and was filed within the validity (``columns``:
        the lines' values as `ProfileSet.hits` shares them between profiles)."""
        columns = columns if columns is not None else _Columns(lines)
        hold = np.ones(len(lines), dtype=bool)
        for name, values in self.when.items():
            found = columns.text(name)
            if found is None:
                return np.zeros(len(lines), dtype=bool)
            kind = PROFILE_FIELDS[name]
            wanted = [str(v) for v in values]
            if kind != "text":
                hold &= _matches(found, kind, wanted)
                continue
            # a word written without accents meets the text without its accents too ("NGA VOI"
            # meets "ngà voi"); one written with accents means them ("THÉ", tea, is not "THE")
            loose = [v for v in wanted if v.isascii()]
            exact = [v for v in wanted if not v.isascii()]
            met = np.zeros(len(lines), dtype=bool)
            if exact:
                met |= _matches(found, kind, exact)
            if loose:
                met |= _matches(columns.loose(name) or found, kind, loose)
            hold &= met
        if self.valid_from or self.valid_until:
            filed = columns.filed()
            if filed is not None:
                if self.valid_from is not None:
                    hold &= filed >= _midnight(self.valid_from)
                if self.valid_until is not None:
                    hold &= filed < _midnight(self.valid_until)
        return hold


class _Columns:
    """The lines' values a profile reads, each made once per call: upper-case text (None when
    missing) and filing times in epoch seconds (-inf when missing, so no validity holds)."""

    def __init__(self, lines: pd.DataFrame) -> None:
        self.lines = lines
        self._text: dict[str, list[str | None] | None] = {}
        self._loose: dict[str, list[str | None] | None] = {}
        self._filed: np.ndarray | None = None

    def text(self, name: str) -> list[str | None] | None:
        if name not in self._text:
            if name not in self.lines.columns:
                self._text[name] = None
            else:
                self._text[name] = [_line_text(v) for v in self.lines[name].tolist()]
        return self._text[name]

    def loose(self, name: str) -> list[str | None] | None:
        """`text` without accents (`features.keys.folded`), for the words written without."""
        if name not in self._loose:
            found = self.text(name)
            self._loose[name] = (
                None if found is None else [None if v is None else folded(v) for v in found]
            )
        return self._loose[name]

    def filed(self) -> np.ndarray | None:
        if self._filed is None and "filed_at" in self.lines.columns:
            when = self.lines["filed_at"]
            if not isinstance(when.dtype, pd.DatetimeTZDtype):  # as normalised lines have it
                when = pd.to_datetime(when, utc=True)
            raw = np.asarray(when.array.tz_convert(None))  # UTC wall times, datetime64
            seconds = raw.astype("datetime64[s]").astype("int64").astype("float64")
            self._filed = np.where(np.isnat(raw), -np.inf, seconds)
        return self._filed


def _spec(name: str) -> FieldSpec:
    """The contract's field a criterion is read as (a port of the route as a single port)."""
    wanted = "port_of_loading" if PROFILE_FIELDS[name] == "route" else name
    return next(spec for spec in fields_for("shipments") if spec.name == wanted)


def _as_the_contract_reads(name: str, value: str) -> str:
    """A code criterion in the form the contract gives accepted lines ("IMO 9321483" as
    "9321483"), since lines are matched on that form; ValueError for a value the contract would
    not accept (an unknown country, a malformed port), which no line could ever meet. A port
    missing from the UN/LOCODE list is kept with a warning: lines naming it are accepted,
    flagged."""
    parsed, rules = parse_scalar(_spec(name), value)
    refused = [rule for rule in rules if rule not in FLAG_RULES]
    if parsed is None or refused:
        rule = (refused or [Rule.MALFORMED])[0]
        raise ValueError(
            f"{name} {value!r} is not a value the contract accepts ({rule.value}): "
            "no line could meet it"
        )
    if Rule.UNKNOWN_PORT in rules:
        log.warning("risk profile criterion %s %r is not a known UN/LOCODE port", name, value)
    return " ".join(str(parsed).split()).upper()


def _normal(field: str, value: str) -> str:
    """A criterion as lines are compared with it (`_Columns.text`): spaces collapsed, upper
    case, accents composed (NFC); a code or an HS prefix in its plain form (NFKC: the full-width
    digits an East Asian keyboard types were kept and never met a line)."""
    kind = PROFILE_FIELDS[field]
    if kind == "text":
        return plain(unformatted(value))
    text = unicodedata.normalize("NFKC", unformatted(value))
    text = " ".join(text.split()).upper()
    if kind == "prefix":  # dots and spaces go, as the contract drops them
        text = re.sub(r"[.\s]", "", text)
    return text


def _line_text(value: object) -> str | None:
    """A line's value as criteria are compared with it: spaces and line breaks collapsed,
    upper case, accents composed (NFC). "TROPICAL  HARDWOOD" (two spaces), a line break in a
    quoted cell, or an accent typed apart (a Mac's NFD) missed the criteria that named them."""
    if value is None or value is pd.NA or value != value:
        return None
    return plain(unformatted(str(value)))


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _matches(column: list[str | None], kind: str, values: list[str]) -> np.ndarray:
    """Plain Python over the column's values: a request's few lines pay no per-operation cost
    of pandas (a vectorised first version cost 1.3 ms a profile on 50 lines)."""
    if kind == "code":
        codes = set(values)
        found = [v in codes for v in column]
    elif kind == "prefix":
        heads = tuple(values)
        found = [v is not None and v.startswith(heads) for v in column]
    elif kind == "route":
        ports = set(values)
        found = [v is not None and not ports.isdisjoint(v.split(";")) for v in column]
    else:
        words = _words_pattern(tuple(values))
        found = [v is not None and words.search(v) is not None for v in column]
    return np.fromiter(found, dtype=bool, count=len(column))


@cache
def _words_pattern(values: tuple[str, ...]) -> re.Pattern[str]:
    """A text criterion's words as one pattern: a word of a spaced script stands alone (no
    letter or digit of a spaced script beside it: "IVORY" in "IVORY象牙" too), a word of a
    script written without spaces (`features.keys.unspaced`) is found anywhere ("象牙" in
    "象牙雕刻品", where "象牙 雕刻品" alone met it)."""
    spaced = [re.escape(v) for v in values if not unspaced(v)]
    bare = [re.escape(v) for v in values if unspaced(v)]
    edge = f"[^\\W{UNSPACED_SCRIPTS}]"
    parts = [f"(?<!{edge})(?:{'|'.join(spaced)})(?!{edge})"] if spaced else []
    parts += bare
    return re.compile("|".join(parts))


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
        columns = _Columns(lines)
        for profile in self.profiles:
            hold = profile.holds(lines, columns)
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
        data = load_yaml_file(path) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"risk profiles {path}: cannot read: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
        raise ConfigError(f"risk profiles {path}: expected a list under 'profiles:'")
    unknown = sorted(str(key) for key in data if key != "profiles")
    if unknown:  # a misspelt key of the file would be ignored, and what it meant with it
        raise ConfigError(
            f"risk profiles {path}: unknown top-level key {', '.join(map(repr, unknown))} "
            "(the file holds 'profiles:' alone)"
        )
    profiles: list[RiskProfile] = []
    for number, item in enumerate(data["profiles"], start=1):
        label = item.get("name") if isinstance(item, dict) else None
        where = f"risk profiles {path}, profile {number}" + (f" ({label})" if label else "")
        try:
            profile = RiskProfile.model_validate(item)
        except ValidationError as error:
            first = error.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            told = first["msg"].removeprefix("Value error, ")  # pydantic's prefix to our own
            raise ConfigError(f"{where}: {at}: {told}") from error
        if profile.valid_from and profile.valid_until and profile.valid_until <= profile.valid_from:
            raise ConfigError(f"{where}: valid_until {profile.valid_until} is not after valid_from")
        if profile.name in {p.name for p in profiles}:
            raise ConfigError(f"{where}: the name {profile.name!r} is used twice")
        profiles.append(profile)
    log.info("risk profiles %s: %d", path, len(profiles))
    return ProfileSet(profiles, source=str(path))


def count_profile_hits(
    profiles: ProfileSet,
    path: Path,
    *,
    mapping: ColumnMapping | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, Counter[str]]:
    """How many lines of a shipments file the contract accepts, and how many of them each
    profile meets (by name): what an analyst checks before profiles go live, since an
    ``inspect`` profile selects every line it meets."""
    accepted = 0
    met: Counter[str] = Counter({p.name: 0 for p in profiles.profiles})
    source = open_records(Path(path), "shipments", mapping, chunk_rows=chunk_rows)
    for result in iter_validated(source, progress=progress):
        lines = result.accepted
        columns = _Columns(lines)
        for profile in profiles.profiles:
            met[profile.name] += int(profile.holds(lines, columns).sum())
        accepted += len(lines)
    return accepted, met
