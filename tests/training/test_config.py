"""The training config: what cannot be used is refused when the file is read, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from risk_engine.errors import ConfigError
from training.config import load_config


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # the booster's settings were tracebacks (TypeError, LightGBMError) after the data
        # was read, or went through (imbalance: bogus)
        ("booster: {learnin_rate: 0.1}\n", "booster: unknown setting 'learnin_rate' (known:"),
        ("booster: {learning_rate: fast}\n", "booster.learning_rate: a number, not 'fast'"),
        ("booster: {num_leaves: 1}\n", "booster.num_leaves: from 2 to 131072, not 1"),
        ("booster: {max_rounds: 2.5}\n", "booster.max_rounds: a whole number, not 2.5"),
        ("booster: {imbalance: bogus}\n", "booster.imbalance: 'scale_pos_weight' or 'none'"),
        # an amber band below the red one was stored, and empty
        ("amber_capacity: 0.01\n", "amber_capacity 0.01 is below capacity 0.02"),
        ("gap_days: -30\n", "gap_days: Input should be greater than or equal to 0"),
        ("label_delay_days: -1\n", "label_delay_days: Input should be greater than or equal"),
        ("train_share: -0.5\n", "train_share: Input should be greater than 0"),
        ("train_share: 0.8\nvalid_share: 0.2\n", "leave no test share"),
        ("bootstrap_rounds: 0\n", "bootstrap_rounds:"),  # an IndexError after registering
        ("seed: -1\n", "seed:"),
        # YAML's true or a quoted number was taken for a number: capacity 100 %, or the
        # calibration's slice fit with min_calibration_seizures 1
        ("capacity: true\namber_capacity: true\n", "capacity: Input should be a valid number"),
        ("min_calibration_seizures: true\n", "min_calibration_seizures: Input should be a valid"),
        ("calibration_folds: '3'\n", "calibration_folds: Input should be a valid integer"),
        ("inverse_propensity: 'yes'\n", "inverse_propensity: Input should be a valid boolean"),
        ("calibration_folds: 1\n", "calibration_folds: Input should be greater than or equal"),
        # what a promotion needs of the paired bootstrap: a share, named with its value
        (
            "promotion: {min_probability_better: 1.5}\n",
            "promotion.min_probability_better: Input should be less than or equal to 1, not 1.5",
        ),
        (
            "promotion: {min_probability_better: '0.95'}\n",
            "promotion.min_probability_better: Input should be a valid number, not '0.95'",
        ),
        ("promotion: {min_probability: 0.9}\n", "promotion.min_probability: Extra inputs"),
        ("promotion: 0.95\n", "promotion: Input should be a valid dictionary"),
    ],
)
def test_a_setting_that_cannot_be_used_is_refused_naming_it(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert message in str(raised.value) and "train.yaml" in str(raised.value)


def test_good_settings_load_and_reach_the_booster(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(
        "capacity: 3e-2\namber_capacity: 0.03\nrescore_days: 30\ninverse_propensity: true\n"
        "booster: {learning_rate: 0.1, num_leaves: 15, imbalance: none, extra: {max_bin: 63}}\n"
    )
    config = load_config(path)
    assert config.capacity == 0.03 and config.rescore_days == 30.0  # 3e-2 is YAML 1.1 text
    assert config.promotion.min_probability_better == 0.0  # finding more is enough, as before
    path.write_text("promotion: {min_probability_better: 95e-2}\n")
    assert load_config(path).promotion.min_probability_better == 0.95
    params = config.booster_params()
    assert (params.learning_rate, params.num_leaves, params.imbalance) == (0.1, 15, "none")
    assert params.extra == {"max_bin": 63}


def test_the_label_delay_setting_reaches_the_splits(tmp_path: Path) -> None:
    """Unset, the splits learn it; set (in the YAML file), they take it as it is."""
    assert load_config(None).splits().label_delay_days is None
    path = tmp_path / "train.yaml"
    path.write_text("label_delay_days: 45\n")
    assert load_config(path).splits().label_delay_days == 45.0
