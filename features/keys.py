"""Stable 64-bit keys for entities (parties, lanes, goods) and whole-second times.

History lives in the fitted state as hashed keys, so the state never stores names and the same key
comes out for the same entity in training, batch and API scoring. Hash 0 means "missing": a row
whose entity is blank gets no history for it. Text is factorised first and only the distinct
values are normalised and hashed, so a million rows cost a few distinct-value operations.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache, partial
from typing import Any, Final, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.memo import per_row, per_value
from risk_engine.hashing import mix
from risk_engine.parsing import FORMAT_CHARACTERS, any_matching

__all__ = [
    "MISSING",
    "NAME_RULES",
    "TEXT_RULES",
    "NO_TIME",
    "U64",
    "I64",
    "F64",
    "mix",
    "code_hashes",
    "combine",
    "dictionary_codes",
    "fill_blank",
    "folded",
    "plain",
    "hash_text",
    "hash_values",
    "normalise_party",
    "normalise_text",
    "party_key",
    "seconds",
    "timestamps",
    "text_array",
    "text_key",
    "text_matches",
    "to_mask",
    "unspaced",
    "UNSPACED_SCRIPTS",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

MISSING: Final = np.uint64(0)

# How names and descriptions become keys, kept with a feature history (`StateParams.name_rules`)
# so that a model goes on finding its parties after an upgrade: 1 before stop 23 (dotted
# initials and legal forms apart, "S A"; an accented letter of a description a space), 2 at
# stops 23 to 26 (a letter of another script, Chinese, Thai or Korean, a space: a name written
# in it was no party, a description in it had no word), 3 at stops 27 and 28, 4 at stop 29 (the
# words that make a consignee a logistics company or bank, `features.lexicons.logistics_lexicon`;
# names and descriptions are read and keyed as by rules 3), 5 since (the couriers and warehousing
# of Chinese, Japanese and Korean, and EAST WEST BANK a bank; keyed as by rules 3).
NAME_RULES = 5
# The name rules since which a text is normalised as today (`normalise_text`).
TEXT_RULES = 3

NO_TIME: Final = np.iinfo(np.int64).min  # a missing timestamp, in seconds

_LEGAL_FORMS = (
    "CO",
    "COMPANY",
    "CORP",
    "CORPORATION",
    "INC",
    "LTD",
    "LIMITED",
    "LLC",
    "JSC",
    "BV",
    "NV",
    "GMBH",
    "SA",
    "SARL",
    "SRL",
    "PLC",
    "PTE",
    "PVT",
    "SDN",
    "BHD",
)
_LEGAL_TAIL = re.compile(r"(?:\s(?:" + "|".join(_LEGAL_FORMS) + r"))+$")
# Legal forms written before the name (name rules 3): Vietnamese "CONG TY TNHH" (limited
# liability company), "CONG TY CO PHAN" (joint stock), Indonesian "PT", Japanese "KABUSHIKI
# KAISHA": "PT MAJU JAYA" and "MAJU JAYA, PT", "CONG TY TNHH DAI HOA" and "DAI HOA CO., LTD"
# were each two parties. Dropped before dotted initials are joined, and not CV or KK: "K.K.
# ENTERPRISES" and "C.V. RAMAN TRADING" are an Indian firm's initials. A form alone is left
# (no space follows it).
_LEGAL_HEAD = re.compile(
    r"^(?:(?:CONG TY (?:TNHH|CO PHAN|CP)(?: MOT THANH VIEN| MTV)?|CONG TY|PT"
    r"|KABUSHIKI KAISHA|YUGEN KAISHA)\s)+"
)
# Every legal form, alone or in a row: what is left of a name that held nothing else ("CONG TY
# TNHH" less its CONG TY, "PT TBK" less its PT), which then stays whole (name rules 3).
_FORM_WORDS = frozenset(
    {
        "",
        *_LEGAL_FORMS,
        "TBK",
        "PT",
        "KK",
        "CV",
        "KABUSHIKI KAISHA",
        "YUGEN KAISHA",
        "CONG TY",
        "TNHH",
        "MTV",
        "TNHH MTV",
        "MOT THANH VIEN",
        "TNHH MOT THANH VIEN",
        "CO PHAN",
        "CP",
        "CO LTD",
    }
)
_FORM_WORDS_ARRAY = pa.array(sorted(_FORM_WORDS), type=pa.large_string())
# Trailing forms by name rules 3: those above, and Indonesian and Japanese ones.
_LEGAL_TAIL_3 = re.compile(
    r"(?:\s(?:" + "|".join((*_LEGAL_FORMS, "TBK", "PT", "KABUSHIKI KAISHA", "KK")) + r"))+$"
)
# Chinese, Japanese, Korean and Thai legal forms before or after a name (name rules 3):
# "大和有限责任公司", "株式会社大和", "대화 주식회사" and "บริษัท ไดฮวา จำกัด" are 大和, 대화 and ไดฮวา.
# Written as names are read (NFKD: Thai "ำ" and Korean syllables come apart there).
def _read_forms(*forms: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFKD", form) for form in forms)


_FORMS_BEFORE = _read_forms("株式会社", "有限会社", "บริษัท", "주식회사", "유한회사")
_FORMS_AFTER = _read_forms(
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "公司",
    "주식회사",
    "유한회사",
    "จำกัด มหาชน",
    "จำกัด",
)
# What is left of a name that is a form alone ("有限公司" less its 公司): the name stays whole.
_FORM_PARTS = frozenset(
    (*_FORMS_BEFORE, *_FORMS_AFTER, *_read_forms("有限", "股份", "有限责任", "有限責任", "股份有限"))
)
# Letters of the scripts these forms are written in, as names are read (Hangul as its jamo)
_FORM_SCRIPTS = "[\u0e00-\u0e7f\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"


def _without_forms(name: str) -> str:
    """One read name without a legal form of `_FORMS_BEFORE` or `_FORMS_AFTER`; a name that is
    a form alone, or nothing but forms, stays whole."""
    kept = name
    for form in _FORMS_BEFORE:
        if kept.startswith(form):
            kept = kept[len(form) :].lstrip()
            break
    for form in _FORMS_AFTER:
        if kept.endswith(form):
            kept = kept[: -len(form)].rstrip()
            break
    return name if not kept or kept in _FORM_PARTS else kept


def _without_unspaced_forms(array: pa.Array) -> pa.Array:
    """`_without_forms` of the read names written in those scripts."""
    return _changed_where(array, _FORM_SCRIPTS, _without_forms)


def _changed_where(array: pa.Array, pattern: str, change: Callable[[str], str]) -> pa.Array:
    """``change`` of the values that match ``pattern``, the others as they are: what Arrow's
    expressions cannot do goes through Python for the few values it concerns."""
    hit = to_mask(pc.match_substring_regex(array, pattern), False)
    if not hit.any():
        return array
    values = array.to_pylist()
    for row in np.flatnonzero(hit).tolist():
        values[row] = change(values[row])
    return pa.array(values, array.type)


def _nonzero(hashed: U64) -> U64:
    """A real key never hashes to MISSING."""
    hashed[hashed == 0] = 1
    return hashed


def combine(*parts: U64, salt: int = 0, remember: bool = True) -> U64:
    """Key of a tuple of keys (a shipper-consignee pair); MISSING when any part is missing.

    A few rows are remembered per tuple (see `features.memo`): a handful of lines costs more in
    NumPy calls than in arithmetic, and the API combines the same keys over and over. Keys that
    are new on every call (a B/L number's) pass ``remember=False``."""
    if not remember:
        return _combine(*parts, salt=salt)
    rule = ("combine", len(parts), salt)
    return per_row(rule, parts, partial(_combine, salt=salt), np.uint64, small=_FEW_KEYS)


_FEW_KEYS = 16  # rows up to which combinations are remembered: beyond, NumPy is as quick


def _combine(*parts: U64, salt: int) -> U64:
    missing = parts[0] == 0
    for part in parts[1:]:
        missing |= part == 0
    out = np.full(len(parts[0]), salt, dtype=np.uint64)
    for part in parts:
        mixed = mix(part)
        np.bitwise_xor(mixed, out, out=mixed)
        out = mix(mixed)
    out = _nonzero(out)
    out[missing] = 0
    return out


@cache
def _salt_word(salt: int) -> np.uint64:
    return np.uint64(mix(np.array([salt], dtype=np.uint64))[0])


def hash_values(values: npt.ArrayLike, salt: int) -> U64:
    """Hash of each (non-missing) value, salted so equal text of two entity types differs."""
    array = np.asarray(values, dtype=object)
    if len(array) == 0:
        return np.zeros(0, dtype=np.uint64)
    hashed = pd.util.hash_array(array, categorize=False).astype(np.uint64)
    hashed ^= _salt_word(salt)
    return _nonzero(mix(hashed))


def text_array(series: pd.Series | pd.arrays.ArrowExtensionArray) -> pa.Array:
    """A text column as one Arrow large_string array (nulls for missing), zero-copy when the
    column is Arrow-backed; categorical columns are decoded."""
    try:
        array = pa.array(
            series if isinstance(series, pd.arrays.ArrowExtensionArray) else series.array
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Only a Series gets here: an Arrow-backed array converts through `__arrow_array__`.
        column = cast(pd.Series, series)
        values = np.asarray(column.astype(object).where(column.notna(), None), dtype=object)
        array = pa.array(values, type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.large_string())
    return array


def hash_text(
    series: pd.Series | pa.Array,
    salt: int,
    *,
    normalise: bool = False,
    drop: str | None = None,
    rules: int = NAME_RULES,
) -> U64:
    """Key per row of a text column; blank text (after normalising) is MISSING.

    ``drop`` is a regular expression: normalised values it matches are MISSING too (a TO ORDER
    consignee is not a party with a history).
    """
    array = series if isinstance(series, pa.Array) else text_array(series)
    # Remembered per value: the API hashes the same parties, ports and codes over and over, and
    # normalising names costs regular expressions.
    return per_value(
        ("hash_text", salt, normalise, drop, rules if normalise else 0),
        array,
        lambda values: _hash_distinct(values, salt, normalise, drop, rules),
        np.uint64,
        MISSING,
    )


def dictionary_codes(encoded: pa.DictionaryArray) -> npt.NDArray[np.integer]:
    """Each row's position in a dictionary-encoded array's dictionary, -1 where missing."""
    indices = encoded.indices
    if indices.null_count:
        indices = pc.coalesce(indices, pa.scalar(-1, indices.type))
    return np.asarray(indices.to_numpy(zero_copy_only=False))


_TRUE, _FALSE = pa.scalar(True), pa.scalar(False)


def to_mask(flags: pa.Array | pa.ChunkedArray, missing: bool = False) -> npt.NDArray[np.bool_]:
    """An Arrow boolean array as a NumPy mask, nulls read as ``missing``."""
    if flags.null_count:
        flags = pc.coalesce(flags, _TRUE if missing else _FALSE)
    return np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)


_EMPTY_TEXT = pa.scalar("", pa.large_string())


def fill_blank(array: pa.Array) -> pa.Array:
    """Missing text (in a large_string array) as empty text."""
    return pc.coalesce(array, _EMPTY_TEXT) if array.null_count else array


def _hash_distinct(
    values: pa.Array, salt: int, normalise: bool, drop: str | None, rules: int = NAME_RULES
) -> U64:
    """Hash of each distinct text value (MISSING for blank or dropped values)."""
    if normalise:
        values = normalise_party(values, rules)
    hashed = hash_values(values.to_numpy(zero_copy_only=False), salt)
    lengths = pc.utf8_length(values)
    blank = to_mask(pc.equal(lengths, pa.scalar(0, lengths.type)), True)
    if drop is not None and len(values):
        blank |= text_matches(values, drop)
    hashed[blank] = MISSING
    return hashed


def normalise_party(values: pa.Array, rules: int = NAME_RULES) -> pa.Array:
    """Upper case, accents dropped, punctuation to spaces, initials joined (`_INITIALS`),
    trailing legal forms dropped: "Foo Co., Ltd" = "FOO", "Verde S.A." = "VERDE"; by name rules
    3 leading ones too: "Công ty TNHH Thương mại" = "THUONG MAI". An accented letter was a
    space: "MÜLLER HANDEL" and "MÖLLER HANDEL" were one party ("M LLER HANDEL"), and the same
    name with its accents stored apart (NFD, a Mac's export) another."""
    few = _few_ascii(values)
    if few is not None:
        spaced = [None if v is None else _spaced(v) for v in few]
        if rules < 3:
            if rules >= 2:
                spaced = [None if v is None else _joined(v) for v in spaced]
            return pa.array(
                [None if v is None else _LEGAL_TAIL.sub("", v) for v in spaced], values.type
            )
        return pa.array([None if v is None else _named(v) for v in spaced], values.type)
    array = _unaccented(pc.utf8_upper(_unformatted(values)), letters=rules >= 2)
    if rules >= 3:
        array = pc.utf8_upper(array)  # a ligature NFKD took apart ("ﬁ" is "fi")
    array = pc.replace_substring_regex(array, _not_alphanumeric(rules), " ")
    array = pc.utf8_trim_whitespace(array)
    if rules < 3:
        if rules >= 2:
            array = _joined_initials(array)
        return pc.replace_substring_regex(array, _LEGAL_TAIL.pattern, "")
    spaced = array
    array = pc.replace_substring_regex(array, _LEGAL_HEAD.pattern, "")  # before initials join
    array = _joined_initials(array)
    array = pc.replace_substring_regex(array, _LEGAL_TAIL_3.pattern, "")
    array = _without_unspaced_forms(array)
    # a name that is legal forms alone ("CONG TY TNHH", "PT TBK") stays the name it is
    alone = to_mask(pc.is_in(array, value_set=_FORM_WORDS_ARRAY), False)
    if not alone.any():
        return array
    values, whole = array.to_pylist(), spaced.to_pylist()
    for row in np.flatnonzero(alone).tolist():
        values[row] = _joined(whole[row])
    return pa.array(values, array.type)


def _named(spaced: str) -> str:
    """Name rules 3 of one spaced ASCII value: leading forms dropped before the initials are
    joined ("P T" is a firm's initials), trailing ones after; legal forms alone stay whole."""
    named = _LEGAL_TAIL_3.sub("", _joined(_LEGAL_HEAD.sub("", spaced)))
    return _joined(spaced) if named in _FORM_WORDS else named


def _unformatted(array: pa.Array) -> pa.Array:
    """Text without format characters (`risk_engine.parsing.FORMAT_CHARACTERS`): a joiner the
    contract keeps (Persian and Indic names need it) made "IVO<joiner>RY" two words here."""
    if any_matching(array, FORMAT_CHARACTERS):
        return pc.replace_substring_regex(array, FORMAT_CHARACTERS, "")
    return array


def _unaccented(array: pa.Array, *, letters: bool = True) -> pa.Array:
    """Letters and their accents apart (NFKD), then the accents dropped: "CAFÉ" = "CAFE" however
    it was stored (composed, or apart as a Mac's export has it). With ``letters`` (name rules 2),
    the upper-case letters NFKD leaves whole are written as their Latin letters too: "PHÚ ĐỨC"
    = "PHU DUC", where the Đ was a space and "PHU UC" another party than its ASCII spelling."""
    if pc.all(pc.string_is_ascii(array)).as_py() is False:
        array = pc.utf8_normalize(array, "NFKD")
        array = pc.replace_substring_regex(array, _ACCENTS, r"\1")
        if letters:
            for letter, latin in _LATIN.items():
                array = pc.replace_substring(array, letter, latin)
    return array


# The accents of Latin, Greek and Cyrillic letters (marks after a letter below U+0530), as NFKD
# sets them apart; not the vowel and tone marks of Thai, Indic or other scripts, which are
# letters of their words: "ลิ้นจี่" (lychee) without them read as "ลิ่น" (pangolin).
_ACCENTS = r"([\x{0000}-\x{052F}])\p{M}+"


def _accentless(text: str) -> str:
    """`_ACCENTS` dropped from one NFKD text (as Arrow drops them in `_unaccented`)."""
    kept: list[str] = []
    for char in text:
        if kept and ord(kept[-1]) < 0x530 and unicodedata.category(char).startswith("M"):
            continue
        kept.append(char)
    return "".join(kept)


# Upper-case letters with no decomposition (Vietnamese, Nordic, Polish, German, Icelandic)
_LATIN = {
    "Đ": "D",
    "Ð": "D",
    "Ø": "O",
    "Ł": "L",
    "ẞ": "SS",
    "ß": "SS",
    "Æ": "AE",
    "Œ": "OE",
    "Þ": "TH",
    "Ħ": "H",
    "Ŧ": "T",
}


# Single letters in a row, as dotted initials and legal forms become once their dots
# are spaces: "S.A." = "S A" is joined to "SA" (then dropped as a legal form), "A.C.M.E." to
# "ACME". "EXPORTADORA VERDE S.A." and "EXPORTADORA VERDE SA" were two parties.
_INITIALS = re.compile(r"\b[A-Z](?: [A-Z]\b)+")
_SOME_INITIALS = r"(^| )[A-Z] [A-Z]( |$)"


def _joined(value: str) -> str:
    """`_INITIALS` of one normalised value joined."""
    if " " not in value:
        return value
    return _INITIALS.sub(lambda found: found.group().replace(" ", ""), value)


def _joined_initials(array: pa.Array) -> pa.Array:
    """`_joined` of normalised values (Arrow's expressions cannot join what they match)."""
    return _changed_where(array, _SOME_INITIALS, _joined)


# A few values of ASCII text go through Python's `str` and `re` instead of Arrow's kernels: an
# Arrow regular expression is compiled on every call, which costs more than a few values, and on
# ASCII text Python's upper case, whitespace and these patterns are the same as Arrow's (a test
# holds both to the same results).
_FEW = 64
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
# Letters and digits of every script, with the marks that are part of their letters (Thai vowels
# and tones; the accents of Latin letters are dropped before): name rules 3. "象牙", "บริษัท ไดฮวา"
# and "대화 주식회사" are words, where rules 2 made them spaces.
_NOT_LETTER_OR_DIGIT = r"[^\p{L}\p{M}\p{N}]+"


def _not_alphanumeric(rules: int) -> str:
    """What a text's words are split on, by name ``rules``."""
    return _NOT_LETTER_OR_DIGIT if rules >= 3 else _NOT_ALNUM.pattern


# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar; not Hangul:
# Korean is written with spaces, and "상아" inside "상아색" or "상악동" is no ivory):
# a word of the lexicons or a risk profile is found anywhere in a text of them ("象牙雕刻品" holds
# 象牙, ivory), where a word of a spaced script must stand alone.
UNSPACED_SCRIPTS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff"
)
_UNSPACED = re.compile(f"[{UNSPACED_SCRIPTS}]")


