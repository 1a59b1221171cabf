"""Champion and challenger after an operation phase.

A challenger is trained on data up to the end of the phase; champion and challenger score the same
later held-out period; the ``champion`` alias moves only when the challenger finds more seizures at
the configured capacity, and, with ``promotion.min_probability_better`` set, finds more in at least
that share of a paired bootstrap over port-days. The comparison, with the bootstrap's interval and
share, is recorded and an HTML phase report is written for analysts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from models.registry import (
    DECISION_TAG,
    DISCARDED,
    MODEL_NAME,
    PENDING,
    PHASE_TAG,
    configure_mlflow,
    experiment_id,
    list_versions,
    load_scorer,
    set_champion,
    tag_version,
)
from models.selection import port_day
from risk_engine.errors import ConfigError, ModelUnavailable
from risk_engine.settings import Settings
from training.config import TrainConfig
from training.evaluate import evaluate_period
from training.metrics import calibration_warning, selected_at_capacity
from training.report import write_phase_report
from training.tracking import log_training
from training.train import Progress, describe_calibration, fit_scorer, utc_moment

__all__ = [
    "Decision",
    "champion_features",
    "compare",
    "decision_reason",
    "earlier_challengers",
    "promotes",
    "retrain",
]

log = logging.getLogger(__name__)


@dataclass
class Decision:
    phase: str
    champion_version: str | None
    challenger_version: str
    capacity: float
    champion_hits: float
    challenger_hits: float
    difference_low: float
    difference_high: float
    promoted: bool
    reason: str
    report: Path | None = None
    truth_champion_hits: float | None = None
    truth_challenger_hits: float | None = None
    earlier: tuple[str, ...] = ()  # challengers registered before for the same phase
    held_out: str = ""  # the period both were compared on, in words
    note: str = ""  # what the output must say besides the decision
    calibration: str = ""  # a warning when the challenger's scores are not calibrated
    calibrated_on: str = ""  # how the challenger's calibration was fitted, in words
    # the share of the paired bootstrap's resamples in which the challenger finds more, and
    # the share a promotion needs (`promotion.min_probability_better`)
    probability_better: float = float("nan")
    min_probability_better: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def promotes(
    champion_hits: float,
    challenger_hits: float,
    *,
    probability_better: float = 1.0,
    min_probability_better: float = 0.0,
) -> bool:
    """The promotion rule: a challenger replaces the champion only when it finds more seizures
    on the same held-out period at capacity; one that finds as many keeps the champion (a new
    model is a change officers must trust again for nothing). It must also find more in at
    least ``min_probability_better`` of the paired bootstrap's resamples of port-days
    (``probability_better``): one seizure more is as often chance as not."""
    return challenger_hits > champion_hits and probability_better >= min_probability_better


def decision_reason(
    champion_hits: float,
    challenger_hits: float,
    *,
    capacity: float,
    interval: tuple[float, float],
    probability_better: float,
    min_probability_better: float,
    rounds: int,
) -> str:
    """The decision in words, with the figures it was made on (printed by `retrain`, recorded
    with the run): which rule kept a champion, when one did."""
    low, high = interval
    found = (
        f"challenger finds {challenger_hits:.0f} seizures at {capacity:.0%} capacity vs "
        f"{champion_hits:.0f} for the champion (difference 95 % interval {low:+.0f} to "
        f"{high:+.0f}; more in {probability_better:.1%} of {rounds:,} paired bootstrap "
        "resamples of port-days"
    )
    if min_probability_better > 0:
        found += f", promotion.min_probability_better {min_probability_better:.1%}"
    found += ")"
    if challenger_hits <= champion_hits:
        return f"kept champion: {found}"
    if probability_better < min_probability_better:
        return (
            f"kept champion: {found}: it finds more, but in fewer resamples than the setting "
            "asks, as chance could give"
        )
    return f"promoted: {found}"


def compare(
    groups: pd.Series,
    hits: pd.Series,
    champion: pd.Series,
    challenger: pd.Series,
    *,
    capacity: float,
    rounds: int,
    seed: int,
) -> tuple[float, float, float, float, float]:
    """Hits of each at capacity, a 95 % bootstrap interval of (challenger - champion),
    resampling whole port-days with both models' picks on each (a paired bootstrap), and the
    share of the resamples in which the challenger finds more (0 without a port-day). Seeded:
    the same data and seed give the same figures."""
    y = hits.fillna(0).to_numpy(dtype="float64")
    a = y * selected_at_capacity(groups, champion, capacity)
    b = y * selected_at_capacity(groups, challenger, capacity)
    per_day = pd.DataFrame({"g": groups.to_numpy(), "d": b - a}).groupby("g")["d"].sum().to_numpy()
    rng = np.random.default_rng(seed)
    if len(per_day) == 0:
        return float(a.sum()), float(b.sum()), 0.0, 0.0, 0.0
    draws = rng.integers(0, len(per_day), size=(rounds, len(per_day)))
    totals = per_day[draws].sum(axis=1)
    low, high = np.quantile(totals, [0.025, 0.975])
    better = float(np.mean(totals > 0))
    return float(a.sum()), float(b.sum()), float(low), float(high), better


def retrain(
    shipments: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    phase: str,
    until: Any,
    settings: Settings,
    config: TrainConfig,
    data_info: dict[str, Any],
    eval_until: Any = None,
    truth: pd.DataFrame | None = None,
    progress: Progress | None = None,
) -> Decision:
    """Train a challenger up to ``until`` (the end of the phase) and decide on the champion."""
    configure_mlflow(settings)
    earlier = earlier_challengers(settings, phase)
    try:
        champion = load_scorer("champion")
    except ModelUnavailable:
        champion = None
    if champion is not None:
        learned = pd.Timestamp(champion.pipeline.as_of_)
        cut = utc_moment(until)
        if cut < learned:  # the comparison would judge the champion on lines it learned from
            raise ConfigError(
                f"--until {until} is before the champion's own cut-off ({learned:%Y-%m-%d %H:%M} "
                f"UTC, version {champion.version}): the held-out period would hold lines it "
                "learned from; give an --until at or after it"
            )
    try:
        outcome = fit_scorer(
            shipments,
            outcomes,
            config=config,
            until=until,
            test_until=eval_until,
            truth=truth,
            progress=progress,
        )
    except ValueError as error:  # a traceback here, where train says why and exits 2
        raise ConfigError(f"cannot train the challenger: {error}") from error
    calibration = (
        calibration_warning(outcome.evaluation.labels) if outcome.evaluation is not None else None
    )
    test_from = pd.Timestamp(outcome.boundaries["test_from"])
    if champion is not None and test_from < learned:
        # nothing filed after --until: the last part of the data became the held-out period,
        # and it reaches back into what the champion learned from
        raise ConfigError(
            f"nothing was filed after --until {until}, so the held-out period would start at "
            f"{test_from:%Y-%m-%d %H:%M} UTC, before the champion's own cut-off "
            f"({learned:%Y-%m-%d %H:%M} UTC): nothing registered; give an --until within the data"
        )
    held_out, note = _held_out(shipments, outcome, until, eval_until)
    # the cut the challenger learned to, whoever calls (the command adds it in UTC and where it
    # came from): the run named the phase alone
    moments = {"until": str(until), "eval_until": "" if eval_until is None else str(eval_until)}
    run_id, version, plots = log_training(
        outcome,
        settings=settings,
        config=config,
        data_info={**moments, **data_info},
        run_name=f"challenger {phase}",
        tags={"engine.phase": phase, "engine.role": "challenger"},
        make_champion_if_none=False,
    )
    tag_version(version, {PHASE_TAG: phase, DECISION_TAG: PENDING})  # until `_record`
    period = outcome.period
    lines = outcome.test_lines
    capacity = config.capacity
    if champion is None or lines is None or len(lines) == 0:
        # A challenger is promoted only when it finds more: with a champion and nothing to
        # compare them on, the champion stays (it used to be replaced unseen).
        # decided before the alias: never a pending champion
        decided = _decided(version, promoted=champion is None)
        if not decided:
            reason = _DISCARDED_MEANWHILE.format(version=version)
        elif champion is None:
            set_champion(version)
            reason = "promoted: no champion yet"
        else:
            reason = (
                "kept champion: no held-out period to compare on (no labelled line filed after "
                f"the cut-off); the challenger stays registered as version {version}"
            )
        decision = Decision(
            phase,
            None if champion is None else champion.version,
            version,
            capacity,
            float("nan"),
            float("nan"),
            float("nan"),
            float("nan"),
            champion is None and decided,
            reason,
            earlier=earlier,
            held_out=held_out,
            note=note,
            calibration=calibration or "",
            calibrated_on=describe_calibration(outcome.params),
            min_probability_better=config.promotion.min_probability_better,
        )
        # a version promoted or kept here has its phase report too (it had none, and no
        # training report: `GET /v1/reports` listed nothing for the champion)
        decision.report = write_phase_report(
            settings.reports_dir / f"phase-{_slug(phase)}-v{version}.html",
            decision=decision.as_dict(),
            evaluation=outcome.evaluation,
            outcome=outcome,
            plots=plots,
        )
        _record(run_id, decision)
        return decision
    features = champion_features(champion, shipments, outcomes, lines, test_from)
    period["champion_probability"] = champion.probability(features)
    groups = port_day(period["port_of_discharge"], period["eta"]).reset_index(drop=True)
    champ_hits, chall_hits, low, high, better = compare(
        groups,
        period["label"].reset_index(drop=True),
        period["champion_probability"].reset_index(drop=True),
        period["probability"].reset_index(drop=True),
        capacity=capacity,
        rounds=config.bootstrap_rounds,
        seed=config.seed,
    )
    needed = config.promotion.min_probability_better
    promoted = promotes(
        champ_hits, chall_hits, probability_better=better, min_probability_better=needed
    )
    reason = decision_reason(
        champ_hits,
        chall_hits,
        capacity=capacity,
        interval=(low, high),
        probability_better=better,
        min_probability_better=needed,
        rounds=config.bootstrap_rounds,
    )
    decision = Decision(
        phase,
        champion.version,
        version,
        capacity,
        champ_hits,
        chall_hits,
        low,
        high,
        promoted,
        reason,
        earlier=earlier,
        held_out=held_out,
        note=note,
        calibration=calibration or "",
        calibrated_on=describe_calibration(outcome.params),
        probability_better=better,
        min_probability_better=needed,
    )
    if "has_contraband" in period.columns:
        truth_hits = period["has_contraband"].fillna(0).astype(float).reset_index(drop=True)
        t_a, t_b, _, _, _ = compare(
            groups,
            truth_hits,
            period["champion_probability"].reset_index(drop=True),
            period["probability"].reset_index(drop=True),
            capacity=capacity,
            rounds=1,
            seed=0,
        )
        decision.truth_champion_hits, decision.truth_challenger_hits = t_a, t_b
    if not _decided(version, promoted=promoted):  # before the alias and the report
        promoted = decision.promoted = False
        decision.reason = _DISCARDED_MEANWHILE.format(version=version)
    if promoted:
        set_champion(version)
    evaluation = evaluate_period(
        period,
        scores={
            "challenger": period["probability"],
            "champion": period["champion_probability"],
            "rules": period["rules_score"],
        },
    )
    decision.report = write_phase_report(
        settings.reports_dir / f"phase-{_slug(phase)}-v{version}.html",  # one per challenger
        decision=decision.as_dict(),
        evaluation=evaluation,
        outcome=outcome,
        plots=plots,
    )
    _record(run_id, decision)
    log.info("%s", reason)
    return decision


def champion_features(
    champion: Any,
    shipments: pd.DataFrame,
    outcomes: pd.DataFrame,
    lines: pd.DataFrame,
    test_from: pd.Timestamp,
) -> pd.DataFrame:
    """The champion's features of the held-out ``lines``, from a feature history brought up to
    the period's start as the challenger's is: the lines filed and the outcomes recorded since
    the champion's own cut-off are added to it first. Scored with the history it was trained
    with, two months out of date, the champion found 19 seizures where it finds 22, and a
    challenger that found no more than it was promoted."""
    learned = champion.pipeline.as_of_
    filed, recorded = shipments["filed_at"], outcomes["recorded_at"]
    since = shipments[((filed >= learned) & (filed < test_from)).to_numpy()]
    told = outcomes[((recorded >= learned) & (recorded < test_from)).to_numpy()]
    if len(since) or len(told):
        champion.pipeline.update(since, told)
    features: pd.DataFrame = champion.features(lines)
    return features


def _held_out(
    shipments: pd.DataFrame, outcome: Any, until: Any, eval_until: Any
) -> tuple[str, str]:
    """The held-out period in words, and a note when it is not the one asked for: with nothing
    filed after ``until`` (a phase retrained as soon as it ends), the last part of the data up
    to it is held out, so the challenger learned up to that period's start, not up to
    ``until`` (it was said nowhere, and a promotion read as decided after the phase)."""
    test_from = pd.Timestamp(outcome.boundaries["test_from"])
    filed = shipments["filed_at"]
    held = filed[filed >= test_from]
    if eval_until is not None:
        held = held[held < utc_moment(eval_until)]
    labelled = 0 if outcome.period is None else int(outcome.period["label"].notna().sum())
    if held.empty:
        words = f"from {test_from:%Y-%m-%d %H:%M} UTC: no line filed"
    else:
        words = (
            f"lines filed {test_from:%Y-%m-%d %H:%M} to {held.max():%Y-%m-%d %H:%M} UTC "
            f"({len(held):,} lines, {labelled:,} with a conclusive inspection)"
        )
    cut = utc_moment(until)
    note = ""
    if test_from < cut:
        note = (
            f"nothing was filed after --until {until}: the last part of the data before it was "
            f"held out, so the challenger learned from lines filed before "
            f"{test_from:%Y-%m-%d %H:%M} UTC, not before --until; retrain once lines filed after "
            "the phase are in, or give an --until within the data"
        )
    return words, note


def earlier_challengers(settings: Settings, phase: str) -> tuple[str, ...]:
    """The versions of the challengers trained before for this phase, oldest first (a phase
    retrained once more outcomes came in, say): each stays registered with its own report."""
    runs = mlflow.MlflowClient().search_runs(  # the phase compared here: any text, unquoted
        [experiment_id(settings)],
        filter_string="tags.`engine.role` = 'challenger'",
        order_by=["attributes.start_time ASC"],
    )
    found = [
        run.data.tags.get("decision.challenger_version")
        for run in runs
        if run.data.tags.get("engine.phase") == phase
    ]
    decided = [version for version in found if version]
    # and those whose retrain stopped before its decision, which their runs do not name
    stopped = [
        v.version
        for v in list_versions()
        if v.tags.get(PHASE_TAG) == phase and v.tags.get(DECISION_TAG) == PENDING
    ]
    return tuple(sorted({*decided, *stopped}, key=int))


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text).strip("-") or "phase"


def _decided(version: str, *, promoted: bool) -> bool:
    """The challenger's version is no longer pending: promoted or kept. False, and its tag left,
    when it was discarded while this retrain ran (`models --discard`, which cannot tell a
    running retrain from a stopped one): the discard was overwritten by "kept", and a
    challenger that won would have become the champion."""
    found = mlflow.MlflowClient().get_model_version(MODEL_NAME, version)
    if (found.tags or {}).get(DECISION_TAG) == DISCARDED:
        log.warning("model version %s was discarded while its retrain ran: not promoted", version)
        return False
    tag_version(version, {DECISION_TAG: "promoted" if promoted else "kept"})
    return True


_DISCARDED_MEANWHILE = (
    "kept champion: version {version} was discarded (`risk-engine models --discard`) while its "
    "retrain ran, so it is not promoted whatever it found"
)


def _record(run_id: str, decision: Decision) -> None:
    client = mlflow.MlflowClient()
    for key, value in decision.as_dict().items():
        if value is not None:
            client.set_tag(run_id, f"decision.{key}", str(value)[:500])
    for key in (
        "champion_hits",
        "challenger_hits",
        "difference_low",
        "difference_high",
        "probability_better",
        "min_probability_better",
    ):
        value = getattr(decision, key)
        if value == value:
            client.log_metric(run_id, f"decision_{key}", float(value))
    if decision.report is not None:
        client.log_artifact(run_id, str(decision.report), artifact_path="report")
