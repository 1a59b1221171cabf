"""MLflow I/O: the pyfunc wrapper that scores raw contract records, and the model registry
(one registered model, a new version per training, a ``champion`` alias moved on purpose).

By default MLflow uses a SQLite store and an artifact folder under RISK_ENGINE_HOME; any tracking
URI can be set (RISK_ENGINE_MLFLOW_TRACKING_URI).
"""

from __future__ import annotations

import errno
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
from urllib.request import url2pathname

import pandas as pd
from mlflow.pyfunc.model import PythonModel

from risk_engine.errors import ConfigError, ModelUnavailable
from risk_engine.settings import Settings

__all__ = [
    "MODEL_NAME",
    "CHAMPION",
    "RiskPyfunc",
    "ModelVersionInfo",
    "configure_mlflow",
    "log_scorer",
    "set_champion",
    "tag_version",
    "DECISION_TAG",
    "PENDING",
    "DISCARDED",
    "PHASE_TAG",
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


def _sqlite_store(settings: Settings) -> Path | None:
    """The SQLite file of the tracking store (mlflow.db under home, or a ``sqlite:///`` URI);
    None for a server's store, which cannot be looked for without asking it."""
    from sqlalchemy.engine import make_url

    uri = settings.tracking_uri
    if not uri.startswith("sqlite:///"):
        return None
    database = make_url(uri).database  # percent-decoded, as SQLAlchemy opens it
    return Path(database) if database and database != ":memory:" else None


def configure_mlflow(settings: Settings, *, existing: bool = False) -> str:
    """Point MLflow at the configured store (SQLite under home by default) and open it once, so
    that a store that is not a database or cannot be reached is named at once
    (``ModelUnavailable``), not by a traceback at the end of a training; returns the URI.
    With ``existing`` (a command that only reads models), a home without its SQLite store is
    ``ModelUnavailable`` and nothing is made: `models` on a misspelt home made a new, empty one
    and said "no registered model yet" with exit 0.

    A tracking server that does not answer is given up after two retries in about 10 s unless
    the MLFLOW_HTTP_REQUEST_* variables say otherwise."""
    import mlflow

    store = _sqlite_store(settings)
    found = store is not None and _store_found(store, settings)
    if existing and store is not None and not found:
        raise ModelUnavailable(
            f"no model store at {store}: nothing was trained there; check RISK_ENGINE_HOME "
            "(or RISK_ENGINE_MLFLOW_TRACKING_URI); nothing was made"
        )
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
        followed = follow_home(settings)
        if followed is not None and followed.moved_from:
            log.warning(
                "the MLflow store of %s named %s: its runs and models are now read from and "
                "written to %s (the home was copied, moved or restored elsewhere)",
                settings.home,
                ", ".join(followed.moved_from),
                settings.artifact_location.as_uri(),
            )
        if followed is not None and followed.left:
            log.warning(
                "%d runs or model versions in the MLflow store of %s have their files only in "
                "another home's folder (made there by a copy of this home): they are read from "
                "it still; copy their folders into %s and they follow at the next command",
                followed.left,
                settings.home,
                settings.artifact_location,
            )
    return uri


def _store_found(store: Path, settings: Settings) -> bool:
    """Whether the SQLite file of the tracking store is there. One this user may not read (a
    home owned by another user, run from cron as another one) is a `ConfigError` naming the
    file and the setting: `Path.is_file` raised a PermissionError, a traceback."""
    try:
        found = store.is_file()
        if found and not os.access(store, os.R_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(store))
    except OSError as error:
        setting = (
            f"RISK_ENGINE_MLFLOW_TRACKING_URI={settings.tracking_uri_shown!r}: its"
            if settings.mlflow_tracking_uri
            else f"RISK_ENGINE_HOME={str(settings.home)!r}: its"
        )
        raise ConfigError(
            f"setting {setting} model store {store} cannot be read "
            f"({error.strerror or error}): run as the user that owns it, or give this one access"
        ) from None
    return found


EXPERIMENT = "risk-engine"
# Where a SQLite MLflow store names artifact folders, as absolute URIs made when each row was.
_ARTIFACT_COLUMNS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("model_versions", "storage_location"),
    ("logged_models", "artifact_location"),
)