def unspaced(word: str) -> bool:
    """Whether a word is written in a script without spaces between words (`UNSPACED_SCRIPTS`)."""
    return _UNSPACED.search(word) is not None


def plain(value: str) -> str:
    """One text in plain width and composed, upper case, runs of white space one space, accents
    kept: full-width "ＧＯＬＤＥＮ　ＬＯＴＵＳ" is GOLDEN LOTUS, a name typed on a Mac (letters and
    accents apart) is the name. How a watch-list entry or a profile word written with accents
    is compared: "THÀNH ĐẠT" is not "THẠNH ĐẠT", nor "THÉ" (tea) "THE"."""
    if value.isascii():
        return " ".join(value.upper().split())
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", value).upper())
    for apart, whole in _SARA_AM.items():  # NFKC takes Thai and Lao "am" apart; NFC keeps it so
        text = text.replace(apart, whole)
    return " ".join(text.split())


# Thai and Lao SARA AM, as NFKC writes them (a nikhahit and an aa) and as typed: "จำกัด" (Ltd)
# in a watch-list hit read in other characters than the list's.
_SARA_AM = {"\u0e4d\u0e32": "\u0e33", "\u0ecd\u0eb2": "\u0eb3"}


def folded(value: str) -> str:
    """One text as a watch list or a risk profile compares it: compatibility forms made plain
    (full-width "ＩＶＯＲＹ" and the ideographic space), accents dropped ("CÔNG TY" = "CONG TY",
    "Đ" = "D"), upper case, runs of white space one space. A listed party typed in full-width
    letters or with its accents left out passed its entry."""
    if value.isascii():
        text = value.upper()
    else:
        text = _accentless(unicodedata.normalize("NFKD", value)).upper()
        for letter, latin in _LATIN.items():
            text = text.replace(letter, latin)
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


