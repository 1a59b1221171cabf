"""The catalogue names every model column once, documents it and reads it out to officers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from features.catalogue import CATALOGUE, FAMILIES, by_name, catalogue_markdown, reason

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"
REGENERATE = (
    "regenerate the tables: python -c 'from features.catalogue import catalogue_markdown; "
    "print(catalogue_markdown())' and paste them under '## Catalogue' in docs/features.md"
)


def test_every_feature_has_one_unique_name_and_a_known_family() -> None:
    names = [f.name for f in CATALOGUE]
    assert len(names) == len(set(names))
    assert {f.family for f in CATALOGUE} <= set(FAMILIES)


def test_docs_show_the_catalogue_as_it_is_in_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert catalogue_markdown() in text, REGENERATE


@pytest.mark.parametrize("feature", CATALOGUE, ids=lambda f: f.name)
def test_every_reason_template_reads_a_value(feature: object) -> None:
    name = feature.name  # type: ignore[attr-defined]
    kind = feature.kind  # type: ignore[attr-defined]
    value: object = "VNHPH" if kind == "category" else 1.0
    text = reason(name, value)
    assert text and "{" not in text


def test_reasons_read_like_an_officer_would_say_them() -> None:
    assert reason("consignee_days_known", 3.0) == "consignee first seen 3 days before filing"
    assert reason("consignee_days_known", math.nan) == "consignee never seen before"
    assert reason("late_filing", 1.0) == "filed less than 24 hours before arrival"
    # Codes come with their names from the reference data where it has them.
    assert reason("port_of_loading", "NGAPP") == "loaded at NGAPP (Apapa)"
    assert reason("transshipment_port", "HKHKG") == "transshipped at HKHKG (Hong Kong)"
    assert reason("port_of_discharge", "XXABC") == "discharged at XXABC"
    assert reason("origin_country", "CD") == (
        "goods from CD (Congo, The Democratic Republic of the)"
    )
    assert reason("loading_country", "VN") == "loaded in VN (Vietnam)"
    assert reason("hs_chapter", "05") == "HS chapter 05 (Products of animal origin n.e.s.)"
    assert reason("transshipment_port", "__other__") == "transshipped at a port new since training"
    # Directions in words, never a negative amount; singular and plural.
    assert reason("hours_filing_to_departure", -739.2) == "filed 739 hours after departure"
    assert reason("hours_filing_to_departure", 30.0) == "filed 30 hours before departure"
    # under an hour is not "0 hours"; large counts with commas
    assert reason("hours_filing_to_arrival", 0.33) == "filed under 1 hour before arrival"
    assert reason("hours_filing_to_arrival", -0.3) == "filed under 1 hour after arrival"
    assert reason("hours_filing_to_arrival", 309_697.2) == "filed 309,697 hours before arrival"
    assert reason("booking_lead_days", 1.2) == "booked 1 day before departure"
    assert reason("hours_filing_to_departure", 0.5) == "filed 1 hour before departure"  # not 0
    assert reason("log_kg_per_package", 14.9999) == "1.0 × 10^15 kg per package"
    # an amount past a float's digits, or under a thousandth, as a power of ten (it read as 300
    # digits of float noise, and "1e-08")
    assert reason("log_kg_per_package", 304.875) == "7.5 × 10^304 kg per package"
    assert reason("log_kg_per_package", -8.0) == "1.0 × 10^-8 kg per package"
    assert reason("log_kg_per_package", 3.4) == "2,512 kg per package"
    # How far from normal in words first, the robust z-score after it.
    assert reason("value_per_kg_z_hs6", -1.84) == (
        "value per kg well below normal for this HS line (1.8 robust SD)"
    )
    assert reason("kg_per_package_z_hs6_origin", 4.2) == (
        "kg per package far above normal for these goods from this origin (4.2 robust SD)"
    )
    assert reason("kg_per_package_z_hs6", 1.3).startswith("kg per package somewhat above")
    # A column kept as log10 for the model is read out as the amount it stands for.
    assert reason("log_kg_per_package", 4.4) == "25,119 kg per package"
    assert reason("log_kg_per_package", 1.2) == "15.8 kg per package"
    assert reason("log_kg_per_package", -0.5) == "0.32 kg per package"
    assert reason("bl_containers", 1.0) == "1 container on this B/L"
    assert reason("bl_containers", 3.0) == "3 containers on this B/L"
    assert by_name("hub_seizure_rate").label_based


@pytest.mark.parametrize(
    "feature", [f for f in CATALOGUE if f.kind == "category"], ids=lambda f: f.name
)
def test_a_category_first_seen_after_training_is_said_to_be_new_never_printed_as_a_token(
    feature: object,
) -> None:
    # A carrier first seen after training read "carried by __other__".
    text = reason(feature.name, "__other__")  # type: ignore[attr-defined]
    assert "new since training" in text and "__" not in text


def test_categories_without_reference_names_are_told_by_their_code() -> None:
    assert reason("carrier_code", "MAEU") == "carried by MAEU"
    assert reason("carrier_code", "__other__") == "carried by a carrier new since training"
    assert reason("hs_heading", "0507") == "HS heading 0507"
    assert reason("container_size_type", "__other__") == "container type new since training"


def test_a_container_type_is_told_by_what_its_iso_code_says() -> None:
    """ "container type 45G1" was a code an officer had to look up (629 reasons of the
    quickstart year's selected lines); the size-type code says length, height and type group."""
    told = reason("container_size_type", "45G1")
    assert told == "container type 45G1 (40 ft high cube, general purpose)"
    assert reason("container_size_type", "22R1") == "container type 22R1 (20 ft, reefer)"
    assert (
        reason("container_size_type", "L5G1")
        == "container type L5G1 (45 ft high cube, general purpose)"
    )
    # a code it cannot read is told as it is, never guessed
    assert reason("container_size_type", "22X9") == "container type 22X9"
    assert reason("container_size_type", "4") == "container type 4"


def test_the_description_hs_agreement_says_what_share_of_earlier_lines_agreed() -> None:
    # It read "description words usually go with this HS chapter in 0% of lines": the
    # opposite of the mismatch it flags.
    low, high = reason("desc_hs_agreement", 0.0), reason("desc_hs_agreement", 0.93)
    assert low == "0% of earlier lines with these description words had this HS chapter"
    assert high.startswith("93% of earlier lines") and "usually" not in low


@pytest.mark.parametrize("flag", [f for f in CATALOGUE if f.kind == "flag"], ids=lambda f: f.name)
def test_a_flag_at_zero_reads_as_its_own_plain_sentence(flag: object) -> None:
    # A flag whose absence raised a score used to read "not: no declared value".
    name = flag.name  # type: ignore[attr-defined]
    off, on = reason(name, 0.0), reason(name, 1.0)
    assert off and off != on and "not:" not in off and "{" not in off


def test_a_flag_at_zero_says_what_the_line_has() -> None:
    assert reason("value_missing", 0.0) == "value declared"
    assert reason("late_filing", 0) == "filed 24 hours or more before arrival"
    assert reason("consignee_to_order", 0.0) == "consignee named (not TO ORDER)"


def test_a_seizure_rate_is_told_as_an_estimate_not_as_inspections_that_may_never_have_been() -> (
    None
):
    # A notify party never inspected has the overall rate (smoothing), and its reason read
    # "notify party: 2.2% of its inspections found something".
    from features.catalogue import feature_names, reason

    rates = [name for name in feature_names() if "seizure_rate" in name or "token_rate" in name]
    assert len(rates) >= 10
    for name in rates:
        told = reason(name, 0.0221)
        assert "estimated seizure rate 2.2%" in told and "found something" not in told
    assert reason("notify_seizure_rate", 0.0221) == "notify party: estimated seizure rate 2.2%"


def test_a_robust_z_within_the_histograms_resolution_tells_nothing() -> None:
    """Within one robust SD the side of the median is not reliable at the histogram's bins: a
    line lighter than 95 % of its goods read "kg per package somewhat above normal (0.1 robust
    SD)"; the next feature of its group is told instead."""
    for name in ("value_per_kg_z_hs6", "kg_per_package_z_hs6_origin"):
        assert reason(name, 0.1) == "" and reason(name, -0.99) == ""
        assert reason(name, -2.3).endswith("(2.3 robust SD)") and "below" in reason(name, -2.3)
    assert reason("value_per_kg_z_hs6", 1.2).startswith("value per kg somewhat above normal")
