"""Goods descriptions: tokens, hashed token keys and the documented lexicon flags.

Descriptions repeat a lot, so each distinct description is tokenised once (Arrow string kernels)
and the result is spread back to the rows. A token is an upper-case word of two or more
characters, not a number or a stopword, with a trailing plural S removed ("LOGS" -> "LOG").
Tokens are hashed into a fixed number of buckets (the hashing trick), so the state's token
statistics stay bounded whatever the free text holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.keys import I64, U64, hash_values, text_array
from features.lexicons import (
    CITES_WORDS,
    COOLING_WORDS,
    COVER_LOAD_WORDS,
    GENERIC_WORDS,
    STOPWORDS,
    VAGUE_PHRASES,
)

__all__ = ["TOKEN_SALT", "Descriptions", "describe", "normalise_text"]

TOKEN_SALT = 0x70CE
_VAGUE = r"(^| )(" + "|".join(VAGUE_PHRASES) + r")( |$)"
B = npt.NDArray[np.bool_]


def normalise_text(array: pa.Array) -> pa.Array:
    """Upper case, every run of non-alphanumerics a single space, trimmed."""
    upper = pc.utf8_upper(array)
    spaced = pc.replace_substring_regex(upper, r"[^A-Z0-9]+", " ")
    return pc.utf8_trim_whitespace(spaced)


@dataclass(frozen=True)
class Descriptions:
    """Per-row description signals and the (row, token) pairs of a batch."""

    n_tokens: I64
    cover_word: B
    cites_word: B
    cooling_word: B
    vague: B
    pair_row: I64  # row of each (row, token) pair
    pair_token: U64  # hashed token bucket of each pair (never 0)


@cache
def _words(lexicon: frozenset[str]) -> pa.Array:
    return pa.array(sorted(lexicon), type=pa.large_string())


def _word_flags(words: pa.Array, parent: I64, n: int, lexicon: frozenset[str]) -> B:
    hit = np.asarray(pc.is_in(words, value_set=_words(lexicon)), dtype=bool)
    out = np.zeros(n, dtype=bool)
    out[parent[hit]] = True
    return out


def describe(description: pd.Series, *, buckets: int) -> Descriptions:
    """Tokens and lexicon flags of each row's goods description."""
    encoded = pc.dictionary_encode(text_array(description))
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    n_unique = len(encoded.dictionary)
    text = normalise_text(encoded.dictionary)
    lists = pc.split_pattern(pc.fill_null(text, ""), " ")
    words = pc.list_flatten(lists)
    parent = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
    # stem: trailing plural S off words longer than three letters that do not end in SS
    plural = pc.and_(
        pc.and_(pc.greater(pc.utf8_length(words), 3), pc.ends_with(words, "S")),
        pc.invert(pc.ends_with(words, "SS")),
    )
    words = pc.if_else(plural, pc.utf8_slice_codeunits(words, 0, -1), words)
    keep = pc.and_(
        pc.and_(
            pc.greater_equal(pc.utf8_length(words), 2),
            pc.invert(pc.utf8_is_numeric(words)),
        ),
        pc.invert(pc.is_in(words, value_set=_words(STOPWORDS))),
    )
    keep_np = np.asarray(keep, dtype=bool)
    words = pc.filter(words, keep)
    parent = parent[keep_np]

    generic = np.asarray(pc.is_in(words, value_set=_words(GENERIC_WORDS)), dtype=bool)
    specific = np.zeros(n_unique, dtype=bool)
    specific[parent[~generic]] = True
    phrase = np.asarray(pc.fill_null(pc.match_substring_regex(text, _VAGUE), False), dtype=bool)
    vague_u = phrase | ~specific

    # one pair per distinct (description, token)
    word_encoded = pc.dictionary_encode(words)
    word_codes = np.asarray(word_encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    word_uniques = word_encoded.dictionary
    word_keys = hash_values(word_uniques.to_numpy(zero_copy_only=False), TOKEN_SALT)
    bucket = (word_keys % np.uint64(buckets)) + np.uint64(1)
    pair = np.unique(parent * (len(word_uniques) + 1) + word_codes) if len(parent) else parent
    u_parent = pair // (len(word_uniques) + 1)
    u_word = pair % (len(word_uniques) + 1)
    counts = np.bincount(u_parent, minlength=n_unique).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    n = len(description)
    row_unique = codes.astype(np.int64)
    has = row_unique >= 0
    lens = np.where(has, counts[np.maximum(row_unique, 0)], 0)
    total = int(lens.sum())
    pair_row = np.repeat(np.arange(n, dtype=np.int64), lens)
    first = np.repeat(offsets[np.maximum(row_unique, 0)] - (np.cumsum(lens) - lens), lens)
    position = first + np.arange(total, dtype=np.int64)
    pair_token = bucket[u_word[position]] if total else np.zeros(0, dtype=np.uint64)

    def rows(flags: B) -> B:
        return np.where(has, flags[np.maximum(row_unique, 0)], False)

    return Descriptions(
        n_tokens=lens,
        cover_word=rows(_word_flags(words, parent, n_unique, COVER_LOAD_WORDS)),
        cites_word=rows(_word_flags(words, parent, n_unique, CITES_WORDS)),
        cooling_word=rows(_word_flags(words, parent, n_unique, COOLING_WORDS)),
        vague=np.where(has, vague_u[np.maximum(row_unique, 0)], True),
        pair_row=pair_row,
        pair_token=pair_token.astype(np.uint64),
    )
