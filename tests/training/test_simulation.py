"""The simulated port world keeps the invariants that make it usable for training and evaluation."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk_engine.columns import OUTCOME_FIELDS, SHIPMENT_FIELDS
from risk_engine.reference import imo_is_valid, iso6346_is_valid
from training.simulation import (
    SCHEME_NAMES,
    SimulatedWorld,
    SimulationConfig,
    simulate,
    write_world,
)

SMALL = SimulationConfig(days=40, arrivals_per_day=300, seed=7)
# more contraband, so that every scheme is seized at least once and has to adapt
BUSY = SimulationConfig(days=120, arrivals_per_day=500, contraband_rate=0.006, seed=11)


@pytest.fixture(scope="module")
def world() -> SimulatedWorld:
    return simulate(SMALL)


@pytest.fixture(scope="module")
def busy() -> SimulatedWorld:
    return simulate(BUSY)


def _keys(frame: pd.DataFrame) -> pd.Series:
    return frame["bl_number"] + "|" + frame["container_number"]


def _inspected(world: SimulatedWorld) -> pd.DataFrame:
    """Outcomes joined to their shipment line and its truth."""
    lines = world.shipments.merge(world.truth, on=["bl_number", "container_number"])
    return world.outcomes.merge(lines, on=["bl_number", "container_number"], how="left")


def test_frames_have_exactly_the_contract_columns(world: SimulatedWorld) -> None:
    assert list(world.shipments.columns) == [f.name for f in SHIPMENT_FIELDS]
    assert list(world.outcomes.columns) == [f.name for f in OUTCOME_FIELDS]
    assert list(world.truth.columns) == [
        "bl_number",
        "container_number",
        "p_contraband",
        "has_contraband",
        "scheme",
        "phase",
    ]


def test_every_day_brings_the_configured_number_of_lines_with_unique_keys(
    world: SimulatedWorld,
) -> None:
    assert len(world.shipments) == SMALL.days * SMALL.arrivals_per_day
    assert _keys(world.shipments).is_unique
    assert (_keys(world.truth) == _keys(world.shipments)).all()
    eta = world.shipments["eta"]
    start = pd.Timestamp(SMALL.start, tz="UTC")
    assert eta.min() >= start and eta.max() < start + pd.Timedelta(days=SMALL.days)


def test_outcomes_exist_only_for_inspected_lines_and_each_matches_a_shipment_line(
    world: SimulatedWorld,
) -> None:
    outcome_keys = _keys(world.outcomes)
    assert outcome_keys.is_unique
    assert outcome_keys.isin(set(_keys(world.shipments))).all()


def test_recorded_at_is_never_before_inspected_at_and_inspection_follows_arrival(
    world: SimulatedWorld,
) -> None:
    joined = _inspected(world)
    assert (joined["recorded_at"] >= joined["inspected_at"]).all()
    assert (joined["inspected_at"] >= joined["eta"]).all()
    delay = joined["recorded_at"] - joined["inspected_at"]
    seizure_delay = delay[joined["result"] == "SEIZURE"]
    assert seizure_delay.median() > pd.Timedelta(days=2)
    assert delay.max() < pd.Timedelta(days=90)


def test_inspections_per_port_day_stay_within_capacity(world: SimulatedWorld) -> None:
    lines = world.shipments.assign(day=world.shipments["eta"].dt.floor("D"))
    size = lines.groupby(["port_of_discharge", "day"]).size()
    joined = _inspected(world).assign(day=lambda f: f["eta"].dt.floor("D"))
    used = joined.groupby(["port_of_discharge", "day"]).size()
    capacity = np.ceil(SMALL.inspection_rate * size).reindex(used.index)
    assert (used <= capacity).all()
    assert len(world.outcomes) / len(world.shipments) == pytest.approx(0.03, abs=0.005)


@pytest.mark.parametrize("share", [0.1, 0.3])
def test_random_control_share_follows_the_configuration(share: float) -> None:
    world = simulate(SMALL.model_copy(update={"random_control_share": share}))
    observed = (world.outcomes["selection_reason"] == "RANDOM_CONTROL").mean()
    assert observed == pytest.approx(share, abs=0.05)


def test_selection_probabilities_weight_inspections_back_to_all_lines(
    world: SimulatedWorld,
) -> None:
    probability = world.outcomes["selection_probability"]
    assert ((probability > 0) & (probability <= 1)).all()
    # Horvitz-Thompson: summing 1 / probability over inspections estimates the number of lines
    estimate = (1.0 / probability).sum()
    assert estimate == pytest.approx(len(world.shipments), rel=0.15)
    by_reason = world.outcomes.groupby("selection_reason")["selection_probability"].median()
    assert by_reason["RULE"] > by_reason["OTHER"]


def test_seizures_are_recorded_only_for_inspected_lines_that_carried_contraband(
    world: SimulatedWorld,
) -> None:
    joined = _inspected(world)
    seizures = joined[joined["result"] == "SEIZURE"]
    assert len(seizures) > 0
    assert seizures["has_contraband"].all()
    assert seizures["seizure_category"].notna().all() and seizures["commodity"].notna().all()
    assert joined.loc[joined["result"] != "SEIZURE", "seizure_category"].isna().all()
    assert (seizures["quantity_kg"] > 0).all()


def test_the_historical_policy_finds_some_contraband_but_misses_most_of_it(
    busy: SimulatedWorld,
) -> None:
    truth = busy.truth
    inspected = _keys(truth).isin(set(_keys(busy.outcomes)))
    share_inspected = inspected[truth["has_contraband"]].mean()
    assert 0.05 < share_inspected < 0.6  # rules beat chance (3 %) but are far from perfect
    hit_rate = (busy.outcomes["result"] == "SEIZURE").mean()
    assert hit_rate < 0.1


def test_contraband_prevalence_stays_in_the_configured_range(
    world: SimulatedWorld, busy: SimulatedWorld
) -> None:
    for sim, config in ((world, SMALL), (busy, BUSY)):
        share = sim.truth["has_contraband"].mean()
        assert 0.5 * config.contraband_rate <= share <= 1.8 * config.contraband_rate
        assert share < 0.01  # a fraction of a percent
        carrying = sim.truth.loc[sim.truth["has_contraband"], "p_contraband"]
        assert (carrying > 0).all()


def test_every_scheme_carries_contraband(world: SimulatedWorld) -> None:
    schemes = set(world.truth.loc[world.truth["has_contraband"], "scheme"])
    assert schemes == set(SCHEME_NAMES)
    assert (world.truth.loc[~world.truth["has_contraband"], "scheme"] == "").all()


def test_a_seized_scheme_switches_hub_or_cover_load_and_front_companies_next_phase(
    busy: SimulatedWorld,
) -> None:
    history = busy.meta["schemes"]
    switches = 0
    for before, after in zip(history, history[1:], strict=False):
        for old, new in zip(before["schemes"], after["schemes"], strict=True):
            if not old["adapts_next_phase"]:
                assert new["generation"] == old["generation"]
                continue
            switches += 1
            assert new["generation"] == old["generation"] + 1
            assert (new["hub"], new["cover_hs"]) != (old["hub"], old["cover_hs"])
            if old["front_shippers"]:
                assert not set(new["front_shippers"]) & set(old["front_shippers"])
    assert switches >= 3


def test_adaptation_is_visible_in_the_shipment_lines(busy: SimulatedWorld) -> None:
    lines = busy.shipments.merge(busy.truth, on=["bl_number", "container_number"])
    carrying = lines[lines["has_contraband"]]
    history = busy.meta["schemes"]
    seen = 0
    for before in history[:-1]:
        for record in before["schemes"]:
            if not record["adapts_next_phase"] or record["scheme"] == "cocaine":
                continue
            name, phase = record["scheme"], before["phase"]
            old = carrying[(carrying["scheme"] == name) & (carrying["phase"] == phase)]
            new = carrying[(carrying["scheme"] == name) & (carrying["phase"] == phase + 1)]
            if old.empty or new.empty:
                continue
            seen += 1
            route = ["transshipment_ports", "hs_code"]
            assert set(map(tuple, old[route].fillna("").to_numpy())) != set(
                map(tuple, new[route].fillna("").to_numpy())
            )
            assert not set(old["shipper_name"]) & set(new["shipper_name"])
    assert seen >= 2


def test_no_single_red_flag_is_precise(busy: SimulatedWorld) -> None:
    lines = busy.shipments.merge(busy.truth, on=["bl_number", "container_number"])
    to_order = lines["consignee_name"].str.startswith("TO ")
    assert to_order.sum() > 20 * lines.loc[to_order, "has_contraband"].sum()
    african = lines["port_of_loading"].str[:2].isin(["NG", "TZ", "MZ", "KE", "CG", "CD", "TG"])
    cashew = lines["hs_code"].str.startswith("0801") & lines["port_of_discharge"].str.startswith(
        "VN"
    )
    look_alike = african & cashew
    assert look_alike.sum() > 10 * lines.loc[look_alike, "has_contraband"].sum()


def test_container_and_imo_numbers_are_valid_except_the_planted_defects(
    world: SimulatedWorld,
) -> None:
    defects = world.meta["counts"]["defects"]
    containers = world.shipments["container_number"]
    bad = (~containers.map(iso6346_is_valid)).sum()
    assert bad == defects["container_check_digit"]
    assert 0 < bad < 0.02 * len(containers)
    bad_imo = (~world.shipments["vessel_imo"].map(imo_is_valid)).sum()
    assert bad_imo == defects["imo_check_digit"]


def test_vessels_rotate_weekly_and_carry_many_containers_per_voyage(
    world: SimulatedWorld,
) -> None:
    voyages = world.shipments.groupby(["vessel_imo", "voyage_number"]).size()
    assert voyages.median() >= 5
    calls = world.shipments.groupby(["vessel_imo", "voyage_number", "port_of_discharge"])["eta"]
    assert (calls.nunique() == 1).all()


def test_timestamps_are_utc_and_in_a_plausible_order(world: SimulatedWorld) -> None:
    s = world.shipments
    for column in ("filed_at", "booking_created_at", "etd", "eta", "last_amended_at"):
        assert str(s[column].dt.tz) == "UTC"
    assert (s["etd"].dropna() < s.loc[s["etd"].notna(), "eta"]).all()
    assert (s["filed_at"] < s["eta"]).all()
    booked_late = (s["booking_created_at"] > s["filed_at"]).sum()
    assert booked_late == world.meta["counts"]["defects"]["booking_after_filing"]
    amended = s["last_amended_at"].notna()
    assert (s.loc[amended, "last_amended_at"] >= s.loc[amended, "filed_at"]).all()


def test_generated_records_pass_validation_with_zero_rejects_and_the_expected_flags(
    world: SimulatedWorld,
) -> None:
    validation = pytest.importorskip("risk_engine.validation")
    result = validation.validate_frame(world.shipments, "shipments")
    counts = result.counts
    assert counts["rejected"] == 0
    assert counts["flagged"] == world.meta["counts"]["flagged_lines_expected"]
    assert counts["flagged"] / counts["read"] == pytest.approx(SMALL.defect_rate, rel=0.25)
    outcomes = validation.validate_frame(world.outcomes, "outcomes")
    assert outcomes.counts["rejected"] == 0


def test_same_seed_writes_the_same_bytes(tmp_path: Path, world: SimulatedWorld) -> None:
    for fmt in ("parquet", "csv"):
        first = write_world(world, tmp_path / f"a-{fmt}", fmt)
        second = write_world(simulate(SMALL), tmp_path / f"b-{fmt}", fmt)
        assert set(first) == {"shipments", "outcomes", "truth", "meta"}
        for name, path in first.items():
            assert path.read_bytes() == second[name].read_bytes(), (fmt, name)


def test_a_world_stopped_while_written_leaves_no_file(
    tmp_path: Path, world: SimulatedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped (SIGTERM) after the shipments file, a run left it complete and no meta.json, and
    a later run into the folder, going by meta.json, never removed it."""
    import training.simulation.writer as writer

    written = writer.pa_csv.write_csv
    calls: list[str] = []

    def stopped_at_the_second(table: object, path: object) -> None:
        calls.append(str(path))
        if len(calls) == 2:
            raise KeyboardInterrupt("stopped")
        written(table, path)

    monkeypatch.setattr(writer.pa_csv, "write_csv", stopped_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        write_world(world, tmp_path / "w", "csv")
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == []
    assert ".partial-" in calls[0]  # written under a partial name, named when whole


def test_same_seed_gives_same_bytes_in_fresh_processes_whatever_the_hash_seed(
    tmp_path: Path,
) -> None:
    script = (
        "import sys; from pathlib import Path; "
        "from training.simulation import SimulationConfig, simulate, write_world; "
        "write_world(simulate(SimulationConfig(days=14, arrivals_per_day=200, phases=2)), "
        "Path(sys.argv[1]))"
    )
    root = Path(__file__).parents[2]
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = tmp_path / hash_seed
        subprocess.run([sys.executable, "-c", script, str(out)], cwd=root, env=env, check=True)
    for name in ("shipments.parquet", "outcomes.parquet", "truth.parquet", "meta.json"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes()


def test_a_different_seed_gives_different_data(world: SimulatedWorld) -> None:
    other = simulate(SMALL.model_copy(update={"seed": 8}))
    assert not set(_keys(other.shipments)) & set(_keys(world.shipments))
    assert not world.shipments["shipper_name"].equals(other.shipments["shipper_name"])


def test_written_files_read_back_with_utc_timestamps_and_joined_lists(
    tmp_path: Path, world: SimulatedWorld
) -> None:
    paths = write_world(world, tmp_path, "csv")
    text = paths["shipments"].read_text(encoding="utf-8").splitlines()
    assert "T" in text[1] and "Z" in text[1] and ".000000" not in text[1]
    frame = pd.read_csv(paths["shipments"], dtype=str, keep_default_na=False)
    assert frame["transshipment_ports"].str.contains(";").any()
    parquet = write_world(world, tmp_path / "pq", "parquet")
    back = pd.read_parquet(parquet["outcomes"])
    assert str(back["recorded_at"].dt.tz) == "UTC"
    meta = parquet["meta"].read_text(encoding="utf-8")
    assert '"seed": 7' in meta and '"phases"' in meta
    # Written again in the other format, the folder holds one world, not this one's CSV beside
    # the earlier world's Parquet (a `train --shipments world/shipments.parquet` read the old).
    (tmp_path / "pq" / "notes.csv").write_text("an analyst's own file\n")
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "shipments.csv").write_text("my,real,data\n")  # no simulation's
    write_world(world, tmp_path / "own", "parquet")
    assert (tmp_path / "own" / "shipments.csv").read_text() == "my,real,data\n"
    again = write_world(world, tmp_path / "pq", "csv")
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == [
        "meta.json",
        "notes.csv",
        "outcomes.csv",
        "shipments.csv",
        "truth.csv",
    ]
    assert again["shipments"].exists()


def test_meta_describes_seed_phases_and_counts(world: SimulatedWorld) -> None:
    meta = world.meta
    assert meta["seed"] == SMALL.seed
    phases = meta["phases"]
    assert [p["index"] for p in phases] == [1, 2, 3, 4]
    assert phases[0]["start"] == "2024-01-01" and phases[-1]["end"] == "2024-02-09"
    assert meta["counts"]["shipments"] == len(world.shipments)
    assert meta["counts"]["outcomes"] == len(world.outcomes)
    assert sum(meta["counts"]["selection_reasons"].values()) == len(world.outcomes)


def test_progress_hook_reports_steps_up_to_completion() -> None:
    seen: list[tuple[str, float]] = []
    simulate(
        SMALL.model_copy(update={"days": 14, "phases": 2}),
        progress=lambda s, f: seen.append((s, f)),
    )
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and math.isclose(fractions[-1], 1.0)


def test_config_rejects_unknown_schemes_and_phases_shorter_than_a_week() -> None:
    with pytest.raises(ValueError, match="unknown schemes"):
        SimulationConfig(scheme_shares={"tobacco": 1.0})
    with pytest.raises(ValueError, match="shorter than a week"):
        SimulationConfig(days=20, phases=4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # options that do not go together: a traceback (IndexError) before
        (
            ["--days", "7", "--arrivals-per-day", "20"],
            "error: simulation options: days=7 with phases=4 gives phases shorter than a week "
            "(at least 28 days, or fewer phases)",
        ),
        (["--start", "2024-02-30"], "error: --start='2024-02-30' is not a date (YYYY-MM-DD)"),
        (
            ["--days", "30", "--arrivals-per-day", "20", "--contraband-rate", "2"],
            "error: simulation options: contraband_rate: Input should be less than or equal",
        ),
        # a world before 1990: every line would be rejected as out_of_range
        (["--start", "1989-12-01"], "error: --start=1989-12-01 is before 1990"),
        # a world filed in the future: every line would be rejected as filed_after_receipt
        (
            ["--start", "2099-01-01", "--days", "30"],
            "error: --start=2099-01-01 with --days=30 ends on 2099-01-30, after today",
        ),
    ],
)
def test_simulate_options_that_cannot_be_used_exit_two_naming_them(
    tmp_path: Path, args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from risk_engine.cli import app

    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "w"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "w").exists()


def test_simulate_into_a_file_exits_two_naming_it(tmp_path: Path) -> None:
    # --out naming a file (a world's meta.json, say) was a FileExistsError traceback
    from typer.testing import CliRunner

    from risk_engine.cli import app

    taken = tmp_path / "meta.json"
    taken.write_text("{}")
    result = CliRunner().invoke(app, ["simulate", "--out", str(taken), "--days", "30"])
    assert result.exit_code == 2, result.output
    assert f"--out {taken} is a file" in result.stderr and taken.read_text() == "{}"
