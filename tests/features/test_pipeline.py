"""The feature pipeline: point in time, one code path for training, batch and API, nothing lost."""

from __future__ import annotations

import dataclasses
import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from feature_data import (
    START,
    assert_same_features,
    history_lines,
    normalise,
    outcomes_for,
    random_outcomes,
    raw_history,
)

from features.catalogue import CATALOGUE, CATEGORICAL, feature_names
from features.categories import OTHER
from features.pipeline import FeaturePipeline, NotFitted, split_last_filing
from risk_engine.errors import ContractViolation
from risk_engine.factories import shipment_frame

NON_LABEL = [f.name for f in CATALOGUE if not f.label_based and f.kind != "category"]


def _one_party_lines(times: list[str], *, bl_prefix: str = "B") -> pd.DataFrame:
    """Lines of one shipper and consignee at the given filing times, one B/L each."""
    frame = shipment_frame(len(times), seed=3)
    frame["filed_at"] = times
    frame["booking_created_at"] = ""
    frame["etd"] = ""
    frame["eta"] = "2026-01-01T00:00:00Z"
    frame["bl_number"] = [f"{bl_prefix}{i}" for i in range(len(times))]
    frame["shipper_name"] = "ACME EXPORT LTD"
    frame["consignee_name"] = "BETA IMPORT JSC"
    frame["shipper_country"] = "NG"
    frame["consignee_country"] = "VN"
    return normalise(frame)


def test_lines_filed_at_the_same_second_do_not_count_each_other() -> None:
    lines = _one_party_lines(
        ["2025-05-01T10:00:00Z"] * 3 + ["2025-05-01T10:00:01Z", "2025-05-02T10:00:00Z"]
    )
    features = FeaturePipeline().fit_transform(lines)
    assert features["shipper_lines_30d"].tolist() == [0, 0, 0, 3, 4]
    assert features["pair_lines_365d"].tolist() == [0, 0, 0, 3, 4]
    assert features["shipper_days_known"].isna().tolist() == [True, True, True, False, False]
    assert features["shipper_days_known"].iloc[3] == pytest.approx(1 / 86400)


def test_lines_filed_at_the_same_second_as_the_state_cut_do_not_see_each_other() -> None:
    lines = _one_party_lines(["2025-05-01T10:00:00Z"] * 2 + ["2025-05-03T10:00:00Z"] * 2)
    pipeline = FeaturePipeline().fit(lines.iloc[:2])
    features = pipeline.transform(lines.iloc[2:])
    assert features["shipper_lines_30d"].tolist() == [2, 2]


def test_windows_count_only_lines_inside_them() -> None:
    lines = _one_party_lines(
        ["2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z", "2025-05-01T00:00:00Z"]
    )
    features = FeaturePipeline().fit_transform(lines)
    last = features.iloc[2]
    assert (last["shipper_lines_30d"], last["shipper_lines_90d"]) == (1, 1)
    assert last["shipper_lines_365d"] == 2
    assert last["shipper_days_known"] == pytest.approx(120.0)


def test_prior_rate_ignores_seizures_recorded_after_as_of() -> None:
    lines = _one_party_lines(
        ["2025-05-01T00:00:00Z", "2025-05-04T00:00:00Z", "2025-05-08T00:00:00Z"]
    )
    seized = outcomes_for(lines, [0], delay_days=5.0)  # recorded 2025-05-06
    features = FeaturePipeline().fit_transform(lines, seized)
    rate = features["shipper_seizure_rate"]
    assert features["shipper_prior_seizures"].tolist() == [0, 0, 1]
    assert rate.iloc[0] == rate.iloc[1]  # nothing known yet: the prior
    assert rate.iloc[2] > 5 * rate.iloc[1]
    # the state cut before the record time does not know the seizure either
    as_of = FeaturePipeline().fit(lines, seized, until="2025-05-06T00:00:00Z")
    later = as_of.transform(lines.iloc[[2]])
    assert later["shipper_prior_seizures"].iloc[0] == 0
    assert later["shipper_seizure_rate"].iloc[0] == pytest.approx(rate.iloc[1], rel=0.05)


def test_a_line_never_sees_its_own_outcome_even_recorded_before_filing() -> None:
    lines = _one_party_lines(["2025-05-01T00:00:00Z", "2025-05-09T00:00:00Z"])
    own = outcomes_for(lines, [1], delay_days=-2.0)  # bad data: recorded before filing
    features = FeaturePipeline().fit_transform(lines, own)
    assert features["shipper_prior_seizures"].tolist() == [0, 0]
    assert features["shipper_seizure_rate"].iloc[1] == pytest.approx(
        features["shipper_seizure_rate"].iloc[0]
    )


