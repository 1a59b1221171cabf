"""Data contract version 1 as pydantic v2 models: the one way a single record gets in (API, tests).

Each model parses every field with `risk_engine.parsing.parse_scalar` (through `parse_fields`, its
loop over a record), the same code that the frame validator mirrors, so a record gets the same
verdict through the API and through a file. Rejects raise a `ValidationError` whose error types
are the contract rule codes; flags (a wrong check digit, an unknown port, a dropped unreadable
optional value) are collected in `RecordCheck.issues`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from risk_engine.columns import (
    DESCRIPTION_MAX,
    OUTCOME_FIELDS,
    SHIPMENT_FIELDS,
    TEXT_MAX,
    BlType,
    FieldSpec,
    FreightTerms,
    FullEmpty,
    InspectionLevel,
    InspectionResult,
    Kind,
    Rule,
    SeizureCategory,
    SelectionReason,
    Severity,
    severity_of,
)
from risk_engine.parsing import parse_fields, printable, shown_value

__all__ = [
    "ShipmentLine",
    "InspectionOutcome",
    "Issue",
    "RecordCheck",
    "check_record",
    "cross_field_rules",
    "container_max_gross_kg",
    "MAX_GROSS_KG",
    "DEFAULT_MAX_GROSS_KG",
]

# Maximum gross mass by the first character (length code) of the ISO 6346 size-type.
MAX_GROSS_KG = {"1": 30_480.0, "2": 30_480.0, "4": 32_500.0, "L": 32_500.0, "M": 32_500.0}
DEFAULT_MAX_GROSS_KG = 32_500.0
# How far after the moment the engine receives a record its times may lie: clocks and time zones
# slip by hours (a local time sent as UTC); a later date is a wrong one. A line filed later
# cannot have reached customs yet (`Rule.FILED_AFTER_RECEIPT`), nor an outcome recorded later
# become known (`Rule.RECORDED_AFTER_RECEIPT`, the outcome store's).
RECEIPT_SLACK = timedelta(days=1)


def container_max_gross_kg(size_type: str | None) -> float:
    """Largest plausible gross weight for a size-type (unknown or missing: a 40 ft box)."""
    if not size_type:
        return DEFAULT_MAX_GROSS_KG
    return MAX_GROSS_KG.get(size_type[0], DEFAULT_MAX_GROSS_KG)


@dataclass(frozen=True)
class Issue:
    """One broken rule of one record: the field, the raw value and the rule."""

    field: str
    value: str
    rule: Rule
    severity: Severity


def _raw_text(value: Any) -> str:
    """A value as it was sent (`shown_value`); a missing one as ""."""
    return "" if value is None else shown_value(value)


class _ContractModel(BaseModel):
    """Parses every contract field of a raw mapping before pydantic checks the types."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)
    _specs: ClassVar[tuple[FieldSpec, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The schema names each free text's length limit (`TEXT_MAX`): a client checking its
        lines against it sent a 600-character name the service then refused."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        properties = schema.get("properties", {})
        for spec in cls._specs:
            if spec.kind is Kind.TEXT and spec.name in properties:
                prop = properties[spec.name]
                for branch in prop.get("anyOf", [prop]):
                    if branch.get("type") == "string":
                        branch["maxLength"] = TEXT_MAX
        return schema

    @model_validator(mode="before")
    @classmethod
    def _parse_fields(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        issues: list[Issue] = (info.context or {}).get("issues", [])
        values, broken = parse_fields(cls._specs, data)
        parsed: dict[str, Any] = dict(data)
        parsed.update(values)
        errors: list[InitErrorDetails] = []
        for spec, raw, rule in broken:
            severity = severity_of(rule, required=spec.required)
            issues.append(Issue(spec.name, _raw_text(raw), rule, severity))
            if severity is Severity.REJECT:
                errors.append(_error(spec.name, raw, rule))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        for field_name, rule, severity in cross_field_rules(cls._specs, parsed):
            issues.append(Issue(field_name, _raw_text(data.get(field_name)), rule, severity))
            if severity is Severity.REJECT:
                errors.append(_error(field_name, data.get(field_name), rule))
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return parsed


def _error(field_name: str, raw: Any, rule: Rule) -> InitErrorDetails:
    message = f"{field_name}={_raw_text(raw)!r} breaks rule {rule.value}"
    return {
        "type": PydanticCustomError(rule.value, message),
        "loc": (field_name,),
        "input": raw,
    }


def cross_field_rules(
    specs: tuple[FieldSpec, ...], row: Mapping[str, Any]
) -> list[tuple[str, Rule, Severity]]:
    """Rules across fields of one parsed record; the frame validator applies the same ones."""
    found: list[tuple[str, Rule, Severity]] = []
    reject, flag = Severity.REJECT, Severity.FLAG
    if specs is SHIPMENT_FIELDS:
        if row.get("bl_type") == BlType.HOUSE and row.get("master_bl_number") is None:
            found.append(("master_bl_number", Rule.MASTER_BL_REQUIRED, reject))
        if row.get("port_of_discharge") == row.get("port_of_loading"):
            found.append(("port_of_discharge", Rule.SAME_PORTS, reject))
        etd, eta = row.get("etd"), row.get("eta")
        if etd is not None and eta is not None and eta <= etd:
            found.append(("eta", Rule.ETA_NOT_AFTER_ETD, reject))
        if row.get("declared_value") is not None and row.get("currency") is None:
            found.append(("currency", Rule.CURRENCY_REQUIRED, reject))
        booked, filed = row.get("booking_created_at"), row.get("filed_at")
        if filed is not None and filed > datetime.now(UTC) + RECEIPT_SLACK:
            found.append(("filed_at", Rule.FILED_AFTER_RECEIPT, reject))
        if booked is not None and filed is not None and booked > filed:
            found.append(("booking_created_at", Rule.BOOKING_AFTER_FILING, flag))
        weight = row.get("gross_weight_kg")
        if weight is not None and weight > container_max_gross_kg(row.get("container_size_type")):
            found.append(("gross_weight_kg", Rule.OVERWEIGHT, flag))
    else:
        if row.get("result") == InspectionResult.SEIZURE and row.get("seizure_category") is None:
            found.append(("seizure_category", Rule.CATEGORY_REQUIRED, reject))
        result = row.get("result")
        if result is not None and result != InspectionResult.SEIZURE:
            if row.get("seizure_category") is not None:
                found.append(("seizure_category", Rule.CATEGORY_WITHOUT_SEIZURE, flag))
        inspected, recorded = row.get("inspected_at"), row.get("recorded_at")
        if inspected is not None and recorded is not None and recorded < inspected:
            found.append(("recorded_at", Rule.RECORDED_BEFORE_INSPECTED, reject))
    return found


class ShipmentLine(_ContractModel):
    """One container on one bill of lading (contract section 1)."""

    _specs: ClassVar[tuple[FieldSpec, ...]] = SHIPMENT_FIELDS
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "bl_number": "MEDU1234567",
                    "container_number": "CSQU3054383",
                    "vessel_imo": "9074729",
                    "voyage_number": "024E",
                    "port_of_loading": "NGAPP",
                    "transshipment_ports": ["MYPKG"],
                    "port_of_discharge": "VNHPH",
                    "filed_at": "2025-03-01T08:00:00Z",
                    "eta": "2025-03-28T06:00:00Z",
                    "shipper_name": "Lagos Agro Export Ltd",
                    "shipper_country": "NG",
                    "consignee_name": "TO ORDER",
                    "consignee_country": "VN",
                    "hs_code": "0801.32",
                    "goods_description": "CASHEW NUTS IN SHELL",
                    "package_count": 400,
                    "gross_weight_kg": 21500,
                }
            ]
        },
    )

    bl_number: str = Field(max_length=35, description="B/L number, upper-cased [A-Z0-9/-].")
    bl_type: BlType = BlType.SIMPLE
    master_bl_number: str | None = None
    container_number: str = Field(description="ISO 6346; a wrong check digit is flagged.")
    container_size_type: str | None = Field(default=None, description="ISO size-type, e.g. 45R1.")
    full_empty: FullEmpty = FullEmpty.FULL
    seal_numbers: list[str] | None = None
    carrier_code: str | None = None
    vessel_imo: str = Field(description="IMO number, 7 digits; a wrong check digit is flagged.")
    vessel_name: str | None = None
    voyage_number: str
    place_of_receipt: str | None = None
    port_of_loading: str = Field(description="UN/LOCODE; well formed but unknown is flagged.")
    transshipment_ports: list[str] | None = Field(default=None, description="UN/LOCODEs in order.")
    port_of_discharge: str = Field(description="UN/LOCODE, differs from port_of_loading.")
    place_of_delivery: str | None = None
    country_of_origin: str | None = Field(default=None, description="ISO 3166-1 alpha-2.")
    filed_at: datetime = Field(description="When the B/L reached customs: the as-of time.")
    booking_created_at: datetime | None = None
    etd: datetime | None = None
    eta: datetime = Field(description="Arrival at port_of_discharge; after etd when both given.")
    amendment_count: int | None = Field(default=None, ge=0)
    last_amended_at: datetime | None = None
    shipper_name: str
    shipper_address: str | None = None
    shipper_country: str
    shipper_id: str | None = None
    consignee_name: str = Field(description="TO ORDER is a red flag, not an error.")
    consignee_address: str | None = None
    consignee_country: str
    consignee_id: str | None = None
    notify_party_name: str | None = None
    notify_party_country: str | None = None
    freight_forwarder_name: str | None = None
    hs_code: str = Field(description="4-10 digits after removing dots and spaces; chapter 01-97.")
    goods_description: str = Field(
        description=f"Longer than {DESCRIPTION_MAX} characters: cut to {DESCRIPTION_MAX} and "
        "flagged (description_truncated), not refused."
    )
    package_count: int = Field(ge=1)
    package_type: str | None = None
    gross_weight_kg: float = Field(gt=0)
    declared_value: float | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, description="ISO 4217; required with a value.")
    freight_terms: FreightTerms | None = None
    cites_permit_ref: str | None = None


