"""Transparent red-flag rules (risk profiles), read off the feature frame.

They are what targeting centres ran before a model: the baseline that evaluation compares the model
with at the same capacity, and, for the rules marked mandatory, lines that batch screening always
selects. Each rule has a name and a sentence an officer understands. The red flags themselves
(source countries, cover loads, hubs, lexicons) are defined once, in the features package; a rule
only combines feature columns, so it costs nothing on the request path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import overload

import numpy as np
import pandas as pd

from models.columns import MatrixColumns

__all__ = [
    "RedFlagRule",
    "RULES",
    "MANDATORY_RULES",
    "rule_hits",
    "rule_hit_array",
    "rule_score",
    "rule_reasons",
]


def _flag(features: pd.DataFrame, name: str) -> np.ndarray:
    if name not in features.columns:
        return np.zeros(len(features), dtype=bool)
    column = features[name]
    if column.dtype == np.float64:
        # The feature frame's flags, read as they are: NaN compares False, as 0 does.
        return np.asarray(column.to_numpy() >= 0.5)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=0.0)
    flags: np.ndarray = np.nan_to_num(values) >= 0.5
    return flags


# A rule's test reads flags by feature name (`_flag` of the feature frame, or of the matrix).
Flags = Callable[[str], np.ndarray]


@dataclass(frozen=True)
class RedFlagRule:
    name: str
    sentence: str
    weight: float
    test: Callable[[Flags], np.ndarray]
    mandatory: bool = False


RULES: tuple[RedFlagRule, ...] = (
    RedFlagRule(
        "conjunction",
        "high-risk origin, cover-load goods and a risky transit or destination together",
        3.0,
        lambda flag: flag("red_flag_conjunction"),
    ),
    RedFlagRule(
        "cites_without_permit",
        "CITES-sensitive goods declared without a permit reference",
        3.0,
        lambda flag: flag("cites_no_permit"),
        mandatory=True,
    ),
    RedFlagRule(
        "source_on_risky_route",
        "from a known source country on a risky transit or destination",
        2.0,
        lambda flag: flag("source_country") & flag("risky_transit_or_market"),
    ),
    RedFlagRule(
        "to_order_consignee", "consignee is TO ORDER", 1.0, lambda flag: flag("consignee_to_order")
    ),
    RedFlagRule(
        "vague_description",
        "vague goods description (FAK, said to contain, parts)",
        1.0,
        lambda flag: flag("vague_description"),
    ),
    RedFlagRule(
        "reefer_unneeded",
        "reefer container for goods that need no cooling",
        1.0,
        lambda flag: flag("reefer_unneeded"),
    ),
    RedFlagRule(
        "invalid_check_digit",
        "container or vessel number fails its check digit",
        1.0,
        lambda flag: flag("dq_container_check_digit") | flag("dq_imo_check_digit"),
    ),
    RedFlagRule(
        "consignee_changed",
        "consignee changed since the line was first filed",
        1.0,
        lambda flag: flag("consignee_changed"),
    ),
    RedFlagRule(
        "late_filing",
        "filed less than 24 hours before arrival",
        1.0,
        lambda flag: flag("late_filing"),
    ),
)
MANDATORY_RULES = tuple(rule.name for rule in RULES if rule.mandatory)


def rule_hits(features: pd.DataFrame) -> pd.DataFrame:
    """One boolean column per rule, aligned to the feature frame."""
    flags = partial(_flag, features)
    return pd.DataFrame({rule.name: rule.test(flags) for rule in RULES}, index=features.index)


def rule_hit_array(features: pd.DataFrame, floats: MatrixColumns | None = None) -> np.ndarray:
    """`rule_hits` as a (lines, rules) boolean array in the order of `RULES`: the request path
    reads it without the cost of a frame. ``floats``, the frame's model matrix, gives the flags
    it holds without reading them from the frame (the same values: NaN compares False)."""

    def flags(name: str) -> np.ndarray:
        values = None if floats is None else floats.get(name)
        return _flag(features, name) if values is None else np.asarray(values >= 0.5)

    hits = np.empty((len(features), len(RULES)), dtype=bool)
    for column, rule in enumerate(RULES):
        hits[:, column] = rule.test(flags)
    return hits


def _rules_of(hits: pd.DataFrame | np.ndarray) -> list[RedFlagRule]:
    """The rules of the columns of a hit frame, or every rule for an array."""
    if isinstance(hits, np.ndarray):
        return list(RULES)
    return [rule for rule in RULES if rule.name in hits.columns]


@overload
def rule_score(hits: pd.DataFrame) -> pd.Series: ...
@overload
def rule_score(hits: np.ndarray) -> np.ndarray: ...
def rule_score(hits: pd.DataFrame | np.ndarray) -> pd.Series | np.ndarray:
    """Weighted count of rule hits: the historical rules' ranking (a Series for a hit frame, an
    array for a hit array)."""
    weights = np.array([rule.weight for rule in _rules_of(hits)])
    if isinstance(hits, np.ndarray):
        return np.asarray(hits.astype(np.float64) @ weights)
    return pd.Series(hits.to_numpy(dtype="float64") @ weights, index=hits.index)


def rule_reasons(hits: pd.DataFrame | np.ndarray) -> list[list[str]]:
    """The officer sentences of the rules each line hits (a hit frame or a hit array)."""
    sentences = np.array([rule.sentence for rule in _rules_of(hits)], dtype=object)
    values = hits.astype(bool) if isinstance(hits, np.ndarray) else hits.to_numpy(dtype=bool)
    if values.shape[1] > 62:  # too many rules for one bit pattern per line
        return [list(sentences[row]) for row in values]
    # Lines hit few rules in few combinations: tell each combination once.
    patterns = values.astype(np.int64) @ (np.int64(1) << np.arange(values.shape[1], dtype=np.int64))
    distinct, which = np.unique(patterns, return_inverse=True)
    bits = (distinct[:, None] >> np.arange(values.shape[1])) & 1
    told = [tuple(sentences[row.astype(bool)]) for row in bits]
    return [list(told[i]) for i in which.ravel().tolist()]
