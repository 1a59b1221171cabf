"""Assemble every feature family of a batch into the model frame (one code path for all uses).

Training (`fit_transform`), batch scoring and the API (`transform` on a few lines) all call
`feature_frame`; only the history they pass differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from features import filings, history, norms, rates, row
from features.batch import Batch
from features.catalogue import CATALOGUE
from features.categories import encoded_values
from features.history import HistoryEvents
from features.index import EventIndex
from features.keys import F64
from features.state import Contribution, FeatureState

__all__ = ["feature_frame", "history_events", "row_features"]


def _flag(mask: np.ndarray) -> F64:
    return np.asarray(mask, dtype=np.float64)


def row_features(batch: Batch) -> dict[str, F64]:
    """Features of each line's own fields (see `features.row`)."""
    text, number, time = batch.text, batch.numbers, batch.times
    weight = number("gross_weight_kg")
    filed, eta, etd = time("filed_at"), time("eta"), time("etd")
    d = batch.descriptions
    hs = text("hs_code")
    tss, pol, pod = text("transshipment_ports"), text("port_of_loading"), text("port_of_discharge")
    dq = text("dq_flags")
    size_type = text("container_size_type")
    rules = batch.name_rules  # the history's: texts read as its model learned them
    out: dict[str, F64] = {
        "consignee_to_order": row.consignee_to_order(text("consignee_name"), rules),
        "consignee_is_logistics": row.consignee_is_logistics(text("consignee_name"), rules),
        "shipper_address_missing": _flag(batch.missing("shipper_address")),
        "consignee_address_missing": _flag(batch.missing("consignee_address")),
        "address_po_box": np.fmax(
            row.po_box_address(text("shipper_address"), rules),
            row.po_box_address(text("consignee_address"), rules),
        ),
        "n_transshipments": row.n_transshipments(tss),
        "hub_transits": row.hub_transits(tss),
        "detour_ratio": row.detour_ratio(pol, tss, pod),
        "origin_not_loading_country": row.origin_not_loading_country(
            text("country_of_origin"), pol
        ),
        "source_country": row.source_country(
            text("country_of_origin"), pol, text("shipper_country")
        ),
        "demand_market": row.demand_market(pod),
        "risky_transit_or_market": row.risky_transit_or_market(tss, pod),
        "desc_tokens": d.n_tokens.astype(np.float64),
        "cover_load": row.cover_load(hs, d.cover_word),
        "vague_description": _flag(d.vague),
        "log_kg_per_package": row.log_kg_per_package(weight, number("package_count")),
        "weight_share_of_max": row.weight_share_of_max(weight, size_type),
        "value_missing": _flag(batch.missing("declared_value")),
        "hours_filing_to_departure": row.hours_filing_to_departure(filed, etd),
        "hours_filing_to_arrival": row.hours_filing_to_arrival(filed, eta),
        "late_filing": row.late_filing(filed, eta),
        "booking_lead_days": row.booking_lead_days(time("booking_created_at"), etd),
        "amendment_count": row.amendment_count(number("amendment_count")),
        "hours_amendment_before_arrival": row.hours_amendment_before_arrival(
            time("last_amended_at"), eta
        ),
        "dq_flag_count": row.dq_flag_count(dq),
        "dq_container_check_digit": row.dq_flag(dq, "check_digit", "container_number"),
        "dq_imo_check_digit": row.dq_flag(dq, "check_digit", "vessel_imo"),
        "dq_unknown_port": row.dq_flag(dq, "unknown_port"),
        "dq_overweight": row.dq_flag(dq, "weight_above_container_max"),
        "dq_booking_after_filing": row.dq_flag(dq, "booking_after_filing"),
        "dq_description_truncated": row.dq_flag(dq, "description_truncated"),
        "missing_optional_count": row.missing_optional_count(batch.frame, batch.missing),
        "freight_collect": row.freight_collect(text("freight_terms")),
        "house_bl": row.house_bl(text("bl_type")),
        "empty_declared": row.empty_declared(text("full_empty")),
    }
    sensitive = row.cites_sensitive(hs, d.cites_word, d.cites_colour_goods)
    out["cites_sensitive"] = sensitive
    out["cites_no_permit"] = row.cites_no_permit(sensitive, text("cites_permit_ref"), filed)
    reefer = row.reefer(size_type)
    out["reefer"] = reefer
    out["reefer_unneeded"] = row.reefer_unneeded(reefer, hs, d.cooling_word, d.cold_medicine_word)
    score = row.red_flag_score(
        out["source_country"], out["cover_load"], out["risky_transit_or_market"]
    )
    out["red_flag_score"] = score
    out["red_flag_conjunction"] = _flag(score >= 3)
    return out


