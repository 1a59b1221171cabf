"""Categorical features: their raw values, the vocabulary learned at fit, and the encoding.

A categorical column comes out as a pandas ``category`` whose categories are the vocabulary
stored in the state (every value seen at fit, sorted) plus `OTHER`. A value not in the vocabulary
(first seen after fit) becomes `OTHER`; a missing value stays missing (NaN). The vocabulary is
frozen at fit: `update` adds history, never categories, so a trained model's inputs keep their
meaning.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.batch import Batch
from features.keys import text_array
from features.row import origin_country

__all__ = ["OTHER", "categorical_values", "encode", "learn_vocabulary"]

OTHER = "__other__"


def categorical_values(batch: Batch) -> dict[str, pa.Array]:
    """Raw text of each categorical feature (missing as null), aligned with the batch rows."""

    def text(name: str) -> pa.Array:
        return text_array(batch.column(name))

    hs = text("hs_code")
    loading = text("port_of_loading")
    return {
        "port_of_loading": loading,
        "port_of_discharge": text("port_of_discharge"),
        "transshipment_port": text_array(batch.last_hub),
        "loading_country": pc.utf8_slice_codeunits(loading, 0, 2),
        "origin_country": text_array(
            origin_country(batch.column("country_of_origin"), batch.column("port_of_loading"))
        ),
        "shipper_country": text("shipper_country"),
        "carrier_code": text("carrier_code"),
        "hs_chapter": pc.utf8_slice_codeunits(hs, 0, 2),
        "hs_heading": pc.utf8_slice_codeunits(hs, 0, 4),
        "container_size_type": text("container_size_type"),
    }


def learn_vocabulary(batch: Batch) -> dict[str, tuple[str, ...]]:
    """Every value each categorical feature takes in the fit data, sorted."""
    return {
        name: tuple(sorted(str(v) for v in pc.unique(values.drop_null()).to_pylist()))
        for name, values in categorical_values(batch).items()
    }


@lru_cache(maxsize=64)
def _dtype(vocabulary: tuple[str, ...]) -> tuple[pd.CategoricalDtype, pd.Index]:
    categories = pd.Index([*vocabulary, OTHER], dtype=object)
    return pd.CategoricalDtype(categories), categories


def encode(values: pa.Array, vocabulary: tuple[str, ...]) -> pd.Categorical:
    """Values as a categorical over ``vocabulary + (OTHER,)``; missing stays missing."""
    dtype, categories = _dtype(vocabulary)
    encoded = pc.dictionary_encode(values)
    distinct = categories.get_indexer(encoded.dictionary.to_numpy(zero_copy_only=False))
    distinct[(distinct < 0) | (distinct == len(vocabulary))] = len(vocabulary)  # unseen: OTHER
    distinct = np.append(distinct, -1)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    return pd.Categorical.from_codes(distinct[codes], dtype=dtype)
