"""What the `train`, `retrain` and `models` commands do, one function each (the CLI only parses)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from features.files import fresh_output, write_frame
from features.ingest import ValidationReport
from features.mapping import ColumnMapping, load_mapping
from models.registry import (
    DECISION_TAG,
    DISCARDED,
    PENDING,
    champion_version,
    configure_mlflow,
    list_versions,
    tag_version,
)
from risk_engine.errors import ConfigError
from risk_engine.parsing import parse_moment
from risk_engine.settings import Settings, load_settings
from training.config import read_config
from training.data import fingerprint, load_records, load_truth
from training.metrics import calibration_warning
from training.report import write_training_report
from training.retrain import retrain
from training.review import BaseRate, control_base_rate, inspected_between, review_outcomes
from training.tracking import log_training
from training.train import Progress, band_warning, describe_calibration, fit_scorer

__all__ = ["train_command", "retrain_command", "models_command", "summary_table"]

_KEY_METRICS = (
    "observed_model_hits_2pct",
    "observed_rules_hits_2pct",
    "observed_random_hits_2pct",
    "truth_model_hits_2pct",
    "truth_rules_hits_2pct",
    "truth_random_hits_2pct",
    "truth_optimum_hits_2pct",
    "test_pr_auc",
    "test_brier",
)


def _load(
    shipments: Path,
    outcomes: Path,
    mapping_path: Path | None,
    settings: Settings,
    outcomes_mapping_path: Path | None = None,
    outcomes_name: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Both files through the contract, each with its own mapping; ``outcomes_name`` names
    where the outcomes came from when ``outcomes`` is a temporary copy (the outcome store)."""
    ship, ship_report = load_records(
        shipments, "shipments", mapping=load_mapping(mapping_path), chunk_rows=settings.chunk_rows
    )
    outs, out_report = load_records(
        outcomes,
        "outcomes",
        mapping=load_mapping(outcomes_mapping_path),
        chunk_rows=settings.chunk_rows,
    )
    for what, path, frame, report in (
        ("shipment line", shipments, ship, ship_report),
        ("outcome", outcomes, outs, out_report),
    ):
        if frame.empty:  # it was blamed on the outcomes file whichever was empty
            reasons = "; ".join(
                f"{r['field']} {r['rule']} ({r['rows']:,})" for r in report.top_reasons(3)
            )
            raise ConfigError(
                f"{path}: no {what} passed the contract ({report.read:,} read"
                + (f"; most often {reasons}" if reasons else "")
                + "): see `risk-engine validate` for each row"
            )
    info = {
        "shipments_path": str(shipments),
        "shipments_path_resolved": str(Path(shipments).resolve()),
        "shipments_sha256": fingerprint(shipments),
        "shipments_counts": ship_report.as_dict()["counts"],
        "shipments_rejected_most_often": _reasons(ship_report),
        "shipments_mapping": "" if mapping_path is None else str(mapping_path),
        "outcomes_path": outcomes_name or str(outcomes),
        # the outcome store's temporary copy is gone after the run: its path says nothing
        "outcomes_path_resolved": "" if outcomes_name else str(Path(outcomes).resolve()),
        "outcomes_sha256": fingerprint(outcomes),
        "outcomes_counts": out_report.as_dict()["counts"],
        "outcomes_rejected_most_often": _reasons(out_report),
        "outcomes_mapping": "" if outcomes_mapping_path is None else str(outcomes_mapping_path),
    }
    return ship.reset_index(drop=True), outs.reset_index(drop=True), info


def _lineage(
    *,
    moments: dict[str, str | None],
    files: dict[str, Path | None],
    digests: dict[str, str] | None = None,
) -> dict[str, str]:
    """What a run's model depends on besides the data files, recorded with it: each moment
    option as given and in UTC, each file option as given, resolved and by its SHA-256 ("" where
    not given). ``--until`` was only in the run's name, and the ``--truth`` and ``--config``
    files nowhere, so a run could not be repeated from what it recorded."""
    info: dict[str, str] = {}
    for name, text in moments.items():
        option = f"--{name.replace('_', '-')}"
        info[name] = text or ""
        info[f"{name}_utc"] = "" if text is None else parse_moment(text, option).isoformat()
    for name, path in files.items():
        info[f"{name}_path"] = "" if path is None else str(path)
        info[f"{name}_path_resolved"] = "" if path is None else str(Path(path).resolve())
        if digests and name in digests:  # hashed from the bytes used, when they were read
            info[f"{name}_sha256"] = digests[name]
            continue
        try:
            info[f"{name}_sha256"] = "" if path is None else fingerprint(Path(path))
        except OSError as error:  # a folder read as a Parquet dataset, a file gone since
            raise ConfigError(
                f"--{name} {path}: cannot be fingerprinted to record with the run "
                f"({error.strerror or error}); give a file"
            ) from error
    return info