class InspectionOutcome(_ContractModel):
    """What an inspection found (contract section 2): the labels."""

    _specs: ClassVar[tuple[FieldSpec, ...]] = OUTCOME_FIELDS
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "bl_number": "MEDU1234567",
                    "container_number": "CSQU3054383",
                    "selection_reason": "MODEL",
                    "selection_probability": 1.0,
                    "inspected_at": "2025-03-28T10:00:00Z",
                    "inspection_level": "PHYSICAL",
                    "result": "SEIZURE",
                    "seizure_category": "WILDLIFE",
                    "commodity": "pangolin scales",
                    "quantity_kg": 3100,
                    "recorded_at": "2025-04-02T09:00:00Z",
                }
            ]
        },
    )

    bl_number: str
    container_number: str
    selection_reason: SelectionReason
    selection_probability: float | None = Field(default=None, gt=0, le=1)
    model_version: str | None = None
    inspected_at: datetime
    inspection_level: InspectionLevel | None = None
    result: InspectionResult
    seizure_category: SeizureCategory | None = Field(
        default=None, description="Required when result is SEIZURE."
    )
    commodity: str | None = None
    quantity_kg: float | None = Field(default=None, gt=0)
    recorded_at: datetime = Field(description="When the result reached the centre.")
    operation_phase: str | None = None


