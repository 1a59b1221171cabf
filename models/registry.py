"""MLflow I/O: the pyfunc wrapper that scores raw contract records, and the model registry
(one registered model, a new version per training, a ``champion`` alias moved on purpose).

By default MLflow uses a SQLite store and an artifact folder under RISK_ENGINE_HOME; any tracking
URI can be set (RISK_ENGINE_MLFLOW_TRACKING_URI).
"""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from risk_engine.errors import ModelUnavailable
from risk_engine.settings import Settings

__all__ = [
    "MODEL_NAME",
    "CHAMPION",
    "RiskPyfunc",
    "ModelVersionInfo",
    "configure_mlflow",
    "log_scorer",
    "set_champion",
    "list_versions",
    "load_scorer",
]

log = logging.getLogger(__name__)
MODEL_NAME = "maritime-risk-engine"
CHAMPION = "champion"
_SCORER_FILE = "scorer.pkl"


_HTTP_DEFAULTS = {  # MLflow's own: 7 retries, backoff factor 2, 120 s: minutes for a typo
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
_REACHED: set[str] = set()  # stores this process has opened once


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the configured store (SQLite under home by default) and open it once, so
    that a store that is not a database or cannot be reached is named at once
    (``ModelUnavailable``), not by a traceback at the end of a training; returns the URI.

    A tracking server that does not answer is given up after two retries in about 10 s unless
    the MLFLOW_HTTP_REQUEST_* variables say otherwise."""
    import mlflow

    settings.ensure_home()
    settings.artifact_location.mkdir(parents=True, exist_ok=True)
    uri = settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        for name, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if uri not in _REACHED:
        try:
            mlflow.MlflowClient().search_experiments(max_results=1)
        except Exception as error:  # any store, any driver: each fails in its own way
            problem = " ".join(str(error).split()).split(" [SQL:")[0][:300]
            secret = urlsplit(uri).password
            if secret:  # MLflow's message repeats the URL as given
                problem = problem.replace(secret, "***")
            raise ModelUnavailable(
                f"cannot open the MLflow tracking store {settings.tracking_uri_shown} "
                f"(RISK_ENGINE_MLFLOW_TRACKING_URI, or mlflow.db under RISK_ENGINE_HOME): "
                f"{type(error).__name__}: {problem}"
            ) from error
        _REACHED.add(uri)
        moved_from = follow_home(settings)
        if moved_from is not None:
            log.warning(
                "the MLflow store of %s was made under %s: its runs and models are now read from "
                "and written to %s (the home was copied, moved or restored elsewhere)",
                settings.home,
                moved_from,
                settings.artifact_location.as_uri(),
            )
    return uri


EXPERIMENT = "risk-engine"
# Where a SQLite MLflow store names artifact folders, as absolute URIs made when each row was.
_ARTIFACT_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)


def follow_home(settings: Settings) -> str | None:
    """Point the home's own MLflow store at this home's artifact folder when it was made under
    another path; returns that path's URI (None when nothing changed).

    MLflow keeps each experiment's, run's and model's artifact folder as an absolute URI, so
    a home copied, moved or restored from a backup elsewhere went on writing its runs and models
    into the old home's folder (made again when gone), and could not load its champion once
    the old one was removed. Only the default store under home is followed: a tracking URI
    set on purpose is left as it is."""
    if settings.mlflow_tracking_uri:
        return None
    path = settings.home / "mlflow.db"
    root = settings.artifact_location.as_uri()
    with closing(sqlite3.connect(path, timeout=30)) as db:
        found = db.execute(
            "SELECT artifact_location FROM experiments WHERE name = ?", (EXPERIMENT,)
        ).fetchone()
        if found is None or not found[0] or found[0] == root or not found[0].startswith("file:"):
            return None
        old = str(found[0]).rstrip("/")
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with db:  # one transaction: all rows follow, or none
            for table, column in _ARTIFACT_COLUMNS:
                if table not in tables:
                    continue
                db.execute(
                    f"UPDATE {table} SET {column} = ? || substr({column}, ?) "  # noqa: S608
                    f"WHERE {column} = ? OR substr({column}, 1, ?) = ?",
                    (root, len(old) + 1, old, len(old) + 1, old + "/"),
                )
    return old


def experiment_id(settings: Settings, name: str = EXPERIMENT) -> str:
    """The engine's experiment, created with its artifacts under home on first use."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(
        mlflow.create_experiment(name, artifact_location=settings.artifact_location.as_uri())
    )


class RiskPyfunc(PythonModel):
    """Scores raw contract shipment lines: validation, features, booster, calibration, reasons."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["scorer"], "rb") as handle:
            self.scorer = pickle.load(handle)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from risk_engine.validation import validate_frame

        # read as given, as a file's columns are: cast to text first, an HS code sent as the
        # number 4403.1 became the code 44031, and 4403.0 became 44030
        result = validate_frame(model_input, "shipments")
        scored: pd.DataFrame = self.scorer.score(result.accepted)
        return scored.reset_index()


def _requirements() -> list[str]:
    from importlib.metadata import version

    names = ["lightgbm", "pandas", "numpy", "pyarrow", "scikit-learn", "pydantic", "pycountry"]
    return [f"{name}=={version(name)}" for name in names]


def log_scorer(scorer: Any, *, metrics: dict[str, float]) -> str:
    """Log the scorer as a pyfunc in the active run and register a new version; returns it."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / _SCORER_FILE
        with open(path, "wb") as handle:
            pickle.dump(scorer, handle, protocol=pickle.HIGHEST_PROTOCOL)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=RiskPyfunc(),
            artifacts={"scorer": str(path)},
            pip_requirements=_requirements(),
            code_paths=None,
            registered_model_name=MODEL_NAME,
        )
    version = str(info.registered_model_version)
    client = mlflow.MlflowClient()
    for key, value in metrics.items():
        if value == value:  # not NaN
            client.set_model_version_tag(MODEL_NAME, version, key, f"{value:.6g}")
    return version


def set_champion(version: str) -> None:
    import mlflow

    mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, CHAMPION, version)


def champion_version() -> str | None:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return str(mlflow.MlflowClient().get_model_version_by_alias(MODEL_NAME, CHAMPION).version)
    except MlflowException:
        return None


@dataclass
class ModelVersionInfo:
    version: str
    aliases: list[str]
    created: pd.Timestamp
    run_id: str
    tags: dict[str, str]


def list_versions() -> list[ModelVersionInfo]:
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{MODEL_NAME}'")
        registered = client.get_registered_model(MODEL_NAME)
    except MlflowException:
        return []
    # search_model_versions does not fill aliases: take them from the registered model.
    aliases: dict[str, list[str]] = {}
    for alias, version in (registered.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    out = [
        ModelVersionInfo(
            version=str(v.version),
            aliases=sorted(aliases.get(str(v.version), [])),
            created=pd.Timestamp(v.creation_timestamp, unit="ms", tz="UTC"),
            run_id=str(v.run_id),
            tags=dict(v.tags or {}),
        )
        for v in versions
    ]
    return sorted(out, key=lambda v: int(v.version))


def load_scorer(which: str = CHAMPION) -> Any:
    """The scorer of a version number or alias, with its registered version set;
    ModelUnavailable when there is none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        if which.isdigit():
            version = str(client.get_model_version(MODEL_NAME, which).version)
        else:
            version = str(client.get_model_version_by_alias(MODEL_NAME, which).version)
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
    except (MlflowException, OSError) as error:
        raise ModelUnavailable(f"no model {MODEL_NAME} {which!r}: {error}") from error
    scorer = loaded.unwrap_python_model().scorer
    scorer.version = version
    return scorer
