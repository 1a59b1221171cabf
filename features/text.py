"""Goods descriptions: tokens, hashed token keys and the documented lexicon flags.

Descriptions repeat a lot, so each distinct description is tokenised once (Arrow string kernels)
and the result is spread back to the rows. A token is an upper-case word of two or more
characters, not a number or a stopword, with a trailing plural S removed ("LOGS" -> "LOG").
Tokens are hashed into a fixed number of buckets (the hashing trick), so the state's token
statistics stay bounded whatever the free text holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.keys import (
    I64,
    NAME_RULES,
    TEXT_RULES,
    U64,
    hash_values,
    normalise_text,
    text_array,
    text_matches,
    unspaced,
)
from features.lexicons import (
    CITES_COLOUR_MATERIALS,
    CITES_COLOURS,
    CITES_GOODS_WORDS,
    CITES_MATERIAL_PARTS,
    CITES_NOT,
    CITES_WOOD_COLOURS,
    CITES_WOOD_MATERIALS,
    CITES_WORDS,
    COLD_MEDICINE_WORDS,
    COOLING_WORDS,
    COVER_LOAD_NOT,
    COVER_LOAD_WORDS,
    GENERIC_WORDS,
    STOPWORDS,
    VAGUE_PHRASES,
)
from features.memo import SMALL_BATCH, remembered
from features.memo import encoded as memo_encoded

__all__ = ["TOKEN_SALT", "Descriptions", "describe", "lexicon_entries", "normalise_text"]

TOKEN_SALT = 0x70CE
_VAGUE = r"(^| )(" + "|".join(VAGUE_PHRASES) + r")( |$)"
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Descriptions:
    """Per-row description signals and the (row, token) pairs of a batch."""

    n_tokens: I64
    cover_word: B
    cites_word: B
    cooling_word: B
    vague: B
    # a CITES colour compound on a line naming goods made of the species ("IVORY WHITE
    # CARVINGS": `CITES_COLOURS`, `CITES_GOODS_WORDS`), and a medicine kept at 2-8 C
    # ("INSULIN", `COLD_MEDICINE_WORDS`); each counts under its HS codes (`features.row`)
    cites_colour_goods: B
    cold_medicine_word: B
    pair_row: I64  # row of each (row, token) pair
    pair_token: U64  # hashed token bucket of each pair (never 0)


@cache
def _lexicon(lexicon: frozenset[str]) -> pa.Array:
    return pa.array(sorted(lexicon), type=pa.large_string())


@cache
def lexicon_entries(lexicon: frozenset[str], *, stem: bool = True) -> tuple[pa.Array, str | None]:
    """A lexicon as descriptions are read (`normalise_text`, today's rules): its single words
    as tokens (stemmed as `_words` stems them, unless not ``stem``: names are not stemmed), and
    one pattern for its phrases ("NGA VOI") and its words of scripts written without spaces
    ("象牙"), None when it has neither."""
    text = normalise_text(pa.array(sorted(lexicon), type=pa.large_string()))
    single: list[str] = []
    spaced: list[str] = []
    bare: list[str] = []
    for entry in text.to_pylist():
        if unspaced(entry):
            bare.append(re.escape(entry))
        elif " " in entry:
            spaced.append(re.escape(entry))
        else:
            single.append(entry)
    words = pa.array(single, type=pa.large_string())
    if stem:
        words, _ = _words(words)
    parts = [f"(^| )({'|'.join(spaced)})( |$)"] if spaced else []
    parts += bare
    tokens = pa.array(sorted(set(words.to_pylist())), type=pa.large_string())
    return tokens, "|".join(parts) or None


_FLAG_LEXICONS = (COVER_LOAD_WORDS, CITES_WORDS, COOLING_WORDS, COLD_MEDICINE_WORDS)


# What each flag lexicon does not count: its words inside these compounds (`CITES_NOT`,
# `COVER_LOAD_NOT`).
_NOT_COUNTED = {CITES_WORDS: CITES_NOT, COVER_LOAD_WORDS: COVER_LOAD_NOT}


def _word_flags(text: pa.Array, words: pa.Array, parent: I64, lexicon: frozenset[str]) -> B:
    """Whether each normalised text holds a word or a phrase of ``lexicon`` (not counting the
    compounds it lists as other things, `_NOT_COUNTED`)."""
    excluded = _NOT_COUNTED.get(lexicon)
    if excluded is not None:
        _, skip = lexicon_entries(excluded, stem=False)
        if skip is not None and text_matches(text, skip).any():
            text = pc.replace_substring_regex(text, skip, " ")
            words, parent = _words(text)
    tokens, pattern = lexicon_entries(lexicon)
    hit = np.asarray(pc.is_in(words, value_set=tokens), dtype=bool)
    out = np.zeros(len(text), dtype=bool)
    out[parent[hit]] = True
    if pattern is not None:
        out |= text_matches(text, pattern)
    return out


def _colour_goods(text: pa.Array, words: pa.Array, parent: I64) -> B:
    """Whether each normalised text holds a CITES colour compound ("IVORY WHITE") and a word for
    goods made of the species ("CARVINGS"), and names no other material the goods are made of
    ("IVORY WHITE PORCELAIN FIGURINES": `CITES_COLOUR_MATERIALS`; wood, `CITES_WOOD_MATERIALS`,
    for the colours of ivory, coral and tortoiseshell only)."""
    _, colour = lexicon_entries(CITES_COLOURS, stem=False)
    if colour is None or not len(text):
        return np.zeros(len(text), dtype=bool)
    found = text_matches(text, colour)
    if not found.any():
        return found
    found &= _word_flags(text, words, parent, CITES_GOODS_WORDS)
    if not found.any():
        return found
    goods_text, goods_words, goods_parent = _without_parts(text, words, parent)
    material = _word_flags(goods_text, goods_words, goods_parent, CITES_COLOUR_MATERIALS)
    wood = _word_flags(goods_text, goods_words, goods_parent, CITES_WOOD_MATERIALS)
    _, wood_colour = lexicon_entries(CITES_WOOD_COLOURS, stem=False)
    _, animal_colour = lexicon_entries(CITES_COLOURS - CITES_WOOD_COLOURS, stem=False)
    by_wood = text_matches(text, wood_colour) if wood_colour else np.zeros(len(text), bool)
    by_animal = text_matches(text, animal_colour) if animal_colour else np.zeros(len(text), bool)
    return found & ~material & (by_wood | (by_animal & ~wood))


@cache
def _parts_pattern() -> str:
    """A material word followed by a part it makes (`CITES_MATERIAL_PARTS`: "RESIN BASE",
    "树脂底座"), as descriptions are read."""
    materials = normalise_text(
        pa.array(sorted(CITES_COLOUR_MATERIALS | CITES_WOOD_MATERIALS), type=pa.large_string())
    ).to_pylist()
    parts = normalise_text(
        pa.array(sorted(CITES_MATERIAL_PARTS), type=pa.large_string())
    ).to_pylist()
    spaced = "|".join(re.escape(m) for m in materials if not unspaced(m))
    spaced_parts = "|".join(re.escape(p) for p in parts if not unspaced(p))
    bare = "|".join(re.escape(m) for m in materials if unspaced(m))
    bare_parts = "|".join(re.escape(p) for p in parts if unspaced(p))
    return f"(^| )({spaced})S? ({spaced_parts})( |$)|({bare})({bare_parts})"


def _without_parts(text: pa.Array, words: pa.Array, parent: I64) -> tuple[pa.Array, pa.Array, I64]:
    """The texts without a material naming a part of the line ("WITH RESIN BASE"): what the
    goods themselves are made of is what is left."""
    pattern = _parts_pattern()
    if not text_matches(text, pattern).any():
        return text, words, parent
    text = pc.replace_substring_regex(text, pattern, " ")
    return (text, *_words(text))


def _flag_reading(
    descriptions: pa.Array, text: pa.Array, words: pa.Array, parent: I64, rules: int
) -> tuple[pa.Array, pa.Array, I64]:
    """The text the lexicon flags and the vague flag read: today's reading whatever the
    history's name ``rules``, so that the mandatory CITES rule finds "象牙" (ivory) for a model
    whose history reads such text as spaces."""
    if rules >= TEXT_RULES:  # read as today already
        return text, words, parent
    today = normalise_text(descriptions)
    return (today, *_words(today))


def describe(
    description: pd.Series | pa.Array, *, buckets: int, rules: int = NAME_RULES
) -> Descriptions:
    """Tokens and lexicon flags of each row's goods description (its text normalised by
    ``rules``, `features.keys.NAME_RULES`)."""
    array = description if isinstance(description, pa.Array) else text_array(description)
    if len(array) <= SMALL_BATCH:
        return _describe_few(array, buckets, rules)
    return _describe_many(array, buckets, rules)


def _words(text: pa.Array) -> tuple[pa.Array, I64]:
    """The tokens of normalised texts (stemmed, filtered) and the text each belongs to."""
    lists = pc.split_pattern(pc.fill_null(text, ""), " ")
    words = pc.list_flatten(lists)
    parent = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
    # stem: trailing plural S off words longer than three letters that do not end in SS
    plural = pc.and_(
        pc.and_(pc.greater(pc.utf8_length(words), 3), pc.ends_with(words, "S")),
        pc.invert(pc.ends_with(words, "SS")),
    )
    words = pc.if_else(plural, pc.utf8_slice_codeunits(words, 0, -1), words)
    # one letter is no word, but one Chinese character is ("茶", tea)
    long_enough = pc.or_(
        pc.greater_equal(pc.utf8_length(words), 2), pc.invert(pc.string_is_ascii(words))
    )
    keep = pc.and_(
        pc.and_(long_enough, pc.invert(pc.utf8_is_numeric(words))),
        pc.invert(pc.is_in(words, value_set=_lexicon(STOPWORDS))),
    )
    keep_np = np.asarray(keep, dtype=bool)
    return pc.filter(words, keep), parent[keep_np]


def _vague(text: pa.Array, words: pa.Array, parent: I64) -> B:
    """A vague phrase, or no word that names specific goods, per normalised text."""
    generic = np.asarray(pc.is_in(words, value_set=_lexicon(GENERIC_WORDS)), dtype=bool)
    specific = np.zeros(len(text), dtype=bool)
    specific[parent[~generic]] = True
    phrase = text_matches(text, _VAGUE)
    return phrase | ~specific


def _buckets(words: pa.Array, buckets: int) -> U64:
    """The hashed token of each (distinct) word."""
    word_keys = hash_values(words.to_numpy(zero_copy_only=False), TOKEN_SALT)
    return (word_keys % np.uint64(buckets)) + np.uint64(1)


def _describe_many(array: pa.Array, buckets: int, rules: int) -> Descriptions:
    encoded = memo_encoded(array)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False))
    n_unique = len(encoded.dictionary)
    text = normalise_text(encoded.dictionary, rules)
    words, parent = _words(text)
    read = _flag_reading(encoded.dictionary, text, words, parent, rules)
    vague_u = _vague(*read)

    # one pair per distinct (description, token)
    word_encoded = pc.dictionary_encode(words)
    word_codes = np.asarray(word_encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    word_uniques = word_encoded.dictionary
    bucket = _buckets(word_uniques, buckets)
    pair = np.unique(parent * (len(word_uniques) + 1) + word_codes) if len(parent) else parent
    u_parent = pair // (len(word_uniques) + 1)
    u_word = pair % (len(word_uniques) + 1)
    counts = np.bincount(u_parent, minlength=n_unique).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    n = len(array)
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
        cover_word=rows(_word_flags(*read, COVER_LOAD_WORDS)),
        cites_word=rows(_word_flags(*read, CITES_WORDS)),
        cooling_word=rows(_word_flags(*read, COOLING_WORDS)),
        vague=np.where(has, vague_u[np.maximum(row_unique, 0)], True),
        cites_colour_goods=rows(_colour_goods(*read)),
        cold_medicine_word=rows(_word_flags(*read, COLD_MEDICINE_WORDS)),
        pair_row=pair_row,
        pair_token=pair_token.astype(np.uint64),
    )


@dataclass(frozen=True)
class _Described:
    """One description's signals: its distinct words in the order they first appear, with
    their hashed tokens, and its lexicon flags."""

    words: tuple[str, ...]
    tokens: tuple[int, ...]
    cover: bool
    cites: bool
    cooling: bool
    vague: bool
    colour_goods: bool
    cold_medicine: bool


def _analyse(descriptions: pa.Array, buckets: int, rules: int) -> list[_Described]:
    """`_Described` of each (distinct, non-null) description, by the rules of `describe`."""
    text = normalise_text(descriptions, rules)
    words, parent = _words(text)
    read = _flag_reading(descriptions, text, words, parent, rules)
    vague = _vague(*read)
    n = len(descriptions)
    flags = [_word_flags(*read, lexicon) for lexicon in _FLAG_LEXICONS]
    colour_goods = _colour_goods(*read)
    distinct: list[dict[str, None]] = [{} for _ in range(n)]
    for word, row in zip(words.to_pylist(), parent.tolist(), strict=True):
        distinct[row][word] = None
    vocabulary = list(dict.fromkeys(w for seen in distinct for w in seen))
    token = dict(
        zip(
            vocabulary,
            _buckets(pa.array(vocabulary, pa.large_string()), buckets).tolist(),
            strict=True,
        )
    )
    return [
        _Described(
            words=tuple(seen),
            tokens=tuple(token[w] for w in seen),
            cover=bool(flags[0][i]),
            cites=bool(flags[1][i]),
            cooling=bool(flags[2][i]),
            vague=bool(vague[i]),
            colour_goods=bool(colour_goods[i]),
            cold_medicine=bool(flags[3][i]),
        )
        for i, seen in enumerate(distinct)
    ]


def _describe_few(array: pa.Array, buckets: int, rules: int) -> Descriptions:
    """`describe` of a few lines: each distinct description is analysed once per process and
    remembered (the API sees the same goods over and over); the result is the one
    `_describe_many` gives, pairs in the same order."""
    rows = array.to_pylist()
    distinct = list(dict.fromkeys(value for value in rows if value is not None))
    texts = pa.array(distinct, type=pa.large_string())
    found = remembered(
        ("describe", buckets, rules), distinct, lambda at: _analyse(texts.take(at), buckets, rules)
    )
    described: dict[str, _Described] = dict(zip(distinct, found, strict=True))
    # A row's tokens come in the order their words first appear in the batch's descriptions
    # (taken in order of first appearance), as `_describe_many` numbers words.
    rank: dict[str, int] = {}
    ordered: dict[str, list[int]] = {}
    for value in distinct:
        entry = described[value]
        for word in entry.words:
            rank.setdefault(word, len(rank))
        order = sorted(range(len(entry.words)), key=lambda j: rank[entry.words[j]])
        ordered[value] = [entry.tokens[j] for j in order]
    n = len(rows)
    lens = np.zeros(n, dtype=np.int64)
    cover, cites, cooling, colour_goods, cold_medicine = (np.zeros(n, dtype=bool) for _ in range(5))
    vague = np.ones(n, dtype=bool)
    tokens: list[int] = []
    for i, value in enumerate(rows):
        if value is None:
            continue
        entry = described[value]
        lens[i] = len(entry.words)
        cover[i], cites[i], cooling[i], vague[i] = (
            entry.cover,
            entry.cites,
            entry.cooling,
            entry.vague,
        )
        colour_goods[i], cold_medicine[i] = entry.colour_goods, entry.cold_medicine
        tokens.extend(ordered[value])
    return Descriptions(
        n_tokens=lens,
        cover_word=cover,
        cites_word=cites,
        cooling_word=cooling,
        vague=vague,
        cites_colour_goods=colour_goods,
        cold_medicine_word=cold_medicine,
        pair_row=np.repeat(np.arange(n, dtype=np.int64), lens),
        pair_token=np.array(tokens, dtype=np.uint64),
    )
