"""What a training run records to rebuild its model: the code (engine, git commit, contract), the
booster's effective settings and every input. A run recorded none of the code, only the
booster settings a config overrode (none by default), and `--until` only in its name; the
`--truth` and `--config` files were not named at all."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tomllib
from dataclasses import fields
from importlib import metadata
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

import training.tracking as tracking
from models.booster import BoosterParams
from models.registry import configure_mlflow, list_versions
from risk_engine.columns import CONTRACT_VERSION
from risk_engine.errors import ConfigError
from risk_engine.settings import Settings
from training.commands import retrain_command, train_command
from training.data import fingerprint
from training.fixtures import small_world

_REPO = Path(__file__).resolve().parents[2]


def _checkout_commit() -> str | None:
    """The commit the tests run from, None when they do not run from a git checkout."""
    try:
        found = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    lines = found.stdout.splitlines()
    if found.returncode or len(lines) != 2 or Path(lines[0]).resolve() != _REPO:
        return None
    return lines[1]


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
            # a week's label delay: the learned one leaves the 40-day first phase no validation
            "label_delay_days: 7\n"
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


def test_runs_record_the_code_they_were_trained_with(runs: tuple[Path, Run, Run]) -> None:
    _, trained, challenger = runs
    commit = _checkout_commit()
    pyproject = tomllib.loads((_REPO / "pyproject.toml").read_text())
    for run in (trained, challenger):
        tags = run.data.tags
        assert tags["engine.version"] == pyproject["project"]["version"]
        assert tags["engine.contract_version"] == str(CONTRACT_VERSION)
        if commit is None:
            assert "engine.git_commit" not in tags
        else:
            assert tags["engine.git_commit"] == tags["mlflow.source.git.commit"] == commit
            assert tags["engine.git_dirty"] in ("true", "false")


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


def test_runs_record_every_input_as_given_resolved_and_by_its_hash(
    runs: tuple[Path, Run, Run],
) -> None:
    folder, trained, challenger = runs
    for run in (trained, challenger):
        params = run.data.params
        for name, given in (
            ("shipments", "shipments.parquet"),
            ("outcomes", "outcomes.csv"),
            ("truth", "truth.parquet"),
            ("config", "train.yaml"),
        ):
            assert params[f"data.{name}_path"] == given
            assert params[f"data.{name}_path_resolved"] == str(folder / given)
            assert params[f"data.{name}_sha256"] == fingerprint(folder / given)
    assert trained.data.params["data.until"] == "2024-02-10"
    assert trained.data.params["data.until_utc"] == "2024-02-10T00:00:00+00:00"
    assert challenger.data.params["data.until"] == "2024-03-21"  # the day after phase-2 ends
    assert challenger.data.params["data.until_utc"] == "2024-03-21T00:00:00+00:00"
    assert challenger.data.params["data.until_from"] == (
        f"the end of phase 'phase-2' in {folder / 'meta.json'}"
    )
    assert challenger.data.params["data.eval_until"] == "2024-04-10"
    assert challenger.data.params["data.eval_until_utc"] == "2024-04-10T00:00:00+00:00"


def test_a_run_without_config_or_truth_says_so_and_a_truth_folder_is_named() -> None:
    from training.commands import _lineage

    told = _lineage(moments={"until": None}, files={"config": None, "truth": None})
    assert told == {
        "until": "",
        "until_utc": "",
        **{f"{name}_{what}": "" for name in ("config", "truth") for what in (
            "path", "path_resolved", "sha256"
        )},
    }  # fmt: skip
    # a truth folder (a Parquet dataset) has no SHA-256 to record: named, exit 2, no traceback
    folder = Path(__file__).parent
    with pytest.raises(ConfigError, match=re.escape(f"--truth {folder}: cannot be fingerprinted")):
        _lineage(moments={}, files={"truth": folder})


def test_the_code_version_falls_back_rather_than_guess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_installed(_name: str) -> str:
        raise metadata.PackageNotFoundError(_name)

    monkeypatch.setattr("risk_engine.version.metadata.version", not_installed)
    monkeypatch.setattr(tracking, "_ROOT", tmp_path)  # not a git checkout
    assert tracking.code_tags() == {
        "engine.version": "unknown",
        "engine.contract_version": str(CONTRACT_VERSION),
    }
    # a git repository around the engine's folder is another project's (a virtual environment
    # inside it): its commit is not the engine's
    monkeypatch.setattr(tracking, "_ROOT", _REPO / "training")
    assert "engine.git_commit" not in tracking.code_tags()
    # git missing, or hung (a network file system): no commit, and the run goes on
    monkeypatch.setattr(tracking, "_ROOT", _REPO)
    for error in (FileNotFoundError(2, "git"), subprocess.TimeoutExpired("git", 5)):

        def failing(*_args: object, error: Exception = error, **_kwargs: object) -> None:
            raise error

        monkeypatch.setattr("training.tracking.subprocess.run", failing)
        assert "engine.git_commit" not in tracking.code_tags()


def test_booster_extra_may_not_set_what_the_run_records_by_name(tmp_path: Path) -> None:
    """`booster.extra: {learning_rate: 0.5}` grew the model at 0.5 while the run recorded the
    named setting's 0.03; a 300-character key passed the check and failed the run's logging
    after the whole training."""
    from risk_engine.errors import ConfigError
    from training.config import load_config, read_config

    config = tmp_path / "c.yaml"
    config.write_text("booster:\n  extra: {learning_rate: 0.5}\n")
    with pytest.raises(ConfigError, match="booster.extra.learning_rate: set by the engine"):
        load_config(config)
    config.write_text(f"booster:\n  extra: {{{'k' * 300}: 1}}\n")
    with pytest.raises(ConfigError, match="no LightGBM parameter name"):
        load_config(config)
    config.write_text("booster:\n  extra: {min_gain_to_split: 0.1}\n")
    read, digest = read_config(config)
    assert read.booster_params().extra == {"min_gain_to_split": 0.1}
    assert digest == hashlib.sha256(config.read_bytes()).hexdigest()
    assert read_config(None)[1] == ""


def test_models_lists_the_release_that_trained_each_version(runs: tuple[Path, Run, Run]) -> None:
    """`risk-engine models` could not tell a version trained by one release from another's:
    every release tagged its runs 0.1.0, and the list did not show the tag at all."""
    from training.commands import models_command

    folder, trained, _ = runs
    settings = Settings(home=folder / "home")
    pyproject = tomllib.loads((_REPO / "pyproject.toml").read_text())
    release = pyproject["project"]["version"]

    def listed() -> dict[str, str]:
        table = models_command(settings).splitlines()
        end = table[0].index(" release") + len(" release")  # values end under the header
        return {row.split()[0]: row[:end].split()[-1] for row in table[1:3]}

    assert listed() == {version.version: release for version in list_versions()}
    assert "before 0.31.0" not in models_command(settings)
    # a run of a release before 0.31.0 said 0.1.0: shown as it is, and said what it means
    MlflowClient().set_tag(trained.info.run_id, "engine.version", "0.1.0")
    try:
        text = models_command(settings)
        assert sorted(listed().values()) == sorted(["0.1.0", release])
        assert "release 0.1.0: trained by a release before 0.31.0" in text
    finally:
        MlflowClient().set_tag(trained.info.run_id, "engine.version", release)
