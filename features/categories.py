"""Categorical features: their raw values, the vocabulary learned at fit, and the encoding.

A categorical column comes out as a pandas ``category`` whose categories are the vocabulary
stored in the state (every value seen at fit, sorted) plus `OTHER`. A value not in the vocabulary
(first seen after fit) becomes `OTHER`; a missing value stays missing (NaN). The vocabulary is
frozen at fit: `update` adds history, never categories, so a trained model's inputs keep their
meaning.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.batch import Batch
from features.keys import dictionary_codes
from features.memo import per_row
from features.row import last_port_text, origin_country_text

__all__ = [
    "OTHER",
    "categorical_dtype",
    "categorical_values",
    "encode",
    "encoded_values",
    "learn_vocabulary",
]

OTHER = "__other__"


def _text(values: pa.Array) -> pa.Array:
    return values


def _prefix(length: int) -> Callable[[pa.Array], pa.Array]:
    return lambda values: pc.utf8_slice_codeunits(values, 0, length)


# Each categorical feature: the contract columns it is read from, and how.
_SOURCES: dict[str, tuple[tuple[str, ...], Callable[..., pa.Array]]] = {
    "port_of_loading": (("port_of_loading",), _text),
    "port_of_discharge": (("port_of_discharge",), _text),
    "transshipment_port": (("transshipment_ports",), last_port_text),
    "loading_country": (("port_of_loading",), _prefix(2)),
    "origin_country": (("country_of_origin", "port_of_loading"), origin_country_text),
    "shipper_country": (("shipper_country",), _text),
    "carrier_code": (("carrier_code",), _text),
    "hs_chapter": (("hs_code",), _prefix(2)),
    "hs_heading": (("hs_code",), _prefix(4)),
    "container_size_type": (("container_size_type",), _text),
}


def categorical_values(batch: Batch) -> dict[str, pa.Array]:
    """Raw text of each categorical feature (missing as null), aligned with the batch rows."""
    return {
        name: read(*(batch.text(column) for column in columns))
        for name, (columns, read) in _SOURCES.items()
    }


def learn_vocabulary(batch: Batch) -> dict[str, tuple[str, ...]]:
    """Every value each categorical feature takes in the fit data, sorted."""
    return {
        name: tuple(sorted(str(v) for v in pc.unique(values.drop_null()).to_pylist()))
        for name, values in categorical_values(batch).items()
    }


@lru_cache(maxsize=64)
def _dtype(vocabulary: tuple[str, ...]) -> tuple[pd.CategoricalDtype, dict[str, int]]:
    categories = pd.Index([*vocabulary, OTHER], dtype=object)
    return pd.CategoricalDtype(categories), {value: i for i, value in enumerate(vocabulary)}


def categorical_dtype(vocabulary: tuple[str, ...]) -> pd.CategoricalDtype:
    """The dtype of a categorical feature: its fit vocabulary, then `OTHER`."""
    return _dtype(vocabulary)[0]


def _codes(values: pa.Array, vocabulary: tuple[str, ...]) -> npt.NDArray[np.int64]:
    """Category code of each value: its position in ``vocabulary``, OTHER's for a value not
    in it, -1 for a missing value."""
    position = _dtype(vocabulary)[1]
    other = len(vocabulary)  # unseen values (and OTHER itself)
    encoded = pc.dictionary_encode(values)
    distinct = [position.get(value, other) for value in encoded.dictionary.to_pylist()]
    lookup = np.array([*distinct, -1], dtype=np.int64)
    return np.asarray(lookup[dictionary_codes(encoded)], dtype=np.int64)


def encode(values: pa.Array, vocabulary: tuple[str, ...]) -> pd.Categorical:
    """Values as a categorical over ``vocabulary + (OTHER,)``; missing stays missing."""
    return pd.Categorical.from_codes(_codes(values, vocabulary), dtype=_dtype(vocabulary)[0])


def encoded_values(batch: Batch, vocab: dict[str, tuple[str, ...]]) -> dict[str, pd.Categorical]:
    """`encode` of every categorical feature of a batch against the state's vocabularies.

    The code of a row depends on its source values only, so it is remembered per values (see
    `features.memo`): the API sees the same ports, codes and routes over and over."""
    out: dict[str, pd.Categorical] = {}
    for name, (columns, read) in _SOURCES.items():
        vocabulary = vocab[name]

        def codes(
            *values: pa.Array,
            read: Callable[..., pa.Array] = read,
            vocabulary: tuple[str, ...] = vocabulary,
        ) -> npt.NDArray[np.int64]:
            return _codes(read(*values), vocabulary)

        found = per_row(
            ("category", name, vocabulary), [batch.text(c) for c in columns], codes, np.int64
        )
        # codes made above are in range: no need for pandas to check them again
        out[name] = pd.Categorical.from_codes(found, dtype=_dtype(vocabulary)[0], validate=False)
    return out
