"""How far a batch of lines is from the lines a model was made on: the population stability index
(PSI) of each model feature and of the score, against a reference kept with the model.

Routes, goods and parties shift over time (the domain notes); a model whose inputs have moved far
from what it learned scores less well, and its capacity bands no longer hold the share they were
set for. Training keeps a reference (the bin edges of each feature's quantiles and the share of
lines in each bin, missing values a bin of their own); screening counts each chunk of scored
lines into the same bins, in memory that does not grow with the batch, and compares.

PSI = sum over bins of (batch share - reference share) x ln(batch share / reference share), each
share smoothed by half a line so that an empty bin stays finite. Read as usual: under 0.1 little
change, 0.1-0.25 some, above 0.25 a shift worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.catalogue import Feature, by_name

__all__ = [
    "DriftReference",
    "DriftTally",
    "SCORE_COLUMN",
    "SOME_SHIFT",
    "WORTH_A_LOOK",
    "drift_notes",
    "with_families",
]

# The name of the calibrated score's column in a model's reference, after its features.
SCORE_COLUMN = "risk_score"
SOME_SHIFT = 0.1
WORTH_A_LOOK = 0.25
_BINS = 10
_SAMPLE = 200_000  # reference lines kept for the quantiles: enough for ten bins
# A batch's lines are all counted up to this many; after it, one line in `_STRIDE` (by its
# position in the batch, so chunks add up to the whole), counted `_STRIDE` times. PSI over ten
# bins needs tens of thousands of lines, not millions, and counting every line of a million
# costs seconds.
_FULL = 100_000
_STRIDE = 10


def _edges(column: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bin edges of the present values (two edges around a constant; one bin)."""
    present = column[~np.isnan(column)]
    if not present.size:
        return np.array([-0.5, 0.5])
    edges = np.unique(np.quantile(present, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return edges


def _count(column: np.ndarray, edges: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Lines per bin (each counted ``weight`` times), values beyond the reference's range in
    its first or last bin, and the missing lines last."""
    bins = len(edges) - 1
    where = np.searchsorted(edges[1:-1], column, side="right")
    where[np.isnan(column)] = bins
    counts: np.ndarray = np.bincount(where, weights=weight, minlength=bins + 1).astype(np.float64)
    return counts


def _shares(counts: np.ndarray) -> np.ndarray:
    smoothed: np.ndarray = (counts + 0.5) / (counts.sum() + 0.5 * len(counts))
    return smoothed


@dataclass
class DriftReference:
    """Bins and shares of the reference lines, per named column of a matrix."""

    names: list[str]
    edges: list[np.ndarray]
    counts: list[np.ndarray]
    means: np.ndarray
    lines: int
    # Share of the reference lines in each risk band ("red", "amber"), where a model sets them.
    bands: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        matrix: np.ndarray,
        names: list[str],
        *,
        bins: int = _BINS,
        sample: int = _SAMPLE,
        seed: int = 0,
    ) -> DriftReference:
        """The reference of ``matrix`` (lines x ``names``, float, NaN missing); at most
        ``sample`` lines, drawn uniformly, are kept for the quantiles."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ValueError(f"a matrix of {len(names)} columns is needed, not {matrix.shape}")
        if len(matrix) > sample:
            rows = np.sort(np.random.default_rng(seed).choice(len(matrix), sample, replace=False))
            matrix = matrix[rows]
        edges = [_edges(matrix[:, j], bins) for j in range(len(names))]
        counts = [_count(matrix[:, j], e) for j, e in enumerate(edges)]
        with np.errstate(invalid="ignore"):
            means = np.array(
                [
                    np.nanmean(matrix[:, j]) if (~np.isnan(matrix[:, j])).any() else np.nan
                    for j in range(len(names))
                ]
            )
        return cls(list(names), edges, counts, means, len(matrix))

    def tally(self) -> DriftTally:
        """An empty tally of batch lines in this reference's bins."""
        return DriftTally(self)

    def only(self, names: list[str]) -> DriftReference:
        """The reference of these columns alone, in this order (the bands kept): the service
        compares the scores it serves, not every feature."""
        missing = [name for name in names if name not in self.names]
        if missing:
            raise KeyError(f"the reference has no column {missing[0]!r}")
        where = [self.names.index(name) for name in names]
        return DriftReference(
            list(names),
            [self.edges[j] for j in where],
            [self.counts[j] for j in where],
            self.means[where],
            self.lines,
            dict(self.bands),
        )


class DriftTally:
    """Batch lines counted chunk by chunk into a reference's bins."""

    def __init__(self, reference: DriftReference) -> None:
        self.reference = reference
        self.counts = [np.zeros_like(c) for c in reference.counts]
        self.sums = np.zeros(len(reference.names))
        self.present = np.zeros(len(reference.names))
        self.lines = 0

    def add(self, matrix: np.ndarray) -> None:
        """Count a chunk: lines x the reference's columns, in their order (the batch's first
        `_FULL` lines all, then one in `_STRIDE`)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.reference.names):
            raise ValueError(
                f"a matrix of {len(self.reference.names)} columns is needed, not {matrix.shape}"
            )
        position = self.lines + np.arange(len(matrix))
        kept = (position < _FULL) | (position % _STRIDE == 0)
        weight = np.where(position[kept] < _FULL, 1.0, float(_STRIDE))
        columns = np.ascontiguousarray(matrix[kept].T)  # a column at a time, read contiguously
        for j, edges in enumerate(self.reference.edges):
            self.counts[j] += _count(columns[j], edges, weight)
        present = ~np.isnan(columns)
        self.sums += np.where(present, columns, 0.0) @ weight
        self.present += present @ weight
        self.lines += len(matrix)

    def compare(self) -> pd.DataFrame:
        """Per column, highest PSI first: psi, the mean of the present values and the share of
        missing values, in the reference and in the batch."""
        reference = self.reference
        rows = []
        for j, name in enumerate(reference.names):
            before, after = reference.counts[j], self.counts[j]
            p, q = _shares(before), _shares(after)
            rows.append(
                {
                    "feature": name,
                    "psi": float(np.sum((q - p) * np.log(q / p))),
                    "mean_reference": float(reference.means[j]),
                    "mean_batch": (
                        float(self.sums[j] / self.present[j]) if self.present[j] else float("nan")
                    ),
                    "missing_reference": float(before[-1] / max(before.sum(), 1)),
                    "missing_batch": float(after[-1] / max(after.sum(), 1)),
                }
            )
        return (
            pd.DataFrame(rows)
            .sort_values("psi", ascending=False, kind="mergesort")
            .reset_index(drop=True)
        )


def _feature(name: str) -> Feature | None:
    """The catalogue's entry of a column (None for the score, or a name it does not know)."""
    try:
        return by_name(name)
    except KeyError:
        return None


def _label_based(name: str) -> bool:
    """A feature learned from inspection outcomes: it holds the outcomes known when the model
    was made, until the next retraining brings in those recorded since."""
    feature = _feature(name)
    return feature is not None and feature.label_based


def with_families(table: pd.DataFrame) -> pd.DataFrame:
    """A comparison with each feature's family (the score's is "score") and whether it is
    learned from outcomes."""
    entries = [_feature(name) for name in table["feature"]]
    families = [
        "score" if name == SCORE_COLUMN else (entry.family if entry is not None else "")
        for name, entry in zip(table["feature"], entries, strict=True)
    ]
    learned = [entry is not None and entry.label_based for entry in entries]
    return table.assign(family=families, from_outcomes=learned)


def drift_notes(
    table: pd.DataFrame, bands: dict[str, tuple[float, float]]
) -> tuple[list[str], list[str]]:
    """What an analyst should hear of a comparison (`DriftTally.compare`, and the share of
    lines per band, reference then batch), in sentences: warnings (the scores or the bands
    moved: the selection no longer holds what the thresholds were set for) and notes (features
    that moved: what to look at). Both empty when nothing moved much.

    A feature can move while the scores hold: an age in days grows with the history, most in
    a young one, and a smoothed rate crowded near its prior crosses narrow quantile bins with a
    small change. So features alone make notes, not warnings."""
    warnings = []
    score = table[table["feature"] == SCORE_COLUMN]
    if len(score) and score["psi"].iloc[0] > SOME_SHIFT:
        warnings.append(
            f"the scores are distributed unlike the training reference's "
            f"(PSI {_psi_text(score['psi'].iloc[0], SOME_SHIFT)}, above {SOME_SHIFT})"
        )
    for band, (before, after) in bands.items():
        if before > 0 and not 0.5 <= after / before <= 2:
            warnings.append(
                f"{after:.1%} of the lines are {band}, against {before:.1%} of the reference "
                "lines the band was set on"
            )
    notes = []
    shifted = table[(table["feature"] != SCORE_COLUMN) & (table["psi"] > WORTH_A_LOOK)]
    learned = shifted["feature"].map(_label_based).astype(bool)
    inputs, rates = shifted[~learned], shifted[learned]
    if len(inputs):
        notes.append(
            f"{len(inputs)} features shifted since training (PSI above {WORTH_A_LOOK}): "
            + _named(inputs)
        )
    if len(rates):
        notes.append(
            f"{len(rates)} features learned from outcomes shifted (PSI above {WORTH_A_LOOK}): "
            f"{_named(rates)}; they hold the outcomes known at training, and retraining brings "
            "in those recorded since"
        )
    return warnings, notes


def _named(rows: pd.DataFrame) -> str:
    named = ", ".join(
        f"{feature} ({_psi_text(float(psi), WORTH_A_LOOK)})"
        for feature, psi in zip(rows["feature"].head(5), rows["psi"].head(5), strict=True)
    )
    return named + (", ..." if len(rows) > 5 else "")


def _psi_text(psi: float, level: float) -> str:
    """A PSI to two decimals, or to as many as tell it from the ``level`` it passed: a warning
    "above 0.1" read "PSI 0.10" for 0.1006."""
    for decimals in range(2, 6):
        text = f"{psi:.{decimals}f}"
        if float(text) > level:
            return text
    return f"{psi:.6f}"
