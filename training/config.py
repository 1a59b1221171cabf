"""Training configuration: a typed object, defaults that work, optionally read from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.booster import BoosterParams
from risk_engine.errors import ConfigError
from risk_engine.yaml_text import load_yaml
from training.splits import SplitConfig

__all__ = ["TrainConfig", "load_config"]


class TrainConfig(BaseModel):
    """What `risk-engine train` and `retrain` use; every field has a working default."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 7
    capacity: float = Field(default=0.02, gt=0, le=1, description="Decision capacity (red band).")
    amber_capacity: float = Field(default=0.05, gt=0, le=1)
    inverse_propensity: bool = Field(
        default=False, description="Weight labelled lines by 1 / selection_probability."
    )
    propensity_cap: float = Field(default=50.0, gt=1)
    train_share: float = 0.6
    valid_share: float = 0.15
    calibration_share: float = 0.1
    gap_days: float = 7.0
    booster: dict[str, Any] = Field(default_factory=dict, description="BoosterParams overrides.")
    min_calibration_lines: int = 200
    importance_sample: int = 20_000
    bootstrap_rounds: int = 500
    rescore_days: float = Field(
        default=7.0,
        ge=0,
        le=365,
        description="Lines filed up to this many days before the feature history's cut-off are "
        "scored exactly; older ones get all-time counts merged at the cut-off. Batches by "
        "arrival date hold filings weeks old: set it to their span (the state grows with it).",
    )
    label_lookback_days: float = Field(
        default=120.0,
        ge=1,
        le=730,
        description="How long after filing an outcome still finds its line when it is added to "
        "the model's feature history (`history --add-outcomes`): the state keeps this many days "
        "of recent lines (the state grows with it). Raise it when results take months (a "
        "laboratory's species or DNA identification); training itself matches every outcome.",
    )

    def splits(self) -> SplitConfig:
        return SplitConfig(
            train=self.train_share,
            valid=self.valid_share,
            calibration=self.calibration_share,
            gap_days=self.gap_days,
        )

    def booster_params(self) -> BoosterParams:
        return BoosterParams(**self.booster)


def load_config(path: Path | None) -> TrainConfig:
    if path is None:
        return TrainConfig()
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
        return TrainConfig.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read training config {path}: {error}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"training config {path}: {where}: {first['msg']}") from error