_NOT_NORMAL = re.compile(r"[^A-Z0-9 ]")


def _few_ascii(array: pa.Array) -> list[str | None] | None:
    """The values of a short array of ASCII text; None for any other array (use Arrow)."""
    if len(array) > _FEW:
        return None
    values: list[str | None] = array.to_pylist()
    return values if all(v is None or v.isascii() for v in values) else None


def _spaced(value: str) -> str:
    """`normalise_text` of one ASCII value."""
    return _NOT_ALNUM.sub(" ", value.upper()).strip(" ")


def normalise_text(array: pa.Array, rules: int = NAME_RULES) -> pa.Array:
    """Upper case, accents dropped, every run of non-alphanumerics a single space, trimmed
    ("BOIS SCIÉ" = "BOIS SCIE"; the É was a space, "BOIS SCI", and the same text stored
    decomposed another)."""
    few = _few_ascii(array)
    if few is not None:
        return pa.array([None if v is None else _spaced(v) for v in few], array.type)
    upper = pc.utf8_upper(_unformatted(array))
    if rules >= 2:
        upper = _unaccented(upper)
    if rules >= 3:
        upper = pc.utf8_upper(upper)  # a ligature NFKD took apart
    spaced = pc.replace_substring_regex(upper, _not_alphanumeric(rules), " ")
    return pc.utf8_trim_whitespace(spaced)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def text_matches(array: pa.Array, pattern: str, missing: bool = False) -> npt.NDArray[np.bool_]:
    """Whether each text value contains a match of ``pattern`` (nulls read as ``missing``).

    Python's `re` answers for a few normalised values (upper-case letters, digits and single
    spaces, as `normalise_text` leaves them), where it and Arrow's RE2 agree on the patterns
    used here (their ``\\s`` and ``$`` differ on other text)."""
    few = _few_ascii(array)
    if few is None or any(v is not None and _NOT_NORMAL.search(v) for v in few):
        return to_mask(pc.match_substring_regex(array, pattern), missing)
    search = _compiled(pattern).search
    return np.array([missing if v is None else search(v) is not None for v in few], dtype=bool)


