"""Time-ordered splits of labelled lines, honest about label delay.

A label can only be learned from once it was recorded: a line filed before a boundary whose outcome
was recorded after it is left out of the earlier slice instead of leaking into it. Slices follow
each other in filing time: train -> (gap) -> validation (early stopping) -> calibration -> test.
The test slice starts where the calibration slice ends, as evaluation reads it (`training.train`
judges every line filed from ``test_from``): a gap there made the printed test count another
set than the one the metrics were on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SplitConfig", "TimeSplits", "time_splits"]


@dataclass(frozen=True)
class SplitConfig:
    train: float = 0.6
    valid: float = 0.15
    calibration: float = 0.1
    gap_days: float = 7.0


@dataclass
class TimeSplits:
    """Boolean masks over the labelled lines, and the boundaries used."""

    train: np.ndarray
    valid: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    boundaries: dict[str, pd.Timestamp]
    # Lines filed in a slice's period whose outcome was recorded after the slice ended, so left
    # out of it: seizures are recorded later than clean results (a median 9 days against 1 in
    # the quickstart world), so these hold more seizures than their share (`late_counts`).
    late: dict[str, np.ndarray] | None = None

    def late_counts(self, labels: np.ndarray) -> dict[str, tuple[int, int]]:
        """Lines and seizures each slice left out as recorded after it ended."""
        labels = np.asarray(labels)
        return {
            name: (int(mask.sum()), int(labels[mask].sum()))
            for name, mask in (self.late or {}).items()
        }

    def sizes(self) -> dict[str, int]:
        return {k: int(getattr(self, k).sum()) for k in ("train", "valid", "calibration", "test")}

    def check(self, labels: np.ndarray, *, folds: int | None = None) -> None:
        """ValueError, naming the slice and its period, when a slice a model is made from has
        no labelled line, or (training, calibration) no seizure or no clean inspection: what
        LightGBM or the calibration would otherwise refuse in their own words. With ``folds``
        (the calibration's), a calibration slice of one kind is no obstacle when the labelled
        lines before the test period can be folded: the calibration is then fitted on their
        out-of-fold scores (`training.train`), as for a slice with few seizures. It was refused
        with 0 seizures where 1 went down that path."""
        labels = np.asarray(labels)
        before = self.train | self.valid | self.calibration
        seized = int(labels[before].sum())
        foldable = folds is not None and min(seized, int(before.sum()) - seized) >= 2 * folds
        periods = {
            "training": ("the start", self.boundaries["valid_from"]),
            "validation": (self.boundaries["valid_from"], self.boundaries["calibration_from"]),
            "calibration": (self.boundaries["calibration_from"], self.boundaries["test_from"]),
        }
        for name, mask, both in (
            ("training", self.train, True),
            ("validation", self.valid, False),
            ("calibration", self.calibration, not foldable),
        ):
            start, end = periods[name]
            shown = start if isinstance(start, str) else f"{start:%Y-%m-%d}"
            where = f"the {name} slice (lines filed from {shown} to {end:%Y-%m-%d})"
            counts = f"sizes of the slices: {self.sizes()}"
            if not mask.any():
                raise ValueError(
                    f"{where} has no labelled line: more history is needed before the cut-off "
                    f"(a later --until, or outcomes recorded sooner); {counts}"
                )
            seizures = int(labels[mask].sum())
            if both and (seizures == 0 or seizures == int(mask.sum())):
                found = "no seizure" if seizures == 0 else "only seizures"
                raise ValueError(
                    f"{where} has {int(mask.sum()):,} labelled lines and {found}: a model "
                    f"cannot be made from it; {counts}"
                )


def time_splits(
    filed_at: pd.Series,
    recorded_at: pd.Series,
    *,
    config: SplitConfig = SplitConfig(),
    until: pd.Timestamp | None = None,
) -> TimeSplits:
    """Split labelled lines by filing time.

    With ``until``: lines filed after it form the test slice (a held-out later period) and the
    others, whose labels were recorded before ``until``, are split train / valid / calibration.
    Without it: the last share of time (1 - train - valid - calibration) is the test slice.
    """
    filed = _utc_ns(filed_at)
    recorded = _utc_ns(recorded_at)
    gap = np.timedelta64(int(config.gap_days * 86400), "s")
    if until is not None:
        cut = np.datetime64(pd.Timestamp(until).tz_convert("UTC").tz_localize(None), "ns")
        history = (filed < cut) & (recorded < cut)
        test = filed >= cut
        total = config.train + config.valid + config.calibration
        b1, b2 = _quantiles(
            filed[history], [config.train / total, (config.train + config.valid) / total]
        )
        b3 = cut
    else:
        history = np.ones(len(filed), dtype=bool)
        b1, b2, b3 = _quantiles(
            filed,
            [
                config.train,
                config.train + config.valid,
                config.train + config.valid + config.calibration,
            ],
        )
        test = filed >= b3
        history = filed < b3
    train = history & (filed < b1) & (recorded < b1)
    valid = history & (filed >= b1 + gap) & (filed < b2) & (recorded < b3)
    calibration = history & (filed >= b2) & (filed < b3) & (recorded < b3)
    # filed in a slice's period, recorded after its end (and, with a cut, after the cut: those
    # only count as late where the slice's own end is the cut)
    late = {
        "training": (filed < b1) & (recorded >= b1),
        "calibration": (filed >= b2) & (filed < b3) & (recorded >= b3),
    }
    return TimeSplits(
        train=train,
        valid=valid,
        calibration=calibration,
        test=test,
        late=late,
        boundaries={
            "valid_from": pd.Timestamp(b1, tz="UTC"),
            "calibration_from": pd.Timestamp(b2, tz="UTC"),
            "test_from": pd.Timestamp(b3, tz="UTC"),
        },
    )


def _utc_ns(values: pd.Series) -> np.ndarray:
    """UTC timestamps as naive datetime64[ns] (NaT stays NaT and compares False)."""
    stamps = pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(None)
    return stamps.to_numpy(dtype="datetime64[ns]")


def _quantiles(times: np.ndarray, qs: list[float]) -> list[np.datetime64[int]]:
    if len(times) == 0:
        raise ValueError("no labelled lines to split")
    ints = np.sort(times[~np.isnat(times)].astype(np.int64))
    return [np.datetime64(int(ints[min(len(ints) - 1, int(q * len(ints)))]), "ns") for q in qs]
