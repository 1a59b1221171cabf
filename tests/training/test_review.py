"""The review of what inspections found, by why each container was selected."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from risk_engine.cli import app
from risk_engine.errors import ConfigError
from risk_engine.factories import valid_outcome_row
from training.review import control_base_rate, review_outcomes, wilson_interval

runner = CliRunner()


def _outcomes(*groups: tuple[str, str, int, str]) -> pd.DataFrame:
    """(reason, result, how many, inspected_at) groups as a validated outcomes frame would hold
    them (only the columns a review reads)."""
    rows = [
        {
            "selection_reason": reason,
            "result": result,
            "inspected_at": pd.Timestamp(day, tz="UTC"),
            "model_version": "3" if reason == "MODEL" else None,
            "operation_phase": "phase-2",
            "inspection_level": "PHYSICAL",
        }
        for reason, result, count, day in groups
        for _ in range(count)
    ]
    return pd.DataFrame(rows)


def test_wilson_intervals_match_the_textbook_values() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert all(math.isnan(x) for x in wilson_interval(0, 0))
    # no hit, or all hits: the bound is exact whatever the rounding (5.55e-17 was exported)
    assert [wilson_interval(0, n)[0] for n in (3, 7, 11, 173, 1009)] == [0.0] * 5
    assert [wilson_interval(n, n)[1] for n in (3, 7, 11, 173, 1009)] == [1.0] * 5
    assert wilson_interval(0, 37.3)[0] == 0.0  # weighted (effective) counts too


def test_hit_rates_and_lift_are_against_the_random_control_of_the_period() -> None:
    outcomes = _outcomes(
        ("RANDOM_CONTROL", "SEIZURE", 2, "2025-03-02"),
        ("RANDOM_CONTROL", "NO_FINDING", 98, "2025-03-02"),
        ("MODEL", "SEIZURE", 10, "2025-03-05"),
        ("MODEL", "NO_FINDING", 40, "2025-03-05"),
        ("MODEL", "INCONCLUSIVE", 1, "2025-03-05"),
        ("RULE", "SEIZURE", 9, "2025-01-05"),  # before the period: not reviewed
    )
    table = review_outcomes(
        outcomes, since=datetime(2025, 3, 1, tzinfo=UTC), until=datetime(2025, 4, 1, tzinfo=UTC)
    ).set_index("selection_reason")
    assert table.index.tolist() == ["MODEL", "RANDOM_CONTROL", "all"]
    model = table.loc["MODEL"]
    assert (model.inspected, model.conclusive, model.seizures) == (51, 50, 10)
    assert model.hit_rate == pytest.approx(0.2)
    assert model.lift_over_random == pytest.approx(0.2 / 0.02)
    assert model.hit_rate_low < 0.2 < model.hit_rate_high
    assert table.loc["RANDOM_CONTROL", "lift_over_random"] == pytest.approx(1.0)
    assert table.loc["all", "inspected"] == 151 and table.loc["all", "seizures"] == 12


def test_the_base_rate_weights_each_control_by_how_likely_its_draw_was() -> None:
    # Screening draws the same share of each port-day's leftover lines, so a control from a
    # small port-day (probability 0.5) stands for 2 lines and one from a large port-day (0.05)
    # for 20. Pooled unweighted, the small port-days' seizure told the base rate (5 % here).
    small = _outcomes(("RANDOM_CONTROL", "SEIZURE", 1, "2025-03-02"))
    small = pd.concat([small, _outcomes(("RANDOM_CONTROL", "NO_FINDING", 9, "2025-03-02"))])
    small["selection_probability"] = 0.5
    large = _outcomes(("RANDOM_CONTROL", "NO_FINDING", 10, "2025-03-03"))
    large["selection_probability"] = 0.05
    # drawn by the engine: recorded from its ranked list, with the version that scored them
    small["model_version"] = large["model_version"] = "3"
    model = _outcomes(
        ("MODEL", "SEIZURE", 2, "2025-03-04"), ("MODEL", "NO_FINDING", 8, "2025-03-04")
    )
    model["selection_probability"] = 1.0
    outcomes = pd.concat([small, large, model], ignore_index=True)
    base = control_base_rate(outcomes)
    assert base.weighted and base.controls == 20
    assert base.rate == pytest.approx(2 / (10 * 2 + 10 * 20))  # 0.91 %, not 5 %
    table = review_outcomes(outcomes).set_index("selection_reason")
    assert table.loc["MODEL", "lift_over_random"] == pytest.approx(0.2 / base.rate)
    # the control's own row is weighted as the base is: a lift of 1 over itself, not 5.5
    control = table.loc["RANDOM_CONTROL"]
    assert control.hit_rate == pytest.approx(base.rate) and control.lift_over_random == 1.0
    assert control.hit_rate_low < control.hit_rate < control.hit_rate_high
    assert control.seizures == 1 and control.conclusive == 20  # counts stay counts
    by_version = review_outcomes(outcomes, by=("selection_reason", "model_version"))
    rows = by_version.set_index(["selection_reason", "model_version"])
    assert rows.loc[("RANDOM_CONTROL", "3"), "lift_over_random"] == pytest.approx(1.0)
    # A control recorded without its probability is left out and counted (it turned the whole
    # review unweighted); with none having one, the plain rate.
    outcomes.loc[1, "selection_probability"] = float("nan")
    some = control_base_rate(outcomes)
    assert some.weighted and (some.controls, some.without) == (19, 1)
    assert some.rate == pytest.approx(2 / (9 * 2 + 10 * 20))
    # the unweighted rate is told beside
    assert some.plain == pytest.approx(1 / 20)
    outcomes["selection_probability"] = float("nan")
    plain = control_base_rate(outcomes)
    assert not plain.weighted and plain.rate == pytest.approx(1 / 20) and plain.without == 0


def test_controls_of_another_policy_weigh_alike_as_its_draw_was_uniform() -> None:
    """A policy that records each line's chance of any selection (the simulated history's):
    its controls are a uniform 2 % draw of the traffic, but risky lines, which its rules pick
    half the time anyway, carry 0.51 and quiet ones 0.03. Weighted by 1 / that, a risky
    control stood for a seventeenth of the lines a quiet one did, and the base rate of a
    population whose rate is 1.15 % read 0.21 %, every lift five times too high."""
    rng = np.random.default_rng(5)
    lines = 200_000
    risky = rng.random(lines) < 0.2
    seized = rng.random(lines) < np.where(risky, 0.05, 0.002)
    true_rate = seized.mean()  # the population's own rate
    drawn = rng.random(lines) < 0.02  # the control: every line alike
    any_selection = 0.02 + 0.98 * np.where(risky, 0.5, 0.01)
    controls = pd.DataFrame(
        {
            "selection_reason": "RANDOM_CONTROL",
            "result": np.where(seized[drawn], "SEIZURE", "NO_FINDING"),
            "inspected_at": pd.Timestamp("2025-03-02", tz="UTC"),
            "selection_probability": any_selection[drawn],
            "model_version": None,  # not the engine's draw
        }
    )
    model = _outcomes(
        ("MODEL", "SEIZURE", 30, "2025-03-04"), ("MODEL", "NO_FINDING", 70, "2025-03-04")
    )
    model["selection_probability"] = 1.0
    outcomes = pd.concat([controls, model], ignore_index=True)
    old_weighting = np.average(seized[drawn], weights=1 / any_selection[drawn])
    base = control_base_rate(outcomes)
    assert not base.weighted and base.controls == drawn.sum() == 3_958
    assert base.rate == pytest.approx(seized[drawn].mean())
    table = review_outcomes(outcomes).set_index("selection_reason")
    control = table.loc["RANDOM_CONTROL"]
    # the population's rate is within the control's Wilson interval; the old weighting's is
    # far below it
    assert control.hit_rate_low < true_rate < control.hit_rate_high
    assert old_weighting < control.hit_rate_low / 2
    assert table.loc["MODEL", "lift_over_random"] == pytest.approx(0.3 / base.rate)
    # beside controls the engine drew (model_version named), the other policy's are left out
    # of the weighted rate and counted
    engine = _outcomes(
        ("RANDOM_CONTROL", "SEIZURE", 1, "2025-03-03"),
        ("RANDOM_CONTROL", "NO_FINDING", 9, "2025-03-03"),
    )
    engine["selection_probability"] = 0.1
    engine["model_version"] = "4"
    mixed = control_base_rate(pd.concat([outcomes, engine], ignore_index=True))
    assert mixed.weighted and mixed.rate == pytest.approx(0.1)
    assert (mixed.controls, mixed.other_policy, mixed.without) == (10, 3_958, 0)


def test_a_review_can_be_broken_down_by_model_version_but_not_by_any_column() -> None:
    outcomes = _outcomes(
        ("MODEL", "SEIZURE", 1, "2025-03-05"), ("RANDOM_CONTROL", "NO_FINDING", 3, "2025-03-05")
    )
    table = review_outcomes(outcomes, by=("selection_reason", "model_version"))
    assert table[["selection_reason", "model_version"]].values.tolist() == [
        ["MODEL", "3"],
        ["RANDOM_CONTROL", "(none)"],
        ["all", "all"],
    ]
    assert math.isnan(table["lift_over_random"].iloc[0])  # no control seizure: no base rate
    with pytest.raises(ConfigError, match="result"):
        review_outcomes(outcomes, by=("result",))


def test_review_reads_a_file_through_the_contract_and_counts_what_it_rejects(
    tmp_path: Path,
) -> None:
    rows = [valid_outcome_row(seed) for seed in range(6)]
    rows[2]["inspected_at"] = "last tuesday"
    rows[3].update(result="INCONCLUSIVE", seizure_category="", commodity="", quantity_kg="")
    path = tmp_path / "outcomes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "review.csv"
    result = runner.invoke(app, ["review", "--outcomes", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "outcomes read 6, used 5, rejected 1\n" in result.stderr
    since = runner.invoke(app, ["review", "--outcomes", str(path), "--since", "2030-01-01"])
    assert "used 5, rejected 1; inspected in the period 0" in since.stderr  # what the table is of
    assert "lift over random" in result.stdout
    assert "lift is over the random control's seizure rate" in result.stdout
    told = " ".join(result.stdout.split())
    # the factory's controls name no model_version: another policy's draw, counted alike
    assert "unweighted: none has its chance of the draw" in told
    assert "weighted so too" not in told  # the control's rows are as plain as the base rate
    assert "not of each" not in result.stdout  # by selection reason alone: one period, one rate
    # broken down by phase, every row's lift is still over the one pooled rate: said
    phases = runner.invoke(
        app, ["review", "--outcomes", str(path), "--by", "operation_phase,selection_reason"]
    )
    assert "it is the rate of all the outcomes read, not of each operation_phase" in " ".join(
        phases.stdout.split()
    )
    table = pd.read_csv(out)
    assert table.loc[table["selection_reason"] == "all", "inspected"].item() == 5
    # those the engine drew (from its ranked list with the version: rows 0 and 1 conclusive)
    # are weighted, the others left out and counted
    for row in rows[:4]:
        row["model_version"] = "3"
    pd.DataFrame(rows).to_csv(path, index=False)
    drawn = runner.invoke(app, ["review", "--outcomes", str(path)])
    told = " ".join(drawn.stdout.split())
    assert "each weighted by 1 / its chance of the draw" in told
    assert "(2 conclusive controls, each weighted" in told
    assert "; 2 drawn by another policy (no model_version)" in told
    # the printed row names what its rate is of: 5 inspected, 4 conclusive
    (printed,) = [line.split() for line in result.stdout.splitlines() if line.startswith("all")]
    assert printed[1:3] == ["5", "4"]
    assert "conclusive" in result.stdout.splitlines()[0]


def test_review_reads_a_centres_own_layout_through_a_mapping(tmp_path: Path) -> None:
    """It read the contract's layout only: a centre converted its export first."""
    rows = [valid_outcome_row(seed) for seed in range(4)]
    path = tmp_path / "controles.csv"
    pd.DataFrame(rows).rename(columns=lambda c: f"x_{c}").to_csv(path, index=False, sep=";")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("delimiter: ';'\nfields:\n" + "".join(f"  {c}: x_{c}\n" for c in rows[0]))
    result = runner.invoke(app, ["review", "--outcomes", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "outcomes read 4, used 4, rejected 0" in result.stderr
    store = runner.invoke(app, ["review", "--outcomes", "store", "--mapping", str(mapping)])
    assert store.exit_code == 2 and "goes with an outcomes file" in store.stderr


def test_a_review_of_a_file_whose_every_row_is_rejected_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    rows = [valid_outcome_row(seed) for seed in range(3)]
    for row in rows:
        row["inspected_at"] = "last tuesday"
    path = tmp_path / "outcomes.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    result = runner.invoke(app, ["review", "--outcomes", str(path)])
    # exit 3 with a warning: an empty table and exit 0 read as "nothing inspected"
    assert result.exit_code == 3, result.output
    assert "outcomes read 3, used 0, rejected 3" in result.stderr
    assert "every outcome of" in result.stderr and "was rejected by the contract" in result.stderr
    assert "no conclusive random-control inspection in the period" in result.stdout
