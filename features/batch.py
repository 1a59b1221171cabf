"""A frame of normalised shipment lines with its entity keys, times and tokens worked out once.

Every history family (counters, norms, rates) reads the same `Batch`, so a key is hashed once per
call however many features use it. Parts are computed on first use: the state's buffer of recent
lines only ever needs the keys that outcomes are attributed to.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features import memo
from features.index import Query
from features.keys import (
    F64,
    I64,
    MISSING,
    NAME_RULES,
    U64,
    code_hashes,
    combine,
    fill_blank,
    hash_text,
    party_key,
    seconds,
    text_array,
    text_key,
)
from features.lexicons import SAME_AS_CONSIGNEE, to_order_pattern
from features.row import numbers, origin_country_text, seconds_of
from features.text import Descriptions, describe
from risk_engine.parsing import LIST_SEPARATOR
from risk_engine.validation import key_hashes

__all__ = ["PARTIES", "RATE_KEYS", "MULTI_RATE_KEYS", "Batch", "Pairs", "per_row"]

PARTIES: tuple[str, ...] = ("shipper", "consignee", "notify", "forwarder", "pair")
# Entities whose seizure history is learned; hubs and tokens are several per line.
RATE_KEYS: tuple[str, ...] = (
    "shipper",
    "consignee",
    "notify",
    "forwarder",
    "pair",
    "lane",
    "origin",
    "hs4",
    "hs4_origin",
)
MULTI_RATE_KEYS: tuple[str, ...] = ("hub", "token")

Pairs = tuple[I64, U64]  # (row, key) pairs, rows ascending
T = TypeVar("T")


def _not_a_party(rules: int) -> str:
    """What a consignee or notify party reads when it is no party, by a history's name rules."""
    return f"({to_order_pattern(rules)})|({SAME_AS_CONSIGNEE})"


_DAY = 86_400
_MONDAY = 4 * _DAY  # 1970-01-05, the first Monday after the epoch


