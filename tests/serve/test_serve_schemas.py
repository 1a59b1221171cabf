"""Request and response bodies: bad input is refused, the published examples are valid."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from risk_engine.contract import InspectionOutcome, ShipmentLine, check_record
from serve import schemas
from serve.schemas import (
    ErrorBody,
    Health,
    ModelInfo,
    OutcomesRequest,
    OutcomesResponse,
    Readiness,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
    contract_example,
)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"line": []},
        {"lines": {"bl_number": "X"}},
        {"lines": "MEDU1234567"},
        {"lines": [1, 2]},
        {"lines": [["bl_number", "X"]]},
        {"lines": [], "model": "3"},
        [],
        None,
    ],
)
def test_a_body_that_is_not_a_manifest_is_refused(body: Any) -> None:
    with pytest.raises(ValidationError):
        ScoreRequest.model_validate(body)


def test_a_manifest_with_a_bad_line_is_still_a_manifest() -> None:
    request = ScoreRequest.model_validate({"lines": [{"bl_number": 7}, {"anything": None}]})
    assert len(request.lines) == 2


@pytest.mark.parametrize("body", [{}, {"outcomes": [3]}, {"outcomes": [], "extra": True}])
def test_a_body_that_is_not_outcomes_is_refused(body: Any) -> None:
    with pytest.raises(ValidationError):
        OutcomesRequest.model_validate(body)


@pytest.mark.parametrize(
    "model",
    [
        ErrorBody,
        ScoreRequest,
        ScoreResponse,
        OutcomesRequest,
        OutcomesResponse,
        ModelInfo,
        Health,
        Readiness,
        ReloadResponse,
    ],
)
def test_every_published_example_is_valid_for_its_model(model: type[BaseModel]) -> None:
    examples = model.model_json_schema().get("examples")
    assert examples, f"{model.__name__} publishes no example"
    for example in examples:
        model.model_validate(example)


def test_the_request_examples_use_contract_records_and_one_bad_line() -> None:
    (example,) = ScoreRequest.model_json_schema()["examples"]
    verdicts = [check_record(line, "shipments").rejected for line in example["lines"]]
    assert verdicts == [False, True]
    (outcomes,) = OutcomesRequest.model_json_schema()["examples"]
    assert not check_record(outcomes["outcomes"][0], "outcomes").rejected


def test_contract_example_returns_a_copy_of_the_contract_models_example() -> None:
    example = contract_example(InspectionOutcome)
    example["bl_number"] = "CHANGED"
    assert contract_example(InspectionOutcome)["bl_number"] != "CHANGED"
    assert contract_example(ShipmentLine)["container_number"] == "CSQU3054383"


@pytest.mark.parametrize("name", schemas.__all__)
def test_response_models_refuse_fields_they_do_not_define(name: str) -> None:
    model = getattr(schemas, name)
    if isinstance(model, type) and issubclass(model, BaseModel):
        assert model.model_config.get("extra") == "forbid"


def test_a_line_result_has_no_band_outside_red_amber_green() -> None:
    with pytest.raises(ValidationError):
        schemas.LineResult(line=1, status="scored", band="purple")  # type: ignore[arg-type]
