"""Transparent red-flag rules (risk profiles) on contract shipment lines.

They are what targeting centres ran before a model: the baseline that evaluation compares the model
with at the same capacity, and, for the rules marked mandatory, lines that batch screening always
selects. Each rule has a name and a sentence an officer understands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RedFlagRule", "RULES", "rule_hits", "rule_score", "rule_reasons", "MANDATORY_RULES"]

WILDLIFE_SOURCES = frozenset(
    {"NG", "CD", "CG", "MZ", "KE", "TZ", "TG", "CM", "UG", "AO", "GA", "CI", "GH", "MG", "ZA"}
)
COCAINE_SOURCES = frozenset({"CO", "EC", "PA", "BR", "PE", "BO", "VE", "CR", "GY", "SR"})
DEMAND_MARKETS = frozenset({"VN", "CN", "HK", "KH", "LA", "TH", "MY"})
RISKY_HUBS = frozenset(
    {
        "SGSIN",
        "MYPKG",
        "MYTPP",
        "HKHKG",
        "KHKOS",
        "ESALG",
        "LKCMB",
        "AEJEA",
        "OMSLL",
        "TGLFW",
        "PAONX",
        "PABLB",
    }
)
COVER_LOAD_HS4 = frozenset(
    {
        "4403",
        "4407",
        "4409",
        "3915",
        "0801",
        "1207",
        "1209",
        "0202",
        "0303",
        "0304",
        "0902",
        "0307",
        "0508",
        "9403",
        "1201",
        "0904",
        "0906",
        "2008",
        "1513",
        "0803",
        "4401",
    }
)
CITES_HS4 = frozenset({"0507", "0508", "0305", "9601", "4403", "4407"})
PRECURSOR_HS4 = frozenset({"2939", "2914", "2932", "2933", "2922"})
VAGUE_WORDS = (
    "FAK",
    "SAID TO CONTAIN",
    "STC",
    "GENERAL CARGO",
    "PARTS",
    "SUNDRIES",
    "VARIOUS",
    "MIXED GOODS",
)
ORDER_WORDS = ("TO ORDER", "TO THE ORDER", "ORDER OF")


@dataclass(frozen=True)
class RedFlagRule:
    name: str
    sentence: str
    weight: float
    test: Callable[[pd.DataFrame], np.ndarray]
    mandatory: bool = False


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index, dtype="string")
    return frame[name].astype("string").fillna("").str.upper()


def _origin(frame: pd.DataFrame) -> pd.Series:
    origin = _text(frame, "country_of_origin")
    loading = _text(frame, "port_of_loading").str.slice(0, 2)
    return origin.where(origin != "", loading)


def _hs4(frame: pd.DataFrame) -> pd.Series:
    return _text(frame, "hs_code").str.slice(0, 4)


def _via_hub(frame: pd.DataFrame) -> np.ndarray:
    pattern = "|".join(sorted(RISKY_HUBS))
    return np.asarray(
        _text(frame, "transshipment_ports").str.contains(pattern, regex=True), dtype=bool
    )


def _to_demand(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(
        _text(frame, "port_of_discharge").str.slice(0, 2).isin(DEMAND_MARKETS), dtype=bool
    )


def _wildlife_profile(frame: pd.DataFrame) -> np.ndarray:
    source = np.asarray(_origin(frame).isin(WILDLIFE_SOURCES), dtype=bool)
    cover = np.asarray(_hs4(frame).isin(COVER_LOAD_HS4), dtype=bool)
    return source & cover & (_via_hub(frame) | _to_demand(frame))


def _cocaine_profile(frame: pd.DataFrame) -> np.ndarray:
    source = np.asarray(_origin(frame).isin(COCAINE_SOURCES), dtype=bool)
    return source & _to_demand(frame) | source & _via_hub(frame)


def _cites_without_permit(frame: pd.DataFrame) -> np.ndarray:
    sensitive = np.asarray(_hs4(frame).isin(CITES_HS4), dtype=bool)
    words = _text(frame, "goods_description").str.contains(
        "ROSEWOOD|IVORY|SHARK|PANGOLIN|HORN|DALBERGIA", regex=True
    )
    sensitive = sensitive & np.asarray(
        _hs4(frame).isin({"0507", "0508", "9601"}) | words, dtype=bool
    )
    return sensitive & np.asarray(_text(frame, "cites_permit_ref") == "", dtype=bool)


def _precursor(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(_hs4(frame).isin(PRECURSOR_HS4), dtype=bool) & _to_demand(frame)


def _to_order(frame: pd.DataFrame) -> np.ndarray:
    name = _text(frame, "consignee_name")
    return np.asarray(
        name.str.contains("|".join(ORDER_WORDS), regex=True) | (name == ""), dtype=bool
    )


def _vague(frame: pd.DataFrame) -> np.ndarray:
    pattern = r"\b(?:" + "|".join(VAGUE_WORDS) + r")\b"
    return np.asarray(
        _text(frame, "goods_description").str.contains(pattern, regex=True), dtype=bool
    )


def _bad_check_digit(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(_text(frame, "dq_flags").str.contains("CHECK_DIGIT", regex=False), dtype=bool)


RULES: tuple[RedFlagRule, ...] = (
    RedFlagRule(
        "wildlife_profile",
        "wildlife source country, cover-load goods and a risky route",
        3.0,
        _wildlife_profile,
    ),
    RedFlagRule(
        "cites_without_permit",
        "CITES-sensitive goods declared without a permit reference",
        3.0,
        _cites_without_permit,
        mandatory=True,
    ),
    RedFlagRule(
        "cocaine_profile",
        "cocaine source country on a route to the region or through a hub",
        2.0,
        _cocaine_profile,
    ),
    RedFlagRule("precursor_profile", "precursor-chemical goods to the region", 2.0, _precursor),
    RedFlagRule("to_order_consignee", "consignee is TO ORDER or blank", 1.0, _to_order),
    RedFlagRule(
        "vague_description", "vague goods description (FAK, said to contain, parts)", 1.0, _vague
    ),
    RedFlagRule(
        "invalid_check_digit",
        "container or vessel number fails its check digit",
        1.0,
        _bad_check_digit,
    ),
)
MANDATORY_RULES = tuple(rule.name for rule in RULES if rule.mandatory)


def rule_hits(frame: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per rule, aligned to ``frame``."""
    return pd.DataFrame({rule.name: rule.test(frame) for rule in RULES}, index=frame.index)


def rule_score(hits: pd.DataFrame) -> pd.Series:
    """Weighted count of rule hits: the historical rules' ranking."""
    weights = pd.Series({rule.name: rule.weight for rule in RULES})
    return hits.astype("float64").mul(weights[hits.columns], axis=1).sum(axis=1)


def rule_reasons(hits: pd.DataFrame) -> list[list[str]]:
    """The officer sentences of the rules each line hits."""
    sentences = {rule.name: rule.sentence for rule in RULES}
    names = np.array(hits.columns)
    values = hits.to_numpy(dtype=bool)
    return [[sentences[n] for n in names[row]] for row in values]
