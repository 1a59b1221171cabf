"""A home copied, moved or restored elsewhere keeps its models: MLflow's store names artifact
folders by absolute path, and the engine points them at the home it runs in."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from models.registry import champion_version, configure_mlflow, follow_home, load_scorer
from risk_engine.settings import Settings
from training.config import TrainConfig
from training.fixtures import small_training
from training.tracking import log_training


def _locations(home: Path) -> list[str]:
    with sqlite3.connect(home / "mlflow.db") as db:
        rows = db.execute(
            "SELECT artifact_location FROM experiments WHERE name = 'risk-engine' "
            "UNION ALL SELECT artifact_uri FROM runs "
            "UNION ALL SELECT storage_location FROM model_versions"
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_a_moved_home_loads_its_champion_and_writes_its_runs_in_its_own_folder(
    tmp_path: Path,
) -> None:
    trained = small_training()
    config = TrainConfig(seed=1, booster={"max_rounds": 5, "num_threads": 2})
    first = Settings(home=tmp_path / "site-a")
    configure_mlflow(first)
    log_training(trained, settings=first, config=config, data_info={}, run_name="first")
    assert all(loc.startswith((tmp_path / "site-a").as_uri()) for loc in _locations(first.home))
    # restored from a backup on another machine: the old folder is gone
    shutil.copytree(first.home, tmp_path / "site-b")
    shutil.rmtree(first.home)
    moved = Settings(home=tmp_path / "site-b")
    configure_mlflow(moved)
    new_root = moved.artifact_location.as_uri()
    locations = _locations(moved.home)
    assert len(locations) >= 3 and all(loc.startswith(new_root) for loc in locations)
    version = champion_version()
    assert version is not None
    assert load_scorer(version).booster_text == trained.scorer.booster_text
    # a new training writes under the home it runs in, and does not make the old one again
    log_training(trained, settings=moved, config=config, data_info={}, run_name="second")
    assert all(loc.startswith(new_root) for loc in _locations(moved.home))
    assert not first.home.exists()
    # the store points at this home now: nothing more to follow
    assert follow_home(moved) is None


def test_a_tracking_store_set_on_purpose_is_left_as_it_is(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    old = (tmp_path / "old" / "mlartifacts").as_uri()
    with sqlite3.connect(home / "mlflow.db") as db:
        db.execute("CREATE TABLE experiments (name TEXT, artifact_location TEXT)")
        db.execute("INSERT INTO experiments VALUES ('risk-engine', ?)", (old,))
    chosen = Settings(home=home, mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    assert follow_home(chosen) is None
    assert _experiment(home) == old


def test_rows_follow_the_home_unless_their_files_are_only_in_the_old_folder(
    tmp_path: Path,
) -> None:
    """A version a copy registered before the engine followed its home has its files in the
    old home's folder: moved, it could no longer be loaded (exit 4, "No such artifact")."""
    home = tmp_path / "home"
    home.mkdir()
    old = tmp_path / "old" / "mlartifacts"
    (old / "r3" / "artifacts").mkdir(parents=True)  # only there, not under the new home
    (home / "mlartifacts" / "r4" / "artifacts").mkdir(parents=True)  # copied with the home
    with sqlite3.connect(home / "mlflow.db") as db:
        db.execute("CREATE TABLE experiments (name TEXT, artifact_location TEXT)")
        db.execute("INSERT INTO experiments VALUES ('risk-engine', ?)", (old.as_uri(),))
        db.execute("CREATE TABLE runs (artifact_uri TEXT)")
        runs = [
            f"{old.as_uri()}/r1/artifacts",  # gone everywhere: follows
            "file:///elsewhere/mlartifacts2/r2",  # no folder the engine made: left alone
            f"{old.as_uri()}/r3/artifacts",  # only in the old folder: left, and counted
            f"{old.as_uri()}/r4/artifacts",  # copied with the home: follows
        ]
        db.executemany("INSERT INTO runs VALUES (?)", [(r,) for r in runs])
    settings = Settings(home=home)
    root = settings.artifact_location.as_uri()
    followed = follow_home(settings)
    assert followed is not None
    assert followed.moved_from == (old.as_uri(),) and followed.left == 1
    assert _experiment(home) == root
    with sqlite3.connect(home / "mlflow.db") as db:
        after = [row[0] for row in db.execute("SELECT artifact_uri FROM runs ORDER BY rowid")]
    assert after == [
        f"{root}/r1/artifacts",
        "file:///elsewhere/mlartifacts2/r2",
        f"{old.as_uri()}/r3/artifacts",
        f"{root}/r4/artifacts",
    ]
    # its files copied over, the last one follows at the next command
    (home / "mlartifacts" / "r3" / "artifacts").mkdir(parents=True)
    again = follow_home(settings)
    assert again is not None and again.left == 0
    with sqlite3.connect(home / "mlflow.db") as db:
        third = db.execute("SELECT artifact_uri FROM runs WHERE rowid = 3").fetchone()[0]
    assert third == f"{root}/r3/artifacts"
    assert follow_home(settings) is None
    # the same home reached through a link is this home: nothing rewritten back and forth
    link = tmp_path / "link"
    link.symlink_to(home)
    assert follow_home(Settings(home=link)) is None
    assert _experiment(home) == root