def _reasons(report: ValidationReport) -> str:
    rejected = [r for r in report.top_reasons(20) if r["severity"] == "reject"][:3]
    return "; ".join(f"{r['field']} {r['rule']} ({r['rows']:,})" for r in rejected)


def read_lines(info: dict[str, Any]) -> list[str]:
    """What the contract made of each input file, printed by `train` and `retrain`: a rejected
    row is left out of the training, so it is said, not only logged with -v."""
    lines = []
    for kind in ("shipments", "outcomes"):
        counts = info[f"{kind}_counts"]
        line = (
            f"{kind} {info[f'{kind}_path']}: {counts['read']:,} read, {counts['accepted']:,} "
            f"accepted, {counts['flagged']:,} flagged, {counts['rejected']:,} rejected"
        )
        if counts["rejected"] and not str(info[f"{kind}_path"]).startswith("the outcome store"):
            mapping = info.get(f"{kind}_mapping")
            read_as = f" --mapping {mapping}" if mapping else ""  # the layout it was read in
            line += (
                f" (most often {info[f'{kind}_rejected_most_often']}; each row with its reason: "
                f"`risk-engine validate {info[f'{kind}_path']} --kind {kind}{read_as} "
                "--rejects FILE`)"
            )
        lines.append(line)
    return lines