def test_inconclusive_results_count_neither_way() -> None:
    lines = _one_party_lines(["2025-05-01T00:00:00Z", "2025-05-20T00:00:00Z"])
    unsure = outcomes_for(lines, [0], results=["INCONCLUSIVE"], delay_days=3.0)
    with_it = FeaturePipeline().fit_transform(lines, unsure)
    without = FeaturePipeline().fit_transform(lines)
    assert_same_features(with_it, without)


def test_batch_and_single_filing_paths_give_equal_features() -> None:
    lines = history_lines(160, seed=11)
    outcomes = random_outcomes(lines, seed=12)
    cut = lines["filed_at"].iloc[90]
    history, new = lines[lines["filed_at"] < cut], lines[lines["filed_at"] >= cut]
    known = outcomes[outcomes["recorded_at"] < cut]
    batch = FeaturePipeline().fit(history, known, until=cut).transform(new)

    single = FeaturePipeline().fit(history, known, until=cut)
    parts = []
    for _, filing in new.groupby("filed_at", sort=True):  # one manifest (a filing) per API call
        parts.append(single.transform(filing))
        single.update(filing)
    assert_same_features(batch, pd.concat(parts).loc[new.index])


def test_fit_until_then_transform_equals_fit_transform_after_the_cut() -> None:
    lines = history_lines(200, seed=21)
    outcomes = random_outcomes(lines, seed=22)
    cut = lines["filed_at"].iloc[120]
    later = lines[lines["filed_at"] >= cut]
    trained = FeaturePipeline().fit_transform(lines, outcomes)
    scored = FeaturePipeline().fit(lines, outcomes, until=cut).transform(later)
    assert_same_features(trained.loc[later.index, NON_LABEL], scored[NON_LABEL])


def test_late_filings_inside_the_rescore_window_get_exact_history() -> None:
    lines = history_lines(150, seed=31)
    late = lines.index[-30:-20]  # filed a few days before the end, arrive after the fit
    state = FeaturePipeline().fit(lines.drop(late))
    assert_same_features(
        FeaturePipeline().fit_transform(lines).loc[late, NON_LABEL],
        state.transform(lines.loc[late])[NON_LABEL],
    )


def test_outcomes_added_by_update_reach_lines_filed_earlier() -> None:
    lines = history_lines(160, seed=41)
    outcomes = random_outcomes(lines, seed=42, share=0.5)
    cut = lines["filed_at"].iloc[100]
    history, new = lines[lines["filed_at"] < cut], lines[lines["filed_at"] >= cut]
    known = outcomes[outcomes["recorded_at"] < cut]
    at_once = FeaturePipeline().fit(history, known, until=cut).transform(new)
    stepwise = FeaturePipeline().fit(history, until=cut).update(outcomes=known)
    assert stepwise.state_.outcomes_seen == len(known)
    assert_same_features(at_once, stepwise.transform(new))


def test_outcomes_of_unknown_lines_are_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    lines = history_lines(40, seed=51)
    stranger = outcomes_for(history_lines(5, seed=52), [0, 1])
    with caplog.at_level(logging.WARNING, logger="features.pipeline"):
        pipeline = FeaturePipeline().fit(lines, stranger)
    assert pipeline.state_.outcomes_unmatched == 2
    assert "match no known shipment line" in caplog.text


def test_state_survives_a_pickle_round_trip() -> None:
    lines = history_lines(120, seed=61)
    outcomes = random_outcomes(lines, seed=62)
    cut = lines["filed_at"].iloc[80]
    pipeline = FeaturePipeline().fit(lines, outcomes, until=cut)
    new = lines[lines["filed_at"] >= cut]
    copy = pickle.loads(pickle.dumps(pipeline))
    assert_same_features(pipeline.transform(new), copy.transform(new))
    assert copy.feature_names_ == pipeline.feature_names_