def history_events(batch: Batch, state: FeatureState) -> Contribution:
    """The shipment-history events a batch adds to the state (counters and value norms).

    `feature_frame` needs only the counters (`history.contributions`): value norms read the
    batch's own lines themselves, and only when they can count."""
    events = history.contributions(batch, state)
    norms.contributions(batch, events)
    return events


def feature_frame(
    batch: Batch,
    state: FeatureState,
    events: HistoryEvents | Callable[[], HistoryEvents],
    outcome_index: Callable[[str], EventIndex],
    own: F64 | None = None,
    *,
    own_lines: bool = True,
) -> pd.DataFrame:
    """The model frame of a batch: row features, history as of each line's filed_at (state plus
    ``events``, the batch's own counter events), and seizure rates from ``outcome_index``.

    ``events`` may be a function that works them out: on a large batch it then runs alongside
    the families that do not need them. Lines the state holds already are scored from the state
    alone: ``events`` empty (`NO_EVENTS`) and ``own_lines`` false, so that they do not count
    themselves and each other twice."""

    def history_part() -> Mapping[str, object]:
        own_events = events() if callable(events) else events
        return history.features(batch, state, own_events)

    parts: list[Callable[[], Mapping[str, object]]] = [
        history_part,
        lambda: rates.features(batch, outcome_index, state.params.prior_strength, own),
        lambda: row_features(batch),
        lambda: norms.features(batch, state, own_lines=own_lines),
        lambda: filings.features(batch, state, own_lines=own_lines),
        lambda: encoded_values(batch, state.vocab),
    ]
    columns: dict[str, object] = {}
    if len(batch.frame) >= _PARALLEL_ROWS:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="features") as pool:
            for result in pool.map(lambda part: part(), parts):
                columns.update(result)
    else:
        for part in parts:
            columns.update(part())
    missing = [f.name for f in CATALOGUE if f.name not in columns]
    if missing:  # a catalogue entry without code is a bug, not bad input
        raise RuntimeError(f"features without code: {missing}")
    return _frame(columns, batch.frame.index)


# From this many lines, the feature families are computed two at a time (NumPy, Arrow and
# pandas release the GIL for most of the work on large arrays).
_PARALLEL_ROWS = 100_000

_NAMES = [f.name for f in CATALOGUE]
# Column labels as Python strings (object dtype), not Arrow strings: scoring reads about 30
# columns by name per call, and a label lookup in an object index takes half the time.
_COLUMNS = pd.Index(_NAMES, dtype=object)


def _frame(columns: dict[str, object], index: pd.Index) -> pd.DataFrame:
    """The columns in catalogue order as one frame.

    The columns are float arrays and categoricals made by this call, so pandas is told not to
    check and convert them one by one (`DataFrame._from_arrays` without integrity checks, as
    its docstring allows for arrays that are already what a block holds): for a few lines the
    checks cost more than the values. A pandas without it, or any other column, goes through
    the public constructor."""
    arrays = [columns[name] for name in _NAMES]
    ready = all(
        (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (len(index),))
        or (isinstance(a, pd.Categorical) and len(a) == len(index))
        for a in arrays
    )
    build = getattr(pd.DataFrame, "_from_arrays", None)
    if ready and build is not None:
        try:
            frame: pd.DataFrame = build(
                arrays, columns=_COLUMNS, index=index, verify_integrity=False
            )
            return frame
        except TypeError:
            pass
    return pd.DataFrame(dict(zip(_NAMES, arrays, strict=True)), index=index, columns=_COLUMNS)