def summary_table(table: pd.DataFrame | None, capacity: float = 0.02) -> str:
    if table is None:
        return ""
    rows = table[table["capacity"] == capacity][
        ["scorer", "hits", "precision", "recall", "lift_over_random"]
    ]
    return rows.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def train_command(
    shipments: Path,
    outcomes: Path,
    *,
    until: str | None,
    config_path: Path | None,
    truth_path: Path | None,
    mapping_path: Path | None,
    outcomes_mapping_path: Path | None = None,
    outcomes_name: str | None = None,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> str:
    settings = settings or load_settings()
    config, config_sha256 = read_config(config_path)
    if until is not None:
        parse_moment(until, "--until")  # named now, not by pandas after the data is read
    configure_mlflow(settings)  # a store that cannot be opened is told before the training
    ship, outs, info = _load(
        shipments, outcomes, mapping_path, settings, outcomes_mapping_path, outcomes_name
    )
    truth = load_truth(truth_path)
    info.update(
        _lineage(
            moments={"until": until},
            files={"config": config_path, "truth": truth_path},
            digests={"config": config_sha256},
        )
    )
    try:
        outcome = fit_scorer(ship, outs, config=config, until=until, truth=truth, progress=progress)
    except ValueError as error:
        raise ConfigError(f"cannot train: {error}") from error
    run_id, version, plots = log_training(
        outcome,
        settings=settings,
        config=config,
        data_info=info,
        run_name=f"train until {until or 'all'}",
    )
    report = write_training_report(
        settings.reports_dir / f"training-v{version}.html",
        outcome=outcome,
        plots=plots,
        version=version,
    )
    champion = champion_version()
    lines = [
        *read_lines(info),
        f"registered model version {version} (run {run_id})"
        + (
            ": the champion"
            if champion == version
            else f"\nthe champion stays version {champion}: `screen` and `serve` use it, and "
            "`retrain` decides between them"
            if champion is not None
            else ""
        ),
        f"tracking store: {settings.tracking_uri_shown}",
        f"splits: {json.dumps(outcome.sizes)}",
        f"test period from {outcome.boundaries['test_from']}",
    ]
    test_from = pd.Timestamp(outcome.boundaries["test_from"])
    if until is not None and test_from < parse_moment(until, "--until"):
        lines.append(  # it was not said: the run is named for an --until it did not use
            f"note: nothing was filed after --until {until}: the model learned from the data "
            "before the test period above, the last part of the data in time"
        )
    if outcome.evaluation is not None:
        lines.append("at 2 % capacity per port-day, observed seizures:")
        lines.append(summary_table(outcome.evaluation.observed))
        if outcome.evaluation.truth is not None:
            lines.append("at 2 % capacity per port-day, true contraband (simulated world):")
            lines.append(summary_table(outcome.evaluation.truth))
        labels = outcome.evaluation.labels
        lines.append(
            f"PR-AUC {labels.get('pr_auc', float('nan')):.3f}, Brier {labels.get('brier', float('nan')):.4f}"
        )
        calibration = calibration_warning(labels)
        if calibration:
            lines.append(calibration)
    calibrated_on = describe_calibration(outcome.params)
    if calibrated_on:
        lines.append(calibrated_on)
    reference = getattr(outcome.scorer, "reference", None)
    banded = band_warning(
        getattr(reference, "bands", None) or {}, config.capacity, config.amber_capacity
    )
    if banded:
        lines.append(banded)
    lines.append(f"report: {report}")
    return "\n".join(lines)


def _meta(shipments: Path) -> Path:
    """The simulated world's meta.json beside the shipments file."""
    return Path(shipments).parent / "meta.json"


def _phase_end(phase: str, shipments: Path) -> str:
    meta = _meta(shipments)
    if not meta.exists():
        raise ConfigError("--until is required when no meta.json lies next to the shipments file")
    phases = json.loads(meta.read_text()).get("phases", [])
    for entry in phases:
        if str(entry.get("name")) == phase:
            # "end" is the phase's last day: learning may use everything before the next day.
            return (pd.Timestamp(str(entry.get("end"))) + pd.Timedelta(days=1)).date().isoformat()
    raise ConfigError(
        f"phase {phase!r} is not in {meta} (phases: {[p.get('name') for p in phases]})"
    )


def retrain_command(
    phase: str,
    shipments: Path,
    outcomes: Path,
    *,
    until: str | None,
    eval_until: str | None,
    config_path: Path | None,
    truth_path: Path | None,
    mapping_path: Path | None,
    outcomes_mapping_path: Path | None = None,
    outcomes_name: str | None = None,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> str:
    settings = settings or load_settings()
    config, config_sha256 = read_config(config_path)
    cut = until or _phase_end(phase, shipments)
    start = parse_moment(cut, "--until")
    if eval_until is not None and parse_moment(eval_until, "--eval-until") <= start:
        raise ConfigError(
            f"--eval-until={eval_until!r} is not after --until={cut!r}: the held-out period "
            "the challenger and the champion are compared on would be empty"
        )
    ship, outs, info = _load(
        shipments, outcomes, mapping_path, settings, outcomes_mapping_path, outcomes_name
    )
    truth = load_truth(truth_path)
    info.update(
        _lineage(
            moments={"until": cut, "eval_until": eval_until},
            files={"config": config_path, "truth": truth_path},
            digests={"config": config_sha256},
        )
    )
    info["until_from"] = (
        "--until"
        if until is not None
        else f"the end of phase {phase!r} in {_meta(shipments).resolve()}"
    )
    decision = retrain(
        ship,
        outs,
        phase=phase,
        until=cut,
        eval_until=eval_until,
        settings=settings,
        config=config,
        data_info=info,
        truth=truth,
        progress=progress,
    )
    lines = [
        *read_lines(info),
        decision.reason,
        f"champion: version {decision.challenger_version if decision.promoted else decision.champion_version}",
    ]
    compared = (
        "both compared on it" if decision.champion_version else "nothing compared: no champion"
    )
    lines.append(f"held-out period ({compared}): {decision.held_out}")
    if decision.note:
        lines.append(f"note: {decision.note}")
    if decision.calibration:
        lines.append(decision.calibration)
    if decision.calibrated_on:
        lines.append(f"challenger's {decision.calibrated_on}")
    if decision.earlier:
        lines.append(
            f"note: phase {phase!r} was retrained before (challenger version "
            f"{', '.join(decision.earlier)}); this challenger is version "
            f"{decision.challenger_version}, registered beside it with its own report"
        )
    if decision.truth_challenger_hits is not None:
        lines.append(
            f"true contraband found at {decision.capacity:.0%}: challenger {decision.truth_challenger_hits:.0f}, "
            f"champion {decision.truth_champion_hits:.0f}"
        )
    if decision.report is not None:
        lines.append(f"phase report: {decision.report}")
    return "\n".join(lines)


def models_command(settings: Settings | None = None) -> str:
    settings = settings or load_settings()
    configure_mlflow(settings, existing=True)
    versions = list_versions()
    if not versions:
        return f"no registered model yet in {settings.tracking_uri_shown}; run `risk-engine train`"
    rows = []
    for v in versions:
        row: dict[str, Any] = {
            "version": v.version,
            "aliases": ",".join(v.aliases),
            "created": v.created.strftime("%Y-%m-%d %H:%M"),
        }
        # each version's figures are on its own held-out period: said beside them, as a
        # retrained champion read as finding fewer than the version it replaced
        release, *held_out = _from_run(v.run_id)
        row["release"] = release
        row["test_from"], row["test_lines"] = held_out
        for key in ("observed_model_hits_2pct", "truth_model_hits_2pct", "test_pr_auc"):
            row[key] = v.tags.get(key, "")
        row["decision"] = v.tags.get(DECISION_TAG, "")
        rows.append(row)
    pending = [v.version for v in versions if v.tags.get(DECISION_TAG) == PENDING]
    stopped = (
        f"\nwarning: version {', '.join(pending)} was never compared with the champion (decision "
        "pending): the retrain that registered it stopped before its decision, or is still "
        "running; once none runs, retrain the phase again rather than serve or promote it"
        if pending
        else ""
    )
    before = (
        f"\nrelease {_NO_RELEASE}: trained by a release before 0.31.0, each of which called "
        f"itself {_NO_RELEASE} (CHANGELOG.md); the run's engine.git_commit tag, when it has one, "
        "says which code"
        if any(row["release"] == _NO_RELEASE for row in rows)
        else ""
    )
    return (
        pd.DataFrame(rows).to_string(index=False)
        + stopped
        + before
        + "\nthe figures are each version's own, on its held-out period from test_from (a "
        "challenger's comes after its champion's): the phase report of `retrain` compares a "
        "challenger with the champion on one period"
        + f"\nstore: {settings.tracking_uri_shown} (`mlflow ui --backend-store-uri {settings.tracking_uri_shown}`)"
    )


def discard_version(version: str, settings: Settings | None = None) -> str:
    """Close a version a stopped retrain left pending: tagged ``discarded``, kept for the
    record. Only a pending version, never the champion, is discarded (exit 2 otherwise)."""
    configure_mlflow(settings or load_settings(), existing=True)
    found = {v.version: v for v in list_versions()}
    if version not in found:
        raise ConfigError(f"--discard {version}: no such model version (see `risk-engine models`)")
    if version == champion_version():
        raise ConfigError(f"--discard {version}: it is the champion; promote another first")
    decision = found[version].tags.get(DECISION_TAG, "")
    if decision != PENDING:
        raise ConfigError(
            f"--discard {version}: only a version left pending by a stopped retrain is "
            f"discarded; this one's decision is {decision or 'none (trained, not retrained)'}"
        )
    tag_version(version, {DECISION_TAG: DISCARDED})
    return f"version {version} discarded: kept in the registry for the record, no longer pending"


_NO_RELEASE = "0.1.0"  # what every release before 0.31.0 installed itself as


def _from_run(run_id: str) -> tuple[str, str, str]:
    """The release that trained a version (its run's ``engine.version`` tag), and the first
    day and the line count of its held-out period, from the run's parameters ("" where the run
    does not say)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        run = mlflow.MlflowClient().get_run(run_id).data
    except MlflowException:
        return "", "", ""
    params = run.params
    start = str(params.get("split.test_from", ""))[:10]
    lines = params.get("split.test_lines", "")
    return str(run.tags.get("engine.version", "")), start, f"{int(float(lines)):,}" if lines else ""


def review_command(
    outcomes: Path,
    *,
    by: tuple[str, ...] = ("selection_reason",),
    since: datetime | None = None,
    until: datetime | None = None,
    out: Path | None = None,
    mapping: ColumnMapping | None = None,
) -> tuple[pd.DataFrame, dict[str, int], BaseRate]:
    """Read outcomes through the contract and review them (`training.review`); writes the table
    to ``out`` (CSV or Parquet) when given. Returns the table, the outcome counts (read, used,
    rejected: a rejected outcome is counted, never silently dropped) and the base rate the lifts
    are over."""
    if out is not None:
        fresh_output(out, inputs=(outcomes,))
    frame, report = load_records(outcomes, "outcomes", mapping=mapping)
    if frame.empty:
        # each column once: "selection_reason" twice (the default --by) was a traceback
        columns = ["inspected_at", "result", "selection_reason", *by]
        frame = pd.DataFrame(columns=list(dict.fromkeys(columns)))
    table = review_outcomes(frame, by=by, since=since, until=until)
    if out is not None:
        write_frame(table, out)
    used = report.accepted + report.flagged
    period = inspected_between(frame, since, until)
    base = control_base_rate(frame.loc[period])
    counts = {"read": report.read, "used": used, "rejected": report.rejected}
    return table, {**counts, "in_period": int(period.sum())}, base
