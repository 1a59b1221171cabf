"""MLflow runs of training: parameters, metrics, plots, tables, data fingerprints, the feature
state, and the scorer registered as a new model version. Each run records what rebuilds its
model: the engine's version and git commit, the contract's version, the effective booster
settings and the inputs (`training.commands`)."""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
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
from risk_engine.columns import CONTRACT_VERSION
from risk_engine.settings import Settings
from risk_engine.version import engine_version
from training.config import TrainConfig
from training.evaluate import draw_plots
from training.train import TrainOutcome, save_tables

__all__ = ["code_tags", "log_training"]

log = logging.getLogger(__name__)

# The folder holding the engine's packages: a checkout's top level, or site-packages.
_ROOT = Path(__file__).resolve().parent.parent
_GIT_SECONDS = 5.0


def _flat(prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(f"{name}.", value))
        else:
            out[name] = value
    return out


def code_tags() -> dict[str, str]:
    """The code a run was trained with: the engine's version ("unknown" when it is not
    installed), the data contract's, and the git commit when the engine runs from a checkout
    (``engine.git_dirty`` says whether tracked files differed from it). A run recorded none of
    them, so a model could not be told from another trained by other code."""
    tags = {"engine.version": engine_version(), "engine.contract_version": str(CONTRACT_VERSION)}
    git = _git_state(_ROOT)
    if git is not None:
        commit, dirty = git
        tags.update(
            {
                "engine.git_commit": commit,
                "engine.git_dirty": "true" if dirty else "false",
                "mlflow.source.git.commit": commit,  # where the MLflow UI looks for it
            }
        )
    return tags


def _git_state(root: Path) -> tuple[str, bool] | None:
    """(commit, tracked files changed) of the checkout whose top level is ``root``; None when
    ``root`` is not one (an installed engine: a git repository around site-packages is some
    other project's), git is missing, refuses or takes over ``_GIT_SECONDS``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `status` never takes the index lock of a running git

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=_GIT_SECONDS,
            env=env,
            check=False,
        )

    try:
        found = git("rev-parse", "--show-toplevel", "HEAD")
        lines = found.stdout.splitlines()
        if found.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != root:
            return None
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError) as error:
        log.info("no git commit recorded for %s: %s", root, error)
        return None
    if status.returncode != 0:
        return None
    return lines[1], bool(status.stdout.strip())


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
        mlflow.set_tags({"engine.kind": "training", **code_tags(), **(tags or {})})
        # the booster's effective settings, its defaults with the config's overrides: the
        # overrides alone (none by default) did not say how the model was grown
        effective = {**config.model_dump(), "booster": config.booster_params().as_dict()}
        params = _flat("", effective)
        params.update(_flat("data.", data_info))
        params.update({f"split.{k}": v for k, v in {**outcome.sizes, **outcome.boundaries}.items()})
        params.update(outcome.params)
        mlflow.log_params({k: str(v)[:6000] for k, v in params.items()})  # MLflow's limit
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