@dataclass(frozen=True)
class Followed:
    """What `follow_home` changed: the artifact folders rows pointed to before, and how many
    rows it left pointing there because their files are there and not under this home."""

    moved_from: tuple[str, ...]
    left: int


def follow_home(settings: Settings) -> Followed | None:
    """Point the home's own MLflow store at this home's artifact folder where it names another
    one; None when nothing was to change.

    MLflow keeps each experiment's, run's and model's artifact folder as an absolute URI, so
    a home copied, moved or restored from a backup elsewhere went on writing its runs and models
    into the old home's folder (made again when gone), and could not load its champion once
    the old one was removed. A row whose files are in the old folder and not under this home (a
    version registered by a copy before the engine followed its home) is left pointing there,
    and counted: moved, it could no longer be loaded. The same folder reached by another path
    (a link) is left alone. Only the default store under home is followed: a tracking URI set
    on purpose is left as it is."""
    if settings.mlflow_tracking_uri:
        return None
    path = settings.home / "mlflow.db"
    root = settings.artifact_location.as_uri()
    here = settings.artifact_location.resolve()
    folder = "/" + settings.artifact_location.name  # "/mlartifacts"
    updates: list[tuple[str, str, int, str]] = []
    moved_from: set[str] = set()
    left = 0
    with closing(sqlite3.connect(path, timeout=30)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table, column in _ARTIFACT_COLUMNS:
            if table not in tables:
                continue
            rows = db.execute(
                f"SELECT rowid, {column} FROM {table} WHERE {column} LIKE 'file:%'"  # noqa: S608
            ).fetchall()
            for rowid, value in rows:
                text = str(value)
                if text == root or text.startswith(root + "/"):
                    continue
                cut = _folder_end(text, folder)
                if cut is None:
                    continue  # not a folder the engine made
                old_root, rest = text[:cut], text[cut:]
                if _local(old_root).resolve() == here:
                    continue  # this home's folder by another path
                moved = root + rest
                if table != "experiments" and not _local(moved).exists() and _local(text).exists():
                    left += 1  # its files are only there: moved, it could not be loaded
                    continue
                updates.append((table, column, int(rowid), moved))
                moved_from.add(old_root)
        if not updates and not left:
            return None
        try:
            with db:  # one transaction: all rows follow, or none
                for table, column, rowid, moved in updates:
                    db.execute(
                        f"UPDATE {table} SET {column} = ? WHERE rowid = ?",  # noqa: S608
                        (moved, rowid),
                    )
        except sqlite3.OperationalError as error:  # a read-only copy: a traceback in every command
            raise ConfigError(
                f"setting RISK_ENGINE_HOME={str(settings.home)!r}: its model store {path} was "
                f"moved or copied from {', '.join(sorted(moved_from))} and cannot be pointed at "
                f"this home's files ({error}): run one command as a user who may write it"
            ) from None
    return Followed(tuple(sorted(moved_from)), left)


def _folder_end(uri: str, folder: str) -> int | None:
    """Where the artifact folder's name ends in ``uri`` (``.../home/mlartifacts``), or None."""
    at = uri.rfind(folder + "/")
    if at < 0:
        return len(uri) if uri.endswith(folder) else None
    return at + len(folder)


def _local(uri: str) -> Path:
    """The local path of a ``file:`` URI."""
    return Path(url2pathname(urlsplit(uri).path))


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


# A challenger's version tags: its phase, and the decision, "pending" from its registration
# until retrain compared it with the champion ("promoted" or "kept"). A retrain stopped between
# the two (Ctrl-C, a crash) leaves a version that was never compared: the tag tells it.
PHASE_TAG = "engine.phase"
DECISION_TAG = "engine.decision"
PENDING = "pending"
# A pending version an operator closed (`risk-engine models --discard`): kept for the record,
# no longer warned of, never named again as an earlier challenger of its phase.
DISCARDED = "discarded"


def tag_version(version: str, tags: dict[str, str]) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(MODEL_NAME, version, key, value)


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


def _model_files(client: Any, version: str) -> str:
    """Where a registered version's model files are (its storage location: a folder under the
    home's mlartifacts, as `follow_home` keeps it, or a tracking server's URI), to be loaded
    from there and only read.

    Loaded as ``models:/NAME/V``, MLflow rewrote ``registered_model_meta`` inside a local
    model's own folder on every load: a service user that may only read the model store got
    "no model ... Permission denied" (screen exit 4, serve never ready). A version whose
    location is a logged model's ``models:/m-...`` is followed to that model's folder."""
    uri = str(client.get_model_version_download_uri(MODEL_NAME, version))
    if uri.startswith("models:/"):
        model_id = uri.removeprefix("models:/").strip("/").split("/")[0]
        uri = str(client.get_logged_model(model_id).artifact_location)
    return uri


def _unreadable(version: str, files: str, error: Exception) -> str:
    """Why a registered model could not be read: the libraries it was saved with (its
    requirements) against this installation's."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    saved: list[str] = []
    folder = _local(files) if files.startswith("file:") else None if ":/" in files else Path(files)
    if folder is not None:  # a local model's own requirements (`_requirements`)
        try:
            text = (folder / "requirements.txt").read_text(encoding="utf-8")
            saved = [line.strip() for line in text.splitlines() if "==" in line]
        except OSError:
            pass
    here: list[str] = []
    for name in [line.split("==")[0] for line in saved] or ["pandas", "numpy", "scikit-learn"]:
        try:
            here.append(f"{name}=={installed(name)}")
        except PackageNotFoundError:
            here.append(f"{name} (not installed)")
    told = f"saved with {', '.join(saved)}; " if saved else ""
    return (
        f"model {MODEL_NAME} version {version} could not be read by this installation "
        f"({type(error).__name__}: {error}): it was {told}this installation has "
        f"{', '.join(here)}. Install the versions it was saved with, or train a model here"
    )


def load_scorer(which: str = CHAMPION) -> Any:
    """The scorer of a version number or alias, with its registered version set;
    ModelUnavailable when there is none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        if which.isdigit():
            found = client.get_model_version(MODEL_NAME, which)
        else:
            found = client.get_model_version_by_alias(MODEL_NAME, which)
        version = str(found.version)
        decision = (found.tags or {}).get(DECISION_TAG)
        if decision == PENDING:
            log.warning(
                "model version %s was never compared with the champion: the retrain that "
                "registered it stopped before its decision, or is still running (once none "
                "runs, retrain the phase again)",
                version,
            )
        elif decision == DISCARDED:
            log.warning("model version %s was discarded (`risk-engine models --discard`)", version)
        files = _model_files(client, version)
    except (MlflowException, OSError) as error:
        raise ModelUnavailable(f"no model {MODEL_NAME} {which!r}: {error}") from error
    try:
        loaded = mlflow.pyfunc.load_model(files)
    except (MlflowException, OSError) as error:
        raise ModelUnavailable(f"no model {MODEL_NAME} {which!r}: {error}") from error
    except (ImportError, AttributeError, NotImplementedError, TypeError, ValueError) as error:
        # A pickle of other pandas or NumPy majors: pandas 2 cannot read a frame pandas 3 saved
        # ("NotImplementedError: (datetime64[us, UTC], ...)"), NumPy 1 a NumPy 2 array.
        raise ModelUnavailable(_unreadable(version, files, error)) from error
    scorer = loaded.unwrap_python_model().scorer
    scorer.version = version
    return scorer
