"""`to_matrix` turns a feature frame into the booster's float matrix, column by column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.scorer import to_matrix


def _column_by_column(features: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The matrix as each column converts alone: categories as codes, the rest numeric."""
    columns = []
    for name in names:
        column = features[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy(dtype="float64")
            codes[codes < 0] = np.nan
            columns.append(codes)
        else:
            numeric = pd.to_numeric(column, errors="coerce")
            columns.append(numeric.to_numpy(dtype="float64", na_value=np.nan))
    return np.column_stack(columns) if columns else np.empty((len(features), 0))


def _features(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, 6))
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:1, 0] = -0.0
    frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(6)], index=rng.permutation(rows))
    frame["port"] = pd.Categorical(
        rng.choice(["VNHPH", "CNSHA", None], size=rows), categories=["CNSHA", "VNHPH", "__other__"]
    )
    frame["count"] = pd.array(rng.integers(0, 5, rows), dtype="Int64")
    frame.loc[frame.index[::4], "count"] = pd.NA
    frame["text"] = rng.choice(["1.5", "x", None], size=rows)
    frame["flag"] = rng.random(rows) < 0.5
    frame["small"] = rng.normal(size=rows).astype(np.float32)
    return frame


def test_the_matrix_equals_converting_each_column_alone() -> None:
    rng = np.random.default_rng(5)
    for rows in (0, 1, 7, 50):
        features = _features(rows, seed=rows)
        names = list(features.columns)
        for _ in range(20):
            picked = list(rng.permutation(names)[: rng.integers(0, len(names) + 1)])
            matrix = to_matrix(features, picked)
            expected = _column_by_column(features, picked)
            assert matrix.shape == expected.shape and matrix.dtype == np.float64
            assert matrix.flags.c_contiguous
            assert np.array_equal(matrix.view(np.int64), expected.view(np.int64))


def test_a_feature_named_twice_fills_both_columns() -> None:
    features = _features(10, seed=1)
    matrix = to_matrix(features, ["x1", "port", "x1"])
    assert np.array_equal(matrix[:, 0], matrix[:, 2], equal_nan=True)