class Batch:
    """Normalised shipment lines (contract columns) and what history features need of them."""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        token_buckets: int,
        keep_queries: bool = True,
        name_rules: int = NAME_RULES,
    ) -> None:
        self.frame = frame
        self.n = len(frame)
        self.token_buckets = token_buckets
        # how party names and descriptions become keys: the feature history's own rules
        # (`StateParams.name_rules`), so a model trained before a change finds its parties
        self.name_rules = name_rules
        self.keep_queries = keep_queries
        self._queries: dict[str, Query] = {}
        self._columns: dict[str, pd.Series] = {}
        self._values: dict[str, Any] | None = None
        self._derived: dict[str, Any] = {}

    def derived(self, name: str, make: Callable[[], T]) -> T:
        """A value worked out from the batch once per name, shared by the events a batch adds
        and the features it gets (value norms read the same bins for both)."""
        if name not in self._derived:
            self._derived[name] = make()
        return cast(T, self._derived[name])

    def query(self, name: str, keys: U64, secs: I64 | None = None) -> Query:
        """The keys sorted with their times (filed_at unless given), once per name: building
        the batch's events and looking them up share one sort. A batch that only adds events
        (``keep_queries=False``: `fit`, `update`) sorts each once anyway and keeps none, which
        saves some 25 bytes a line per query while history is built."""
        found = self._queries.get(name)
        if found is None:
            found = Query.of(keys, self.secs if secs is None else secs)
            if self.keep_queries:
                self._queries[name] = found
        return found

    def column(self, name: str) -> pd.Series:
        """A contract column (all missing when the frame lacks it), looked up once."""
        found = self._columns.get(name)
        if found is None:
            if name in self.frame.columns:
                found = self.frame[name]
            else:
                found = pd.Series(pd.NA, index=self.frame.index, dtype="string[pyarrow]")
            self._columns[name] = found
        return found

    def values(self, name: str) -> Any:
        """A contract column's values: an extension array (Arrow text, timestamps, nullable
        integers) or a NumPy array; all missing text when the frame lacks the column."""
        if self._values is None:
            self._values = _column_values(self.frame)
        found = self._values.get(name)
        if found is None:
            found = self._values[name] = self.column(name).array
        return found

    def text(self, name: str) -> pa.Array:
        """A text column as Arrow large_string (see `text_array`), converted once."""

        def convert() -> pa.Array:
            values = self.values(name)
            if isinstance(values, pd.arrays.ArrowExtensionArray):
                return text_array(values)
            return text_array(self.column(name))

        return self.derived(f"text:{name}", convert)

    def numbers(self, name: str) -> F64:
        """A numeric column as floats (see `features.row.numbers`), converted once."""

        def convert() -> F64:
            values = self.values(name)
            if isinstance(values, np.ndarray) and values.dtype == np.float64:
                return values  # what `numbers` reads off such a column
            if isinstance(values, pd.api.extensions.ExtensionArray):
                return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
            return numbers(self.column(name))

        return self.derived(f"numbers:{name}", convert)

    def times(self, name: str) -> F64:
        """A timestamp column as float seconds (see `features.row.seconds_of`), converted once."""

        def convert() -> F64:
            values = self.values(name)
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                return seconds_of(values)
            return seconds_of(self.column(name))

        return self.derived(f"times:{name}", convert)

    def missing(self, name: str) -> npt.NDArray[np.bool_]:
        """Where a column is blank (as `Series.isna` says), worked out once."""

        def blank() -> npt.NDArray[np.bool_]:
            values = self.values(name)
            if not isinstance(values, pd.api.extensions.ExtensionArray):
                return np.asarray(pd.isna(values), dtype=bool)
            if (
                isinstance(values, pd.arrays.ArrowExtensionArray)
                and not pa.array(values).null_count
            ):
                return np.zeros(self.n, dtype=bool)  # Arrow knows without looking at the rows
            return np.asarray(values.isna(), dtype=bool)

        return self.derived(f"missing:{name}", blank)

    def _text(self, name: str, salt: int) -> U64:
        return hash_text(self.text(name), salt)

    # --- time ---------------------------------------------------------------------------------

    @cached_property
    def secs(self) -> I64:
        """filed_at in whole seconds: the as-of time of each line."""
        values = self.values("filed_at")
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            return seconds(values)
        return seconds(self.column("filed_at"))

    @cached_property
    def versions(self) -> I64:
        """The second of each line's filing as the record holds it: its last amendment when it
        was amended after filed_at (an amended line keeps the filed_at of its first filing),
        else filed_at. Of two filings of one line, the later version is the amendment."""
        amended = self.times("last_amended_at")
        later = np.isfinite(amended)
        if not later.any():
            return self.secs
        out = self.secs.copy()
        whole = np.floor(amended[later]).astype(np.int64)
        out[later] = np.maximum(out[later], whole)
        return out

    # --- parties ------------------------------------------------------------------------------

    @cached_property
    def parties(self) -> dict[str, U64]:
        text, rules = self.text, self.name_rules
        no_party = _not_a_party(rules)
        shipper = party_key(text("shipper_name"), text("shipper_country"), 11, rules=rules)
        consignee = party_key(
            text("consignee_name"), text("consignee_country"), 13, drop=no_party, rules=rules
        )
        notify = party_key(
            text("notify_party_name"), text("notify_party_country"), 15, drop=no_party, rules=rules
        )
        forwarder = party_key(text("freight_forwarder_name"), None, 17, rules=rules)
        return {
            "shipper": shipper,
            "consignee": consignee,
            "notify": notify,
            "forwarder": forwarder,
            "pair": combine(shipper, consignee, salt=19),
        }

    @cached_property
    def consignee_written(self) -> U64:
        """Key of the consignee as written (TO ORDER included: a party key otherwise, so "ABC
        Trading Co., Ltd." is ABC TRADING CO LTD), for consignment shape and a changed
        consignee."""
        return party_key(
            self.text("consignee_name"), self.text("consignee_country"), 21, rules=self.name_rules
        )

    @cached_property
    def shape_pair(self) -> U64:
        """Shipper with the consignee as written (TO ORDER included), for consignment shape."""
        return combine(self.parties["shipper"], self.consignee_written, salt=23)

    # --- consignment --------------------------------------------------------------------------

    def _codes(self, columns: list[str], salt: int) -> U64:
        """Keys of short codes (B/L and container numbers: up to 48 characters) by the
        contract's fast key hash."""
        hashed = code_hashes([self.values(name) for name in columns])
        if hashed is None:
            frame = self.frame
            if any(name not in frame.columns for name in columns):
                frame = pd.DataFrame({name: self.column(name) for name in columns})
            hashed = key_hashes(frame, columns).astype(np.uint64)
        return combine(hashed, salt=salt, remember=False)

    @cached_property
    def bl(self) -> U64:
        return self._codes(["bl_number"], 31)

    @cached_property
    def shipment(self) -> U64:
        """Key of the line itself (bl_number, container_number): how outcomes find it."""
        return self._codes(["bl_number", "container_number"], 35)

    @cached_property
    def voyage(self) -> U64:
        return text_key([self.text("vessel_imo"), self.text("voyage_number")], (37, 39), salt=41)

    # --- goods --------------------------------------------------------------------------------

    def _hs(self, digits: int, salt: int) -> U64:
        def compute(codes: pa.Array) -> U64:
            return hash_text(pc.utf8_slice_codeunits(codes, 0, digits), salt)

        return memo.per_value(
            ("hs", digits, salt), self.text("hs_code"), compute, np.uint64, MISSING
        )

    @cached_property
    def chapter(self) -> U64:
        return self._hs(2, 51)

    @cached_property
    def hs4(self) -> U64:
        return self._hs(4, 53)

    @cached_property
    def hs6(self) -> U64:
        return self._hs(6, 55)

    @cached_property
    def currency(self) -> U64:
        return self._text("currency", 57)

    @cached_property
    def descriptions(self) -> Descriptions:
        return describe(
            self.text("goods_description"), buckets=self.token_buckets, rules=self.name_rules
        )

    # --- route --------------------------------------------------------------------------------

    @cached_property
    def origin(self) -> U64:
        """Key of the goods' origin country (see `origin_country`)."""

        def compute(origin: pa.Array, loading: pa.Array) -> U64:
            return hash_text(origin_country_text(origin, loading), 61)

        columns = [self.text("country_of_origin"), self.text("port_of_loading")]
        return memo.per_row(("origin", 61), columns, compute, np.uint64)

    @cached_property
    def lane(self) -> U64:
        pol, pod = self.text("port_of_loading"), self.text("port_of_discharge")
        return text_key([pol, pod], (63, 65), salt=67)

    @cached_property
    def hubs(self) -> Pairs:
        """Every transshipment port of each line, once per line (in list order).

        A port listed twice ("SGSIN;SGSIN") was two keys of one line: its outcome counted as two
        inspections and two seizures of the hub, and its own outcome was taken off twice."""
        lists = pc.split_pattern(fill_blank(self.text("transshipment_ports")), LIST_SEPARATOR)
        ports = pc.list_flatten(lists)
        rows = np.asarray(pc.list_parent_indices(lists), dtype=np.int64)
        keys = hash_text(ports, 69)
        real = keys != MISSING
        rows, keys = rows[real], keys[real]
        if len(rows) > 1:
            order = np.lexsort((keys, rows))
            again = (rows[order][1:] == rows[order][:-1]) & (keys[order][1:] == keys[order][:-1])
            if again.any():
                keep = np.ones(len(rows), dtype=bool)
                keep[order[1:][again]] = False
                rows, keys = rows[keep], keys[keep]
        return rows, keys

    # --- everything an outcome is attributed to ------------------------------------------------

    @cached_property
    def rate_keys(self) -> dict[str, U64]:
        """The one key per line of each single-valued rate entity (MISSING where absent)."""
        return {
            **self.parties,
            "lane": self.lane,
            "origin": self.origin,
            "hs4": self.hs4,
            "hs4_origin": combine(self.hs4, self.origin, salt=71),
        }

    @cached_property
    def rate_pairs(self) -> dict[str, Pairs]:
        """(row, key) pairs per rate entity; rows without the entity have no pair."""
        rows = np.arange(self.n, dtype=np.int64)
        pairs: dict[str, Pairs] = {}
        for name, keys in self.rate_keys.items():
            present = keys != MISSING
            pairs[name] = (rows[present], keys[present])
        pairs["hub"] = self.hubs
        d = self.descriptions
        pairs["token"] = (d.pair_row, d.pair_token)
        return pairs

    def period_start(self, period_days: int) -> I64:
        """Start (in seconds) of the UTC period each line was filed in: days from midnight,
        weeks from Monday 00:00."""
        period = period_days * _DAY
        offset = _MONDAY if period_days == 7 else 0
        return ((self.secs - offset) // period) * period + offset


def _column_values(frame: pd.DataFrame) -> dict[str, Any]:
    """Every column's values, as `Series.array` holds them (NumPy arrays for NumPy columns).

    pandas' block manager hands them over without building a Series per column, which for the
    few lines of a manifest costs more than the values; a pandas without it gets them through
    `DataFrame.items`."""
    take = getattr(getattr(frame, "_mgr", None), "iget_values", None)
    if callable(take) and frame.columns.is_unique:
        return {name: take(i) for i, name in enumerate(frame.columns)}
    return {cast(str, name): column.array for name, column in frame.items()}


def per_row(values: np.ndarray, rows: I64, n: int, how: str = "max") -> np.ndarray:
    """Reduce (row, value) pair values to one value per row (NaN for rows without pairs).

    ``rows`` must be ascending (as `Batch` gives them); ``how`` is ``max`` or ``mean``; NaN
    values are skipped.
    """
    out = np.full(n, np.nan, dtype=np.float64)
    if len(rows) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    if how == "max":
        out[rows[starts]] = np.fmax.reduceat(values, starts)
        return out
    present = ~np.isnan(values)
    total = np.add.reduceat(np.where(present, values, 0.0), starts)
    count = np.add.reduceat(present.astype(np.float64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[rows[starts]] = np.where(count > 0, total / count, np.nan)
    return out
