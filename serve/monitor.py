"""What a served model has scored since its version was first loaded, against its training reference: the share
of lines in each band and the PSI of the scores (`models.drift`).

Screening compares each batch with the model's reference, feature by feature. The service keeps
a running count of the scores and bands it answered, so that an analyst (``GET /v1/model/drift``)
and the monitoring system (``GET /metrics``) see, between screenings, when the red and amber
bands no longer take the share of lines their thresholds were set for. Counting a manifest costs
one binary search of its scores; memory does not grow with the lines (`DriftTally` counts every
line of the first 100,000, then one in ten, weighted).

A line is counted once: officers score a manifest again (amended, or looked at once more), and
the ones looked at again are mostly the risky ones, so counting them each time would swell the
red band. The keys (B/L number, container number) of the last `RECENT_KEYS` lines counted are
kept to tell a line sent again.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from models.drift import SCORE_COLUMN, DriftReference, DriftTally, drift_notes

__all__ = ["BANDS", "MIN_LINES", "RECENT_KEYS", "ServedScores", "ServedSummary"]

BANDS = ("red", "amber", "green")
# Fewer lines than this since the model version was first loaded: the comparison is shown but warns of
# nothing, as ten bins of a few hundred scores move by chance alone.
MIN_LINES = 1_000
# Keys of the lines counted last, to count a line sent again once (about 15 MB when full): a
# manifest scored again within the last hundred thousand lines.
RECENT_KEYS = 100_000


@dataclass(frozen=True)
class ServedSummary:
    """The served lines against the reference, as `GET /v1/model/drift` gives them."""

    lines: int
    # Lines sent again (a key among the recent ones), answered but not counted again.
    repeated: int
    # Lines scored with approximate history features (filed long before the history's
    # cut-off), answered but not counted: their scores shift with the history, not the goods.
    approximate: int
    reference_lines: int | None
    score_psi: float | None
    # band -> (share of the reference lines, None where the model does not say; share served)
    bands: dict[str, tuple[float | None, float | None]]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ServedScores:
    """A running count of one loaded model's served scores and bands; safe across threads."""

    def __init__(self, reference: DriftReference | None, *, recent_keys: int = RECENT_KEYS) -> None:
        self._lock = threading.Lock()
        self._reference = reference
        self._tally: DriftTally | None = (
            reference.only([SCORE_COLUMN]).tally()
            if reference is not None and SCORE_COLUMN in reference.names
            else None
        )
        self._bands: Counter[str] = Counter()
        # insertion order, the oldest key first; an OrderedDict forgets its oldest in constant
        # time (a dict's first key is found past every slot deleted before it: counting a
        # 50-line manifest took 23 ms once 400,000 lines had been counted)
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._recent_keys = recent_keys
        self.lines = 0
        self.repeated = 0
        self.approximate = 0
        self.since = datetime.now(UTC)  # when counting started: the version's first load

    def add(
        self,
        scores: np.ndarray,
        bands: Iterable[str],
        keys: Iterable[Hashable] | None = None,
        approximate: np.ndarray | None = None,
    ) -> None:
        """Count the scored lines of one manifest (calibrated scores, their bands, and the
        lines' keys: a key counted among the recent ones is not counted again). Lines marked
        ``approximate`` (approximate history features) are left out."""
        column = np.asarray(scores, dtype=np.float64).reshape(-1, 1)
        told = [str(band) for band in bands]
        left_out = 0
        if approximate is not None and approximate.any():
            exact = ~np.asarray(approximate, dtype=bool)
            left_out = len(exact) - int(exact.sum())
            column = column[exact]
            kept = exact.tolist()
            told = [band for band, keep in zip(told, kept, strict=True) if keep]
            if keys is not None:
                keys = [key for key, keep in zip(keys, kept, strict=True) if keep]
        with self._lock:
            self.approximate += left_out
            if keys is not None:
                fresh = self._fresh(keys)
                if not all(fresh):
                    self.repeated += len(fresh) - sum(fresh)
                    column = column[np.asarray(fresh, dtype=bool)]
                    told = [band for band, new in zip(told, fresh, strict=True) if new]
            if self._tally is not None and len(column):
                self._tally.add(column)
            self._bands.update(told)
            self.lines += len(column)

    def _fresh(self, keys: Iterable[Hashable]) -> list[bool]:
        """Which keys were not counted lately; each is remembered (the oldest forgotten)."""
        recent = self._recent
        fresh: list[bool] = []
        for key in keys:
            code = hash(key)
            if code in recent:
                fresh.append(False)
                continue
            fresh.append(True)
            recent[code] = None
            if len(recent) > self._recent_keys:
                recent.popitem(last=False)
        return fresh

    def summary(self) -> ServedSummary:
        """The comparison so far, with the warnings screening would give and notes on what
        limits it."""
        with self._lock:
            lines, repeated, approximate = self.lines, self.repeated, self.approximate
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
        elif not lines and not approximate:
            notes.append("no line has been scored since the model version was first loaded")
        elif 0 < lines < MIN_LINES:
            notes.append(
                f"{lines:,} lines scored since the model version was first loaded: too few to warn of a shift "
                f"(warnings start at {MIN_LINES:,})"
            )
        elif table is not None:
            compared = {
                band: (share, served[band] / lines) for band, share in self._reference.bands.items()
            }
            warnings, _ = drift_notes(table, compared)
        if approximate:
            notes.append(
                f"{approximate:,} lines with approximate history features (filed long before "
                "the served history's cut-off) were answered but not counted: their scores shift "
                "with the history, not the goods"
            )
        if repeated:
            notes.append(
                f"{repeated:,} lines were sent again (the same B/L and container): answered, "
                "counted once"
            )
        return ServedSummary(
            lines=lines,
            repeated=repeated,
            approximate=approximate,
            reference_lines=self._reference.lines if self._reference is not None else None,
            score_psi=psi,
            bands=bands,
            warnings=warnings,
            notes=notes,
        )
