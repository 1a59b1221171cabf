"""`FeaturePipeline`: point-in-time risk features with one code path for training, batch and API.

    pipeline = FeaturePipeline().fit(shipments, outcomes, until=cutoff)   # learn the state
    X = pipeline.transform(new_lines)                                      # score as of filed_at
    pipeline.update(todays_lines, todays_outcomes)                         # add history
    X_train = FeaturePipeline().fit_transform(shipments, outcomes)         # training frame

Inputs are normalised frames (`risk_engine.validation.validate_frame(...).accepted`). Every
history feature of a line uses only lines filed strictly before it and outcomes recorded strictly
before it; label-based rates never see the line's own outcome. Output rows keep the input index
and order; no line is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np
import pandas as pd

from features import history
from features.batch import Batch
from features.catalogue import CATEGORICAL, feature_names
from features.categories import learn_vocabulary
from features.compute import feature_frame, history_events
from features.history import HistoryEvents
from features.index import EventIndex
from features.keys import NAME_RULES, timestamps
from features.rates import contributions as outcome_contributions
from features.rates import match, outcome_weights, overall_rate, own_sums
from features.state import LINE_KEY, Contribution, FeatureState, StateParams, consignee_mark
from risk_engine.errors import ContractViolation, RiskEngineError

if TYPE_CHECKING:
    from features.mapping import ColumnMapping

__all__ = ["FeaturePipeline", "NotFitted", "build_feature_frame", "split_last_filing"]

log = logging.getLogger(__name__)

_NEEDED = {
    "shipments": ("bl_number", "container_number", "filed_at", "eta", "hs_code"),
    "outcomes": ("bl_number", "container_number", "recorded_at", "result"),
}
_TIMES = {"shipments": "filed_at", "outcomes": "recorded_at"}


class NotFitted(RiskEngineError):
    """`transform` or `update` was called before `fit` or `fit_transform`."""


def _check(frame: pd.DataFrame, kind: str) -> None:
    """A normalised frame: required columns present, the as-of time a UTC timestamp."""
    for name in _NEEDED[kind]:
        if name not in frame.columns:
            raise ContractViolation(name, None, "required", f"{kind} frame has no column {name!r}")
    when = _TIMES[kind]
    dtype = frame[when].dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        raise ContractViolation(
            when,
            str(dtype),
            "normalised",
            f"{kind}.{when} is {dtype}, not a UTC timestamp: pass validate_frame(...).accepted",
        )


def _before(frame: pd.DataFrame, column: str, cut: pd.Timestamp) -> pd.DataFrame:
    """The rows with ``column`` before ``cut``, in order. A time-ordered frame gives a leading
    slice (no copy of its columns, which for ten million lines is gigabytes); any other frame
    a filtered copy."""
    keep = np.asarray(frame[column] < cut, dtype=bool)
    count = int(keep.sum())
    if keep[:count].all():
        return frame.iloc[:count]
    return frame[keep]


def _until(until: datetime | str | pd.Timestamp | None) -> pd.Timestamp | None:
    if until is None:
        return None
    stamp = pd.Timestamp(until)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


class FeaturePipeline:
    """Learns a `FeatureState` from history and turns shipment lines into model features.

    Parameters are stored as given (scikit-learn style); what is learned ends in ``_``:
    ``state_`` (picklable, travels with the model), ``feature_names_`` and
    ``categorical_features_`` (pandas ``category`` columns; values unseen at fit become
    ``__other__``).

    half_life_days: age at which an outcome counts half in seizure rates.
    prior_strength: inspections' worth of the overall rate mixed into every rate (smoothing).
    token_buckets: hash buckets of description words.
    min_norm_count: earlier lines a goods line needs before its value/weight z-score is given.
    label_lookback_days: how long lines are kept to attribute outcomes recorded later.
    rescore_days: lines filed up to this long before the state's cut-off still get exact
        features from the state; older history is compacted.
    """

    def __init__(
        self,
        *,
        half_life_days: float = 180.0,
        prior_strength: float = 20.0,
        token_buckets: int = 1 << 20,
        min_norm_count: int = 20,
        label_lookback_days: float = 120.0,
        rescore_days: float = 7.0,
    ) -> None:
        self.half_life_days = half_life_days
        self.prior_strength = prior_strength
        self.token_buckets = token_buckets
        self.min_norm_count = min_norm_count
        self.label_lookback_days = label_lookback_days
        self.rescore_days = rescore_days

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {
            "half_life_days": self.half_life_days,
            "prior_strength": self.prior_strength,
            "token_buckets": self.token_buckets,
            "min_norm_count": self.min_norm_count,
            "label_lookback_days": self.label_lookback_days,
            "rescore_days": self.rescore_days,
        }

    # --- learning -----------------------------------------------------------------------------

    def _new_state(self, batch: Batch) -> FeatureState:
        params = StateParams(**self.get_params(), name_rules=NAME_RULES)
        if params.rescore_days < 0 or params.label_lookback_days < 0:
            raise ValueError("rescore_days and label_lookback_days must not be negative")
        return FeatureState(params=params, vocab=learn_vocabulary(batch))

    def _finish(self, state: FeatureState, batch: Batch, as_of: int) -> None:
        state.as_of = max(state.as_of, as_of)
        state.lines_seen += batch.n
        if batch.n:
            state.remember(
                batch.frame,
                batch.shipment,
                consignees=consignee_mark(batch.consignee_written),
                versions=batch.versions,
            )
        else:
            state.remember(batch.frame, np.zeros(0, np.uint64))
        state.compact()
        self.state_ = state
        self.feature_names_ = feature_names()
        self.categorical_features_ = list(CATEGORICAL)
        log.info(
            "feature state: %d lines, %d outcomes (%d unmatched), as of %s, %.1f MB",
            state.lines_seen,
            state.outcomes_seen,
            state.outcomes_unmatched,
            pd.Timestamp(state.as_of, unit="s", tz="UTC"),
            state.nbytes / 1e6,
        )

    def lines_held(self, outcomes: pd.DataFrame) -> np.ndarray:
        """For each outcome, whether the state holds its line among the recent lines it keeps
        (`update` attributes an outcome to such a line; one it does not hold counts for nothing
        now, and may find its line once a later screening brings it)."""
        state = self.state_
        if len(outcomes) == 0 or len(state.recent) == 0:
            return np.zeros(len(outcomes), dtype=bool)
        keys = Batch(outcomes, token_buckets=1).shipment
        return np.asarray(match(keys, state.recent[LINE_KEY].to_numpy()) >= 0, dtype=bool)

    def lines_known(self, outcomes: pd.DataFrame) -> np.ndarray:
        """For each outcome, whether the state has seen its line at all: among the recent lines
        it keeps (`lines_held`) or the older keys it only recognises (`FeatureState.holds`). A
        line known but not held was screened longer ago than the buffer reaches: its outcome can
        never be attributed, however often it is offered."""
        if len(outcomes) == 0 or not self.state_.knows_lines():
            return np.zeros(len(outcomes), dtype=bool)
        return self.state_.holds(Batch(outcomes, token_buckets=1).shipment)

    def _outcomes(
        self, state: FeatureState, batch: Batch, outcomes: pd.DataFrame | None
    ) -> tuple[dict[str, EventIndex], np.ndarray | None, int]:
        """Outcome events attributed to lines of ``batch`` or, failing that, the state's buffer
        of recent lines; the own-outcome sums of ``batch`` lines; the latest recorded second."""
        if outcomes is None or len(outcomes) == 0:
            return {}, None, 0
        _check(outcomes, "outcomes")
        keys, recorded, weights, _ = outcome_weights(outcomes)
        rows = match(keys.shipment, batch.shipment)
        found = rows >= 0
        half_life = state.half_life_s
        own_data = (rows[found], recorded[found], weights[found])
        events = outcome_contributions(batch, own_data, half_life)
        own = own_sums(batch, own_data, half_life)
        unmatched = np.flatnonzero(~found)
        if len(unmatched) and len(state.recent):
            rows_recent = match(keys.shipment[unmatched], state.recent[LINE_KEY].to_numpy())
            hit = rows_recent >= 0
            if hit.any():
                picked = np.unique(rows_recent[hit])
                sub = _batch(state, state.recent.iloc[picked])
                sub_rows = np.searchsorted(picked, rows_recent[hit])
                extra = outcome_contributions(
                    sub,
                    (sub_rows, recorded[unmatched][hit], weights[unmatched][hit]),
                    half_life,
                )
                for name, index in extra.items():
                    events[name] = events[name].merged(index) if name in events else index
                found[unmatched[hit]] = True
        state.outcomes_seen += int(found.sum())
        lost = int((~found).sum())
        if lost:
            state.outcomes_unmatched += lost
            log.warning(
                "%d outcomes match no known shipment line (or one older than %s days)",
                lost,
                state.params.label_lookback_days,
            )
        latest = int(recorded.max()) + 1 if len(recorded) else 0
        return events, own, latest

    def fit(
        self,
        shipments: pd.DataFrame,
        outcomes: pd.DataFrame | None = None,
        *,
        until: datetime | str | pd.Timestamp | None = None,
    ) -> Self:
        """Learn the state from lines filed, and outcomes recorded, before ``until`` (all when
        None)."""
        _check(shipments, "shipments")
        cut = _until(until)
        if cut is not None:
            shipments = _before(shipments, "filed_at", cut)
            if outcomes is not None:
                outcomes = _before(outcomes, "recorded_at", cut)
        batch = Batch(
            shipments, token_buckets=self.token_buckets, keep_queries=False, name_rules=NAME_RULES
        )
        state = self._new_state(batch)
        state.add(history_events(batch, state))
        rate_events, _, latest = self._outcomes(state, batch, outcomes)
        state.add(Contribution(outcomes=rate_events))
        if cut is not None:
            as_of = int(cut.timestamp())
        else:
            as_of = max(int(batch.secs.max()) + 1 if batch.n else 0, latest)
        self._finish(state, batch, as_of)
        return self

    def fit_transform(
        self, shipments: pd.DataFrame, outcomes: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Training features of ``shipments`` from themselves and ``outcomes``, point-in-time;
        then the state is fitted on all of it (as `fit` would)."""
        _check(shipments, "shipments")
        batch = Batch(shipments, token_buckets=self.token_buckets, name_rules=NAME_RULES)
        state = self._new_state(batch)
        events = history_events(batch, state)
        rate_events, own, latest = self._outcomes(state, batch, outcomes)
        empty = EventIndex.empty(2, half_life_s=state.half_life_s)
        frame = feature_frame(batch, state, events, lambda n: rate_events.get(n, empty), own)
        state.add(events)
        state.add(Contribution(outcomes=rate_events))
        as_of = max(int(batch.secs.max()) + 1 if batch.n else 0, latest)
        self._finish(state, batch, as_of)
        return frame

    # --- using --------------------------------------------------------------------------------

    def _fitted(self) -> FeatureState:
        state: FeatureState | None = getattr(self, "state_", None)
        if state is None:
            raise NotFitted("FeaturePipeline is not fitted: call fit or fit_transform first")
        return state

    def transform(self, shipments: pd.DataFrame) -> pd.DataFrame:
        """Features of new lines as of each line's filed_at, from the state plus earlier lines
        of the same frame. Index and row order are kept."""
        state = self._fitted()
        _check(shipments, "shipments")
        batch = _batch(state, shipments)
        frame, _ = _scored(
            shipments, batch, state, lambda part: lambda: history.lookup_events(part, state)
        )
        return frame

    def update(
        self, shipments: pd.DataFrame | None = None, outcomes: pd.DataFrame | None = None
    ) -> Self:
        """Add new lines and new outcomes to the state (after a day, or a phase). A line the
        state already holds is not added again (`_unheld`)."""
        state = self._fitted()
        if shipments is None:
            shipments = pd.DataFrame({"filed_at": pd.Series([], dtype="datetime64[us, UTC]")})
        else:
            _check(shipments, "shipments")
        batch = _batch(state, shipments, keep_queries=False)
        fresh = _unheld(state, batch)
        if fresh is not None:
            batch = _batch(state, shipments[fresh])
        state.add(history_events(batch, state))
        rate_events, _, _ = self._outcomes(state, batch, outcomes)
        state.add(Contribution(outcomes=rate_events))
        # The lines set the clock, not the outcomes: each outcome counts from its recorded_at
        # whatever ``as_of``, and a clock moved on by outcomes alone (2030 typed for 2026) left
        # later lines approximate, merged the events they need and forgot which lines it held.
        self._finish(state, batch, int(batch.secs.max()) + 1 if batch.n else 0)
        return self

    def transform_update(self, shipments: pd.DataFrame) -> pd.DataFrame:
        """``transform(shipments)`` then ``update(shipments)`` in one pass: the batch's keys and
        history events are worked out once and serve both (batch screening, chunk by chunk).
        Gives exactly what the two calls give."""
        state = self._fitted()
        _check(shipments, "shipments")
        batch = _batch(state, shipments)
        # lines held already are scored as the state saw them, and not added again
        frame, (batch, events) = _scored(
            shipments,
            batch,
            state,
            lambda part: cache(lambda: history_events(part, state)),
            count_repeated=True,
        )
        state.add(events())
        as_of = int(batch.secs.max()) + 1 if batch.n else 0
        self._finish(state, batch, as_of)
        return frame

    @property
    def as_of_(self) -> pd.Timestamp:
        """The state's cut-off: history before it is in the state."""
        return pd.Timestamp(self._fitted().as_of, unit="s", tz="UTC")

    def overall_rate(self) -> float:
        """The overall seizure rate of the inspections the state holds, as of the latest: the
        rate every entity's is pulled towards, and what a reason's rate is told against."""
        state = self._fitted()
        return overall_rate(state.outcome("rate:global"), state.params.prior_strength)

    def approximate(self, shipments: pd.DataFrame) -> np.ndarray:
        """Which lines the state can no longer give exact history features: those filed more
        than ``rescore_days`` before its cut-off, whose all-time counts were compacted (and
        whose history lookups see events filed after them). Ask before the state advances
        with the lines (``transform_update``)."""
        state = self._fitted()
        exact_from = np.datetime64(
            round((state.as_of - state.params.rescore_days * 86_400) * 1e6), "us"
        )
        filed = shipments["filed_at"]
        if not isinstance(filed.dtype, pd.DatetimeTZDtype):
            filed = pd.to_datetime(filed, utc=True)
        # On NumPy datetimes (a request's few lines: no pandas machinery); NaT is never before.
        approximate: np.ndarray = timestamps(filed, "us") < exact_from
        return approximate