@dataclass
class RecordCheck:
    """Verdict on one raw record: the parsed model (None when rejected) and every issue."""

    record: _ContractModel | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return self.record is None

    @property
    def flagged(self) -> bool:
        return not self.rejected and any(i.severity is Severity.FLAG for i in self.issues)


def check_record(raw: Mapping[str, Any], kind: str = "shipments") -> RecordCheck:
    """Validate one raw record; never raises for bad data, returns the verdict instead."""
    model: type[_ContractModel] = ShipmentLine if kind == "shipments" else InspectionOutcome
    issues: list[Issue] = []
    try:
        record = model.model_validate(raw, context={"issues": issues})
    except ValidationError as error:
        known = {(i.field, i.rule.value) for i in issues}
        for detail in error.errors():
            field_name = printable(str(detail["loc"][0])) if detail["loc"] else "record"
            if detail["type"] not in {rule for _, rule in known if _ == field_name}:
                extra = detail["type"] == "extra_forbidden"
                rule = Rule.UNKNOWN_FIELD if extra else Rule.MALFORMED
                issues.append(
                    Issue(field_name, _raw_text(detail.get("input")), rule, Severity.REJECT)
                )
        # A field rule that rejects stops pydantic before it looks for unknown fields: a line
        # sending BL_NUMBER was told "bl_number: required", never that BL_NUMBER is no field.
        told = {i.field for i in issues if i.rule is Rule.UNKNOWN_FIELD}
        for name, value in raw.items() if isinstance(raw, Mapping) else ():
            shown = printable(str(name))
            if name not in model.model_fields and shown not in told:
                issues.append(Issue(shown, _raw_text(value), Rule.UNKNOWN_FIELD, Severity.REJECT))
        return RecordCheck(None, issues)
    return RecordCheck(record, issues)
