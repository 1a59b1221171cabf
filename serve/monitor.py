"""What a served model has scored since it was loaded, against its training reference: the share
of lines in each band and the PSI of the scores (`models.drift`).

Screening compares each batch with the model's reference, feature by feature. The service keeps
a running count of the scores and bands it answered, so that an analyst (``GET /v1/model/drift``)
and the monitoring system (``GET /metrics``) see, between screenings, when the red and amber
bands no longer take the share of lines their thresholds were set for. Counting a manifest costs
one binary search of its scores; memory does not grow with the lines (`DriftTally` counts every
line of the first 100,000, then one in ten, weighted).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from models.drift import SCORE_COLUMN, DriftReference, DriftTally, drift_notes

__all__ = ["BANDS", "MIN_LINES", "ServedScores", "ServedSummary"]

BANDS = ("red", "amber", "green")
# Fewer lines than this since the model was loaded: the comparison is shown but warns of
# nothing, as ten bins of a few hundred scores move by chance alone.
MIN_LINES = 1_000


@dataclass(frozen=True)
class ServedSummary:
    """The served lines against the reference, as `GET /v1/model/drift` gives them."""

    lines: int
    reference_lines: int | None
    score_psi: float | None
    # band -> (share of the reference lines, None where the model does not say; share served)
    bands: dict[str, tuple[float | None, float | None]]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ServedScores:
    """A running count of one loaded model's served scores and bands; safe across threads."""

    def __init__(self, reference: DriftReference | None) -> None:
        self._lock = threading.Lock()
        self._reference = reference
        self._tally: DriftTally | None = (
            reference.only([SCORE_COLUMN]).tally()
            if reference is not None and SCORE_COLUMN in reference.names
            else None
        )
        self._bands: Counter[str] = Counter()
        self.lines = 0

    def add(self, scores: np.ndarray, bands: Iterable[str]) -> None:
        """Count the scored lines of one manifest (calibrated scores, their bands)."""
        column = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
        with self._lock:
            if self._tally is not None:
                self._tally.add(column)
            self._bands.update(str(band) for band in bands)
            self.lines += len(column)

    def summary(self) -> ServedSummary:
        """The comparison so far, with the warnings screening would give and notes on what
        limits it."""
        with self._lock:
            lines = self.lines
            served = Counter(self._bands)
            table = self._tally.compare() if self._tally is not None and lines else None
        reference_bands = dict(self._reference.bands) if self._reference is not None else {}
        if {"red", "amber"} <= reference_bands.keys():
            reference_bands["green"] = max(
                0.0, 1.0 - reference_bands["red"] - reference_bands["amber"]
            )
        bands: dict[str, tuple[float | None, float | None]] = {
            band: (reference_bands.get(band), served[band] / lines if lines else None)
            for band in BANDS
        }
        psi = float(table["psi"].iloc[0]) if table is not None else None
        warnings: list[str] = []
        notes: list[str] = []
        if self._reference is None:
            notes.append(
                "this model keeps no reference of its training data (it was trained before "
                "drift checks were added): retrain it to compare what it serves"
            )
        elif not lines:
            notes.append("no line has been scored since the model was loaded")
        elif lines < MIN_LINES:
            notes.append(
                f"{lines:,} lines scored since the model was loaded: too few to warn of a shift "
                f"(warnings start at {MIN_LINES:,})"
            )
        elif table is not None:
            compared = {
                band: (share, served[band] / lines) for band, share in self._reference.bands.items()
            }
            warnings, _ = drift_notes(table, compared)
        return ServedSummary(
            lines=lines,
            reference_lines=self._reference.lines if self._reference is not None else None,
            score_psi=psi,
            bands=bands,
            warnings=warnings,
            notes=notes,
        )