def test_a_history_keeps_the_name_rules_its_keys_were_made_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dotted initials are joined since stop 23 ("VERDE S.A." = "VERDE SA" = VERDE): a history
    made before keeps "VERDE S A" as its key, and scored by the new rules lost every such party
    (13.9 % of the quickstart year's lines), its scores shifting with no retraining."""
    from features import pipeline as module
    from features.keys import NAME_RULES
    from features.state import StateParams

    raw = raw_history(80, seed=63)
    raw["shipper_name"], raw["shipper_country"] = "EXPORTADORA VERDE S.A.", "BR"
    raw["goods_description"] = "BOIS SCIÉ"
    lines = normalise(raw)
    cut = lines["filed_at"].iloc[60]
    later = lines[lines["filed_at"] >= cut]
    monkeypatch.setattr(module, "NAME_RULES", 1)  # a history made before stop 23
    old = FeaturePipeline().fit(lines, until=cut)
    monkeypatch.undo()
    assert old.state_.params.name_rules == 1
    new = FeaturePipeline().fit(lines, until=cut)
    assert new.state_.params.name_rules == NAME_RULES
    for fitted in (old, pickle.loads(pickle.dumps(old)), new):
        features = fitted.transform(later)
        assert features["shipper_days_known"].notna().all()  # found, by its own rules
        assert (features["desc_token_inspections"] >= 0).all()
    # read by today's rules instead, the old history knows the party no more
    misread = pickle.loads(pickle.dumps(old))
    misread.state_.params = dataclasses.replace(misread.state_.params, name_rules=NAME_RULES)
    assert misread.transform(later)["shipper_days_known"].isna().any()
    # A state pickled before the field existed reads the rules of its time.
    fields = dict(StateParams(name_rules=2).__dict__)
    del fields["name_rules"]
    unpickled = StateParams.__new__(StateParams)
    unpickled.__dict__.update(fields)
    assert unpickled.name_rules == 1


def test_flagged_lines_and_lines_missing_optional_fields_keep_their_row() -> None:
    raw = raw_history(60, seed=71)
    number = str(raw.loc[3, "container_number"])
    raw.loc[3, "container_number"] = number[:-1] + ("0" if number[-1] != "0" else "1")  # flagged
    raw.loc[5, "port_of_loading"] = "ZZQQQ"  # well-formed, unknown: flagged
    blank = ["etd", "booking_created_at", "country_of_origin", "declared_value", "currency"]
    blank += ["container_size_type", "carrier_code", "freight_forwarder_name", "package_type"]
    raw.loc[7:12, blank] = ""
    raw.loc[9, "consignee_name"] = "TO ORDER"
    raw.loc[10, "transshipment_ports"] = ""
    lines = normalise(raw)
    shuffled = lines.sample(frac=1.0, random_state=1)  # any row order, any index
    features = FeaturePipeline().fit_transform(shuffled)
    assert len(features) == len(shuffled)
    assert features.index.equals(shuffled.index)
    assert list(features.columns) == feature_names()
    assert features.loc[lines.index[3], "dq_container_check_digit"] == 1
    assert features.loc[lines.index[5], "dq_unknown_port"] == 1
    assert features.loc[lines.index[5], "dq_flag_count"] == 1
    assert features.loc[lines.index[9], "consignee_to_order"] == 1
    assert np.isnan(features.loc[lines.index[9], "consignee_days_known"])
    assert features.loc[lines.index[8], "missing_optional_count"] >= len(blank)
    assert np.isnan(features.loc[lines.index[8], "hours_filing_to_departure"])


def test_keys_and_order_are_kept_through_transform() -> None:
    lines = history_lines(80, seed=81)
    pipeline = FeaturePipeline().fit(lines.iloc[:40])
    new = lines.iloc[40:].iloc[::-1]
    new.index = pd.Index([f"line-{i}" for i in range(len(new))])
    features = pipeline.transform(new)
    assert features.index.equals(new.index)
    same_order = pipeline.transform(new.sort_values("filed_at"))
    assert_same_features(features.loc[same_order.index], same_order)


def test_categories_have_a_fixed_vocabulary_and_an_other_code() -> None:
    lines = history_lines(50, seed=91)
    pipeline = FeaturePipeline().fit(lines)
    new = lines.iloc[:2].copy()
    new["port_of_loading"] = pd.Series(["ZZABC", pd.NA], index=new.index, dtype="string")
    features = pipeline.transform(new)
    assert pipeline.categorical_features_ == list(CATEGORICAL)
    for name in CATEGORICAL:
        assert isinstance(features[name].dtype, pd.CategoricalDtype)
        assert list(features[name].cat.categories)[-1] == OTHER
    assert features["port_of_loading"].iloc[0] == OTHER
    assert pd.isna(features["port_of_loading"].iloc[1])
    fitted = pipeline.transform(lines.iloc[:5])
    assert (
        fitted["port_of_loading"].astype(str).tolist() == lines["port_of_loading"].iloc[:5].tolist()
    )


def test_the_documented_conjunction_ranks_high_before_any_seizure() -> None:
    raw = raw_history(12, seed=101)
    raw["port_of_loading"] = "NGAPP"
    raw["country_of_origin"] = "NG"
    raw["transshipment_ports"] = "MYPKG"
    raw["port_of_discharge"] = "VNHPH"
    raw["hs_code"] = "080131"
    raw["goods_description"] = "RAW CASHEW NUTS IN SHELL"
    raw.loc[6:, "port_of_loading"] = "NLRTM"
    raw.loc[6:, "country_of_origin"] = "NL"
    raw.loc[6:, "shipper_country"] = "NL"
    raw.loc[6:, "hs_code"] = "847130"
    raw.loc[6:, "goods_description"] = "LAPTOP COMPUTERS"
    features = FeaturePipeline().fit_transform(normalise(raw))
    assert features["red_flag_conjunction"].tolist() == [1.0] * 6 + [0.0] * 6
    assert (features["red_flag_score"].iloc[:6] == 3).all()


def test_transform_before_fit_and_raw_text_frames_are_refused() -> None:
    with pytest.raises(NotFitted):
        FeaturePipeline().transform(history_lines(5, seed=1))
    with pytest.raises(ContractViolation, match="filed_at"):
        FeaturePipeline().fit(shipment_frame(5, seed=1))


def test_parameters_are_stored_as_given_and_the_state_is_learned() -> None:
    pipeline = FeaturePipeline(half_life_days=30.0, prior_strength=5.0)
    assert pipeline.get_params()["half_life_days"] == 30.0
    assert not hasattr(pipeline, "state_")
    pipeline.fit(history_lines(20, seed=2))
    assert pipeline.state_.params.prior_strength == 5.0
    assert pipeline.as_of_ > START


def test_frames_with_only_required_fields_or_no_rows_get_features() -> None:
    from risk_engine.columns import SHIPMENT_FIELDS

    lines = history_lines(50, seed=111)
    pipeline = FeaturePipeline().fit(lines.iloc[:30])
    required = [f.name for f in SHIPMENT_FIELDS if f.required]
    thin = pipeline.transform(lines.iloc[30:35][required])
    assert thin.shape == (5, len(feature_names()))
    assert thin["missing_optional_count"].tolist() == [19.0] * 5
    empty = pipeline.transform(lines.iloc[:0])
    assert list(empty.columns) == feature_names() and len(empty) == 0
    assert len(FeaturePipeline().fit_transform(lines.iloc[:0])) == 0


def test_chunked_scoring_that_carries_the_last_filing_over_equals_one_batch() -> None:
    lines = history_lines(240, seed=121).sort_values("filed_at")
    cut = lines["filed_at"].iloc[100]
    history, new = lines[lines["filed_at"] < cut], lines[lines["filed_at"] >= cut]
    batch = FeaturePipeline().fit(history, until=cut).transform(new)

    pipeline = FeaturePipeline().fit(history, until=cut)
    parts, carried = [], new.iloc[:0]
    for start in range(0, len(new), 25):  # chunks that cut through B/Ls
        ready, carried = split_last_filing(pd.concat([carried, new.iloc[start : start + 25]]))
        parts.append(pipeline.transform(ready))
        pipeline.update(ready)
    parts.append(pipeline.transform(carried))
    assert_same_features(batch, pd.concat(parts).loc[new.index])


def test_outcomes_alone_do_not_move_the_clock_and_still_count_from_when_recorded() -> None:
    # An outcome recorded after the last line (2030 typed for 2026, or only a month on) moved
    # `as_of` to its date: later lines then came out approximate and the events they need
    # were merged away.
    lines = history_lines(160, seed=43)
    outcomes = random_outcomes(lines, seed=44, share=0.5)
    cut = lines["filed_at"].iloc[100]
    history, new = lines[lines["filed_at"] < cut], lines[lines["filed_at"] >= cut]
    known = outcomes[outcomes["recorded_at"] < cut]
    pipeline = FeaturePipeline().fit(history, until=cut)
    as_of = pipeline.as_of_
    late = known.copy()
    late["recorded_at"] = pd.Timestamp("2030-01-02", tz="UTC")
    pipeline.update(outcomes=late)
    assert pipeline.as_of_ == as_of and pipeline.state_.outcomes_seen == len(late)
    # point in time: lines filed before 2030 do not know of outcomes recorded then
    assert_same_features(
        FeaturePipeline().fit(history, until=cut).transform(new), pipeline.transform(new)
    )