E = TypeVar("E", bound=HistoryEvents)


def _batch(state: FeatureState, lines: pd.DataFrame, *, keep_queries: bool = True) -> Batch:
    """Lines as a `Batch` by the state's own rules (hash buckets, name rules)."""
    params = state.params
    return Batch(
        lines,
        token_buckets=params.token_buckets,
        keep_queries=keep_queries,
        name_rules=params.name_rules,
    )


def _held(state: FeatureState, batch: Batch) -> np.ndarray | None:
    """Which lines of ``batch`` the state holds already (None when it holds none of them).

    A line is held when its key (bl_number, container_number) is among the lines the state
    added, back to its `key_horizon` (about a year): a batch screened twice, a past quarter
    screened again, or a manifest scored after the screening that added it, whatever its
    ``filed_at`` now: a line sent again with a later filing time (a time zone corrected) was
    told apart by time alone and added a second time, unsaid. (It is still scored at its new
    time, so its history counts its own first filing.)"""
    if not batch.n or not state.knows_lines():
        return None
    held: np.ndarray = state.holds(batch.shipment)
    return held if held.any() else None


def _count_repeated(state: FeatureState, held: np.ndarray) -> None:
    state.lines_repeated += int(held.sum())
    log.info("%d lines already in the feature history: scored, not added again", held.sum())


