"""A home copied, moved or restored elsewhere keeps its models: MLflow's store names artifact
folders by absolute path, and the engine points them at the home it runs in."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

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
    with sqlite3.connect(home / "mlflow.db") as db:
        db.execute("CREATE TABLE experiments (name TEXT, artifact_location TEXT)")
        db.execute("INSERT INTO experiments VALUES ('risk-engine', 'file:///elsewhere/art')")
    chosen = Settings(home=home, mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}")
    assert follow_home(chosen) is None
    assert _experiment(home) == "file:///elsewhere/art"
    # the default store under home follows it, at a path boundary only
    with sqlite3.connect(home / "mlflow.db") as db:
        db.execute("CREATE TABLE runs (artifact_uri TEXT)")
        db.executemany(
            "INSERT INTO runs VALUES (?)",
            [("file:///elsewhere/art/r1/artifacts",), ("file:///elsewhere/art2/r2",)],
        )
    assert follow_home(Settings(home=home)) == "file:///elsewhere/art"
    root = Settings(home=home).artifact_location.as_uri()
    assert _experiment(home) == root
    with sqlite3.connect(home / "mlflow.db") as db:
        runs = [row[0] for row in db.execute("SELECT artifact_uri FROM runs")]
    assert runs == [f"{root}/r1/artifacts", "file:///elsewhere/art2/r2"]


def _experiment(home: Path) -> str:
    with sqlite3.connect(home / "mlflow.db") as db:
        (location,) = db.execute(
            "SELECT artifact_location FROM experiments WHERE name = 'risk-engine'"
        ).fetchone()
    return str(location)
