"""What a training run records to rebuild its model. A run recorded only the booster settings a
config overrode (none by default): learning rate, leaves, rounds and early stopping were not
recorded."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

from models.booster import BoosterParams
from models.registry import configure_mlflow, list_versions
from risk_engine.settings import Settings
from training.commands import retrain_command, train_command
from training.fixtures import small_world


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run, Run]:
    """A `train` to the end of phase 1 and a `retrain` of phase 2 (its --until from meta.json),
    their files given as relative paths as an analyst types them; (folder, the two runs)."""
    folder = tmp_path_factory.mktemp("lineage")
    world, _, _ = small_world()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        world.shipments.to_parquet("shipments.parquet", index=False)
        world.outcomes.to_csv("outcomes.csv", index=False)
        world.truth.to_parquet("truth.parquet", index=False)
        Path("meta.json").write_text(json.dumps(world.meta, default=str))
        Path("train.yaml").write_text(
            "booster:\n  max_rounds: 30\n  num_threads: 2\n  learning_rate: 0.05\n"
        )
        settings = Settings(home=folder / "home")
        shipments, outcomes = Path("shipments.parquet"), Path("outcomes.csv")
        config, truth = Path("train.yaml"), Path("truth.parquet")
        train_command(
            shipments, outcomes, until="2024-02-10", config_path=config, truth_path=truth,
            mapping_path=None, settings=settings,
        )  # fmt: skip
        retrain_command(
            "phase-2", shipments, outcomes, until=None, eval_until="2024-04-10",
            config_path=config, truth_path=truth, mapping_path=None, settings=settings,
        )  # fmt: skip
    configure_mlflow(settings)
    trained, challenger = (MlflowClient().get_run(v.run_id) for v in list_versions())
    return folder, trained, challenger


def test_runs_record_the_booster_as_grown_defaults_and_overrides(
    runs: tuple[Path, Run, Run],
) -> None:
    _, trained, challenger = runs
    grown = BoosterParams(max_rounds=30, num_threads=2, learning_rate=0.05).as_dict()
    for run in (trained, challenger):
        params = run.data.params
        for field in fields(BoosterParams):
            if field.name != "extra":
                assert params[f"booster.{field.name}"] == str(grown[field.name]), field.name
        assert params["booster.num_leaves"] == str(BoosterParams().num_leaves)  # a default
