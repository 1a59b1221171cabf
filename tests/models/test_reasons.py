"""Reasons: the array form of ``explain`` tells exactly what the plain per-row reading does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features import catalogue
from models import reasons
from models.reasons import explain, group_contributions
from training.fixtures import small_training


def _plain(contrib: np.ndarray, features: pd.DataFrame, names: list[str], top: int) -> list:
    """The rule written the slow, obvious way: groups by summed contribution, then the group's
    features by decreasing contribution until one has something to say; groups until ``top``
    have said something."""
    groups: dict[str, list[int]] = {}
    for column, name in enumerate(names):
        groups.setdefault(catalogue.by_name(name).family, []).append(column)
    out = []
    for row in range(len(contrib)):
        sums = {g: contrib[row, cols].sum() for g, cols in groups.items()}
        ranked = sorted(groups, key=lambda g: -sums[g])  # stable: catalogue order on ties
        sentences = []
        for g in ranked:
            if sums[g] <= 0 or len(sentences) == top:
                break
            for column in sorted(groups[g], key=lambda c: -contrib[row, c]):
                if contrib[row, column] <= 0:
                    break
                value = features[names[column]].astype(object).iloc[row]
                text = catalogue.reason(names[column], value)
                unseen_if = catalogue.by_name(names[column]).unseen_if
                if unseen_if and not pd.isna(value) and pd.isna(features[unseen_if].iloc[row]):
                    text = catalogue.unseen_reason(names[column], value)  # party never seen
                entity = catalogue.by_name(names[column]).present_if
                if entity and pd.isna(value) and pd.isna(features[entity].iloc[row]):
                    text = ""  # no such party on the line: nothing to tell of its history
                if text:
                    sentences.append(text)
                    break
        out.append(sentences)
    return out


def test_array_explain_equals_the_plain_reading() -> None:
    scorer = small_training().scorer
    names = scorer.feature_names
    features = scorer.features(small_training().test_lines.head(300)).reset_index(drop=True)
    rng = np.random.default_rng(0)
    contrib = rng.normal(size=(len(features), len(names) + 1))
    contrib[rng.random(contrib.shape) < 0.5] = 0.0  # ties and zero contributions
    # Missing values in strong features make the fallback to the next feature run.
    assert features.isna().to_numpy().any()
    reasons._SENTENCES.clear()
    for _ in range(2):  # sentences written fresh, then read from what earlier calls wrote
        for top in (1, 3, 5):
            want = _plain(contrib, features, names, top)
            assert explain(contrib, features, names, top=top) == want
    assert reasons._SENTENCES  # the table is in use (NaN values included, keyed by a marker)


def test_values_read_from_the_model_matrix_tell_what_the_frame_tells() -> None:
    # The scorer hands explain its model matrix: float values (and whether a party is on the
    # line) are read from it, categories from the frame; the sentences are the same.
    from models.scorer import _matrix

    scorer = small_training().scorer
    names = scorer.feature_names
    features = scorer.features(small_training().test_lines.head(300)).reset_index(drop=True)
    rng = np.random.default_rng(1)
    contrib = rng.normal(size=(len(features), len(names) + 1))
    contrib[rng.random(contrib.shape) < 0.5] = 0.0
    columns = _matrix(features, names)
    assert 0 < len(columns.position) < len(names)  # floats from the matrix, categories not
    for top in (1, 3, 5):
        want = explain(contrib, features, names, top=top)
        assert explain(contrib, features, names, top=top, floats=columns) == want


def test_a_party_not_on_the_line_is_not_told_as_never_seen() -> None:
    # Row 0 has no consignee named (TO ORDER: its history is NaN), row 1 a consignee never
    # seen before (no line in 30 days, no first sighting). "consignee never seen before" was told
    # of every TO ORDER line whose missing history raised its score.
    names = ["consignee_lines_30d", "consignee_days_known", "shipper_lines_30d"]
    features = pd.DataFrame(
        {
            "consignee_lines_30d": [np.nan, 0.0],
            "consignee_days_known": [np.nan, np.nan],
            "shipper_lines_30d": [4.0, 4.0],
        }
    )
    contrib = np.array([[0.0, 2.0, 1.0, 0.0], [0.0, 2.0, 1.0, 0.0]])
    told = explain(contrib, features, names, top=3)
    assert told[1] == ["consignee never seen before"]
    assert told[0] == ["shipper: 4 lines in the previous 30 days"]
    # on the matrix path a model without the telling column says it as before
    alone = explain(contrib[:, [1, 3]], features[["consignee_days_known"]], names[1:2])
    assert alone == [["consignee never seen before"]] * 2
    assert features["consignee_days_known"].isna().all()  # the frame is not written to


def test_a_never_seen_partys_rate_is_told_as_the_overall_rate() -> None:
    # Row 0's shipper was never seen (no first sighting): its rate is the overall rate, the
    # smoothing's prior. "shipper: estimated seizure rate 2.2%" read as a shipper with a record.
    names = ["shipper_days_known", "shipper_seizure_rate", "consignee_seizure_rate"]
    features = pd.DataFrame(
        {
            "shipper_days_known": [np.nan, 40.0],
            "shipper_seizure_rate": [0.0221, 0.0117],
            "consignee_seizure_rate": [0.0221, 0.0221],
        }
    )
    contrib = np.array([[0.0, 2.0, 1.0, 0.0], [0.0, 2.0, 1.0, 0.0]])
    told = explain(contrib, features, names, top=3)
    assert told[0] == ["shipper never seen before: overall seizure rate 2.2%"]
    assert told[1] == ["shipper: estimated seizure rate 1.2%"]
    # a rate without its party's first sighting in the frame is told as before
    alone = explain(contrib[:, [1, 3]], features[["shipper_seizure_rate"]], names[1:2])
    assert alone == [
        ["shipper: estimated seizure rate 2.2%"],
        ["shipper: estimated seizure rate 1.2%"],
    ]


def test_a_group_with_nothing_to_tell_gives_way_to_the_next_group() -> None:
    # Row 0's strongest group (parties) has only a TO ORDER consignee's missing history to
    # tell, which says nothing: the third group that raised the score is told in its place,
    # where the line was left with one reason.
    names = ["consignee_lines_30d", "consignee_days_known", "amendment_count", "hs_chapter"]
    features = pd.DataFrame(
        {
            "consignee_lines_30d": [np.nan, 2.0],
            "consignee_days_known": [np.nan, 10.0],
            "amendment_count": [3.0, 3.0],
            "hs_chapter": pd.Categorical(["03", "03"]),
        }
    )
    contrib = np.array([[0.0, 3.0, 2.0, 1.0, 0.0], [0.0, 3.0, 2.0, 1.0, 0.0]])
    told = explain(contrib, features, names, top=2)
    fish = "HS chapter 03 (Fish and crustaceans, molluscs and other aquatic invertebrates)"
    assert told[0] == ["3 amendments", fish]
    assert told[1] == ["consignee first seen 10 days before filing", "3 amendments"]
    # a group that lowered the score is never told, however few the reasons
    contrib[:, 3] = -1.0
    assert explain(contrib, features, names, top=2)[0] == ["3 amendments"]


def test_a_container_count_of_none_is_not_told() -> None:
    # A count that includes the line itself reads 0 only where the state no longer holds its
    # history (a line filed long before the state's cut-off): "0 containers of this pair on this
    # voyage" was told as a reason; the group's next feature is told instead.
    names = ["pair_voyage_containers", "pair_voyage_bls", "bl_containers"]
    features = pd.DataFrame(
        {
            "pair_voyage_containers": [0.0, 1.0, 4.0],
            "pair_voyage_bls": [2.0, 0.0, 0.0],
            "bl_containers": [0.0, 0.0, 0.0],
        }
    )
    contrib = np.array([[2.0, 1.0, 0.5, 0.0]] * 3)
    told = explain(contrib, features, names, top=3)
    assert told == [
        ["2 B/Ls of this pair on this voyage"],
        ["1 container of this pair on this voyage"],
        ["4 containers of this pair on this voyage"],
    ]
    assert catalogue.reason("bl_containers", 0.0) == ""
    assert catalogue.reason("bl_containers", 1.0) == "1 container on this B/L"


def test_a_rate_not_above_the_overall_rate_is_not_told() -> None:
    # With the overall rate at 2.2 %: a hub at 0.7 % raising the score through its splits is
    # not a reason an officer can use, nor a lane at 2.2 % (never inspected: the overall rate
    # as its own); the group's next feature, or the next group, is told. A party never seen
    # keeps its text, which says the rate is the overall one.
    names = ["hub_seizure_rate", "lane_seizure_rate", "n_transshipments", "hs4_seizure_rate"]
    names += ["shipper_days_known", "shipper_seizure_rate"]
    features = pd.DataFrame(
        {
            "hub_seizure_rate": [0.007, 0.054, 0.0224],
            "lane_seizure_rate": [0.022, 0.01, 0.01],
            "n_transshipments": [2.0, 2.0, 2.0],
            "hs4_seizure_rate": [0.0185, 0.0185, 0.0236],
            "shipper_days_known": [np.nan, np.nan, 4.0],
            "shipper_seizure_rate": [0.0221, 0.0221, 0.0221],
        }
    )
    contrib = np.array([[3.0, 2.0, 0.5, 1.0, 0.0, 0.2, 0.0]] * 3)
    told = explain(contrib, features, names, top=3, overall=0.0221)
    assert told == [
        ["2 transshipments", "shipper never seen before: overall seizure rate 2.2%"],
        [
            "transshipment port: estimated seizure rate 5.4%",
            "shipper never seen before: overall seizure rate 2.2%",
        ],
        ["2 transshipments", "HS heading: estimated seizure rate 2.4%"],
    ]
    # without the overall rate (a caller that has none) every rate is told as before
    assert explain(contrib, features, names, top=1)[0] == [
        "transshipment port: estimated seizure rate 0.7%"
    ]


def test_no_rows_and_no_positive_groups() -> None:
    scorer = small_training().scorer
    names = scorer.feature_names
    features = scorer.features(small_training().test_lines.head(5)).reset_index(drop=True)
    assert explain(np.zeros((0, len(names) + 1)), features.head(0), names) == []
    assert explain(-np.ones((5, len(names) + 1)), features, names) == [[]] * 5


def test_few_and_many_rows_sum_the_groups_to_the_same_floats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A few rows are summed in one np.add.at, more column by column: bit for bit the same.
    from models import reasons as module

    names = small_training().scorer.feature_names
    rng = np.random.default_rng(3)
    shape = (60, len(names) + 1)
    contrib = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape)
    contrib[rng.random(shape) < 0.3] = 0.0
    contrib[rng.random(shape) < 0.1] = -0.0
    groups, few = group_contributions(contrib, names)
    monkeypatch.setattr(module, "_FEW_ROWS", 0)
    same_groups, many = group_contributions(contrib, names)
    assert groups == same_groups
    assert np.array_equal(few.view(np.int64), many.view(np.int64))