def _count_beyond_memory(state: FeatureState, batch: Batch, held: np.ndarray | None) -> None:
    """Count in ``state.lines_beyond_memory`` the lines about to be added that were filed before
    its `key_horizon`: the state cannot tell whether it added them before."""
    if not batch.n or not state.as_of:
        return
    old = batch.secs < state.key_horizon
    if held is not None:
        old &= ~held
    count = int(old.sum())
    if count:
        state.lines_beyond_memory += count
        log.warning(
            "%d lines filed more than %g days before the feature history's cut-off: added, "
            "though it cannot tell whether it holds them already",
            count,
            state.key_memory_days,
        )


def _unheld(state: FeatureState, batch: Batch) -> np.ndarray | None:
    """The lines of ``batch`` the state does not hold yet (None when it holds none of them),
    counting those it does in ``state.lines_repeated``: a line is added to the history once."""
    held = _held(state, batch)
    _count_beyond_memory(state, batch, held)
    if held is None:
        return None
    _count_repeated(state, held)
    fresh: np.ndarray = ~held
    return fresh


def _scored(
    shipments: pd.DataFrame,
    batch: Batch,
    state: FeatureState,
    events_of: Callable[[Batch], Callable[[], E]],
    *,
    count_repeated: bool = False,
) -> tuple[pd.DataFrame, tuple[Batch, Callable[[], E]]]:
    """Features of ``batch`` (the batch of ``shipments``), and the batch of its lines the state
    does not hold with their events (``events_of``), for an update.

    Lines the state holds already are scored from the state alone, as it saw them (their own
    lines and their batch's earlier ones are in it), so that scoring them again gives the
    scores they had; the others as usual, from the state and their own earlier lines. The
    frame keeps the batch's order."""
    held = _held(state, batch)
    if count_repeated:
        _count_beyond_memory(state, batch, held)
    if held is None:
        events = events_of(batch)
        return feature_frame(batch, state, events, state.outcome), (batch, events)
    if count_repeated:
        _count_repeated(state, held)
    fresh_rows, held_rows = np.flatnonzero(~held), np.flatnonzero(held)
    fresh = _batch(state, shipments.iloc[fresh_rows])
    events = events_of(fresh)
    again = _batch(state, shipments.iloc[held_rows])
    frame = feature_frame(again, state, history.NO_EVENTS, state.outcome, own_lines=False)
    if len(fresh_rows):
        parts = [feature_frame(fresh, state, events, state.outcome), frame]
        order = np.argsort(np.concatenate([fresh_rows, held_rows]), kind="stable")
        frame = pd.concat(parts).iloc[order]
    return frame, (fresh, events)


def build_feature_frame(
    shipments_path: Path,
    outcomes_path: Path,
    out_path: Path,
    *,
    mapping: ColumnMapping | None = None,
    outcomes_mapping: ColumnMapping | None = None,
) -> dict[str, Any]:
    """Write the feature frame of two record files (see `features.build.build_feature_frame`).

    Here so the CLI can import it with the pipeline; file reading is imported only when used.
    """
    from features.build import build_feature_frame as build

    return build(
        shipments_path,
        outcomes_path,
        out_path,
        mapping=mapping,
        outcomes_mapping=outcomes_mapping,
    )


def split_last_filing(lines: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a chunk of a time-ordered file into lines to score now and lines to carry over.

    Lines filed at the same second (the containers of one B/L, several B/Ls of one filing)
    count each other in the consignment-shape features, so a filing must be scored in one
    piece: score the first part now and prepend the second (the lines filed at the chunk's
    last second) to the next chunk; score what is left after the last chunk.
    """
    if len(lines) == 0:
        return lines, lines
    last = lines["filed_at"] == lines["filed_at"].max()
    return lines[~last], lines[last]
