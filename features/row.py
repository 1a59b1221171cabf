"""Row-level features: pure functions of one record's own fields, no history.

Each function is named after the feature it returns and takes the contract columns it needs
(normalised by `risk_engine.validation`), so training, batch and API scoring run the same code.
Results are float64 arrays; NaN means "cannot say" (a field is missing), never a made-up value.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache, partial
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.keys import (
    F64,
    I64,
    NAME_RULES,
    dictionary_codes,
    fill_blank,
    normalise_party,
    normalise_text,
    text_array,
    text_matches,
    timestamps,
    to_mask,
    unspaced,
)
from features.lexicons import (
    CITES_GOODS_HEADINGS,
    CITES_HEADINGS,
    CITES_SUBHEADINGS,
    CITES_WORD_NOT_CHAPTERS,
    COLD_MEDICINE_CHAPTERS,
    COOLED_CHAPTERS,
    COOLED_HEADINGS,
    COVER_LOAD_HEADINGS,
    DEMAND_MARKETS,
    NOT_COOLED_HEADINGS,
    PERMIT_ENDS,
    PERMIT_ENDS_AFTER,
    PERMIT_ENDS_AROUND,
    PERMIT_MONTHS,
    PERMIT_NOT_VALID,
    PERMIT_NOT_YET,
    PERMIT_PERIODS,
    PERMIT_PLACEHOLDERS,
    PERMIT_STARTS,
    PERMIT_STARTS_AFTER,
    PERMIT_TO,
    RISKY_TRANSIT_COUNTRIES,
    RISKY_TRANSIT_PORTS,
    SOURCE_COUNTRIES,
    logistics_lexicon,
    to_order_pattern,
)
from features.memo import per_row
from features.text import lexicon_entries
from risk_engine.contract import DEFAULT_MAX_GROSS_KG, MAX_GROSS_KG
from risk_engine.parsing import LIST_SEPARATOR
from risk_engine.reference import great_circle_km, hub_port_codes, port_coordinates

__all__ = [
    "OPTIONAL_FIELDS",
    "amendment_count",
    "booking_lead_days",
    "cites_no_permit",
    "cites_sensitive",
    "consignee_is_logistics",
    "consignee_to_order",
    "cover_load",
    "demand_market",
    "detour_ratio",
    "dq_flag",
    "dq_flag_count",
    "empty_declared",
    "freight_collect",
    "hours_amendment_before_arrival",
    "hours_filing_to_arrival",
    "hours_filing_to_departure",
    "house_bl",
    "hub_transits",
    "is_missing",
    "numbers",
    "last_port_text",
    "last_transshipment_port",
    "late_filing",
    "log_kg_per_package",
    "log_value_per_kg",
    "missing_optional_count",
    "n_transshipments",
    "origin_country",
    "origin_country_text",
    "origin_not_loading_country",
    "po_box_address",
    "red_flag_score",
    "reefer",
    "reefer_unneeded",
    "risky_transit_or_market",
    "seconds_of",
    "source_country",
    "weight_share_of_max",
]

B = npt.NDArray[np.bool_]
Text: TypeAlias = pd.Series | pa.Array  # a text column, as pandas or Arrow
Numbers = pd.Series | F64  # a numeric or timestamp column, or its `numbers` / `seconds_of`
_HOUR = 3600.0
_DAY = 86400.0
LATE_FILING_HOURS = 24.0  # advance cargo information is due a day before arrival at the latest

# Optional fields whose absence says something (master B/L and CITES permit are often rightly
# blank, and defaulted enumerations are never missing after validation).
OPTIONAL_FIELDS: tuple[str, ...] = (
    "container_size_type",
    "seal_numbers",
    "carrier_code",
    "vessel_name",
    "place_of_receipt",
    "place_of_delivery",
    "country_of_origin",
    "booking_created_at",
    "etd",
    "amendment_count",
    "shipper_address",
    "shipper_id",
    "consignee_address",
    "consignee_id",
    "notify_party_name",
    "freight_forwarder_name",
    "package_type",
    "declared_value",
    "freight_terms",
)


def numbers(series: Numbers) -> F64:
    """A numeric column as floats (NaN where missing)."""
    if isinstance(series, np.ndarray):
        return series
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


_num = numbers


def _flag(mask: B) -> F64:
    return np.asarray(mask, dtype=np.float64)


def seconds_of(series: Numbers | pd.arrays.DatetimeArray) -> F64:
    """A timestamp column as seconds since 1970, as floats (NaN where missing)."""
    if isinstance(series, np.ndarray):
        return series
    values = timestamps(series, "us")
    out = values.astype(np.int64).astype(np.float64) / 1e6
    out[np.isnat(values)] = np.nan
    return out


_secs = seconds_of


def _hours(later: Numbers, earlier: Numbers, unit: float) -> F64:
    return (_secs(later) - _secs(earlier)) / unit


def is_missing(series: pd.Series | pa.Array) -> B:
    if isinstance(series, pa.Array):
        if series.null_count == 0:
            return np.zeros(len(series), dtype=bool)
        return np.asarray(series.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(series.array.isna(), dtype=bool)


_bool = to_mask


@cache
def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


_ZERO = pa.scalar(0, pa.int64())  # utf8_length and list_value_length of large types


@cache
def _value_set(values: frozenset[str]) -> pa.Array:
    return pa.array(sorted(values), type=pa.large_string())


def _in(array: pa.Array, values: frozenset[str]) -> B:
    """Membership of each text value (missing: False)."""
    return _bool(pc.is_in(array, value_set=_value_set(values)))


def _a(series: Text) -> pa.Array:
    return series if isinstance(series, pa.Array) else text_array(series)


def _remembered(rule: str, compute: Callable[..., F64], *columns: Text) -> F64:
    """``compute(*columns)`` of text columns, remembered per row's values (see `features.memo`):
    the API sees the same names, routes and codes call after call."""
    return per_row(("row", rule), [_a(c) for c in columns], compute, np.float64)


def _prefix(series: Text, length: int) -> pa.Array:
    return pc.utf8_slice_codeunits(_a(series), 0, length)


# --- value and weight ---------------------------------------------------------------------------


def log_value_per_kg(declared_value: Numbers, gross_weight_kg: Numbers) -> F64:
    """log10 of declared value per kg (in the declared currency); NaN without a value."""
    value, weight = _num(declared_value), _num(gross_weight_kg)
    # a weight of 5e-324 kg overflowed the quotient: a NumPy warning on the officer's terminal
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log10(np.maximum(value, 1e-3) / weight)
    return np.where(np.isfinite(out), out, np.nan)


def log_kg_per_package(gross_weight_kg: Numbers, package_count: Numbers) -> F64:
    """log10 of gross kg per declared package."""
    weight, count = _num(gross_weight_kg), _num(package_count)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log10(weight / count)
    return np.where(np.isfinite(out), out, np.nan)


def weight_share_of_max(gross_weight_kg: Numbers, container_size_type: Text) -> F64:
    """Gross weight over the most the container size-type may carry (above 1: overweight)."""
    limit = _remembered("max_gross_kg", _max_gross_kg, container_size_type)
    return np.asarray(_num(gross_weight_kg) / limit, dtype=np.float64)


def _max_gross_kg(container_size_type: pa.Array) -> F64:
    limit = np.full(len(container_size_type), DEFAULT_MAX_GROSS_KG)
    length = _prefix(container_size_type, 1)
    for code, kg in MAX_GROSS_KG.items():
        limit[_bool(pc.equal(length, _text(code)))] = kg
    return limit


# --- timing and paperwork -----------------------------------------------------------------------


def hours_filing_to_departure(filed_at: Numbers, etd: Numbers) -> F64:
    """Hours from filing to departure; negative when filed after the vessel left."""
    return _hours(etd, filed_at, _HOUR)


def hours_filing_to_arrival(filed_at: Numbers, eta: Numbers) -> F64:
    return _hours(eta, filed_at, _HOUR)


def late_filing(filed_at: Numbers, eta: Numbers) -> F64:
    """1 when filed less than 24 hours before arrival: too late for a considered look."""
    hours = hours_filing_to_arrival(filed_at, eta)
    return np.where(np.isnan(hours), np.nan, _flag(hours < LATE_FILING_HOURS))


def booking_lead_days(booking_created_at: Numbers, etd: Numbers) -> F64:
    """Days from booking to departure (a last-minute booking is a red flag)."""
    return _hours(etd, booking_created_at, _DAY)


def amendment_count(amendment_count: Numbers) -> F64:
    return _num(amendment_count)


def hours_amendment_before_arrival(last_amended_at: Numbers, eta: Numbers) -> F64:
    """Hours between the last amendment and arrival (small or negative: a late amendment)."""
    return _hours(eta, last_amended_at, _HOUR)


def _tags(dq_flags: Text) -> tuple[pa.Array, I64]:
    """Every ``field:rule`` tag, and the row it belongs to."""
    lists = pc.split_pattern(fill_blank(_a(dq_flags)), ";")
    tags = pc.list_flatten(lists)
    return tags, np.asarray(pc.list_parent_indices(lists), dtype=np.int64)


def dq_flag_count(dq_flags: Text) -> F64:
    """Number of data-quality flags validation raised on the row."""
    return _remembered("dq_flag_count", _dq_flag_count, dq_flags)


def _dq_flag_count(dq_flags: pa.Array) -> F64:
    tags, parent = _tags(dq_flags)
    real = _bool(pc.greater(pc.utf8_length(tags), _ZERO))
    return np.bincount(parent[real], minlength=len(dq_flags)).astype(np.float64)


def dq_flag(dq_flags: Text, rule: str, field: str | None = None) -> F64:
    """1 when validation flagged ``field:rule`` (any field when ``field`` is None)."""
    return _remembered(
        f"dq_flag:{field}:{rule}", partial(_dq_flag, rule=rule, field=field), dq_flags
    )


def _dq_flag(dq_flags: pa.Array, rule: str, field: str | None) -> F64:
    tags, parent = _tags(dq_flags)
    if field is None:
        hit = _bool(pc.ends_with(tags, ":" + rule))
    else:
        hit = _bool(pc.equal(tags, _text(f"{field}:{rule}")))
    out = np.zeros(len(dq_flags), dtype=bool)
    out[parent[hit]] = True
    return _flag(out)


def missing_optional_count(frame: pd.DataFrame, missing: Callable[[str], B] | None = None) -> F64:
    """How many of the informative optional fields are blank (an absent column counts).

    ``missing`` tells where a column of ``frame`` is blank (a `Batch` passes its own, which
    reuses what other features read)."""
    present = [name for name in OPTIONAL_FIELDS if name in frame.columns]
    absent = len(OPTIONAL_FIELDS) - len(present)
    count = np.full(len(frame), float(absent))
    blank = (lambda name: is_missing(frame[name])) if missing is None else missing
    for name in present:
        count += blank(name)
    return count


def _equals(series: Text, value: str) -> pa.Array:
    return pc.equal(_a(series), _text(value))


def _as_float(flags: pa.Array) -> F64:
    """Arrow booleans as 1.0 / 0.0, NaN where null."""
    return np.asarray(pc.cast(flags, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def freight_collect(freight_terms: Text) -> F64:
    """1 when freight is payable at destination; NaN when the terms are not given."""
    return _remembered(
        "freight_collect", lambda terms: _as_float(_equals(terms, "COLLECT")), freight_terms
    )


def house_bl(bl_type: Text) -> F64:
    return _remembered("house_bl", lambda kind: _flag(_bool(_equals(kind, "HOUSE"))), bl_type)


def empty_declared(full_empty: Text) -> F64:
    return _remembered(
        "empty_declared", lambda full: _flag(_bool(_equals(full, "EMPTY"))), full_empty
    )


# --- parties ------------------------------------------------------------------------------------


def _distinct(series: Text, rules: int = NAME_RULES) -> tuple[pa.Array, I64]:
    """Distinct normalised texts of a column (`normalise_text` by the history's name
    ``rules``), and each row's position among them (-1: none).

    Names and addresses repeat, so text rules run once per distinct value."""
    encoded = pc.dictionary_encode(_a(series))
    codes = dictionary_codes(encoded)
    return normalise_text(encoded.dictionary, rules), codes.astype(np.int64)


def _per_row(values: np.ndarray, codes: I64, missing: float) -> F64:
    return np.append(values.astype(np.float64), missing)[codes]


def consignee_to_order(consignee_name: Text, rules: int = NAME_RULES) -> F64:
    """1 for TO ORDER (or blank) consignees: the owner of the goods is not named (by the
    pattern of the history's name ``rules``, `to_order_pattern`)."""
    compute = partial(_consignee_to_order, rules=rules)
    return _remembered(f"consignee_to_order:{rules}", compute, consignee_name)


def _consignee_to_order(consignee_name: pa.Array, rules: int) -> F64:
    text, codes = _distinct(consignee_name, rules)
    hit = text_matches(text, to_order_pattern(rules), missing=True)
    blank = _bool(pc.equal(pc.utf8_length(text), _ZERO), missing=True)
    return _per_row(hit | blank, codes, 1.0)


def consignee_is_logistics(consignee_name: Text, rules: int = NAME_RULES) -> F64:
    """1 when the consignee's name says forwarder, carrier, logistics company or bank."""
    compute = partial(_consignee_is_logistics, rules=rules)
    return _remembered(f"consignee_is_logistics:{rules}", compute, consignee_name)


def _consignee_is_logistics(consignee_name: pa.Array, rules: int) -> F64:
    text, codes = _distinct(consignee_name, rules)
    # as the history's model learned them
    lexicon, excluded, ends, banks = logistics_lexicon(rules)
    bank = np.zeros(len(text), dtype=bool)
    if banks and len(text):  # "EAST WEST BANK" holds WEST BANK and is a bank
        _, bank_names = lexicon_entries(banks, stem=False)
        if bank_names is not None:
            bank = text_matches(text, bank_names)
    if excluded and len(text):  # "RIVER BANK": a place, read as if absent
        _, skip = lexicon_entries(excluded, stem=False)
        if skip is not None:
            text = pc.replace_substring_regex(text, skip, " ")
    lists = pc.split_pattern(text, " ")
    words = pc.list_flatten(lists)
    parent = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
    hit = bank.copy()
    if rules < 3:  # as a history keyed before read them: the English words alone
        hit[parent[_in(words, lexicon)]] = True
        return _per_row(hit, codes, 0.0)
    # "物流" (logistics) in "深圳物流有限公司", "VAN TAI" (transport) in Vietnamese names
    single, pattern = lexicon_entries(lexicon, stem=False)
    hit[parent[_bool(pc.is_in(words, value_set=single))]] = True
    if pattern is not None and len(text):
        hit |= text_matches(text, pattern)
    if ends and len(text):  # "SF EXPRESS CO LTD": the name's last word, legal forms apart
        last = "|".join(re.escape(word) for word in sorted(ends))
        named = np.flatnonzero(text_matches(text, f"(^| )({last})( |$)") & ~hit)
        if len(named):
            party = normalise_party(text.take(pa.array(named)), rules)
            hit[named[text_matches(party, f"(^| )({last})$")]] = True
    return _per_row(hit, codes, 0.0)


def po_box_address(address: Text, rules: int = NAME_RULES) -> F64:
    """1 when the address is a PO box; NaN without an address."""
    compute = partial(_po_box_address, rules=rules)
    return _remembered(f"po_box_address:{rules}", compute, address)


def _po_box_address(address: pa.Array, rules: int) -> F64:
    text, codes = _distinct(address, rules)
    hit = text_matches(text, r"(^| )(P ?O ?BOX|POB|POST BOX|POSTFACH)( |$|[0-9])")
    return _per_row(hit, codes, np.nan)


# --- route --------------------------------------------------------------------------------------


def _route_ports(transshipment_ports: Text) -> tuple[pa.Array, I64]:
    """Every transshipment port, and the row it belongs to."""
    lists = pc.split_pattern(fill_blank(_a(transshipment_ports)), LIST_SEPARATOR)
    ports = pc.list_flatten(lists)
    parent = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
    real = _bool(pc.greater(pc.utf8_length(ports), _ZERO))
    return pc.filter(ports, pa.array(real)), parent[real]


def n_transshipments(transshipment_ports: Text) -> F64:
    return _remembered("n_transshipments", _n_transshipments, transshipment_ports)


def _n_transshipments(transshipment_ports: pa.Array) -> F64:
    _, parent = _route_ports(transshipment_ports)
    return np.bincount(parent, minlength=len(transshipment_ports)).astype(np.float64)


def _ports_in(transshipment_ports: Text, ports: frozenset[str], countries: frozenset[str]) -> F64:
    codes, parent = _route_ports(transshipment_ports)
    hit = _in(codes, ports)
    if countries:
        hit |= _in(pc.utf8_slice_codeunits(codes, 0, 2), countries)
    return np.bincount(parent[hit], minlength=len(transshipment_ports)).astype(np.float64)


def hub_transits(transshipment_ports: Text) -> F64:
    """Transshipments through ports the reference table marks as hubs."""
    return _remembered(
        "hub_transits",
        lambda route: _ports_in(route, hub_port_codes(), frozenset()),
        transshipment_ports,
    )


def last_transshipment_port(transshipment_ports: pd.Series) -> pd.Series:
    """The port the container left for its discharge port (NA without transshipment)."""
    return _series(last_port_text(_a(transshipment_ports)), transshipment_ports.index)


def last_port_text(transshipment_ports: pa.Array) -> pa.Array:
    """`last_transshipment_port` of Arrow text, as Arrow text."""
    return _last(pc.split_pattern(transshipment_ports, LIST_SEPARATOR))


def _series(array: pa.Array, index: pd.Index) -> pd.Series:
    """Arrow text as a pyarrow-backed pandas string column."""
    chunked = pa.chunked_array([pc.cast(array, pa.large_string())])
    return pd.Series(pd.arrays.ArrowStringArray(chunked), index=index)


def _last(lists: pa.ListArray) -> pa.Array:
    """Last item of each list; null for a null or empty list or an empty last item."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0)
    ends = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)[1:] - 1
    flat = lists.values
    has = _bool(pc.greater(lengths, 0))
    if len(flat) == 0:
        return pa.nulls(len(lists), pa.large_string())
    picked = pc.take(flat, pa.array(np.where(has, ends, 0)))
    has &= _bool(pc.greater(pc.utf8_length(picked), 0))
    return pc.if_else(pa.array(has), picked, pa.scalar(None, flat.type))


@cache
def _route_km(route: str) -> float:
    points = [port_coordinates(code) for code in route.split(LIST_SEPARATOR) if code]
    if len(points) < 2 or any(p is None for p in points):
        return float("nan")
    lat = np.array([p[0] for p in points if p is not None])
    lon = np.array([p[1] for p in points if p is not None])
    return float(np.sum(great_circle_km(lat[:-1], lon[:-1], lat[1:], lon[1:])))


def _km(routes: pa.Array) -> F64:
    encoded = pc.dictionary_encode(routes)
    km = np.array([_route_km(r) for r in encoded.dictionary.to_pylist()] + [np.nan])
    return np.asarray(km[dictionary_codes(encoded)], dtype=np.float64)


def detour_ratio(port_of_loading: Text, transshipment_ports: Text, port_of_discharge: Text) -> F64:
    """Distance through the transshipment ports over the direct distance (1: no detour).

    Great-circle legs between known ports; NaN when a port is not in the reference table.
    """
    return _remembered(
        "detour_ratio", _detour_ratio, port_of_loading, transshipment_ports, port_of_discharge
    )


def _detour_ratio(
    port_of_loading: pa.Array, transshipment_ports: pa.Array, port_of_discharge: pa.Array
) -> F64:
    loading, discharge = _a(port_of_loading), _a(port_of_discharge)
    middle = fill_blank(_a(transshipment_ports))
    sep = pa.scalar(LIST_SEPARATOR, pa.large_string())
    via = _km(pc.binary_join_element_wise(loading, middle, discharge, sep))
    direct = _km(pc.binary_join_element_wise(loading, discharge, sep))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = via / direct
    return np.where(np.isfinite(ratio), ratio, np.nan)


def origin_country(country_of_origin: pd.Series, port_of_loading: pd.Series) -> pd.Series:
    """Country of origin of the goods, or the loading port's country when not declared."""
    origin = origin_country_text(_a(country_of_origin), _a(port_of_loading))
    return _series(origin, country_of_origin.index)


def origin_country_text(country_of_origin: pa.Array, port_of_loading: pa.Array) -> pa.Array:
    """`origin_country` of Arrow text, as Arrow text."""
    return pc.coalesce(
        pc.cast(country_of_origin, pa.large_string()),
        pc.cast(pc.utf8_slice_codeunits(port_of_loading, 0, 2), pa.large_string()),
    )


def origin_not_loading_country(country_of_origin: Text, port_of_loading: Text) -> F64:
    """1 when goods of one country are loaded in another; NaN without a declared origin."""
    return _remembered(
        "origin_not_loading_country",
        lambda origin, loading: _as_float(pc.not_equal(_a(origin), _prefix(loading, 2))),
        country_of_origin,
        port_of_loading,
    )


def source_country(country_of_origin: Text, port_of_loading: Text, shipper_country: Text) -> F64:
    """1 when the origin, loading or shipper country is a documented contraband source."""
    return _remembered(
        "source_country", _source_country, country_of_origin, port_of_loading, shipper_country
    )


def _source_country(
    country_of_origin: pa.Array, port_of_loading: pa.Array, shipper_country: pa.Array
) -> F64:
    hit = _in(_a(country_of_origin), SOURCE_COUNTRIES)
    hit |= _in(_prefix(port_of_loading, 2), SOURCE_COUNTRIES)
    hit |= _in(_a(shipper_country), SOURCE_COUNTRIES)
    return _flag(hit)


def demand_market(port_of_discharge: Text) -> F64:
    """1 when the discharge port is in a main demand market (Viet Nam, China, Hong Kong)."""
    return _remembered("demand_market", _demand_market, port_of_discharge)


def _demand_market(port_of_discharge: pa.Array) -> F64:
    return _flag(_in(_prefix(port_of_discharge, 2), DEMAND_MARKETS))


def risky_transit_or_market(transshipment_ports: Text, port_of_discharge: Text) -> F64:
    """1 when routed through a documented hub or bound for a main demand market."""
    return _remembered(
        "risky_transit_or_market", _risky_transit_or_market, transshipment_ports, port_of_discharge
    )


def _risky_transit_or_market(transshipment_ports: pa.Array, port_of_discharge: pa.Array) -> F64:
    transit = _ports_in(transshipment_ports, RISKY_TRANSIT_PORTS, RISKY_TRANSIT_COUNTRIES) > 0
    return _flag(transit | (_demand_market(port_of_discharge) > 0))


# --- goods --------------------------------------------------------------------------------------


def _heading_in(hs_code: Text, name: str, headings: frozenset[str]) -> B:
    """Whether each line's HS heading (first four digits) is one of ``headings`` (``name``)."""

    def rule(codes: pa.Array) -> F64:
        return _flag(_in(_prefix(codes, 4), headings))

    return _remembered(f"heading_in:{name}", rule, hs_code) > 0


def cover_load(hs_code: Text, cover_word: B) -> F64:
    """1 for goods used as cover loads in documented seizures (by HS heading or description)."""
    return _flag(_heading_in(hs_code, "cover_load", COVER_LOAD_HEADINGS) | cover_word)


def cites_sensitive(hs_code: Text, cites_word: B, colour_goods: B | None = None) -> F64:
    """1 for ivory and horn lines, shark fins and worked ivory by their subheadings, or
    descriptions naming CITES-listed species or products, except under the HS chapters where
    such a word names a colour, a pattern or a brand (`CITES_WORD_NOT_CHAPTERS`: ivory tiles, a
    SHARK vacuum cleaner); a line without an HS code keeps its word. A colour compound on a line
    naming carvings, beads or jewellery (``colour_goods``: "IVORY WHITE CARVINGS") counts as its
    word under the codes such goods are classed in (`CITES_GOODS_HEADINGS`) or without a code."""

    code = _remembered("cites_by_code", _cites_by_code, hs_code)
    counts = cites_word & (code == _WORD_COUNTS)
    if colour_goods is not None and colour_goods.any():
        goods = _remembered("cites_goods_code", _cites_goods_code, hs_code) > 0
        counts |= colour_goods & goods
    return _flag((code == _LISTED) | counts)


def _cites_goods_code(hs_code: pa.Array) -> F64:
    """1 where the HS code is one that carvings, beads and jewellery of ivory or coral are
    classed in (`CITES_GOODS_HEADINGS`), or there is no code."""
    goods = _in(_prefix(hs_code, 2), CITES_GOODS_HEADINGS)
    goods |= _in(_prefix(hs_code, 4), CITES_GOODS_HEADINGS)
    return _flag(goods | is_missing(hs_code))


_LISTED, _WORD_COUNTS, _WORD_NAMES_OTHER_THINGS = 2.0, 1.0, 0.0


def _cites_by_code(hs_code: pa.Array) -> F64:
    """What an HS code says of a CITES word: a CITES line itself (`_LISTED`), a chapter where
    the word names other things, or one where it counts (and no code: it counts)."""
    listed = _in(_prefix(hs_code, 4), CITES_HEADINGS) | _in(_prefix(hs_code, 6), CITES_SUBHEADINGS)
    other = _in(_prefix(hs_code, 2), CITES_WORD_NOT_CHAPTERS)
    other |= _in(_prefix(hs_code, 4), CITES_WORD_NOT_CHAPTERS)
    return np.where(listed, _LISTED, np.where(other, _WORD_NAMES_OTHER_THINGS, _WORD_COUNTS))


def cites_no_permit(sensitive: F64, cites_permit_ref: Text, filed_at: F64 | None = None) -> F64:
    """1 for a CITES-sensitive line filed without a permit reference, blank or a placeholder
    for none ("N/A", "NONE", "NIL", "0", "-"): those released ivory and horn lines that the
    mandatory CITES rule selects when the field is blank. With the lines' filing times
    (seconds), a permit whose reference says it ended before the day the line was filed
    (`permit_expiry`: "VALID UNTIL 2023-12-31" filed in 2025) or starts after it
    (`permit_start`: "VALID FROM 2026-01-01" filed in 2025) is none either."""
    no_permit = _remembered("no_permit", _no_permit, cites_permit_ref) > 0
    if filed_at is not None:
        day = np.floor(np.asarray(filed_at, dtype=np.float64) / 86_400.0)
        with np.errstate(invalid="ignore"):
            no_permit |= permit_expiry(cites_permit_ref) < day
            no_permit |= permit_start(cites_permit_ref) > day
    return _flag((sensitive > 0) & no_permit)


def permit_expiry(cites_permit_ref: Text) -> F64:
    """The day (days since 1970) a CITES permit ends, as its reference says after one of the
    words that head such a date (`PERMIT_ENDS`: "EXP 2023-12-31", "VALID UNTIL 31 DEC 2023",
    "有效期至2023年12月31日", "EXPIRY DEC 2023": the month's last day), before one that follows
    it (`PERMIT_ENDS_AFTER`: "2023年12月31日まで有効", "2023년 12월 31일까지"), or as the second
    date of a period ("VALID FROM 2022-01-01 TO 2023-12-31", "有效期 2022.01.01-2023.12.31"), the
    latest where it gives several; NaN where it gives none that reads one way (year first, or
    the month as a word: "EXP 31/12/2023" is not read)."""
    return _remembered("permit_expiry", partial(_permit_days, end=True), cites_permit_ref)


def permit_start(cites_permit_ref: Text) -> F64:
    """The day (days since 1970) a CITES permit starts to be valid, as its reference says after
    one of the words that head such a date (`PERMIT_STARTS`: "VALID FROM 2026-01-01",
    "EFFECTIVE 1 JAN 2026"), before one that follows it (`PERMIT_STARTS_AFTER`: "2026年1月1日起",
    "2026년 1월 1일부터") or as the first date of a period ("2026-01-01 ~ 2026-12-31"), the
    earliest where it gives several; NaN where it gives none that reads one way."""
    return _remembered("permit_start", partial(_permit_days, end=False), cites_permit_ref)


# A date that a number goes on from is part of that number, not a date ("EXP 2023-12-31/0045",
# an export permit's number): no digit, no token of digits alone, and no word joining a second
# date that was not read ("VALIDITY 2022-01-01 TO 31/12/2023") may follow it.
_DATE_ENDS = r"(?!\d)(?! \d+(?: |$))"


@cache
def _permit_dates() -> tuple[re.Pattern[str], dict[str, int], dict[str, _Layout]]:
    """One pattern for the dates a permit reference gives, as it is read (`normalise_text`):
    a period (``range``: a word of `PERMIT_ENDS`, `PERMIT_STARTS` or `PERMIT_PERIODS`, or none,
    then two dates joined by `PERMIT_TO` or a space), an end date (``end``, ``exp`` after EXP,
    which is also "export"; ``until`` before a word of `PERMIT_ENDS_AFTER`, ``around`` between
    the words of `PERMIT_ENDS_AROUND`) or a start date (``start``; ``since`` before a word of
    `PERMIT_STARTS_AFTER`); and the month of each month name.
    Each date is one of the forms `_date_forms` writes, under its own prefix."""

    def read(*words: str) -> list[str]:
        values = normalise_text(pa.array(list(words), type=pa.large_string())).to_pylist()
        return [str(value) for value in values]

    months = {
        name: number
        for number, names in enumerate(PERMIT_MONTHS, start=1)
        for name in read(*sorted(names))
    }

    def heads(words: frozenset[str]) -> str:
        read_words = read(*sorted(words, key=len, reverse=True))
        spaced = "|".join(re.escape(word) for word in read_words if not unspaced(word))
        bare = "|".join(re.escape(word) for word in read_words if unspaced(word))
        suffix = r"(?: (?:DATE|ON|DT|IS|LE|AU))?"
        parts = [
            f"(?:^| )(?:{spaced}){suffix} ?" if spaced else "",
            f"(?:{bare}) ?" if bare else "",
        ]
        return "(?:" + "|".join(part for part in parts if part) + ")"

    units = tuple(
        "|".join(re.escape(unit) for unit in read(*names))
        for names in (("年", "년"), ("月", "월"), ("日", "일"))
    )
    month = "|".join(re.escape(name) for name in sorted(months, key=len, reverse=True))
    joins = "|".join(re.escape(word) for word in read(*sorted(PERMIT_TO, key=len, reverse=True)))
    join = f"(?:(?: ?(?:{joins}))+ ?| )"
    ends_after = f"{_DATE_ENDS}(?!{join}\\d)"

    def date(prefix: str, figures: bool, year_first: bool = False) -> str:
        forms = _date_forms(prefix, month, units, figures, year_first)
        return "|".join(f"(?:{form})" for form in forms)

    def either(words: frozenset[str]) -> str:
        return "|".join(re.escape(word) for word in read(*sorted(words, key=len, reverse=True)))

    def after(words: frozenset[str]) -> str:
        """One of ``words`` as a whole word after a date: a space or the end follows it."""
        return f" ?(?:{either(words)})(?= |$)"

    # A date a head word gives is not what it says where a trailing word says otherwise
    # ("有效期 2026年1月1日起": from, not until), its day's unit (日, 일) read or not.
    end_after = f"{ends_after}(?!(?:{units[2]})?{after(PERMIT_STARTS_AFTER)})"
    start_after = f"{ends_after}(?!(?:{units[2]})?{after(PERMIT_ENDS_AFTER)})"
    leads, trails = either(PERMIT_ENDS_AROUND[0]), PERMIT_ENDS_AROUND[1]
    not_exp = PERMIT_ENDS - {"EXP"}
    period_heads = heads(PERMIT_ENDS | PERMIT_STARTS | PERMIT_PERIODS)
    alternatives = (
        f"{period_heads}(?P<range>(?:{date('a', True)}){join}(?:{date('b', True)})){_DATE_ENDS}",
        f"{heads(not_exp)}(?P<end>{date('e', True)}){end_after}",
        f"{heads(frozenset({'EXP'}))}(?P<exp>{date('x', False)}){end_after}",
        f"{heads(PERMIT_STARTS)}(?P<start>{date('s', True)}){start_after}",
        f"(?<![A-Z\\d])(?P<bare>(?:{date('c', False)}){join}(?:{date('d', False)})){_DATE_ENDS}",
        # the dates before their word look first at the character they start on: a
        # reference's other places are passed over at once
        f"(?=\\d)(?<![A-Z\\d])(?:{date('u', False, True)})(?:(?P<until>{after(PERMIT_ENDS_AFTER)})"
        f"|(?P<since>{after(PERMIT_STARTS_AFTER)})(?!{join}\\d))",
        f"(?=(?:{leads}))(?<![^\\W\\d_])(?:{leads}) ?"
        f"(?P<around>{date('r', False, True)}){after(trails)}",
    )
    pattern = re.compile("|".join(f"(?:{one})" for one in alternatives))
    index = pattern.groupindex

    def at(prefix: str, kind: str, form: int) -> int | None:
        number = index.get(f"{prefix}{kind}{form}")
        return None if number is None else number - 1

    layout = {
        prefix: [
            (
                index[f"{prefix}y{form}"] - 1,
                at(prefix, "m", form),
                at(prefix, "n", form),
                at(prefix, "d", form),
            )
            for form in range(1, 10)
            if f"{prefix}y{form}" in index
        ]
        for prefix in "abexscdur"
    }
    return pattern, months, layout


def _date_forms(
    prefix: str, month: str, units: tuple[str, ...], figures: bool, year_first: bool = False
) -> list[str]:
    """The ways of writing a date that read one way, each a regular expression whose groups are
    named ``prefix`` and what they hold (y year, m month in figures, n month as a word, d day)
    and a form's number: a full date, then a month ("DEC 2023", "2023年12月"), then with
    ``figures`` a month in figures beside a four-digit year ("12/2023", "2023-12"). With
    ``year_first`` only a year, its month and day in figures ("2023-12-31", "2023年12月31日",
    "2023년 12월", as Chinese, Japanese and Korean write a date before its word)."""
    year_unit, month_unit, day_unit = units
    held = {"y": r"\d{4}", "m": r"\d{1,2}", "n": f"(?:{month})", "d": r"\d{1,2}"}

    def g(kind: str, form: int) -> str:
        return f"(?P<{prefix}{kind}{form}>{held[kind]})"

    year_then, month_then = f"(?: |(?:{year_unit}) ?)", f"(?: |(?:{month_unit}) ?)"
    forms = [
        rf"{g('y', 1)}{year_then}{g('m', 1)}{month_then}{g('d', 1)}(?:{day_unit})?",  # 2023-12-31
        rf"{g('d', 2)} ?{g('n', 2)} ?{g('y', 2)}",  # 31 DEC 2023
        rf"{g('n', 3)} ?{g('d', 3)} ?{g('y', 3)}",  # DEC 31 2023
        rf"(?:NGAY )?{g('d', 4)} THANG {g('m', 4)}(?: NAM)? {g('y', 4)}",  # NGAY 31 THANG 12 NAM 2023
        rf"{g('n', 5)} ?{g('y', 5)}",  # DEC 2023
        rf"{g('y', 6)}(?:{year_unit}) ?{g('m', 6)}(?:{month_unit})",  # 2023年12月
        rf"THANG {g('m', 7)}(?: NAM)? {g('y', 7)}",  # THANG 12 NAM 2023
    ]
    if year_first:
        return [forms[0], forms[5]]
    if figures:
        forms += [rf"{g('m', 8)} {g('y', 8)}", rf"{g('y', 9)} {g('m', 9)}"]  # 12/2023, 2023-12
    return forms


def _permit_days(cites_permit_ref: pa.Array, end: bool) -> F64:
    """Per row, the latest end (``end``) or the earliest start a permit reference gives."""
    text, codes = _distinct(cites_permit_ref)
    out = np.array([_permit_period(value)[end] if value else np.nan for value in text.to_pylist()])
    return _per_row(out, codes, np.nan)


_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
# The end dates `_permit_dates` finds, by kind, and the prefix of their groups.
_END_PREFIXES = {"end": "e", "exp": "x", "until": "u", "around": "r"}


@lru_cache(maxsize=1 << 16)
def _permit_period(reference: str) -> tuple[float, float]:
    """The earliest start and the latest end day (NaN: none) one permit reference gives, as it
    is read; remembered, as `permit_start` and `permit_expiry` read the same references. Each
    date has a year of four figures standing alone: a reference without one is not searched."""
    if _YEAR.search(reference) is None:
        return np.nan, np.nan
    pattern, months, layout = _permit_dates()
    starts: list[float] = []
    ends: list[float] = []
    for found in pattern.finditer(reference):
        groups, kind = found.groups(), found.lastgroup
        if kind in ("range", "bare"):
            first, second = ("a", "b") if kind == "range" else ("c", "d")
            begin, finish = (
                _days(groups, layout[first], months)[0],
                _days(groups, layout[second], months)[1],
            )
            if begin is not None and finish is not None and begin <= finish:
                starts.append(begin)
                ends.append(finish)  # a period whose dates both read, in order; else neither
        elif kind in _END_PREFIXES:
            finish = _days(groups, layout[_END_PREFIXES[kind]], months)[1]
            ends.extend([] if finish is None else [finish])
        else:
            # a start after its head word, or before its word (``since``: "2026年1月1日起"),
            # read in the groups of a date before an end word (``u``)
            begin = _days(groups, layout["s" if kind == "start" else "u"], months)[0]
            starts.extend([] if begin is None else [begin])
    return min(starts, default=np.nan), max(ends, default=np.nan)


_Layout: TypeAlias = list[tuple[int, int | None, int | None, int | None]]


def _days(
    groups: tuple[str | None, ...], layout: _Layout, months: dict[str, int]
) -> tuple[float | None, float | None]:
    """Days since 1970 of the first and the last day of the date one of `_date_forms` read
    (``layout``: each form's year, month, month name and day group, counted from 0; a month
    without its day: the month's first and last; None: no such day, as 2023-02-30)."""
    for year, month, name, day in layout:
        if groups[year] is None:
            continue
        named = None if name is None else groups[name]
        number = (
            months[named]
            if named is not None
            else int(groups[month] or 0)
            if month is not None
            else 0
        )
        days = groups[day] if day is not None else None
        return _day(int(str(groups[year])), number, None if days is None else int(days))
    return None, None


def _day(year: int, month: int, day: int | None) -> tuple[float | None, float | None]:
    if year >= 2400:  # the Thai solar (Buddhist) year: 2566 is 2023
        year -= 543
    if not 1970 <= year <= 2200 or not 1 <= month <= 12:
        return None, None
    first, last = (day, day) if day is not None else (1, calendar.monthrange(year, month)[1])
    try:
        begin, finish = datetime.date(year, month, first), datetime.date(year, month, last)
    except ValueError:  # 2023-02-30
        return None, None
    epoch = datetime.date(1970, 1, 1)
    return float((begin - epoch).days), float((finish - epoch).days)


@cache
def _placeholders() -> frozenset[str]:
    """`PERMIT_PLACEHOLDERS` as a permit reference is read (`normalise_text`): "없음" is kept
    apart into its letters as the reference's text is."""
    read = normalise_text(pa.array(sorted(PERMIT_PLACEHOLDERS), type=pa.large_string()))
    return frozenset(str(value) for value in read.to_pylist())


@cache
def _not_held() -> str:
    """`PERMIT_NOT_YET` and `PERMIT_NOT_VALID` as one pattern of whole words on a permit
    reference as it is read."""
    single, pattern = lexicon_entries(PERMIT_NOT_YET | PERMIT_NOT_VALID, stem=False)
    words = "|".join(re.escape(str(word)) for word in single.to_pylist())
    return "|".join(part for part in (f"(^| )({words})( |$)", pattern) if part)


def _no_permit(cites_permit_ref: pa.Array) -> F64:
    """A placeholder for none, a reference without a digit other than 0 (every CITES permit
    and certificate number carries one, and "NON-CITES", "EXEMPT", "TBD", "X" or "000-000" read
    as a permit held switched the mandatory rule off), or one saying the permit is not there yet
    ("PENDING 2025", "APPLIED 12/2025", `PERMIT_NOT_YET`) or not valid ("EXPIRED 2024",
    "REVOKED 12345", `PERMIT_NOT_VALID`)."""
    text, codes = _distinct(cites_permit_ref)
    placeholder = _in(text, _placeholders())
    no_number = np.array([not _numbered(value) for value in text.to_pylist()], dtype=bool)
    not_held = text_matches(text, _not_held())
    return _per_row(placeholder | no_number | not_held, codes, 1.0)


def _numbered(reference: str | None) -> bool:
    """A digit other than a zero, in any script ("๑๒", "１２"; not "๐๐๐")."""
    return reference is not None and any(
        char.isdigit() and unicodedata.digit(char, 0) != 0 for char in reference
    )


def reefer(container_size_type: Text) -> F64:
    """1 for a refrigerated container (ISO 6346 type group R); NaN without a size-type."""

    def rule(size_type: pa.Array) -> F64:
        return _as_float(pc.equal(pc.utf8_slice_codeunits(size_type, 2, 3), _text("R")))

    return _remembered("reefer", rule, container_size_type)


def reefer_unneeded(
    reefer_flag: F64, hs_code: Text, cooling_word: B, cold_medicine_word: B | None = None
) -> F64:
    """1 for a reefer carrying goods that need no cooling (cashew in a reefer): not goods of
    the cooled chapters and headings, nor described as kept cold, nor medicines of chapter 30
    that the description names as kept at 2-8 C (``cold_medicine_word``: insulin, vaccines)."""
    cooled = _remembered("cooled_goods", _cooled_goods, hs_code) > 0
    cooled |= cooling_word
    if cold_medicine_word is not None and cold_medicine_word.any():
        medicine = _remembered("cold_medicine_code", _cold_medicine_code, hs_code) > 0
        cooled |= cold_medicine_word & medicine
    return np.where(np.isnan(reefer_flag), np.nan, _flag((reefer_flag > 0) & ~cooled))


def _cold_medicine_code(hs_code: pa.Array) -> F64:
    return _flag(_in(_prefix(hs_code, 2), COLD_MEDICINE_CHAPTERS))


def _cooled_goods(hs_code: pa.Array) -> F64:
    heading = _prefix(hs_code, 4)
    cooled = _in(_prefix(hs_code, 2), COOLED_CHAPTERS) | _in(heading, COOLED_HEADINGS)
    cooled &= ~_in(heading, NOT_COOLED_HEADINGS)
    return _flag(cooled)


def red_flag_score(source: F64, cover: F64, route: F64) -> F64:
    """0-3: how many of risky origin, cover-load goods, risky transit or market hold."""
    return source + cover + route
