"""Training configuration: a typed object, defaults that work, optionally read from YAML."""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from models.booster import BoosterParams
from risk_engine.errors import ConfigError
from risk_engine.yaml_text import load_yaml_bytes
from training.splits import SplitConfig

__all__ = ["PromotionConfig", "TrainConfig", "load_config"]


# A decimal number with an exponent, as YAML 1.2 reads it.
_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class PromotionConfig(BaseModel):
    """When `retrain` promotes a challenger that finds more seizures than the champion."""

    model_config = ConfigDict(extra="forbid", strict=True)

    min_probability_better: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="The share of the paired bootstrap's resamples of port-days (seeded by "
        "`seed`, `bootstrap_rounds` of them) in which the challenger finds more seizures than "
        "the champion that a promotion needs, besides finding more on the held-out period "
        "itself. 0: finding more is enough (one seizure more, which chance gives as often as "
        "not). 0.95: the gain must hold in 95 % of the resamples.",
    )

    @field_validator("min_probability_better", mode="before")
    @classmethod
    def _exponent(cls, value: Any) -> Any:
        if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
            return float(value)
        return value


class TrainConfig(BaseModel):
    """What `risk-engine train` and `retrain` use; every field has a working default."""

    # Strict: a YAML `true` or "3" is not taken for a number (it was: `capacity: true` read as
    # 100 %), as the booster settings are checked (`_check_booster`).
    model_config = ConfigDict(extra="forbid", strict=True)

    seed: int = Field(default=7, ge=0)
    capacity: float = Field(default=0.02, gt=0, le=1, description="Decision capacity (red band).")
    amber_capacity: float = Field(default=0.05, gt=0, le=1)
    inverse_propensity: bool = Field(
        default=False, description="Weight labelled lines by 1 / selection_probability."
    )
    propensity_cap: float = Field(default=50.0, gt=1)
    train_share: float = Field(default=0.6, gt=0, lt=1)
    valid_share: float = Field(default=0.15, gt=0, lt=1)
    calibration_share: float = Field(default=0.1, gt=0, lt=1)
    gap_days: float = Field(default=7.0, ge=0)
    label_delay_days: float | None = Field(
        default=None,
        ge=0,
        le=730,
        description="Lines filed less than this many days before the test period are left out "
        "of every slice, clean and seized alike: their outcomes are not all recorded yet, and "
        "seizures come later than clean results, so the last weeks kept their clean results "
        "and lost their seizures. Unset: learned, the days within which 95 % of the seizures "
        "(and of the clean results) known before the test period were recorded after filing "
        "(38 in the quickstart world). 0: no delay.",
    )
    booster: dict[str, Any] = Field(default_factory=dict, description="BoosterParams overrides.")
    min_calibration_lines: int = Field(default=200, ge=1)
    min_calibration_seizures: int = Field(
        default=10,
        ge=1,
        description="With fewer seizures (or fewer than min_calibration_lines lines) in the "
        "calibration slice, the calibration is fitted on out-of-fold scores of every labelled "
        "line before the test period instead: a Platt fit on a handful of seizures sets the "
        "scores' level by chance (3 seizures in the quickstart's slice put it at a third). "
        "With more, the slice is the more recent and did better (a phase-2 retrain's 16).",
    )
    calibration_folds: int = Field(default=4, ge=2, le=20)
    importance_sample: int = Field(default=20_000, ge=1)
    bootstrap_rounds: int = Field(default=500, ge=1)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
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

    @field_validator(
        "capacity",
        "amber_capacity",
        "propensity_cap",
        "train_share",
        "valid_share",
        "calibration_share",
        "gap_days",
        "label_delay_days",
        "rescore_days",
        "label_lookback_days",
        mode="before",
    )
    @classmethod
    def _exponent(cls, value: Any) -> Any:
        """A number written with an exponent and no dot (``2e-2``): YAML 1.1, which PyYAML
        reads, makes it text, which the strict reading refused as "not a valid number"."""
        if isinstance(value, str) and _EXPONENT.fullmatch(value.strip()):
            return float(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        """Settings that each pass but not together, and the booster's, checked when the file
        is read: they were tracebacks after the data was read, or went through (an amber band
        below the red one was empty)."""
        if self.amber_capacity < self.capacity:
            raise ValueError(
                f"amber_capacity {self.amber_capacity} is below capacity {self.capacity}: the "
                "amber band holds the lines after the red ones, so it is at least as wide"
            )
        if self.train_share + self.valid_share + self.calibration_share >= 1:
            raise ValueError("train_share + valid_share + calibration_share leave no test share")
        _check_booster(self.booster)
        return self

    def splits(self) -> SplitConfig:
        return SplitConfig(
            train=self.train_share,
            valid=self.valid_share,
            calibration=self.calibration_share,
            gap_days=self.gap_days,
            label_delay_days=self.label_delay_days,
        )

    def booster_params(self) -> BoosterParams:
        return BoosterParams(**self.booster)


_BOOSTER_FIELDS = {f.name: f for f in fields(BoosterParams)}
_BOOSTER_LIMITS = {  # (lowest, highest) a setting may take
    "learning_rate": (1e-6, 1.0),
    "num_leaves": (2, 131_072),
    "min_data_in_leaf": (1, None),
    "feature_fraction": (1e-6, 1.0),
    "bagging_fraction": (1e-6, 1.0),
    "bagging_freq": (0, None),
    "lambda_l2": (0.0, None),
    "max_rounds": (1, None),
    "early_stopping_rounds": (1, None),
    "max_pos_weight": (1.0, None),
    "num_threads": (0, None),
}


# LightGBM parameters the engine sets (`models.booster.BoosterParams.lightgbm_params`), and how
# a config sets them instead of `booster.extra`.
_SET_BY_THE_ENGINE = {
    "learning_rate": "booster.learning_rate",
    "num_leaves": "booster.num_leaves",
    "min_data_in_leaf": "booster.min_data_in_leaf",
    "feature_fraction": "booster.feature_fraction",
    "bagging_fraction": "booster.bagging_fraction",
    "bagging_freq": "booster.bagging_freq",
    "lambda_l2": "booster.lambda_l2",
    "num_threads": "booster.num_threads",
    "scale_pos_weight": "booster.imbalance and booster.max_pos_weight",
    "seed": "seed",
    "objective": "the engine: binary",
    "metric": "the engine",
    "deterministic": "the engine",
    "force_row_wise": "the engine",
    "verbosity": "the engine",
}


def _check_booster(settings: dict[str, Any]) -> None:
    """`ValueError` naming a booster setting that is unknown, of the wrong kind or out of range."""
    for name, value in settings.items():
        if name not in _BOOSTER_FIELDS:
            known = ", ".join(sorted(_BOOSTER_FIELDS))
            raise ValueError(f"booster: unknown setting {name!r} (known: {known})")
        if name == "extra":
            if not isinstance(value, dict):
                raise ValueError("booster.extra: a mapping of LightGBM parameters")
            for key in value:
                if not isinstance(key, str) or not 0 < len(key) <= 200:
                    raise ValueError(
                        f"booster.extra: {str(key)[:60]!r} is no LightGBM parameter name "
                        "(text of 1 to 200 characters)"
                    )
                if key in _SET_BY_THE_ENGINE:
                    raise ValueError(
                        f"booster.extra.{key}: set by the engine or by its own booster setting "
                        f"({_SET_BY_THE_ENGINE[key]}), not through extra: the run recorded the "
                        "named setting while the model was grown with extra's"
                    )
            continue
        if name == "imbalance":
            if value not in ("scale_pos_weight", "none"):
                raise ValueError(f"booster.imbalance: 'scale_pos_weight' or 'none', not {value!r}")
            continue
        whole = _BOOSTER_FIELDS[name].type == "int"  # as BoosterParams declares it
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            kind = "a whole number" if whole else "a number"
            raise ValueError(f"booster.{name}: {kind}, not {value!r}")
        low, high = _BOOSTER_LIMITS[name]
        if value < low or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"from {low} to {high}"
            raise ValueError(f"booster.{name}: {span}, not {value!r}")


def load_config(path: Path | None) -> TrainConfig:
    return read_config(path)[0]


def read_config(path: Path | None) -> tuple[TrainConfig, str]:
    """The training config of a file (defaults without one) and the SHA-256 of the bytes it was
    read from ("" without one), to record with the run: hashed again later, a config edited
    while the data loaded was recorded by its new content, and one read from a pipe as empty."""
    if path is None:
        return TrainConfig(), ""
    try:
        raw = Path(path).read_bytes()
        data = load_yaml_bytes(raw) or {}
        return TrainConfig.model_validate(data), hashlib.sha256(raw).hexdigest()
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read training config {path}: {error}") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        what = str(first["msg"]).removeprefix("Value error, ")
        given = first.get("input")
        if first["type"] != "value_error" and isinstance(given, (str, int, float)):
            what += f", not {given!r}"  # the value as written (`promotion.min_probability_better`)
        raise ConfigError(
            f"training config {path}: {f'{where}: ' if where else ''}{what}"
        ) from error