def _experiment(home: Path) -> str:
    with sqlite3.connect(home / "mlflow.db") as db:
        (location,) = db.execute(
            "SELECT artifact_location FROM experiments WHERE name = 'risk-engine'"
        ).fetchone()
    return str(location)


def test_a_moved_home_whose_store_cannot_be_written_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of a home on a read-only disk: `models` and `screen` stopped with "attempt to
    write a readonly database", a traceback from re-pointing the store."""
    from risk_engine.errors import ConfigError

    home = tmp_path / "home"
    home.mkdir()
    old = tmp_path / "old" / "mlartifacts"
    with sqlite3.connect(home / "mlflow.db") as db:
        db.execute("CREATE TABLE experiments (name TEXT, artifact_location TEXT)")
        db.execute("INSERT INTO experiments VALUES ('risk-engine', ?)", (old.as_uri(),))
    real_connect = sqlite3.connect

    def read_only(path: object, *args: object, **kwargs: object) -> sqlite3.Connection:
        return real_connect(f"{Path(str(path)).as_uri()}?mode=ro", uri=True)

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(ConfigError, match="was moved or copied from .* cannot be pointed at"):
        follow_home(Settings(home=home))


def test_a_model_saved_by_other_library_majors_is_named_with_its_versions_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model pickled under pandas 3 read by pandas 2 (or NumPy 2 by NumPy 1) raised
    "NotImplementedError: (datetime64[us, UTC], ...)" out of `screen` as a traceback, and the
    service stayed unready without saying why: now a ModelUnavailable (exit 4) naming the
    versions the model was saved with and this installation's."""
    import mlflow.pyfunc

    from risk_engine.errors import ModelUnavailable

    trained = small_training()
    config = TrainConfig(seed=1, booster={"max_rounds": 5, "num_threads": 2})
    settings = Settings(home=tmp_path / "home")
    configure_mlflow(settings)
    log_training(trained, settings=settings, config=config, data_info={}, run_name="one")

    def unreadable(*_: object, **__: object) -> None:
        raise NotImplementedError("(datetime64[us, UTC], array([...]))")

    monkeypatch.setattr(mlflow.pyfunc, "load_model", unreadable)
    with pytest.raises(ModelUnavailable) as raised:
        load_scorer("champion")
    told = str(raised.value)
    assert "could not be read by this installation (NotImplementedError" in told
    import pandas

    saved, _, here = told.partition("this installation has")
    assert "it was saved with " in saved and "lightgbm==" in saved and "pandas==" in saved
    assert f"pandas=={pandas.__version__}" in here
    assert "Install the versions it was saved with" in here