_CODE_WIDTH = 48  # bytes of a code read into a key, as `risk_engine.validation.key_hashes` reads


def code_hashes(columns: Sequence[Any]) -> U64 | None:
    """`risk_engine.validation.key_hashes` of a few rows of short ASCII codes (B/L and container
    numbers), in Python rather than through its pandas and Arrow calls; None when the rows are
    many or any code is not ASCII text (ask `key_hashes`). A test holds both to one result."""
    hashed = np.zeros(len(columns[0]) if columns else 0, dtype=np.uint64)
    for series in columns:
        arrow = isinstance(series, pd.Series | pd.arrays.ArrowExtensionArray)
        if len(series) > _FEW or not arrow or not isinstance(series.dtype, pd.StringDtype):
            return None
        padded = []
        for value in text_array(series).to_pylist():
            code = "" if value is None else value[:_CODE_WIDTH]
            if not code.isascii():
                return None
            padded.append(code.ljust(_CODE_WIDTH).encode("ascii"))
        words = np.frombuffer(b"".join(padded), dtype="<u8").reshape(-1, _CODE_WIDTH // 8)
        for j in range(words.shape[1]):
            hashed = mix(hashed ^ words[:, j])
    return hashed


def text_key(columns: Sequence[pa.Array], salts: Sequence[int], *, salt: int) -> U64:
    """Key of a tuple of text values (a lane: loading and discharge port), each part hashed
    with its own salt; MISSING when any part is missing. Remembered per tuple of values."""

    def compute(*parts: pa.Array) -> U64:
        return combine(*(hash_text(p, s) for p, s in zip(parts, salts, strict=True)), salt=salt)

    return per_row(("text_key", tuple(salts), salt), columns, compute, np.uint64)


def party_key(
    name: pd.Series | pa.Array,
    country: pd.Series | pa.Array | None,
    salt: int,
    *,
    drop: str | None = None,
    rules: int = NAME_RULES,
) -> U64:
    """Key of a party: normalised name (`normalise_party` by ``rules``), plus its country when
    given (missing name: MISSING)."""
    if country is None:
        return hash_text(name, salt, normalise=True, drop=drop, rules=rules)
    columns = [_text_of(name), _text_of(country)]
    return per_row(
        ("party_key", salt, drop, rules),
        columns,
        partial(_party_key, salt, drop, rules),
        np.uint64,
    )


def _text_of(series: pd.Series | pa.Array) -> pa.Array:
    return series if isinstance(series, pa.Array) else text_array(series)


def _party_key(salt: int, drop: str | None, rules: int, name: pa.Array, country: pa.Array) -> U64:
    named = hash_text(name, salt, normalise=True, drop=drop, rules=rules)
    place = hash_text(country, salt + 1)
    place[place == MISSING] = np.uint64(2)  # a named party without a country is still a party
    return combine(named, place, salt=salt)


def seconds(series: pd.Series | pd.arrays.DatetimeArray) -> I64:
    """Whole seconds since 1970 (UTC) of a timestamp column; NO_TIME where missing."""
    return np.asarray(timestamps(series, "s").astype(np.int64), dtype=np.int64)


def timestamps(
    series: pd.Series | pd.arrays.DatetimeArray, unit: str
) -> npt.NDArray[np.datetime64]:
    """A timestamp column (or its values) as NumPy datetimes in UTC at ``unit`` (NaT where
    missing)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        # the UTC values without the pandas conversion machinery: same result, a tenth the time
        values = series.array if isinstance(series, pd.Series) else series
        return np.asarray(values, dtype=f"datetime64[{unit}]")
    column = series if isinstance(series, pd.Series) else pd.Series(series)
    return column.to_numpy(dtype=f"datetime64[{unit}]", na_value=np.datetime64("NaT"))
