"""MLflow runs of training: parameters, metrics, plots, tables, data fingerprints, the feature
state, and the scorer registered as a new model version."""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Any

import mlflow

from models.registry import (
    champion_version,
    configure_mlflow,
    experiment_id,
    log_scorer,
    set_champion,
)
from risk_engine.settings import Settings
from training.config import TrainConfig
from training.evaluate import draw_plots
from training.train import TrainOutcome, save_tables

__all__ = ["log_training"]

log = logging.getLogger(__name__)


def _flat(prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(f"{name}.", value))
        else:
            out[name] = value
    return out


def log_training(
    outcome: TrainOutcome,
    *,
    settings: Settings,
    config: TrainConfig,
    data_info: dict[str, Any],
    run_name: str,
    tags: dict[str, str] | None = None,
    make_champion_if_none: bool = True,
) -> tuple[str, str, dict[str, Path]]:
    """Log one training as an MLflow run and register its scorer; returns (run id, version,
    plot paths). The first registered version becomes champion so the service has a model;
    later versions move the alias only through champion/challenger."""
    configure_mlflow(settings)
    with mlflow.start_run(experiment_id=experiment_id(settings), run_name=run_name) as run:
        mlflow.set_tags({"engine.kind": "training", **(tags or {})})
        # the booster's effective settings, its defaults with the config's overrides: the
        # overrides alone (none by default) did not say how the model was grown
        effective = {**config.model_dump(), "booster": config.booster_params().as_dict()}
        params = _flat("", effective)
        params.update(_flat("data.", data_info))
        params.update({f"split.{k}": v for k, v in {**outcome.sizes, **outcome.boundaries}.items()})
        params.update(outcome.params)
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        metrics = outcome.evaluation.metrics() if outcome.evaluation is not None else {}
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            plots: dict[str, Path] = {}
            if outcome.evaluation is not None:
                plots = draw_plots(
                    outcome.evaluation, outcome.period, outcome.importance, folder / "plots"
                )
                mlflow.log_artifacts(str(folder / "plots"), artifact_path="plots")
            save_tables(outcome, folder / "tables")
            mlflow.log_artifacts(str(folder / "tables"), artifact_path="tables")
            state = folder / "feature_state.pkl"
            with open(state, "wb") as handle:
                pickle.dump(outcome.scorer.pipeline, handle, protocol=pickle.HIGHEST_PROTOCOL)
            mlflow.log_artifact(str(state), artifact_path="features")
            version = log_scorer(outcome.scorer, metrics=outcome.scorer.metrics)
            outcome.scorer.version = version
            kept = settings.reports_dir / f"run-{run.info.run_id}"
            kept.mkdir(parents=True, exist_ok=True)
            saved = {}
            for name, path in plots.items():
                target = kept / path.name
                target.write_bytes(path.read_bytes())
                saved[name] = target
    if make_champion_if_none and champion_version() is None:
        set_champion(version)
        log.info("version %s is the first model: it becomes champion", version)
    return run.info.run_id, version, saved
