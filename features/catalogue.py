"""Every model feature: its name, what it means in an officer's words, and where it comes from.

The catalogue fixes the feature columns and their order, feeds docs/features.md, and gives the
templates that turn a feature's value into a reason ("consignee first seen 3 days before
filing") when the model layer explains a score.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from features.categories import OTHER
from risk_engine.reference import container_type_name, country_name, hs_chapter_name, port_name

__all__ = [
    "CATALOGUE",
    "CATEGORICAL",
    "FAMILIES",
    "Feature",
    "by_name",
    "catalogue_markdown",
    "feature_names",
    "power_of_ten",
    "reason",
    "unseen_reason",
]

Kind = Literal["number", "flag", "category"]
# How a category's codes are told: named from reference data (ports, countries, HS chapters) or
# as they are; a code first seen after the fit (`OTHER`) is said to be new, never printed.
Naming = Literal["", "port", "country", "hs_chapter", "hs_heading", "carrier", "container_type"]

FAMILIES: tuple[str, ...] = (
    "parties",
    "route",
    "goods",
    "value and weight",
    "timing and paperwork",
    "consignment shape",
    "conjunction",
)


@dataclass(frozen=True)
class Feature:
    """One model column.

    ``reason`` is a `str.format` template with ``{value}``, and for numbers ``{size}`` (its
    size), ``{whole}`` (its size in whole units with commas, "under 1" below a half),
    ``{side}`` (above / below), ``{when}`` (before / after), ``{s}`` (a plural
    ending), ``{degree}`` (somewhat / well / far, for robust z-scores) and ``{amount}`` (the
    amount a log10 value stands for, written plainly: a column
    kept as a logarithm for the model is never read out as one). A category with a ``naming``
    (port, country, HS chapter) also has ``{named}``: the code with its name from the reference
    data, ``CIABJ (Abidjan)``. ``when_missing`` is the text for a
    missing value (never seen, not declared). ``label_based`` features are learned from
    inspection outcomes.
    """

    name: str
    family: str
    meaning: str
    red_flag: str
    sources: str
    when_missing: str
    reason: str
    kind: Kind = "number"
    label_based: bool = False
    missing_reason: str = ""
    naming: Naming = ""
    # A feature that is missing when the line has no such entity at all (no consignee named: TO
    # ORDER, blank): a missing value then has nothing to tell ("consignee never seen before"
    # was told of TO ORDER lines).
    present_if: str = ""
    # A number whose size below this has nothing to tell: a robust z-score within the value
    # histogram's resolution (about one bin of the median) has no reliable side, and "somewhat
    # above normal (0.1 robust SD)" was told of a line lighter than 95 % of its goods. A count
    # that includes the line itself (containers on its B/L) is told from 1: a 0 is history the
    # state no longer holds (a line filed long before its cut-off), and "0 containers of this
    # pair on this voyage" was told as a reason.
    told_from: float = 0.0
    # A party's rate when the party was never seen (this feature of the line missing while the
    # party is named): the overall rate, the smoothing's prior, and told so
    # (``unseen_reason``); "shipper: estimated seizure rate 2.2%" read as a shipper with a record.
    unseen_if: str = ""
    unseen_reason: str = ""
    # A smoothed seizure rate: told as raising a score only above the overall rate
    # (`models.reasons`); "transshipment port: estimated seizure rate 0.7%" was told as a reason
    # to open a container when 2.2% of all inspections seized.
    rate: bool = False


_PARTY = {
    "shipper": ("shipper", "shipper_name, shipper_country"),
    "consignee": ("consignee", "consignee_name, consignee_country"),
    "notify": ("notify party", "notify_party_name, notify_party_country"),
    "forwarder": ("forwarder", "freight_forwarder_name"),
    "pair": ("shipper-consignee pair", "shipper and consignee names and countries"),
}
_NEW = "never seen before filing (NaN)"
# When a line has no such party: only a consignee or notify party can be TO ORDER or SAME AS
# CONSIGNEE (a shipper or forwarder so written is taken as a party of that name).
_NO_PARTY = {
    "shipper": "no such party on the line (blank): NaN",
    "consignee": "no such party on the line (blank, TO ORDER, SAME AS CONSIGNEE): NaN",
    "notify": "no such party on the line (blank, TO ORDER, SAME AS CONSIGNEE): NaN",
    "forwarder": "no such party on the line (blank): NaN",
    "pair": "no shipper, or no consignee named (blank, TO ORDER, SAME AS CONSIGNEE): NaN",
}
_RATE_MISSING = "no outcome yet: the overall rate (smoothing); entity absent: NaN"
# How a smoothed rate is told: an estimate (its inspections so far, few or none, pulled towards
# the overall rate). A party never inspected has the overall rate, and "2.2 % of its inspections
# found something" told an officer of inspections that never were.
_RATE = "estimated seizure rate {value:.1%}"


def _party_features() -> list[Feature]:
    out: list[Feature] = []
    for key, (label, sources) in _PARTY.items():
        for days in (30, 90, 365):
            out.append(
                Feature(
                    f"{key}_lines_{days}d",
                    "parties",
                    f"Lines filed for the {label} in the {days} days before this one",
                    "a sudden burst, or no track record",
                    sources + ", filed_at",
                    _NO_PARTY[key],
                    f"{label}: {{value:.0f}} line{{s}} in the previous {days} days",
                )
            )
        out.append(
            Feature(
                f"{key}_days_known",
                "parties",
                f"Days since the {label} was first seen",
                "a party first seen recently",
                sources + ", filed_at",
                _NEW,
                f"{label} first seen {{value:.0f}} day{{s}} before filing",
                missing_reason=f"{label} never seen before",
                present_if=f"{key}_lines_30d",
            )
        )
        out.append(
            Feature(
                f"{key}_hs_chapters",
                "parties",
                f"Distinct HS chapters the {label} shipped before",
                "a party shipping anything (many chapters) or a newcomer",
                sources + ", hs_code",
                _NO_PARTY[key],
                f"{label} shipped {{value:.0f}} HS chapter{{s}} before",
            )
        )
        if key in ("shipper", "consignee", "pair"):
            out.append(
                Feature(
                    f"{key}_new_goods",
                    "parties",
                    f"1 when the {label} never shipped this HS heading before",
                    "goods new for this party",
                    sources + ", hs_code",
                    "party never seen: NaN",
                    f"goods (HS heading) new for this {label}",
                    kind="flag",
                )
            )
        out.append(
            Feature(
                f"{key}_seizure_rate",
                "parties",
                f"Smoothed, time-decayed seizure rate of earlier inspections of the {label}",
                "links to earlier seizures",
                sources + "; outcomes result, recorded_at",
                _RATE_MISSING,
                f"{label}: {_RATE}",
                label_based=True,
                unseen_if=f"{key}_days_known",
                unseen_reason=f"{label} never seen before: overall seizure rate {{value:.1%}}",
                rate=True,
            )
        )
        out.append(
            Feature(
                f"{key}_prior_seizures",
                "parties",
                f"Seizures on the {label}'s lines recorded before filing",
                "links to earlier seizures",
                sources + "; outcomes result, recorded_at",
                _NO_PARTY[key],
                f"{label} linked to {{value:.0f}} earlier seizure{{s}}",
                label_based=True,
            )
        )
    return out


def _f(
    name: str,
    family: str,
    meaning: str,
    red_flag: str,
    sources: str,
    when_missing: str,
    reason_text: str,
    kind: Kind = "number",
    label_based: bool = False,
    naming: Naming = "",
    told_from: float = 0.0,
    rate: bool = False,
) -> Feature:
    return Feature(
        name,
        family,
        meaning,
        red_flag,
        sources,
        when_missing,
        reason_text,
        kind,
        label_based,
        naming=naming,
        told_from=told_from,
        rate=rate,
    )


_CAT = "missing: NaN; a value not seen at fit: the category __other__"
_NEVER = "never missing"

CATALOGUE: tuple[Feature, ...] = (
    *_party_features(),
    _f("consignee_to_order", "parties", "1 when the consignee is TO ORDER (or blank)",
       "owner of the goods not named", "consignee_name", _NEVER,
       "consignee is TO ORDER", "flag"),
    _f("consignee_is_logistics", "parties",
       "1 when the consignee's name says forwarder, logistics, shipping, NVOCC, warehousing, "
       "supply chain or bank (not AGENCIES, EXPRESS or CARGO alone, nor a RIVER BANK place "
       "name, name rules 4; couriers and warehouses in Chinese, Japanese and Korean, 快递, 速运, "
       "仓储, 倉庫, 택배, and EAST WEST BANK, name rules 5)",
       "a forwarder, carrier or bank as consignee", "consignee_name", _NEVER,
       "consignee is a logistics company or bank", "flag"),
    _f("shipper_address_missing", "parties", "1 when the shipper address is blank",
       "incomplete address", "shipper_address", _NEVER, "shipper address missing", "flag"),
    _f("consignee_address_missing", "parties", "1 when the consignee address is blank",
       "incomplete address", "consignee_address", _NEVER, "consignee address missing", "flag"),
    _f("address_po_box", "parties", "1 when the shipper or consignee address is a PO box",
       "PO-box address", "shipper_address, consignee_address", "no address: NaN",
       "PO box address", "flag"),
    # --- route ---------------------------------------------------------------------------------
    _f("port_of_loading", "route", "Port of loading (UN/LOCODE)", "source ports",
       "port_of_loading", _CAT, "loaded at {named}", "category", naming="port"),
    _f("port_of_discharge", "route", "Port of discharge", "destination ports",
       "port_of_discharge", _CAT, "discharged at {named}", "category", naming="port"),
    _f("transshipment_port", "route", "Last transshipment port before discharge",
       "transit through hubs", "transshipment_ports",
       "no transshipment: NaN; a port not seen at fit: __other__",
       "transshipped at {named}", "category", naming="port"),
    _f("loading_country", "route", "Country of the port of loading", "source countries",
       "port_of_loading", _CAT, "loaded in {named}", "category", naming="country"),
    _f("origin_country", "route", "Declared origin of the goods (loading country if blank)",
       "source countries", "country_of_origin, port_of_loading", _CAT, "goods from {named}",
       "category", naming="country"),
    _f("shipper_country", "route", "Country of the shipper", "source countries",
       "shipper_country", _CAT, "shipper in {named}", "category", naming="country"),
    _f("carrier_code", "route", "Carrier (SCAC)", "", "carrier_code", _CAT,
       "carried by {named}", "category", naming="carrier"),
    _f("n_transshipments", "route", "Number of transshipment ports", "complex routing",
       "transshipment_ports", "none declared: 0", "{value:.0f} transshipment{s}"),
    _f("hub_transits", "route", "Transshipments through ports marked as hubs",
       "transit through hubs", "transshipment_ports; reference ports", "none: 0",
       "{value:.0f} transit{s} through hub ports"),
    _f("detour_ratio", "route",
       "Great-circle distance via the transshipment ports over the direct distance",
       "detours", "port_of_loading, transshipment_ports, port_of_discharge; port coordinates",
       "a port not in the reference table: NaN", "route {value:.1f} times the direct distance"),
    _f("origin_not_loading_country", "route",
       "1 when the goods' origin differs from the loading country",
       "goods routed through a third country", "country_of_origin, port_of_loading",
       "no declared origin: NaN", "goods loaded outside their country of origin", "flag"),
    _f("source_country", "route",
       "1 when origin, loading or shipper country is a documented contraband source",
       "high-risk origin", "country_of_origin, port_of_loading, shipper_country", _NEVER,
       "from a known source country", "flag"),
    _f("demand_market", "route", "1 when discharged in Viet Nam, China or Hong Kong",
       "main demand market", "port_of_discharge", _NEVER, "bound for a main demand market",
       "flag"),
    _f("risky_transit_or_market", "route",
       "1 when routed through a documented hub (SG, Port Klang, HK, KH, Algeciras) or bound "
       "for a main demand market",
       "risky transit or destination", "transshipment_ports, port_of_discharge", _NEVER,
       "risky transit or destination", "flag"),
    _f("lane_seizure_rate", "route",
       "Smoothed, time-decayed seizure rate of the loading-discharge lane",
       "lanes with recent seizures", "port_of_loading, port_of_discharge; outcomes",
       _RATE_MISSING, "lane: " + _RATE, label_based=True, rate=True),
    _f("hub_seizure_rate", "route",
       "Highest smoothed, time-decayed seizure rate among the transshipment ports",
       "hubs with recent seizures", "transshipment_ports; outcomes",
       "no transshipment: NaN", "transshipment port: " + _RATE,
       label_based=True, rate=True),
    _f("origin_seizure_rate", "route",
       "Smoothed, time-decayed seizure rate of the origin country",
       "origins with recent seizures", "country_of_origin, port_of_loading; outcomes",
       _RATE_MISSING, "origin: " + _RATE, label_based=True, rate=True),
    # --- goods ---------------------------------------------------------------------------------
    _f("hs_chapter", "goods", "HS chapter (2 digits)", "contraband-prone chapters",
       "hs_code", _CAT, "HS chapter {named}", "category", naming="hs_chapter"),
    _f("hs_heading", "goods", "HS heading (4 digits)", "contraband-prone headings",
       "hs_code", _CAT, "HS heading {named}", "category", naming="hs_heading"),
    _f("container_size_type", "goods", "ISO 6346 size-type code", "", "container_size_type",
       _CAT, "container type {named}", "category", naming="container_type"),
    _f("hs4_seizure_rate", "goods", "Smoothed, time-decayed seizure rate of the HS heading",
       "goods with recent seizures", "hs_code; outcomes", _RATE_MISSING,
       "HS heading: " + _RATE, label_based=True, rate=True),
    _f("hs4_origin_seizure_rate", "goods",
       "Smoothed, time-decayed seizure rate of the HS heading from this origin",
       "goods from an origin with recent seizures", "hs_code, country_of_origin; outcomes",
       _RATE_MISSING, "these goods from this origin: " + _RATE,
       label_based=True, rate=True),
    _f("desc_token_rate_max", "goods",
       "Highest smoothed seizure rate among the description's words (hashed)",
       "description words seen in seizures", "goods_description; outcomes",
       "no usable word: NaN", "a description word: " + _RATE,
       label_based=True, rate=True),
    _f("desc_token_rate_mean", "goods",
       "Mean smoothed seizure rate of the description's words", "description words seen in "
       "seizures", "goods_description; outcomes", "no usable word: NaN",
       "description words: " + _RATE + " on average",
       label_based=True, rate=True),
    _f("desc_token_inspections", "goods",
       "Decayed inspections behind the best-known description word (evidence)", "",
       "goods_description; outcomes", "no usable word: NaN",
       "description words inspected {value:.0f} time{s}", label_based=True),
    _f("desc_tokens", "goods", "Number of distinct usable words in the description",
       "very short descriptions", "goods_description", _NEVER,
       "description has {value:.0f} word{s}"),
    _f("cover_load", "goods", "1 for documented cover-load goods (timber, plastic scrap or "
       "waste, cashew, sesame, cassia, frozen beef or fish, tea, shells, soy, furniture, coconut)",
       "cover-load goods", "hs_code, goods_description", _NEVER, "cover-load goods", "flag"),
    _f("vague_description", "goods",
       "1 for FAK, general cargo, goods as per invoice, or only generic words (said to "
       "contain, STC, goods, parts, ...)",
       "vague description", "goods_description", _NEVER, "vague goods description", "flag"),
    _f("desc_hs_agreement", "goods",
       "Share of earlier lines with the description's most telling word that had this HS "
       "chapter (best word)", "description not matching the HS code", "goods_description, "
       "hs_code", "no word seen on 5 earlier lines: NaN",
       "{value:.0%} of earlier lines with these description words had this HS chapter"),
    _f("cites_sensitive", "goods",
       "1 for ivory/horn lines (0507), shark fins (0302.92, 0303.92, 0305.71) and worked "
       "ivory (9601.10), or descriptions naming CITES species or products outside the "
       "chapters where the word names a colour or a brand; a colour compound (IVORY WHITE, "
       "CORAL PINK) on a line of carvings, beads or jewellery counts under the codes such "
       "goods are classed in (96, 97, 71, ...) or without a code, unless the line names "
       "another material (porcelain, glass, resin, plastic)",
       "CITES-sensitive goods", "hs_code, goods_description", _NEVER,
       "CITES-sensitive goods", "flag"),
    _f("cites_no_permit", "goods", "1 for CITES-sensitive goods without a permit reference "
       "(blank, a placeholder such as N/A, NONE, NIL, any reference without a digit other "
       "than 0, or one saying the permit is not there yet or not valid: PENDING 2025, "
       "APPLIED 12/2025, EXPIRED 2024, REVOKED 12345; or one whose end date, read one way, is "
       "before the day filed or whose start is after it: VALID UNTIL 2023-12-31, VALID FROM "
       "2022-01-01 TO 2023-12-31, VALID FROM 2026-01-01 filed in 2025)",
       "CITES-sensitive line without permit",
       "hs_code, goods_description, cites_permit_ref, filed_at",
       _NEVER, "CITES-sensitive goods without a permit", "flag"),
    _f("reefer", "goods", "1 for a refrigerated container", "", "container_size_type",
       "no size-type: NaN", "refrigerated container", "flag"),
    _f("reefer_unneeded", "goods", "1 for a reefer carrying goods that need no cooling (not "
       "meat, fish, dairy, plants, bulbs and flowers, vegetables, fruit, chocolate, vaccines, "
       "nor goods described as frozen, chilled, cold chain or 2-8 C, nor insulin or vaccines "
       "named under chapter 30)",
       "reefer for goods that need no cooling", "container_size_type, hs_code, "
       "goods_description", "no size-type: NaN", "reefer for goods that need no cooling",
       "flag"),
    # --- value and weight ----------------------------------------------------------------------
    _f("value_per_kg_z_hs6", "value and weight",
       "Robust z-score of log value per kg against earlier lines of the HS6 line (same "
       "currency)", "value per kg far from normal", "declared_value, currency, "
       "gross_weight_kg, hs_code", "no value, or under 20 earlier lines: NaN",
       "value per kg {degree} {side} normal for this HS line ({size:.1f} robust SD)", told_from=1.0),
    _f("value_per_kg_z_hs6_origin", "value and weight",
       "Robust z-score of log value per kg against the HS6 line from this origin",
       "value per kg far from normal", "declared_value, currency, gross_weight_kg, hs_code, "
       "country_of_origin", "no value, or under 20 earlier lines: NaN",
       "value per kg {degree} {side} normal for these goods from this origin "
       "({size:.1f} robust SD)", told_from=1.0),
    _f("kg_per_package_z_hs6", "value and weight",
       "Robust z-score of log kg per package against the HS6 line",
       "weight per package far from normal", "gross_weight_kg, package_count, hs_code",
       "under 20 earlier lines: NaN",
       "kg per package {degree} {side} normal for this HS line ({size:.1f} robust SD)", told_from=1.0),
    _f("kg_per_package_z_hs6_origin", "value and weight",
       "Robust z-score of log kg per package against the HS6 line from this origin",
       "weight per package far from normal", "gross_weight_kg, package_count, hs_code, "
       "country_of_origin", "under 20 earlier lines: NaN",
       "kg per package {degree} {side} normal for these goods from this origin "
       "({size:.1f} robust SD)", told_from=1.0),
    _f("log_kg_per_package", "value and weight", "log10 of gross kg per package", "",
       "gross_weight_kg, package_count", _NEVER, "{amount} kg per package"),
    _f("weight_share_of_max", "value and weight",
       "Gross weight over the most the container size-type may carry", "weight not fitting "
       "the container", "gross_weight_kg, container_size_type",
       "no size-type: against a 40 ft box", "weight {value:.0%} of the container's maximum"),
    _f("value_missing", "value and weight", "1 when no declared value is given",
       "missing value", "declared_value", _NEVER, "no declared value", "flag"),
    # --- timing and paperwork ------------------------------------------------------------------
    _f("hours_filing_to_departure", "timing and paperwork",
       "Hours from filing to departure (negative: filed after departure)", "filed late",
       "filed_at, etd", "no etd: NaN", "filed {whole} hour{s} {when} departure"),
    _f("hours_filing_to_arrival", "timing and paperwork", "Hours from filing to arrival",
       "filed late", "filed_at, eta", _NEVER, "filed {whole} hour{s} {when} arrival"),
    _f("late_filing", "timing and paperwork",
       "1 when filed less than 24 hours before arrival", "filed late", "filed_at, eta",
       _NEVER, "filed less than 24 hours before arrival", "flag"),
    _f("booking_lead_days", "timing and paperwork", "Days from booking to departure",
       "last-minute booking", "booking_created_at, etd", "either missing: NaN",
       "booked {whole} day{s} {when} departure"),
    _f("amendment_count", "timing and paperwork", "Amendments filed", "amendments",
       "amendment_count", "missing: NaN", "{value:.0f} amendment{s}"),
    _f("hours_amendment_before_arrival", "timing and paperwork",
       "Hours between the last amendment and arrival", "late amendment",
       "last_amended_at, eta", "never amended: NaN",
       "last amended {whole} hour{s} {when} arrival"),
    _f("consignee_changed", "timing and paperwork",
       "1 when the line (B/L and container) was filed before with another consignee: sent "
       "again, amended, naming a consignee other than its first filing's (names compared as "
       "the history's party keys, so a spelling of the same party is no change)",
       "changed consignee", "bl_number, container_number, consignee_name, consignee_country, "
       "last_amended_at; earlier filings of the line", "line not filed before: NaN",
       "consignee changed since the line was first filed", "flag"),
    _f("dq_flag_count", "timing and paperwork", "Data-quality flags raised by validation",
       "data-quality problems", "dq_flags", "clean: 0", "{value:.0f} data-quality flag{s}"),
    _f("dq_container_check_digit", "timing and paperwork",
       "1 when the container number's check digit is wrong", "invalid container number",
       "dq_flags", _NEVER, "container number check digit wrong", "flag"),
    _f("dq_imo_check_digit", "timing and paperwork",
       "1 when the vessel IMO number's check digit is wrong", "invalid IMO number",
       "dq_flags", _NEVER, "IMO number check digit wrong", "flag"),
    _f("dq_unknown_port", "timing and paperwork", "1 when a port code is not known",
       "unknown port", "dq_flags", _NEVER, "unknown port code", "flag"),
    _f("dq_overweight", "timing and paperwork",
       "1 when the weight exceeds what the container can carry", "implausible weight",
       "dq_flags", _NEVER, "weight above the container's maximum", "flag"),
    _f("dq_booking_after_filing", "timing and paperwork",
       "1 when the booking is dated after the filing", "inconsistent dates", "dq_flags",
       _NEVER, "booking dated after filing", "flag"),
    _f("dq_description_truncated", "timing and paperwork",
       "1 when the description was longer than the contract allows", "", "dq_flags", _NEVER,
       "description truncated", "flag"),
    _f("missing_optional_count", "timing and paperwork",
       "Informative optional fields left blank", "missing optional fields",
       "19 optional fields", _NEVER, "{value:.0f} optional field{s} blank"),
    _f("freight_collect", "timing and paperwork", "1 when freight is payable at destination",
       "", "freight_terms", "not given: NaN", "freight collect", "flag"),
    _f("house_bl", "timing and paperwork", "1 for a house B/L", "", "bl_type", _NEVER,
       "house bill of lading", "flag"),
    _f("empty_declared", "timing and paperwork", "1 when the container is declared empty",
       "", "full_empty", _NEVER, "declared empty", "flag"),
    # --- consignment shape ---------------------------------------------------------------------
    _f("bl_containers", "consignment shape",
       "Containers on the same B/L filed up to now (including this one)",
       "a consignment split over several containers", "bl_number, filed_at", _NEVER,
       "{value:.0f} container{s} on this B/L", told_from=1.0),
    _f("pair_voyage_containers", "consignment shape",
       "Containers of the same shipper and consignee on the same voyage",
       "a consignment split over several containers", "shipper, consignee, vessel_imo, "
       "voyage_number", _NEVER, "{value:.0f} container{s} of this pair on this voyage",
       told_from=1.0),
    _f("pair_voyage_bls", "consignment shape",
       "B/Ls of the same shipper and consignee on the same voyage",
       "a consignment split over several B/Ls", "shipper, consignee, vessel_imo, "
       "voyage_number, bl_number", _NEVER, "{value:.0f} B/L{s} of this pair on this voyage",
       told_from=1.0),
    # --- conjunction ---------------------------------------------------------------------------
    _f("red_flag_score", "conjunction",
       "How many of: source-country origin, cover-load goods, risky transit or destination",
       "the documented conjunction", "see the three flags", _NEVER,
       "{value:.0f} of 3 conjunction red flags"),
    _f("red_flag_conjunction", "conjunction",
       "1 when origin is a source country AND the goods are a cover load AND the route "
       "transits a risky hub or ends in a demand market",
       "the strongest documented pattern", "see the three flags", _NEVER,
       "high-risk origin, cover-load goods and risky route together", "flag"),
)  # fmt: skip

_BY_NAME = {feature.name: feature for feature in CATALOGUE}
CATEGORICAL: tuple[str, ...] = tuple(f.name for f in CATALOGUE if f.kind == "category")


def feature_names() -> list[str]:
    """The model columns, in order."""
    return [feature.name for feature in CATALOGUE]


def by_name(name: str) -> Feature:
    return _BY_NAME[name]


# What a flag at 0 says, when a model finds its absence raised a score: "value declared", where
# the text used to read "not: no declared value".
_FLAG_OFF: dict[str, str] = {
    "shipper_new_goods": "goods (HS heading) this shipper has sent before",
    "consignee_new_goods": "goods (HS heading) this consignee has received before",
    "pair_new_goods": "goods (HS heading) this shipper-consignee pair has shipped before",
    "consignee_to_order": "consignee named (not TO ORDER)",
    "consignee_is_logistics": "consignee not a logistics company or bank",
    "shipper_address_missing": "shipper address given",
    "consignee_address_missing": "consignee address given",
    "address_po_box": "no PO box address",
    "origin_not_loading_country": "goods loaded in their country of origin",
    "source_country": "not from a known source country",
    "demand_market": "not bound for a main demand market",
    "risky_transit_or_market": "no risky transit or destination",
    "cover_load": "not cover-load goods",
    "vague_description": "goods described specifically",
    "cites_sensitive": "goods not CITES-sensitive",
    "cites_no_permit": "no CITES-sensitive goods lacking a permit",
    "reefer": "not a refrigerated container",
    "reefer_unneeded": "no reefer for goods that need no cooling",
    "value_missing": "value declared",
    "late_filing": "filed 24 hours or more before arrival",
    "consignee_changed": "consignee as first filed",
    "dq_container_check_digit": "container number check digit right",
    "dq_imo_check_digit": "IMO number check digit right",
    "dq_unknown_port": "port codes known",
    "dq_overweight": "weight within the container's maximum",
    "dq_booking_after_filing": "booking not dated after filing",
    "dq_description_truncated": "description complete",
    "freight_collect": "freight not collect",
    "house_bl": "not a house bill of lading",
    "empty_declared": "not declared empty",
    "red_flag_conjunction": "not high-risk origin, cover-load goods and risky route together",
}
_missing_off = sorted(f.name for f in CATALOGUE if f.kind == "flag" and f.name not in _FLAG_OFF)
if _missing_off:  # a new flag needs its text at 0, or officers read a KeyError
    raise RuntimeError(f"flags without a text for 0: {_missing_off}")
_unnamed = sorted(f.name for f in CATALOGUE if f.kind == "category" and not f.naming)
if _unnamed:  # a category without a naming would tell officers "carried by __other__"
    raise RuntimeError(f"categories without a naming: {_unnamed}")


def reason(name: str, value: object) -> str:
    """Officer-language text for a feature's value (a flag at 0 reads as its `_FLAG_OFF`); "" when the
    value is missing and the feature has no text for that."""
    feature = _BY_NAME[name]
    missing = (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or type(value).__name__ == "NAType"  # pandas.NA
    )
    if missing:
        return feature.missing_reason
    if feature.kind == "flag" and float(value) < 0.5:  # type: ignore[arg-type]
        return _FLAG_OFF[name]
    if feature.told_from and abs(float(value)) < feature.told_from:  # type: ignore[arg-type]
        return ""
    words: dict[str, object] = {"value": value}
    if feature.naming:
        words["named"] = _named(feature.naming, str(value))
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        number = float(value)
        words.update(
            size=abs(number),  # told with the direction, never as a negative amount
            side="above" if number >= 0 else "below",
            when="before" if number >= 0 else "after",
            # "filed 0 hours before arrival" for 20 minutes: under 1, and 309,697 with commas
            whole="under 1" if abs(number) < 0.5 else f"{math.floor(abs(number) + 0.5):,}",
            # "under 1 hour", "1 hour", "2 hours"; a count of none is plural ("0 words": it read
            # "description has 0 word")
            s=""
            if math.floor(abs(number) + 0.5) == 1
            or (0 < abs(number) < 0.5 and "{whole}" in feature.reason)
            or (number == 0 and "{whole}" in feature.reason)
            else "s",
            amount=_amount_of_log(number),
            degree=_degree(abs(number)),
        )
    try:
        return feature.reason.format(**words)
    except (ValueError, TypeError, KeyError):
        return feature.reason.replace("{value}", str(value))


def unseen_reason(name: str, value: object) -> str:
    """The text of a party's rate when the party was never seen (`Feature.unseen_if`): the
    overall rate it stands at; `reason` for a feature without such a text."""
    feature = _BY_NAME[name]
    if not feature.unseen_reason:
        return reason(name, value)
    return feature.unseen_reason.format(value=value)


_NAMES: dict[str, Callable[[str], str | None]] = {
    "port": port_name,
    "country": country_name,
    "hs_chapter": hs_chapter_name,
    # codes told as they are: no reference names them
    "hs_heading": lambda code: None,
    "carrier": lambda code: None,
    "container_type": container_type_name,
}


_NEW_SINCE_FIT = {
    "port": "a port new since training",
    "country": "a country new since training",
    "hs_chapter": "new since training",
    "hs_heading": "new since training",
    "carrier": "a carrier new since training",
    "container_type": "new since training",
}


def _named(naming: str, code: str) -> str:
    """A code with its name from the reference data, when it has one: ``CIABJ (Abidjan)``; a
    code first seen after the model was fitted (`OTHER`) is said to be new."""
    if code == OTHER:
        return _NEW_SINCE_FIT[naming]
    name = _NAMES[naming](code)
    return f"{code} ({name})" if name else code


def _degree(size: float) -> str:
    """How far from normal a robust z-score is, in words: within about 1.5 of normal is common,
    beyond 3 is rare."""
    if size < 1.5:
        return "somewhat"
    if size < 3.0:
        return "well"
    return "far"


def _plain_amount(number: float) -> str:
    """A positive amount as an officer writes it: 25,119 / 15.8 / 0.32."""
    if number >= 100:
        return f"{number:,.0f}"
    if number >= 1:
        return f"{number:.1f}"
    return f"{number:.2g}"


def _amount_of_log(logarithm: float) -> str:
    """The amount a log10 value stands for (`_plain_amount`); past a thousand billion or under a
    thousandth, as a power of ten: 10^304.9 read "1,000,000,000,000,000,052,504,..." (a capped
    float's digits), and 10^-8 "1e-08"."""
    if not math.isfinite(logarithm):
        return "an amount past any scale"
    if -3 <= logarithm < 12:
        return _plain_amount(10.0**logarithm)
    return power_of_ten(logarithm)


def power_of_ten(logarithm: float) -> str:
    """The amount a log10 value stands for as a power of ten, one decimal: "7.5 × 10^304"."""
    exponent = math.floor(logarithm)
    mantissa = round(10.0 ** (logarithm - exponent), 1)
    if mantissa >= 10:
        mantissa, exponent = 1.0, exponent + 1
    return f"{mantissa:.1f} × 10^{exponent}"


def catalogue_markdown() -> str:
    """The catalogue as Markdown tables, one per family (docs/features.md)."""
    lines: list[str] = []
    for family in FAMILIES:
        lines += [
            f"### {family.capitalize()}",
            "",
            "| name | meaning | red flag | source fields | missing / unseen |",
            "|---|---|---|---|---|",
        ]
        for f in CATALOGUE:
            if f.family != family:
                continue
            tags = []
            if f.kind == "category":
                tags.append("categorical")
            if f.label_based:
                tags.append("from outcomes")
            name = f"`{f.name}`" + (f" ({', '.join(tags)})" if tags else "")
            cells = [name, f.meaning, f.red_flag or "-", f.sources, f.when_missing]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)
