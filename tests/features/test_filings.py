"""A line sent again, amended, with another consignee than its first filing is told so: across
batches as within one, point in time, and by a history saved before consignees were kept."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
from feature_data import ISO, normalise, raw_history

from features.batch import Batch
from features.catalogue import reason
from features.pipeline import FeaturePipeline
from features.state import CONSIGNEE_MARK, LINE_KEY, LINE_VERSION, FeatureState


def _filed_and_amended() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """History, ten lines filed after it, and the same ten lines sent again amended five hours
    later: the first three to another consignee, the next three to the same consignee written
    otherwise ("Consignee 2 Co., Ltd" as CONSIGNEE 2 CO LTD), the rest as they were."""
    raw = raw_history(200, seed=5).sort_values("filed_at", kind="stable")
    raw = raw.reset_index(drop=True)
    history, filed = raw.iloc[:150], raw.iloc[150:160]
    amended = filed.copy()
    amended["amendment_count"] = 1
    amended["last_amended_at"] = (
        pd.to_datetime(filed["filed_at"], utc=True) + pd.Timedelta(hours=5)
    ).dt.strftime(ISO)
    names = amended["consignee_name"].to_numpy(dtype=object)
    names[:3] = "OTHER PARTY TRADING"
    names[3:6] = [n.upper().replace(",", "").replace(".", "") for n in names[3:6]]
    amended["consignee_name"] = names
    return normalise(history), normalise(filed), normalise(amended)


CHANGED = [1.0, 1.0, 1.0] + [0.0] * 7


def test_a_line_sent_again_with_another_consignee_is_told_and_one_spelled_otherwise_is_not() -> (
    None
):
    history, filed, amended = _filed_and_amended()
    assert (filed["consignee_name"].iloc[3:6] != amended["consignee_name"].iloc[3:6]).all()
    fitted = FeaturePipeline().fit(history)
    # Across batches: the first filings are new (NaN), the amendments read against them.
    across = copy.deepcopy(fitted)
    first = across.transform_update(filed)["consignee_changed"]
    assert first.isna().all()
    later = across.transform_update(amended)["consignee_changed"]
    assert later.tolist() == CHANGED
    # Scored again, each filing reads as it did (the original is no change of itself).
    assert across.transform(filed)["consignee_changed"].isna().all()
    assert across.transform(amended)["consignee_changed"].tolist() == CHANGED
    # After `update`, as after `transform_update`; and the API's path (`transform`) alike.
    stepwise = copy.deepcopy(fitted).update(filed)
    assert stepwise.transform(amended)["consignee_changed"].tolist() == CHANGED
    # Within one batch, in filing order or not: the amendment sees its first filing.
    both = pd.concat([filed, amended], ignore_index=True)
    want = [np.nan] * 10 + CHANGED
    for frame in (both, both.iloc[::-1]):
        one = copy.deepcopy(fitted)
        got = one.transform_update(frame)["consignee_changed"].loc[both.index]
        np.testing.assert_array_equal(got.to_numpy(), np.array(want))
        assert one.transform(amended)["consignee_changed"].tolist() == CHANGED
        fresh = copy.deepcopy(fitted).transform(frame)["consignee_changed"].loc[both.index]
        np.testing.assert_array_equal(fresh.to_numpy(), np.array(want))
    trained = FeaturePipeline().fit_transform(pd.concat([history, both], ignore_index=True))
    np.testing.assert_array_equal(trained["consignee_changed"].tail(20).to_numpy(), want)
    # The officer reads it; a line filed once says nothing.
    assert reason("consignee_changed", 1.0) == "consignee changed since the line was first filed"
    assert reason("consignee_changed", 0.0) == "consignee as first filed"
    assert reason("consignee_changed", float("nan")) == ""


def test_the_first_consignee_is_kept_while_the_line_is_held_after_it_leaves_the_buffer() -> None:
    history, filed, amended = _filed_and_amended()
    # A buffer of one hour: the first filings leave it for the past keys when the next
    # lines come, and are still read against.
    pipeline = FeaturePipeline(label_lookback_days=1 / 24).fit(history)
    pipeline.transform_update(filed)
    later = filed.assign(filed_at=filed["filed_at"] + pd.Timedelta(days=2))
    later["container_number"] = history["container_number"].head(10).to_numpy()
    pipeline.transform_update(later)
    state = pipeline.state_
    keys = Batch(filed, token_buckets=1).shipment
    assert not np.isin(keys, state.recent[LINE_KEY].to_numpy()).any()
    assert state.holds(keys).all() and (state.past_consignees != 0).all()
    assert pipeline.transform(amended)["consignee_changed"].tolist() == CHANGED


def test_a_history_saved_before_consignees_were_kept_loads_and_scores() -> None:
    history, filed, amended = _filed_and_amended()
    pipeline = FeaturePipeline(label_lookback_days=1.0).fit(history)
    pipeline.transform_update(filed.head(5))
    # The other five filed a month later: the first five leave the buffer for the past keys.
    month = filed["filed_at"].max() + pd.Timedelta(days=30)
    moved = filed.iloc[5:].assign(filed_at=month)
    pipeline.transform_update(moved)
    saved = pipeline.state_.__getstate__()
    del saved["past_consignees"]
    saved["recent"] = saved["recent"].drop(columns=[CONSIGNEE_MARK, LINE_VERSION])
    old = FeatureState.__new__(FeatureState)
    old.__setstate__(pickle.loads(pickle.dumps(saved)))
    assert len(old.past_consignees) == len(old.past_keys) and not old.past_consignees.any()
    restored = copy.deepcopy(pipeline)
    restored.state_ = old
    # The amendments: the buffer's consignees are read from the names it holds; the past
    # keys' cannot be told (NaN).
    resent = amended.copy()
    resent.loc[resent.index[5:], "filed_at"] = month
    resent.loc[resent.index[5:], "last_amended_at"] = month + pd.Timedelta(hours=5)
    got = restored.transform(resent)["consignee_changed"].to_numpy()
    assert np.isnan(got[:5]).all() and got[5:].tolist() == CHANGED[5:]
    assert pipeline.transform(resent)["consignee_changed"].tolist() == CHANGED
    other = resent.iloc[5:].assign(consignee_name="OTHER PARTY TRADING")
    assert (restored.transform(other)["consignee_changed"] == 1.0).all()
    # It screens on, keeping the consignees of the lines it adds.
    newer = filed.iloc[5:].assign(
        filed_at=month + pd.Timedelta(hours=1),
        container_number=history["container_number"].head(5).to_numpy(),
    )
    restored.transform_update(newer)
    marks, _ = restored.state_.first_filings(Batch(newer, token_buckets=1).shipment)
    assert marks.all()
