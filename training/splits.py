"""Time-ordered splits of labelled lines, honest about label delay.

A label can only be learned from once it was recorded, and seizures are recorded later than clean
results (a median 9 days after the inspection against 1 in the quickstart world). Training happens
at one moment, the start of the test period (``test_from``): a line is used only if its outcome
was recorded before it, and only if it was filed at least the label delay before it, so that the
lines filed near the end keep their seizures as they keep their clean results. Cut at the end
alone, the last weeks kept their clean results and lost their seizures (the quickstart's
calibration slice held 3 seizures in 421 lines, 0.7 %, where its lines had 1.6 % once every
label was in). The lines filed within the delay are in no slice, clean and seized alike.

Slices follow each other in filing time: train -> (gap) -> validation (early stopping) ->
calibration -> (label delay) -> test. The test slice starts at ``test_from``, as evaluation
reads it (`training.train` judges every line filed from it): a gap there made the printed test
count another set than the one the metrics were on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DELAY_QUANTILE", "SplitConfig", "TimeSplits", "learned_label_delay", "time_splits"]


@dataclass(frozen=True)
class SplitConfig:
    train: float = 0.6
    valid: float = 0.15
    calibration: float = 0.1
    gap_days: float = 7.0
    # Lines filed less than this before the test period are in no slice; None: learned from the
    # labelled lines (`learned_label_delay`).
    label_delay_days: float | None = None


# The share of each kind of outcome (seizure, clean) recorded within a learned label delay.
DELAY_QUANTILE = 0.95


@dataclass
class TimeSplits:
    """Boolean masks over the labelled lines, and the boundaries used."""

    train: np.ndarray
    valid: np.ndarray
    calibration: np.ndarray
    test: np.ndarray
    boundaries: dict[str, pd.Timestamp]
    # Lines filed in a slice's period whose outcome was recorded after the test period began,
    # so left out of it: past the label delay, few (`late_counts`).
    late: dict[str, np.ndarray] | None = None
    # The label delay in days, whether it was learned, and the labelled lines filed within it
    # before the test period (outcome recorded before it), left out of every slice.
    label_delay_days: float = 0.0
    label_delay_learned: bool = False
    delayed: np.ndarray | None = None

    def delay_counts(self, labels: np.ndarray) -> tuple[int, int]:
        """Lines and seizures left out as filed within the label delay before the test period."""
        mask = np.zeros(len(labels), dtype=bool) if self.delayed is None else self.delayed
        return int(mask.sum()), int(np.asarray(labels)[mask].sum())

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
            "calibration": (
                self.boundaries["calibration_from"],
                self.boundaries.get("delay_from", self.boundaries["test_from"]),
            ),
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
                    f"(a later --until, or outcomes recorded sooner{self._delay_words()}); "
                    f"{counts}"
                )
            seizures = int(labels[mask].sum())
            if both and (seizures == 0 or seizures == int(mask.sum())):
                found = "no seizure" if seizures == 0 else "only seizures"
                raise ValueError(
                    f"{where} has {int(mask.sum()):,} labelled lines and {found}: a model "
                    f"cannot be made from it; {counts}"
                )

    def _delay_words(self) -> str:
        if not self.label_delay_days:
            return ""
        how = "learned" if self.label_delay_learned else "set"
        return (
            f", or a shorter label_delay_days: the slices end {self.label_delay_days:g} days "
            f"({how}) before the test period"
        )


def learned_label_delay(
    filed_at: pd.Series, recorded_at: pd.Series, labels: np.ndarray | None = None
) -> float:
    """Whole days within which `DELAY_QUANTILE` of each kind of outcome (seizure, clean) was
    recorded after its line was filed: the slower kind decides (seizures, in the quickstart
    world 38 days where clean results take 16). 0 without a line."""
    return _delay_days(_utc_ns(filed_at), _utc_ns(recorded_at), labels)


def _delay_days(filed: np.ndarray, recorded: np.ndarray, labels: np.ndarray | None) -> float:
    """`learned_label_delay` of naive UTC datetime64[ns] arrays."""
    days = (recorded - filed).astype("timedelta64[s]").astype("float64") / 86400
    kinds = np.zeros(len(days)) if labels is None else np.asarray(labels)
    usable = ~(np.isnat(filed) | np.isnat(recorded))
    found = [
        float(np.quantile(days[usable & (kinds == kind)], DELAY_QUANTILE))
        for kind in np.unique(kinds[usable])
    ]
    return float(np.ceil(max([0.0, *found])))


def time_splits(
    filed_at: pd.Series,
    recorded_at: pd.Series,
    *,
    config: SplitConfig = SplitConfig(),
    until: pd.Timestamp | None = None,
    labels: np.ndarray | None = None,
) -> TimeSplits:
    """Split labelled lines by filing time.

    With ``until``: lines filed after it form the test slice (a held-out later period). Without
    it: the last share of time (1 - train - valid - calibration) is the test slice. The lines
    filed at least the label delay before the test period, whose labels were recorded before
    it, are split train / valid / calibration by their shares. ``labels`` (1 for a seizure)
    let the delay be learned per kind of outcome when the config leaves it unset.
    """
    filed = _utc_ns(filed_at)
    recorded = _utc_ns(recorded_at)
    gap = _days(config.gap_days)
    total = config.train + config.valid + config.calibration
    if until is not None:
        cut = np.datetime64(pd.Timestamp(until).tz_convert("UTC").tz_localize(None), "ns")
    else:
        (cut,) = _quantiles(filed, [total])
    test = filed >= cut
    known = (filed < cut) & (recorded < cut)
    learned = config.label_delay_days is None
    if config.label_delay_days is None:
        kinds = None if labels is None else np.asarray(labels)[known]
        days = _delay_days(filed[known], recorded[known], kinds)
    else:
        days = float(config.label_delay_days)
    start = cut - _days(days)
    history = known & (filed < start)
    if not history.any():
        when = f"{pd.Timestamp(cut, tz='UTC'):%Y-%m-%d}"
        if not known.any():  # no delay to blame: no outcome was recorded before the test period
            raise ValueError(
                f"no labelled line was filed and recorded before the test period ({when}): "
                "more history is needed before the cut-off (a later --until, or outcomes "
                "recorded sooner)"
            )
        raise ValueError(
            f"no labelled line was filed at least the label delay ({days:g} days, "
            f"{'learned' if learned else 'set'}) before the test period ({when}): more "
            "history is needed before the cut-off (a later --until), or a shorter "
            "label_delay_days"
        )
    b1, b2 = _quantiles(
        filed[history], [config.train / total, (config.train + config.valid) / total]
    )
    train = history & (filed < b1)
    valid = history & (filed >= b1 + gap) & (filed < b2)
    calibration = history & (filed >= b2)
    # filed in a slice's period (before the label delay), recorded after the test period began
    after = (filed < start) & (recorded >= cut)
    late = {
        "training": after & (filed < b1),
        "validation": after & (filed >= b1 + gap) & (filed < b2),
        "calibration": after & (filed >= b2),
    }
    return TimeSplits(
        train=train,
        valid=valid,
        calibration=calibration,
        test=test,
        late=late,
        label_delay_days=days,
        label_delay_learned=learned,
        delayed=known & (filed >= start),
        boundaries={
            "valid_from": pd.Timestamp(b1, tz="UTC"),
            "calibration_from": pd.Timestamp(b2, tz="UTC"),
            "delay_from": pd.Timestamp(start, tz="UTC"),
            "test_from": pd.Timestamp(cut, tz="UTC"),
        },
    )


def _days(days: float) -> np.timedelta64:
    return np.timedelta64(int(days * 86400), "s")


def _utc_ns(values: pd.Series) -> np.ndarray:
    """UTC timestamps as naive datetime64[ns] (NaT stays NaT and compares False)."""
    stamps = pd.to_datetime(pd.Series(values), utc=True).dt.tz_convert(None)
    return stamps.to_numpy(dtype="datetime64[ns]")


def _quantiles(times: np.ndarray, qs: list[float]) -> list[np.datetime64[int]]:
    if len(times) == 0:
        raise ValueError("no labelled lines to split")
    ints = np.sort(times[~np.isnat(times)].astype(np.int64))
    return [np.datetime64(int(ints[min(len(ints) - 1, int(q * len(ints)))]), "ns") for q in qs]
