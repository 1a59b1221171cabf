"""Batch screening: no line lost, capacity per port-day, point-in-time across days, watch list,
and the Dask engine giving the same answer as the local one."""

from __future__ import annotations

import copy
import gc
import html
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from models.capacity import PortCapacity
from models.screening import LIST_JOIN, OUTPUT_COLUMNS, _inputs, screen_file
from models.watchlist import load_watchlist
from risk_engine.validation import validate_frame
from training.fixtures import small_training, small_world


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    return small_training()


@pytest.fixture(scope="module")
def arrivals(trained) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    world, _, _ = small_world()
    raw = world.shipments
    lines = raw[raw["filed_at"] >= pd.Timestamp(trained.boundaries["test_from"])]
    return lines.head(4000).reset_index(drop=True)


def test_broken_lines_never_stop_the_batch_and_never_disappear(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    broken = arrivals.astype(str).copy()
    broken.loc[3, "gross_weight_kg"] = "-1"
    broken.loc[10, "container_number"] = "NOTACONTAINER"
    broken.loc[20, "filed_at"] = "yesterday"
    broken.loc[30, "shipper_name"] = '=HYPERLINK("http://x","y")'
    # a year typed 2062 for 2026: it would have moved the feature history's cut-off to 2062
    broken.loc[40, "filed_at"] = "2062-03-01T08:00:00Z"
    path = tmp_path / "arrivals.csv"
    broken.to_csv(path, index=False)
    summary = screen_file(
        path,
        tmp_path / "ranked.csv",
        scorer=trained.scorer,
        rejects_path=tmp_path / "rejects.csv",
        report_path=tmp_path / "report.html",
        chunk_rows=1500,
    )
    assert summary.read == len(arrivals) == summary.scored + summary.rejected
    assert summary.rejected == 4
    ranked = pd.read_csv(tmp_path / "ranked.csv")
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert len(ranked) == summary.scored
    assert set(rejects["row"]) == {4, 11, 21, 41}
    assert rejects.set_index("row").at[41, "rule"] == "filed_after_receipt"
    assert set(ranked["row"]) | set(rejects["row"]) == set(range(1, len(arrivals) + 1))
    assert (tmp_path / "report.html").read_text().count("<table") >= 3
    # the report states the counts (it was written before them and said "read 0, scored 0")
    page = (tmp_path / "report.html").read_text()
    stated = dict(re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*</tr>", page))
    assert stated["lines read"] == f"{len(arrivals):,}"
    assert stated["scored"] == f"{summary.scored:,}"
    (rejected,) = [name for name in stated if name.startswith("rejected (")]
    assert stated[rejected] == "4"  # where they are and why, not a file that may not exist
    assert rejected.startswith("rejected (see rejects.csv; most often ") and "malformed" in rejected
    assert stated["selected for physical inspection"] == f"{sum(summary.selected.values()):,}"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_batch_whose_every_line_is_rejected_gives_an_empty_list_and_its_report(
    trained, arrivals, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    # It stopped with "No objects to concatenate" and wrote no ranked list.
    broken = arrivals.head(30).astype(str)
    broken["filed_at"] = "yesterday"
    broken.to_csv(tmp_path / "a.csv", index=False)
    summary = screen_file(
        tmp_path / "a.csv",
        tmp_path / f"ranked.{suffix}",
        scorer=trained.scorer,
        rejects_path=tmp_path / "rejects.csv",
        report_path=tmp_path / "report.html",
    )
    assert (summary.read, summary.scored, summary.rejected) == (30, 0, 30)
    assert sum(summary.selected.values()) == 0
    read = pd.read_csv if suffix == "csv" else pd.read_parquet
    ranked = read(tmp_path / f"ranked.{suffix}")
    assert len(ranked) == 0 and ranked.columns.tolist() == list(OUTPUT_COLUMNS)
    assert set(pd.read_csv(tmp_path / "rejects.csv")["row"]) == set(range(1, 31))
    page = (tmp_path / "report.html").read_text()
    assert "<table" in page
    # not "this model keeps no reference" (it has one), nor empty plots
    assert "Nothing was scored to compare." in page and "keeps no reference" not in page
    assert "No line was scored." in page and "<img" not in page


def test_a_long_selected_list_shows_every_port_days_first_picks(
    trained, arrivals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The report's lists were cut after 2,000 lines sorted by port: a year's report showed three
    ports of thirteen, none where most seizures were."""
    import models.screen_report as screen_report

    monkeypatch.setattr(screen_report, "_SHOWN", 40)
    arrivals.to_parquet(tmp_path / "a.parquet", index=False)
    summary = screen_file(
        tmp_path / "a.parquet",
        tmp_path / "o.parquet",
        scorer=trained.scorer,
        capacity=0.05,
        documentary=0.05,
        report_path=tmp_path / "r.html",
    )
    ranked = pd.read_parquet(tmp_path / "o.parquet")
    picked = ranked[ranked["selected"]]
    assert len(picked) > 40 and picked["port_of_discharge"].nunique() > 2
    page = html.unescape((tmp_path / "r.html").read_text())
    section = page.split("<h2>Selected lines (")[1].split("<h2>")[0]
    assert section.startswith(f"{len(picked):,}; the 40 ranked highest in their port-day shown")
    body = section.split("<tbody>")[1]
    assert body.count("<tr>") == 40
    # every port-day's first pick before any one's second
    shown = {c for c in picked["container_number"] if f"<td>{c}</td>" in body}
    assert len(shown) == 40
    lowest = picked.sort_values("rank", kind="mergesort")["rank"].iloc[39]
    assert picked.loc[picked["container_number"].isin(shown), "rank"].max() == lowest
    firsts = set(picked.loc[picked["rank"] == 1, "container_number"])
    assert firsts <= shown if len(firsts) <= 40 else len(shown & firsts) == 40
    assert summary.scored == len(ranked)
    # the yellow lane the same way, by each line's place among its port-day's document checks
    # (its first is not the port-day's first rank: the red lines come before it)
    yellow = ranked[ranked["lane"] == "YELLOW"].sort_values(
        ["port_of_discharge", "arrival_date", "rank"], kind="mergesort"
    )
    nth = yellow.groupby(["port_of_discharge", "arrival_date"]).cumcount()
    assert len(yellow) > 40 and nth.max() > 0
    section = page.split("<h2>Document checks, the yellow lane (")[1]
    assert section.startswith(f"{len(yellow):,}; the 40 ranked highest in their port-day shown")
    body = section.split("<tbody>")[1].split("</tbody>")[0]
    shown_yellow = yellow["container_number"].map(lambda c: f"<td>{c}</td>" in body)
    assert shown_yellow.sum() == 40
    assert nth[shown_yellow].max() <= nth.sort_values(kind="mergesort").iloc[39]


def test_a_cut_list_takes_each_port_days_nth_line_of_the_list_not_its_nth_rank(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A big port-day's document checks start after its many red lines (rank 6 here), a small
    one's at rank 2: cut by rank, the small port-day's 4th check was shown and the big one's
    1st was not."""
    import models.screen_report as screen_report

    monkeypatch.setattr(screen_report, "_SHOWN", 4)
    lines = pd.DataFrame(
        {
            "port_of_discharge": ["VNHPH"] * 6 + ["VNDAD"] * 6,
            "arrival_date": ["2025-04-02"] * 12,
            "rank": [6, 7, 8, 9, 10, 11, 2, 3, 4, 5, 6, 7],
            "risk_score": [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.3, 0.2, 0.1, 0.05, 0.04, 0.03],
        }
    )
    shown = screen_report._shown(lines)
    assert list(zip(shown["port_of_discharge"], shown["rank"], strict=True)) == [
        ("VNDAD", 2),
        ("VNDAD", 3),
        ("VNHPH", 6),
        ("VNHPH", 7),
    ]


def test_the_arrival_date_is_the_day_at_the_port_of_discharge(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Hai Phong is seven hours ahead of UTC: lines berthing either side of its midnight fall
    in two port-days (before, the UTC date put them in one, capacity shared)."""
    lines = arrivals.head(4).copy()
    lines["port_of_discharge"] = "VNHPH"
    eta = [
        "2025-04-02T16:30:00Z",
        "2025-04-02T17:30:00Z",
        "2025-04-02T20:00:00Z",
        "2025-04-02T01:00:00Z",
    ]
    lines["eta"] = pd.to_datetime(eta, utc=True)
    lines["etd"] = lines["eta"] - pd.Timedelta(days=20)
    path = tmp_path / "arrivals.parquet"
    lines.to_parquet(path, index=False)
    summary = screen_file(
        path,
        tmp_path / "ranked.csv",
        scorer=trained.scorer,
        capacity=0.03,
        report_path=tmp_path / "report.html",
    )
    # the report's per-port table names the port beside its code
    assert re.search(r"<td>VNHPH</td>\s*<td>Hai Phong</td>", (tmp_path / "report.html").read_text())
    ranked = pd.read_csv(tmp_path / "ranked.csv").set_index("row")
    assert ranked.loc[[1, 2, 3, 4], "arrival_date"].tolist() == [
        "2025-04-02",
        "2025-04-03",
        "2025-04-03",
        "2025-04-02",
    ]
    assert summary.port_days == 2
    assert ranked.groupby("arrival_date")["selected"].sum().tolist() == [1, 1]


def test_a_capacity_port_no_line_arrives_at_and_no_table_knows_is_named(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A misspelt code in the capacity file (VNHPN for VNHPH) left the port on the share
    without a word; a known port with no arrivals in the batch is not worth a warning."""
    lines = arrivals.head(300).copy()
    lines.loc[:9, "port_of_discharge"] = "ZZABC"  # a port the table does not know, arriving
    path = tmp_path / "arrivals.parquet"
    lines.to_parquet(path, index=False)
    absent_known = next(
        p for p in ("SGSIN", "DEHAM", "JPTYO") if p not in set(lines["port_of_discharge"])
    )
    slots = {"VNHPN": 4, "ZZABC": 2, absent_known: 3}
    summary = screen_file(
        path, tmp_path / "ranked.csv", scorer=trained.scorer, port_capacity=PortCapacity(slots)
    )
    assert summary.capacity_unmatched == ["VNHPN"]
    assert summary.as_dict()["capacity_ports_unmatched"] == ["VNHPN"]


def test_selection_respects_capacity_per_port_day_and_records_reasons(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "arrivals.parquet"
    arrivals.to_parquet(path, index=False)
    summary = screen_file(
        path,
        tmp_path / "ranked.parquet",
        scorer=trained.scorer,
        capacity=0.03,
        random_control=0.2,
        rejects_path=tmp_path / "rejects.parquet",
    )
    # Nothing rejected: the rejects file says so with its columns and no row (it was not
    # written, though the command named it).
    assert summary.rejected == 0
    assert pd.read_parquet(tmp_path / "rejects.parquet").columns.tolist() == [
        "row",
        "bl_number",
        "container_number",
        "field",
        "value",
        "rule",
        "severity",
    ]
    assert len(pd.read_parquet(tmp_path / "rejects.parquet")) == 0
    ranked = pd.read_parquet(tmp_path / "ranked.parquet")
    groups = ranked.groupby(["port_of_discharge", "arrival_date"])
    sizes = groups.size()
    non_mandatory = ranked[
        ranked["selected"] & ranked["selection_reason"].isin(["MODEL", "RANDOM_CONTROL"])
    ]
    per_group = non_mandatory.groupby(["port_of_discharge", "arrival_date"]).size()
    slots = (sizes * 0.03 + 0.5).astype(int).clip(lower=1)
    assert (per_group <= slots[per_group.index]).all()
    assert set(ranked.loc[ranked["selected"], "selection_reason"]) <= {
        "MODEL",
        "RULE",
        "WATCHLIST",
        "RANDOM_CONTROL",
    }
    control = ranked[ranked["selection_reason"] == "RANDOM_CONTROL"]
    assert (
        len(control) > 0 and control["selection_probability"].between(0, 1, inclusive="right").all()
    )
    model = ranked[ranked["selection_reason"] == "MODEL"]
    assert (model["selection_probability"] == 1.0).all()
    assert sum(summary.selected.values()) == int(ranked["selected"].sum())


def test_an_outcome_can_be_recorded_from_a_selected_line_of_the_ranked_list(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "arrivals.parquet"
    arrivals.head(1500).to_parquet(path, index=False)
    summary = screen_file(path, tmp_path / "ranked.csv", scorer=trained.scorer, random_control=0.2)
    ranked = pd.read_csv(tmp_path / "ranked.csv", dtype={"model_version": str})
    assert summary.model_version and (ranked["model_version"] == summary.model_version).all()
    picked = ranked[ranked["selected"]]
    # what the contract's outcome asks of the selection, read straight off the ranked list
    worklist = picked[
        [
            "bl_number",
            "container_number",
            "selection_reason",
            "selection_probability",
            "model_version",
        ]
    ].assign(
        inspected_at="2025-01-02T10:00:00Z",
        result="NO_FINDING",
        recorded_at="2025-01-03T10:00:00Z",
    )
    checked = validate_frame(worklist.astype(str), "outcomes")
    assert len(checked.accepted) == len(picked) > 0
    assert set(checked.accepted["selection_reason"]) >= {"MODEL", "RANDOM_CONTROL"}


def test_an_inspect_profile_selects_its_lines_as_rule_picks_whatever_the_capacity(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from models.profiles import load_profiles

    lines = arrivals.head(1500)
    path = tmp_path / "arrivals.parquet"
    lines.to_parquet(path, index=False)
    accepted = validate_frame(lines.astype(str)).accepted
    # the lowest-scoring line's origin and HS heading: a profile the model would not find
    scores = trained.scorer.score(accepted, explain_reasons=False)["risk_score"]
    low = accepted.loc[scores.idxmin()]
    origin, heading = str(low["country_of_origin"]), str(low["hs_code"])[:4]
    rules = tmp_path / "profiles.yaml"
    rules.write_text(
        "profiles:\n"
        f"  - {{name: low-line, note: case 7, when: {{country_of_origin: [{origin}], "
        f"hs_code: ['{heading}']}}}}\n"
    )
    profiles = load_profiles(rules)
    assert profiles is not None
    meets = profiles.profiles[0].holds(accepted)
    report = tmp_path / "report.html"
    summary = screen_file(
        path,
        tmp_path / "ranked.parquet",
        scorer=trained.scorer,
        capacity=0.001,
        profiles=profiles,
        report_path=report,
    )
    # the report says what the selection was made with
    assert summary.inputs[:3] == [
        "capacity 0.10% of each port-day's lines (at least one slot)",
        "random control 10% of the slots (the whole part in every port-day, one more with the "
        "chance of the fraction), drawn with seed 0",
        f"risk profiles {rules}: low-line (inspect)",
    ]
    assert summary.inputs[3].startswith("feature history: lines filed before ")
    # a share under half a percent read "0%" while a quarter of the picks were controls
    assert _inputs(0.03, 0.004, 0.0, None, None, None)[1].startswith(
        "random control 0.4% of the slots"
    )
    assert _inputs(0.03, 0.125, 0.0, None, None, None)[1].startswith(
        "random control 12.5% of the slots"
    )
    # the seed the control was drawn with is told, a home's secret seed by its fingerprint: two
    # lists drawn with other seeds read the same (a reviewer could not reproduce the draw)
    from models.screening import seed_fingerprint

    secret = (1 << 127) + 12345
    told = _inputs(0.03, 0.1, 0.0, None, None, None, seed_fingerprint(secret, secret=True))[1]
    assert told.startswith("random control 10% of the slots (the whole part in every")
    assert ", drawn with seed sha256:" in told
    assert told.endswith("(the home's control-seed)")
    assert str(secret) not in told and f"{secret:x}" not in told
    assert seed_fingerprint(secret, secret=True) != seed_fingerprint(secret + 1, secret=True)
    # a seed given with --seed is told as given, however large (5e9 read as the home's)
    assert seed_fingerprint(5_000_000_000, secret=False) == "5000000000"
    assert len(summary.inputs) == 4
    page = report.read_text()
    assert "<h2>Screened with</h2>" in page
    assert all(html.escape(item) in page for item in summary.inputs)
    ranked = pd.read_parquet(tmp_path / "ranked.parquet").set_index("row")
    wanted = accepted.index[meets]
    assert len(wanted) >= 1 and scores.idxmin() in wanted
    picked = ranked.loc[wanted]
    assert picked["selected"].all() and (picked["selection_reason"] == "RULE").all()
    assert picked["rule_hits"].str.startswith("risk profile low-line: case 7").all()
    others = ranked.drop(index=wanted)
    assert not others["rule_hits"].str.contains("risk profile").any()


def test_a_batch_of_many_days_scores_like_screening_day_by_day(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    days = pd.to_datetime(arrivals["filed_at"], utc=True).dt.floor("D")
    first_days = sorted(days.unique())[:3]
    batch = arrivals[days.isin(first_days)].sort_values("filed_at").reset_index(drop=True)
    batch.to_parquet(tmp_path / "all.parquet", index=False)
    screen_file(
        tmp_path / "all.parquet",
        tmp_path / "all_out.parquet",
        scorer=trained.scorer,
        chunk_rows=1000,
    )
    together = pd.read_parquet(tmp_path / "all_out.parquet").set_index("container_number")[
        "risk_score"
    ]
    scorer = copy.copy(trained.scorer)
    scorer.pipeline = copy.deepcopy(trained.scorer.pipeline)
    parts = []
    batch_days = pd.to_datetime(batch["filed_at"], utc=True).dt.floor("D")
    for day in first_days:
        part = batch[batch_days == day]
        part.to_parquet(tmp_path / "day.parquet", index=False)
        screen_file(tmp_path / "day.parquet", tmp_path / "day_out.parquet", scorer=scorer)
        parts.append(pd.read_parquet(tmp_path / "day_out.parquet"))
        scorer.pipeline.update(validate_frame(part).accepted)
    daily = pd.concat(parts).set_index("container_number")["risk_score"]
    assert len(daily) == len(together)
    pd.testing.assert_series_equal(
        daily.sort_index(), together.sort_index(), check_exact=False, rtol=1e-9
    )


def test_the_files_order_and_its_chunk_size_change_no_score_and_no_selection(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A file not sorted by filing time (an arrival export, sorted by eta) was featurised chunk
    # by chunk in file order: a line missed the lines filed before it that sat in a later
    # chunk, and its score and the picks depended on the row order and the chunk size.
    days = pd.to_datetime(arrivals["filed_at"], utc=True).dt.floor("D")
    batch = arrivals[days.isin(sorted(days.unique())[:3])].reset_index(drop=True)
    batch.sort_values("filed_at").to_parquet(tmp_path / "filed.parquet", index=False)
    batch.sample(frac=1, random_state=3).to_parquet(tmp_path / "shuffled.parquet", index=False)
    found = {}
    runs = (("filed", 100_000), ("filed", 500), ("shuffled", 100_000), ("shuffled", 500))
    for name, chunk_rows in runs:
        screen_file(
            tmp_path / f"{name}.parquet",
            tmp_path / "out.parquet",
            scorer=trained.scorer,
            chunk_rows=chunk_rows,
            random_control=0.2,
            documentary=0.05,
        )
        out = pd.read_parquet(tmp_path / "out.parquet").set_index(["bl_number", "container_number"])
        columns = ["risk_score", "selected", "lane", "selection_reason", "selection_probability"]
        found[(name, chunk_rows)] = out[columns].sort_index()
    assert len(found[("filed", 100_000)]) == len(batch) > 1000
    for other in runs[1:]:
        pd.testing.assert_frame_equal(found[other], found[("filed", 100_000)])


def test_a_rejected_line_that_names_a_watch_list_entry_is_told_not_lost(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A listed container whose line had a typo elsewhere (an eta of "2024-05-1O") was rejected
    # and released with no word: no WATCHLIST pick, nothing in the rejects file or the report.
    broken = arrivals.head(60).astype(str)
    broken.loc[5, "eta"] = "2024-05-1O"
    broken.loc[9, "gross_weight_kg"] = "-1"
    watched, consignee = broken.at[5, "container_number"], broken.at[9, "consignee_name"]
    text = broken.to_csv(index=False).splitlines()
    text[31] += ",an extra field"  # a CSV line that does not split, its container watched too
    split_container = broken.at[30, "container_number"]
    text[41] += ",another"  # and one whose shipper is watched (its party was not looked at)
    shipper = broken.at[40, "shipper_name"]
    (tmp_path / "a.csv").write_text("\n".join(text) + "\n")
    pd.DataFrame(
        {
            "party_name": ["", consignee, "", shipper],
            "container_number": [watched, "", split_container, ""],
            "note": ["case B-2", "", "", "party of interest"],
        }
    ).to_csv(tmp_path / "watch.csv", index=False)
    summary = screen_file(
        tmp_path / "a.csv",
        tmp_path / "o.csv",
        scorer=trained.scorer,
        report_path=tmp_path / "r.html",
        watchlist=load_watchlist(tmp_path / "watch.csv"),
    )
    assert summary.rejected == 4
    told = summary.watchlist_rejected
    assert [t.split(":")[0] for t in told] == ["row 6", "row 10", "row 31", "row 41"]
    assert told[0] == f"row 6: container {watched} is on the watch list: case B-2"
    assert f"consignee {consignee.upper()} is on the watch list" in told[1]
    assert told[2] == f"row 31: container {split_container} is on the watch list"
    assert f"shipper {shipper.upper()}" in told[3] and "party of interest" in told[3]
    page = (tmp_path / "r.html").read_text()
    assert "Rejected lines that name a watch-list entry (4)" in page and "case B-2" in page


def test_watch_list_hits_are_selected_first_and_say_which_entry(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    watched = arrivals["container_number"].iloc[7]
    consignee = arrivals["consignee_name"].iloc[40]
    pd.DataFrame(
        {
            "party_name": ["", consignee.lower()],
            "container_number": [watched, ""],
            "note": ["case A-1", ""],
        }
    ).to_csv(tmp_path / "watch.csv", index=False)
    arrivals.to_parquet(tmp_path / "a.parquet", index=False)
    summary = screen_file(
        tmp_path / "a.parquet",
        tmp_path / "o.csv",
        scorer=trained.scorer,
        report_path=tmp_path / "r.html",
        watchlist=load_watchlist(tmp_path / "watch.csv"),
    )
    out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    row = out[out["container_number"] == watched].iloc[0]
    assert bool(row["selected"]) and row["selection_reason"] == "WATCHLIST"
    assert f"container {watched} is on the watch list: case A-1" in row["watchlist_hits"]
    keys = ["bl_number", "container_number"]
    named = out.merge(arrivals[[*keys, "consignee_name"]], on=keys)
    named = named[named["consignee_name"].str.upper() == consignee.upper()]
    assert len(named) and named["selected"].astype(bool).all()
    assert (named["selection_reason"] == "WATCHLIST").all()
    assert (
        named["watchlist_hits"]
        .str.contains(f"consignee {consignee.upper()} is on the watch list", regex=False)
        .all()
    )
    # Only watched lines carry a sentence, and every WATCHLIST pick carries one.
    told = out["watchlist_hits"] != ""
    assert (told == (out["selection_reason"] == "WATCHLIST")).all()
    assert summary.selected["WATCHLIST"] == int(told.sum())
    page = (tmp_path / "r.html").read_text()
    assert "case A-1" in page
    section = page.split("Watch-list and mandatory-rule selections (")[1].split("<h2>")[0]
    assert section.startswith(f"{summary.selected['WATCHLIST'] + summary.selected['RULE']:,})")
    assert f"container {watched} is on the watch list: case A-1" in section


@pytest.mark.slow
@pytest.mark.parametrize("held", [0, 1500])
def test_dask_engine_gives_the_same_ranked_list_as_the_local_engine(
    trained, arrivals, tmp_path: Path, held: int
) -> None:  # type: ignore[no-untyped-def]
    from dask.distributed import LocalCluster

    scorer = trained.scorer
    if held:  # a history that holds some lines of the batch already (screened before)
        scorer = copy.copy(trained.scorer)
        scorer.pipeline = copy.deepcopy(trained.scorer.pipeline)
        scorer.pipeline.update(arrivals.iloc[:held])
    arrivals.to_parquet(tmp_path / "a.parquet", index=False)
    kept: list[Any] = []
    screen_file(
        tmp_path / "a.parquet",
        tmp_path / "local.parquet",
        scorer=scorer,
        chunk_rows=1000,
        seed=5,
        keep_history=kept.append,
    )
    repeated = kept[0].state_.lines_repeated - scorer.pipeline.state_.lines_repeated
    assert repeated == held  # the second chunk mixes lines held and new ones
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        screen_file(
            tmp_path / "a.parquet",
            tmp_path / "dask.parquet",
            scorer=scorer,
            chunk_rows=1000,
            seed=5,
            engine="dask",
            scheduler=cluster.scheduler_address,
        )
    local = pd.read_parquet(tmp_path / "local.parquet")
    dask = pd.read_parquet(tmp_path / "dask.parquet")
    pd.testing.assert_frame_equal(local, dask)


def test_a_dask_scheduler_that_cannot_be_reached_is_named_and_keeps_nothing(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import dask
    import distributed  # noqa: F401  (its defaults loaded before the setting below)

    from risk_engine.errors import ConfigError

    arrivals.head(200).to_parquet(tmp_path / "a.parquet", index=False)
    kept: list[Any] = []
    # With distributed not yet imported, leaving the setting deleted the whole "distributed"
    # section that the screening's import had loaded meanwhile: the next Dask test then failed
    # with KeyError 'distributed' (in a run of the tests not marked slow).
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        pytest.raises(
            ConfigError,
            match=r"--scheduler tcp://127.0.0.1:9: the Dask scheduler "
            r"cannot be reached",
        ),
    ):  # an OSError traceback after the connection timed out, before
        screen_file(
            tmp_path / "a.parquet",
            tmp_path / "ranked.parquet",
            scorer=trained.scorer,
            engine="dask",
            scheduler="tcp://127.0.0.1:9",
            keep_history=kept.append,
        )
    assert kept == []  # the history is not advanced by a screening that did not happen


def test_a_dask_scheduler_without_workers_is_named_and_keeps_nothing(
    trained, arrivals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # Scattering the model to no worker raised "No valid workers found": a traceback, exit 1.
    from dask.distributed import LocalCluster

    from models import screening
    from risk_engine.errors import ConfigError

    arrivals.head(200).to_parquet(tmp_path / "a.parquet", index=False)
    monkeypatch.setattr(screening, "_WORKER_WAIT_S", 1.0)
    kept: list[Any] = []
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as bare:
        address = bare.scheduler_address
        with pytest.raises(ConfigError, match=rf"--scheduler {address}: .*has no worker after 1 s"):
            screen_file(
                tmp_path / "a.parquet",
                tmp_path / "ranked.parquet",
                scorer=trained.scorer,
                engine="dask",
                scheduler=address,
                keep_history=kept.append,
            )
    assert kept == [] and not (tmp_path / "ranked.parquet").exists()


def test_every_model_pick_says_why_even_a_green_line_chosen_in_a_small_port_day(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "arrivals.parquet"
    arrivals.to_parquet(path, index=False)
    summary = screen_file(
        path,
        tmp_path / "ranked.csv",
        scorer=trained.scorer,
        capacity=0.03,
        report_path=tmp_path / "report.html",
        chunk_rows=1500,
    )
    ranked = pd.read_csv(tmp_path / "ranked.csv", keep_default_na=False)
    picks = ranked[ranked["selection_reason"] == "MODEL"]
    assert (picks["band"] == "green").any()  # the case: explained only after selection
    assert (picks["reasons"] != "").all()
    control = ranked[ranked["selection_reason"] == "RANDOM_CONTROL"]
    assert (control.loc[control["band"] == "green", "reasons"] == "").all()  # random: no why
    # what a later pick was told is in the report and the printed top list too
    late = picks[picks["band"] == "green"].iloc[0]
    page = (tmp_path / "report.html").read_text()
    assert late["reasons"].split(LIST_JOIN)[0] in page
    # the capacity curve ranks the batch as one list; the run's selection is marked and said
    assert "ranks the whole batch as one list; the point is this run's selection" in page
    # one cell per line, its reasons joined with " | " (a reason may hold "; " itself)
    told = picks["reasons"].str.split(LIST_JOIN, regex=False)
    assert told.map(len).max() > 1 and told.map(len).max() <= trained.scorer.top_reasons
    assert all(part and part == part.strip() for parts in told for part in parts)
    top = summary.top[summary.top["selection_reason"] == "MODEL"].set_index("row")["reasons"]
    assert len(top) > 10 and all(top[row] for row in top.index)  # a random draw has no why


def test_a_late_pick_is_told_exactly_what_scoring_would_have_told_it(
    trained, arrivals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "arrivals.parquet"
    arrivals.to_parquet(path, index=False)
    screen_file(path, tmp_path / "ranked.parquet", scorer=trained.scorer, capacity=0.03)
    ranked = pd.read_parquet(tmp_path / "ranked.parquet")
    late = ranked[(ranked["selection_reason"] == "MODEL") & (ranked["band"] == "green")]
    # the same lines screened with every line explained as it is scored (patched on the class,
    # so that screening's own copy of the scorer, with its own feature state, is the one used)
    scorer_type = type(trained.scorer)
    monkeypatch.setattr(
        scorer_type, "score_with_matrix", _every_band(scorer_type.score_with_matrix)
    )
    screen_file(path, tmp_path / "all.parquet", scorer=trained.scorer, capacity=0.03)
    monkeypatch.undo()
    everything = pd.read_parquet(tmp_path / "all.parquet").set_index("row")
    assert len(late) > 0
    assert (
        late.set_index("row")["reasons"].to_dict()
        == everything.loc[late["row"], "reasons"].to_dict()
    )


def _every_band(score_with_matrix):  # type: ignore[no-untyped-def]
    def explained(self, records, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["reason_bands"] = ("red", "amber", "green")
        return score_with_matrix(self, records, **kwargs)

    return explained


def test_a_pick_in_which_nothing_raises_the_risk_says_so(tmp_path: Path) -> None:
    import numpy as np

    from models.screening import _explain_picks

    class _Quiet:
        def explain_matrix(self, matrix: np.ndarray) -> list[list[str]]:
            told = ["HS chapter 04 (Dairy produce; birds' eggs)", "filed 3 hours before arrival"]
            return [told, []][: len(matrix)]

    part = tmp_path / "part-00000.parquet"
    np.save(part.with_suffix(".npy"), np.zeros((3, 4)))
    frame = pd.DataFrame(
        {"row": [1, 2, 3], "selection_reason": ["MODEL", "RANDOM_CONTROL", "MODEL"], "reasons": ""}
    )
    told = _explain_picks(frame, part, _Quiet())
    assert told["row"].tolist() == [1, 3]
    assert frame["reasons"].tolist() == [
        "HS chapter 04 (Dairy produce; birds' eggs) | filed 3 hours before arrival",
        "",
        "among the highest scores of its port-day; no feature raises its risk",
    ]


def test_an_output_that_cannot_be_written_stops_the_screen_before_the_work(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from risk_engine.errors import OutputUnwritable

    arrivals.head(50).to_parquet(tmp_path / "a.parquet", index=False)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    calls: list[int] = []
    with pytest.raises(OutputUnwritable, match=r"cannot write .*a-file/ranked.csv"):
        screen_file(
            tmp_path / "a.parquet",
            blocked / "ranked.csv",
            scorer=trained.scorer,
            progress=calls.append,
        )
    assert calls == []  # nothing was read or scored
    # The input as the ranked list deleted the arrivals file; two outputs as one file
    # overwrote each other.
    before = (tmp_path / "a.parquet").read_bytes()
    for out, rejects, told in (
        (tmp_path / "a.parquet", None, "it is the input"),
        (tmp_path / "r.csv", tmp_path / "r.csv", "another output of this job is the same file"),
    ):
        with pytest.raises(OutputUnwritable, match=told):
            screen_file(
                tmp_path / "a.parquet",
                out,
                scorer=trained.scorer,
                rejects_path=rejects,
                progress=calls.append,
            )
    assert (tmp_path / "a.parquet").read_bytes() == before and calls == []
    if Path("/proc/self").is_dir():  # a folder that refuses files even to root (Linux)
        with pytest.raises(OutputUnwritable, match=r"cannot write /proc/report.html"):
            screen_file(
                tmp_path / "a.parquet",
                tmp_path / "ranked.csv",
                scorer=trained.scorer,
                report_path=Path("/proc/report.html"),
                progress=calls.append,
            )
        assert calls == []
    # Any input, not only the arrivals: the profiles file as the report became HTML. A refused
    # job removed the outputs checked before the one refused (an earlier ranked list), and a
    # table output with no known extension was told only after the whole batch was scored.
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text("profiles: []\n")
    earlier = tmp_path / "ranked.csv"
    earlier.write_text("yesterday's list\n")
    for out, report, told in (
        (earlier, profiles, "it is the input .*profiles.yaml"),
        (tmp_path / "ranked.xlsx", None, "unknown file type: name it .csv"),
    ):
        with pytest.raises(OutputUnwritable, match=told):
            screen_file(
                tmp_path / "a.parquet",
                out,
                scorer=trained.scorer,
                report_path=report,
                progress=calls.append,
                inputs=(profiles,),
            )
    assert profiles.read_text() == "profiles: []\n" and calls == []
    assert earlier.read_text() == "yesterday's list\n"


def test_a_capacity_file_gives_its_ports_a_fixed_number_of_slots_a_day(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from models.capacity import load_port_capacity

    arrivals.to_parquet(tmp_path / "a.parquet", index=False)
    ports = arrivals["port_of_discharge"].value_counts().index
    fixed, other = str(ports[0]), str(ports[1])
    (tmp_path / "cap.csv").write_text(f"port_of_discharge,slots_per_day\n{fixed},4\n")
    screen_file(
        tmp_path / "a.parquet",
        tmp_path / "o.parquet",
        scorer=trained.scorer,
        capacity=0.03,
        random_control=0.25,
        port_capacity=load_port_capacity(tmp_path / "cap.csv"),
    )
    out = pd.read_parquet(tmp_path / "o.parquet")
    per_day = out.groupby(["port_of_discharge", "arrival_date"]).agg(
        lines=("selected", "size"),
        chosen=("selected", "sum"),
        must=("selection_reason", lambda r: int(r.isin(["RULE", "WATCHLIST"]).sum())),
    )
    at_fixed = per_day.loc[fixed]
    assert (
        at_fixed["chosen"] == at_fixed.apply(lambda d: max(min(4, d["lines"]), d["must"]), axis=1)
    ).all()
    at_other = per_day.loc[other]
    share = (at_other["lines"] * 0.03 + 0.5).astype(int).clip(lower=1)
    assert (at_other["chosen"] == at_other["must"].where(at_other["must"] > share, share)).all()


def test_the_yellow_lane_sends_the_next_highest_scores_to_a_document_check_with_reasons(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from models.capacity import load_port_capacity

    arrivals.to_parquet(tmp_path / "a.parquet", index=False)
    ports = arrivals["port_of_discharge"].value_counts().index
    fixed = str(ports[0])
    (tmp_path / "cap.csv").write_text(
        f"port_of_discharge,slots_per_day,documentary_slots_per_day\n{fixed},3,2\n"
    )
    summary = screen_file(
        tmp_path / "a.parquet",
        tmp_path / "o.parquet",
        scorer=trained.scorer,
        capacity=0.03,
        random_control=0.2,
        documentary=0.05,
        port_capacity=load_port_capacity(tmp_path / "cap.csv"),
        report_path=tmp_path / "report.html",
    )
    out = pd.read_parquet(tmp_path / "o.parquet")
    assert set(out["lane"]) == {"RED", "YELLOW", "GREEN"}
    assert (out["lane"] == "RED").equals(out["selected"])
    yellow = out[out["lane"] == "YELLOW"]
    assert len(yellow) == summary.documentary > 0
    # the model's picks for a document check: recorded as MODEL, probability 1, and told why
    assert set(yellow["selection_reason"]) == {"MODEL"}
    assert (yellow["selection_probability"] == 1.0).all() and (yellow["reasons"] != "").all()
    assert set(out.loc[out["lane"] == "GREEN", "selection_reason"]) == {""}
    for (port, _), day in out.groupby(["port_of_discharge", "arrival_date"]):
        papers = day[day["lane"] == "YELLOW"]
        left = day[day["lane"] == "GREEN"]
        slots = 2 if port == fixed else max(1, int(len(day) * 0.05 + 0.5))
        assert len(papers) == min(slots, len(day) - int(day["selected"].sum()))
        if len(papers) and len(left):
            assert papers["risk_score"].min() >= left["risk_score"].max()
    page = (tmp_path / "report.html").read_text()
    assert f"the yellow lane ({summary.documentary:,}" in page
    assert "document checks (yellow lane) 5.00%" in page and f"{fixed} 2" in page


def test_the_batch_is_compared_with_the_models_training_reference(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    reference = trained.scorer.reference
    assert reference is not None and reference.names[-1] == "risk_score"
    assert reference.names[:-1] == trained.scorer.feature_names
    assert 0 < reference.bands["red"] < reference.bands["red"] + reference.bands["amber"] < 1
    plain = tmp_path / "a.parquet"
    arrivals.to_parquet(plain, index=False)
    summary = screen_file(
        plain, tmp_path / "o.parquet", scorer=trained.scorer, report_path=tmp_path / "r.html"
    )
    assert summary.drift is not None
    assert set(summary.drift["feature"]) == set(reference.names)
    ranked = pd.read_parquet(tmp_path / "o.parquet")
    assert summary.bands["red"][1] == pytest.approx((ranked["band"] == "red").mean())
    assert "Against the training data" in (tmp_path / "r.html").read_text()
    # The same lines declared at a hundredth of their value: the value features move, and
    # the check names them.
    cheap = tmp_path / "cheap.parquet"
    arrivals.assign(declared_value=arrivals["declared_value"] / 100).to_parquet(cheap)
    moved = screen_file(
        cheap, tmp_path / "o2.parquet", scorer=trained.scorer, report_path=tmp_path / "r2.html"
    )
    assert moved.drift is not None and summary.drift is not None
    psi = moved.drift.set_index("feature")["psi"]
    before = summary.drift.set_index("feature")["psi"]
    value_features = [name for name in psi.index if "value" in name and "per_kg" in name]
    assert value_features and all(psi[f] > 0.25 > before[f] for f in value_features)
    assert any(f"{value_features[0]} (" in note for note in moved.drift_notes)
    page = html.unescape((tmp_path / "r2.html").read_text())
    assert all(note in page for note in [*moved.drift_warnings, *moved.drift_notes])
    # the score's own PSI always, and how much of the comparison the table shows
    assert f"the scores' PSI is {psi['risk_score']:.3g}" in page
    above = int((psi > 0.25).sum())
    assert f"of the {len(psi)} compared, largest shift first; {above} are above 0.25" in page
    assert "rejected (not written: screen with --rejects FILE to list them)" in page
    # scores to three significant digits: to four decimals, the quiet ones read 0.0000
    from models.screen_report import _figure

    assert _figure(2.34e-05) == "0.0000234" and _figure(0.958123) == "0.958"
    # never in exponent form: a drift table's mean read 2.506e+04
    assert _figure(25_060.2, 4) == "25,060" and _figure(7.456e301) == "7.5 × 10^301"
    assert "<td>0.0000</td>" not in page


def test_a_model_without_a_reference_screens_and_says_it_has_none(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    old = copy.copy(trained.scorer)
    old.reference = None  # a model trained before the reference was kept
    arrivals.head(500).to_parquet(tmp_path / "a.parquet", index=False)
    summary = screen_file(
        tmp_path / "a.parquet", tmp_path / "o.parquet", scorer=old, report_path=tmp_path / "r.html"
    )
    assert summary.drift is None and summary.scored == 500
    assert summary.drift_warnings == summary.drift_notes == []
    assert "keeps no reference of its training lines" in (tmp_path / "r.html").read_text()
    # A model pickled before the field existed loads with no reference.
    state = trained.scorer.__getstate__()
    del state["reference"]
    loaded = type(trained.scorer).__new__(type(trained.scorer))
    loaded.__setstate__(state)
    assert loaded.reference is None


def test_lines_filed_before_what_the_state_keeps_exact_are_counted(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    arrivals.head(300).to_parquet(tmp_path / "a.parquet", index=False)
    summary = screen_file(tmp_path / "a.parquet", tmp_path / "o.parquet", scorer=trained.scorer)
    assert summary.approximate == 0 and summary.as_dict()["approximate_history"] == 0
    # A history already 30 days past these filings (screened weeks after they were filed):
    # every line is older than the 7 days the state keeps exact.
    late = copy.copy(trained.scorer)
    late.pipeline = copy.deepcopy(trained.scorer.pipeline)
    late.pipeline.state_.as_of += 30 * 86_400
    summary = screen_file(tmp_path / "a.parquet", tmp_path / "o2.parquet", scorer=late)
    assert summary.approximate == summary.scored == 300 and summary.exact_days == 7.0
    # Each line of the ranked list says it, as the service tells it on a scored line.
    assert not pd.read_parquet(tmp_path / "o.parquet")["approximate_history"].any()
    assert pd.read_parquet(tmp_path / "o2.parquet")["approximate_history"].all()
    told = summary.inputs[-1]
    assert told.startswith(f"feature history: lines filed before {late.pipeline.as_of_:%Y-%m-%d}")
    state = late.pipeline.state_
    assert f"({state.lines_seen:,} lines, {state.outcomes_seen:,} outcomes)" in told
    # the outcomes a history was given are told: two homes with the same lines, one given a
    # week's outcomes, scored the same batch differently with reports that read the same
    told_more = copy.deepcopy(late)
    told_more.pipeline.state_.outcomes_seen += 56
    again = screen_file(tmp_path / "a.parquet", tmp_path / "o3.parquet", scorer=told_more)
    assert again.inputs[-1] != told and f"{state.outcomes_seen + 56:,} outcomes" in again.inputs[-1]


def test_the_drift_check_leaves_out_lines_with_approximate_history(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A past period screened again has its windowed counts and value norms read from a history
    that no longer holds its days: on the quickstart world a day screened again 13 months on
    warned that the scores and 32 features had shifted, a false call to retrain."""
    lines = arrivals.sort_values("filed_at").head(1200).reset_index(drop=True)
    lines.to_parquet(tmp_path / "a.parquet", index=False)
    # every line older than the 7 days the state keeps exact: no line compared, and said so
    late = copy.copy(trained.scorer)
    late.pipeline = copy.deepcopy(trained.scorer.pipeline)
    late.pipeline.state_.as_of += 400 * 86_400
    summary = screen_file(
        tmp_path / "a.parquet", tmp_path / "o.parquet", scorer=late, report_path=tmp_path / "r.html"
    )
    assert summary.approximate == summary.drift_left_out == 1200
    assert summary.drift is None and summary.drift_warnings == summary.drift_notes == []
    told = summary.drift_left_out_note
    assert told is not None and told.startswith("no line compared: all 1,200 lines")
    assert told in html.unescape((tmp_path / "r.html").read_text())
    assert summary.as_dict()["drift_left_out"] == 1200
    # some older than that, some not: only the exact ones are compared
    filed = pd.to_datetime(lines["filed_at"], utc=True)
    middle = filed.iloc[600]
    mixed = copy.copy(trained.scorer)
    mixed.pipeline = copy.deepcopy(trained.scorer.pipeline)
    mixed.pipeline.state_.as_of = int((middle + pd.Timedelta(days=7)).timestamp())
    summary = screen_file(tmp_path / "a.parquet", tmp_path / "o2.parquet", scorer=mixed)
    ranked = pd.read_parquet(tmp_path / "o2.parquet")
    approximate = ranked["approximate_history"]
    assert 0 < approximate.sum() < len(ranked)
    assert summary.drift_left_out == summary.approximate == approximate.sum()
    assert summary.drift is not None
    exact = ranked[~approximate]
    assert summary.bands["red"][1] == pytest.approx((exact["band"] == "red").mean())
    assert summary.bands["red"][1] != pytest.approx((ranked["band"] == "red").mean())
    told = summary.drift_left_out_note
    assert told is not None and told.startswith(
        f"{approximate.sum():,} lines left out of the comparison: they have approximate"
    )
    # none approximate: nothing said
    summary = screen_file(tmp_path / "a.parquet", tmp_path / "o3.parquet", scorer=trained.scorer)
    assert summary.drift_left_out == 0 and summary.drift_left_out_note is None


def test_the_scorer_tells_approximate_history_line_by_line_before_its_state_advances(
    trained,
) -> None:  # type: ignore[no-untyped-def]
    scorer = copy.copy(trained.scorer)
    scorer.pipeline = copy.deepcopy(trained.scorer.pipeline)
    as_of = scorer.pipeline.as_of_
    world, _, _ = small_world()
    filed = pd.to_datetime(world.shipments["filed_at"], utc=True)
    # Three weeks of lines filed after the cut-off (one in five, to keep it quick).
    weeks = world.shipments[(filed >= as_of) & (filed < as_of + pd.Timedelta(days=21))]
    lines = validate_frame(weeks.iloc[::5].reset_index(drop=True), "shipments").accepted
    filed = pd.to_datetime(lines["filed_at"], utc=True)
    assert filed.max() - filed.min() > pd.Timedelta(days=14)
    # Lines filed after the cut-off are exact, scored and added as screening does ...
    scored = scorer.score(lines, remember=True, explain_reasons=False)
    assert not scored["approximate_history"].any()
    # ... and once the state is past them, the ones filed over 7 days before it are not.
    late = filed < scorer.pipeline.as_of_ - pd.Timedelta(days=7)
    assert late.any() and not late.all()
    again = scorer.score(lines, explain_reasons=False)
    assert again["approximate_history"].tolist() == late.tolist()


def test_the_collector_is_raised_while_a_batch_is_screened_and_restored_after(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    arrivals.head(200).to_parquet(tmp_path / "a.parquet", index=False)
    before = gc.get_threshold()
    during: list[tuple[int, int, int]] = []
    screen_file(
        tmp_path / "a.parquet",
        tmp_path / "o.parquet",
        scorer=trained.scorer,
        progress=lambda _: during.append(gc.get_threshold()),
    )
    assert during and all(t[0] > before[0] for t in during)
    assert gc.get_threshold() == before
    with pytest.raises(Exception, match="no such file"):
        screen_file(tmp_path / "missing.parquet", tmp_path / "o2.parquet", scorer=trained.scorer)
    assert gc.get_threshold() == before


def test_a_screening_that_fails_half_way_leaves_no_partial_rejects_file(
    trained, arrivals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import models.screening as screening

    batch = arrivals.sort_values("filed_at").head(3000).astype(str)
    batch.loc[batch.index[5], "eta"] = "2025-13-45"  # a reject in the first chunk
    batch.to_csv(tmp_path / "arrivals.csv", index=False)
    scored = screening._score_chunk
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return scored(*args, **kwargs)

    monkeypatch.setattr(screening, "_score_chunk", failing)
    with pytest.raises(OSError, match="No space left"):
        screen_file(
            tmp_path / "arrivals.csv",
            tmp_path / "ranked.csv",
            scorer=trained.scorer,
            rejects_path=tmp_path / "rejects.csv",
            chunk_rows=1000,
        )
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrivals.csv"]


def test_the_progress_counts_the_scored_lines_again_when_the_file_is_read_whole_first(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Out of filing order, the file is read whole before the first line is scored: the bar
    # stood at the last line read through the whole scoring.
    class Bar:
        def __init__(self) -> None:
            self.counts: list[int | str] = []

        def __call__(self, rows: int) -> None:
            self.counts.append(rows)

        def phase(self, text: str) -> None:
            self.counts.append(text)

    batch = arrivals.head(2500)
    for name, frame in (
        ("filed", batch.sort_values("filed_at")),
        ("shuffled", batch.sample(frac=1, random_state=2)),
    ):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        bar = Bar()
        screen_file(
            tmp_path / f"{name}.parquet",
            tmp_path / "out.parquet",
            scorer=trained.scorer,
            chunk_rows=1000,
            progress=bar,
        )
        if name == "filed":
            assert bar.counts == [1000, 1000, 500]  # the lines read, once
        else:
            at = bar.counts.index("lines scored in filing order")
            assert sum(bar.counts[:at]) == sum(bar.counts[at + 1 :]) == 2500  # type: ignore[arg-type]


def test_a_batch_filed_days_after_the_history_ends_is_told_how_far(
    trained, arrivals, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A newly promoted champion's history ends at its training's cut-off; the next day's
    # screening, days on, scored without the lines between, and said nothing.
    cut = pd.Timestamp(trained.scorer.pipeline.as_of_)
    filed = pd.to_datetime(arrivals["filed_at"], utc=True)
    found = {}
    for days in (0, 5):
        later = arrivals[filed >= cut + pd.Timedelta(days=days)].head(300)
        later.to_parquet(tmp_path / "later.parquet", index=False)
        summary = screen_file(
            tmp_path / "later.parquet", tmp_path / "out.parquet", scorer=trained.scorer
        )
        found[days] = summary.history_gap_days
    assert found[0] < 1 and 5 <= found[5] < 6
    assert summary.as_dict()["history_gap_days"] == round(found[5], 2)


def test_a_screening_that_fails_before_its_outputs_are_named_keeps_no_history(
    trained, arrivals, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    # The history was saved before the list and the report were written: a stop or a full
    # disk after it left no list, and the rerun, the batch now in the history, gave another.
    from models import screen_report
    from risk_engine.errors import OutputUnwritable

    path = tmp_path / "arrivals.parquet"
    arrivals.head(300).to_parquet(path, index=False)

    def full(page: Path, *_: Any, **__: Any) -> Path:
        raise OutputUnwritable(str(page), "No space left on device")

    monkeypatch.setattr(screen_report, "write_page", full)
    kept: list[Any] = []
    outputs = [tmp_path / "ranked.csv", tmp_path / "rejects.csv", tmp_path / "r.html"]

    def screen() -> Any:
        return screen_file(
            path,
            outputs[0],
            scorer=trained.scorer,
            rejects_path=outputs[1],
            report_path=outputs[2],
            keep_history=kept.append,
        )

    with pytest.raises(OutputUnwritable):
        screen()
    assert kept == []  # the history as it was: the same batch screened again gives the same list
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrivals.parquet"]  # no output
    monkeypatch.undo()
    summary = screen()
    assert len(kept) == 1 and all(p.exists() for p in outputs)
    assert summary.report_path == str(outputs[2])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".partial-")]
