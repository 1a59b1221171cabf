"""Canonical column names, enumerations and the rule codes of data contract version 1.

Both validators (the pydantic models and the vectorised frame validator) read the contract from
here, so a rule is named once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CONTRACT_VERSION",
    "Kind",
    "FieldSpec",
    "Rule",
    "Severity",
    "FLAG_RULES",
    "severity_of",
    "SHIPMENT_FIELDS",
    "OUTCOME_FIELDS",
    "SHIPMENT_KEY",
    "OUTCOME_KEY",
    "BlType",
    "FullEmpty",
    "FreightTerms",
    "SelectionReason",
    "InspectionLevel",
    "InspectionResult",
    "SeizureCategory",
    "DESCRIPTION_MAX",
    "TEXT_MAX",
    "fields_for",
]

CONTRACT_VERSION = 1
DESCRIPTION_MAX = 512
# The longest free text (a name, an address, a reference): longer is too_long (rejected in a
# required field, dropped and flagged in an optional one); a description is cut to
# DESCRIPTION_MAX and flagged instead.
TEXT_MAX = 512


class BlType(StrEnum):
    MASTER = "MASTER"
    HOUSE = "HOUSE"
    SIMPLE = "SIMPLE"


class FullEmpty(StrEnum):
    FULL = "FULL"
    EMPTY = "EMPTY"


class FreightTerms(StrEnum):
    PREPAID = "PREPAID"
    COLLECT = "COLLECT"


class SelectionReason(StrEnum):
    MODEL = "MODEL"
    RULE = "RULE"
    RANDOM_CONTROL = "RANDOM_CONTROL"
    WATCHLIST = "WATCHLIST"
    INTELLIGENCE = "INTELLIGENCE"
    OTHER = "OTHER"


class InspectionLevel(StrEnum):
    DOCUMENTARY = "DOCUMENTARY"
    NII_SCAN = "NII_SCAN"
    PHYSICAL = "PHYSICAL"


class InspectionResult(StrEnum):
    NO_FINDING = "NO_FINDING"
    SEIZURE = "SEIZURE"
    INCONCLUSIVE = "INCONCLUSIVE"


class SeizureCategory(StrEnum):
    WILDLIFE = "WILDLIFE"
    TIMBER = "TIMBER"
    DRUGS = "DRUGS"
    PRECURSORS = "PRECURSORS"
    OTHER = "OTHER"


class Kind(StrEnum):
    """How a field is parsed and checked."""

    TEXT = "text"  # trimmed free text
    CODE = "code"  # trimmed, upper-cased, [A-Z0-9/-]{1,35} (B/L numbers)
    CONTAINER = "container"  # ISO 6346
    IMO = "imo"  # 7 digits with check digit
    LOCODE = "locode"  # UN/LOCODE
    LOCODE_LIST = "locode_list"
    COUNTRY = "country"  # ISO 3166-1 alpha-2
    CURRENCY = "currency"  # ISO 4217
    HS = "hs"  # 4-10 digits, chapter 01-97
    DESCRIPTION = "description"  # 1-512 characters, truncated and flagged above
    TIMESTAMP = "timestamp"  # ISO 8601, UTC when no offset
    INT_MIN0 = "int_min0"
    INT_MIN1 = "int_min1"
    POSITIVE = "positive"  # number > 0
    NON_NEGATIVE = "non_negative"  # number >= 0
    PROBABILITY = "probability"  # number in (0, 1]
    ENUM = "enum"
    TEXT_LIST = "text_list"
    CARRIER = "carrier"  # 2-4 letters
    SIZE_TYPE = "size_type"  # 4 characters [0-9A-Z]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None


class Severity(StrEnum):
    REJECT = "reject"
    FLAG = "flag"


class Rule(StrEnum):
    """Rule codes reported for rejected and flagged rows."""

    # rejects
    REQUIRED = "required"
    MALFORMED = "malformed"  # value cannot be parsed for its field
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    NOT_A_CHOICE = "not_a_choice"
    UNKNOWN_COUNTRY = "unknown_country"
    UNKNOWN_CURRENCY = "unknown_currency"
    ETA_NOT_AFTER_ETD = "eta_not_after_etd"
    SAME_PORTS = "discharge_equals_loading"
    CURRENCY_REQUIRED = "currency_required_with_value"
    MASTER_BL_REQUIRED = "master_bl_required_for_house"
    CATEGORY_REQUIRED = "category_required_for_seizure"
    RECORDED_BEFORE_INSPECTED = "recorded_before_inspected"
    # the outcome store's: a result cannot become known after the store received it
    RECORDED_AFTER_RECEIPT = "recorded_after_receipt"
    # a line cannot reach customs after the engine read it (a typed 2062 for 2026): filed in the
    # future, it would move the feature history's cut-off to that year
    FILED_AFTER_RECEIPT = "filed_after_receipt"
    DUPLICATE_KEY = "duplicate_key"
    UNKNOWN_FIELD = "unknown_field"
    WRONG_FIELD_COUNT = "wrong_field_count"  # a CSV line that does not split into the header
    # a line of a CSV record run together with the lines after it by a quote never closed
    UNCLOSED_QUOTE = "unclosed_quote"
    # a number written with a decimal comma ("12,5", "1.234,5") in a file read without the
    # mapping's `decimal: ","`: malformed as written, and a mapping that says so reads it
    DECIMAL_COMMA = "decimal_comma"
    # "12.500" in a file whose other numbers are written with a decimal comma: twelve thousand
    # five hundred in that writing, twelve and a half in the other; not read either way
    THOUSANDS_OR_DECIMAL = "thousands_or_decimal"
    # flags
    CHECK_DIGIT = "check_digit"
    UNKNOWN_PORT = "unknown_port"
    TRUNCATED = "description_truncated"
    OVERWEIGHT = "weight_above_container_max"
    BOOKING_AFTER_FILING = "booking_after_filing"
    # a seizure category on an outcome that is no seizure: a result typed wrong, perhaps (a
    # seizure recorded as NO_FINDING teaches the model the opposite of what was found)
    CATEGORY_WITHOUT_SEIZURE = "category_without_seizure"


# Rules that only ever flag a row. Every other rule rejects the row when it hits a required field,
# and flags it (dropping the unreadable value) when it hits an optional one.
FLAG_RULES: frozenset[Rule] = frozenset(
    {
        Rule.CHECK_DIGIT,
        Rule.UNKNOWN_PORT,
        Rule.TRUNCATED,
        Rule.OVERWEIGHT,
        Rule.BOOKING_AFTER_FILING,
        Rule.CATEGORY_WITHOUT_SEIZURE,
    }
)


def severity_of(rule: Rule, *, required: bool) -> Severity:
    """Reject for a broken required field or cross-field rule, flag otherwise."""
    if rule in FLAG_RULES or not required:
        return Severity.FLAG
    return Severity.REJECT


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


_S = FieldSpec
SHIPMENT_FIELDS: tuple[FieldSpec, ...] = (
    _S("bl_number", Kind.CODE, required=True),
    _S("bl_type", Kind.ENUM, choices=_choices(BlType), default=BlType.SIMPLE.value),
    _S("master_bl_number", Kind.CODE),
    _S("container_number", Kind.CONTAINER, required=True),
    _S("container_size_type", Kind.SIZE_TYPE),
    _S("full_empty", Kind.ENUM, choices=_choices(FullEmpty), default=FullEmpty.FULL.value),
    _S("seal_numbers", Kind.TEXT_LIST),
    _S("carrier_code", Kind.CARRIER),
    _S("vessel_imo", Kind.IMO, required=True),
    _S("vessel_name", Kind.TEXT),
    _S("voyage_number", Kind.TEXT, required=True),
    _S("place_of_receipt", Kind.LOCODE),
    _S("port_of_loading", Kind.LOCODE, required=True),
    _S("transshipment_ports", Kind.LOCODE_LIST),
    _S("port_of_discharge", Kind.LOCODE, required=True),
    _S("place_of_delivery", Kind.LOCODE),
    _S("country_of_origin", Kind.COUNTRY),
    _S("filed_at", Kind.TIMESTAMP, required=True),
    _S("booking_created_at", Kind.TIMESTAMP),
    _S("etd", Kind.TIMESTAMP),
    _S("eta", Kind.TIMESTAMP, required=True),
    _S("amendment_count", Kind.INT_MIN0),
    _S("last_amended_at", Kind.TIMESTAMP),
    _S("shipper_name", Kind.TEXT, required=True),
    _S("shipper_address", Kind.TEXT),
    _S("shipper_country", Kind.COUNTRY, required=True),
    _S("shipper_id", Kind.TEXT),
    _S("consignee_name", Kind.TEXT, required=True),
    _S("consignee_address", Kind.TEXT),
    _S("consignee_country", Kind.COUNTRY, required=True),
    _S("consignee_id", Kind.TEXT),
    _S("notify_party_name", Kind.TEXT),
    _S("notify_party_country", Kind.COUNTRY),
    _S("freight_forwarder_name", Kind.TEXT),
    _S("hs_code", Kind.HS, required=True),
    _S("goods_description", Kind.DESCRIPTION, required=True),
    _S("package_count", Kind.INT_MIN1, required=True),
    _S("package_type", Kind.TEXT),
    _S("gross_weight_kg", Kind.POSITIVE, required=True),
    _S("declared_value", Kind.NON_NEGATIVE),
    _S("currency", Kind.CURRENCY),
    _S("freight_terms", Kind.ENUM, choices=_choices(FreightTerms)),
    _S("cites_permit_ref", Kind.TEXT),
)

OUTCOME_FIELDS: tuple[FieldSpec, ...] = (
    _S("bl_number", Kind.CODE, required=True),
    _S("container_number", Kind.CONTAINER, required=True),
    _S("selection_reason", Kind.ENUM, required=True, choices=_choices(SelectionReason)),
    _S("selection_probability", Kind.PROBABILITY),
    _S("model_version", Kind.TEXT),
    _S("inspected_at", Kind.TIMESTAMP, required=True),
    _S("inspection_level", Kind.ENUM, choices=_choices(InspectionLevel)),
    _S("result", Kind.ENUM, required=True, choices=_choices(InspectionResult)),
    _S("seizure_category", Kind.ENUM, choices=_choices(SeizureCategory)),
    _S("commodity", Kind.TEXT),
    _S("quantity_kg", Kind.POSITIVE),
    _S("recorded_at", Kind.TIMESTAMP, required=True),
    _S("operation_phase", Kind.TEXT),
)

SHIPMENT_KEY = ("bl_number", "container_number")
OUTCOME_KEY = ("bl_number", "container_number", "inspected_at")


def fields_for(kind: str) -> tuple[FieldSpec, ...]:
    """The field specs of a record kind: ``shipments`` or ``outcomes``."""
    if kind == "shipments":
        return SHIPMENT_FIELDS
    if kind == "outcomes":
        return OUTCOME_FIELDS
    raise ValueError(f"kind must be 'shipments' or 'outcomes', not {kind!r}")
