"""The real server (uvicorn on 127.0.0.1) called over HTTP, serving the `FakeScorer` double."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from serve_fakes import (
    AuditDown,
    FakeScorer,
    manifest,
    on_each_database,
    serving,
    wait_ready,
)

from risk_engine.contract import InspectionOutcome, ShipmentLine
from risk_engine.errors import ModelUnavailable
from risk_engine.factories import valid_outcome_row
from risk_engine.settings import Settings
from serve.app import create_app
from serve.config import ServeLimits
from serve.schemas import LineResult, ScoreResponse, contract_example
from serve.store import Store

Start = Callable[..., httpx.Client]


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "request_id", "details"}
    assert body["error"]["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
    return body["error"]  # type: ignore[no-any-return]


# health and readiness ---------------------------------------------------------------------------


def test_healthz_answers_at_once_and_readyz_is_503_until_a_model_is_loaded(
    start_server: Start, keys: dict[str, str]
) -> None:
    release = threading.Event()

    def slow_loader() -> FakeScorer:
        release.wait(20)
        return FakeScorer(version="7")

    client = start_server(slow_loader, ready=False)
    assert client.get("/healthz").json() == {"status": "ok"}
    # load balancers probe with HEAD too (it was 405)
    assert client.head("/healthz").status_code == 200 and client.head("/readyz").status_code == 503
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["ready"] is False
    refused = client.post("/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"]))
    assert refused.status_code == 503 and _error(refused)["code"] == "model_unavailable"
    release.set()
    wait_ready(client)
    assert client.get("/readyz").json() == {"ready": True, "model_version": "7", "detail": None}


def test_a_model_that_cannot_be_loaded_leaves_the_service_up_and_not_ready(
    start_server: Start, keys: dict[str, str]
) -> None:
    def missing() -> FakeScorer:
        raise ModelUnavailable("no champion model is registered in sqlite:////secret/path")

    client = start_server(missing, ready=False)
    time.sleep(0.2)
    assert client.get("/healthz").status_code == 200
    readiness = client.get("/readyz")
    assert readiness.status_code == 503
    assert "could not be loaded" in readiness.json()["detail"]
    assert "secret" not in readiness.text  # the unauthenticated probe tells no paths
    scoring = client.post("/v1/score", json={"lines": []}, headers=_key(keys["officer"]))
    assert scoring.status_code == 503
    assert "no champion" in _error(scoring)["message"]


# authentication and roles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_key"),
        ({"X-API-Key": "rk_0123456789ab_guessed"}, "invalid_key"),
        ({"X-API-Key": "Bearer something"}, "invalid_key"),
    ],
)
def test_scoring_without_a_valid_key_is_401(
    client: httpx.Client, headers: dict[str, str], code: str
) -> None:
    response = client.post("/v1/score", json={"lines": manifest(1)}, headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("ApiKey")


def test_the_key_is_checked_before_the_body_so_a_malformed_body_without_a_key_is_401(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/v1/score", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "lowest"),
    [
        ("POST", "/v1/score", "officer"),
        ("POST", "/v1/outcomes", "officer"),
        ("GET", "/v1/model", "analyst"),
        ("POST", "/v1/admin/reload", "admin"),
    ],
)
def test_each_route_admits_its_role_and_the_roles_above_and_refuses_those_below(
    client: httpx.Client, keys: dict[str, str], method: str, path: str, lowest: str
) -> None:
    order = ["officer", "analyst", "admin"]
    bodies = {"/v1/score": {"lines": manifest(1)}, "/v1/outcomes": {"outcomes": []}}
    for role in order:
        response = client.request(method, path, json=bodies.get(path), headers=_key(keys[role]))
        if order.index(role) < order.index(lowest):
            assert response.status_code == 403, role
            assert _error(response)["code"] == "forbidden"
        else:
            assert response.status_code == 200, (role, response.text)


@on_each_database
def test_a_key_revoked_while_the_server_runs_stops_working_on_the_next_request(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    key = keys["officer"]
    assert client.post("/v1/score", json={"lines": []}, headers=_key(key)).status_code == 200
    store.revoke_key(key.split("_")[1])
    response = client.post("/v1/score", json={"lines": []}, headers=_key(key))
    assert response.status_code == 401 and _error(response)["code"] == "revoked_key"


@on_each_database
def test_an_expired_key_is_401_saying_so_and_its_audit_row_names_the_key(
    client: httpx.Client, store: Store
) -> None:
    from datetime import UTC, datetime, timedelta

    from serve.auth import Role, issue_key

    soon = issue_key(
        store, role=Role.OFFICER, name="Temp", expires_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    assert client.post("/v1/score", json={"lines": []}, headers=_key(soon.key)).status_code == 200
    time.sleep(max(0.0, (soon.expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
    response = client.post("/v1/score", json={"lines": []}, headers=_key(soon.key))
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == "expired_key" and "expired at" in error["message"]
    rows = store.audit_entries()
    assert [(r.key_id, r.status) for r in rows[-2:]] == [(soon.key_id, 200), (soon.key_id, 401)]


# scoring ----------------------------------------------------------------------------------------


def test_a_manifest_comes_back_line_by_line_with_score_rank_band_reasons_and_model_version(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = manifest(20, seed=4)
    lines[5] = contract_example(ShipmentLine)  # TO ORDER from Nigeria: the riskiest line
    response = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "fake-1"
    assert body["counts"] == {
        "received": 20,
        "scored": 20,
        "flagged": 0,
        "rejected": 0,
        "approximate_history": 0,
    }
    results = body["lines"]
    assert [r["line"] for r in results] == list(range(1, 21))
    assert [r["bl_number"] for r in results] == [line["bl_number"] for line in lines]
    assert sorted(r["rank"] for r in results) == list(range(1, 21))
    by_rank = sorted(results, key=lambda r: r["rank"])
    scores = [r["risk_score"] for r in by_rank]
    assert scores == sorted(scores, reverse=True)
    top = results[5]
    assert top["rank"] == 1 and top["band"] == "red"
    assert "consignee is TO ORDER" in top["reasons"]
    assert all(r["band"] in {"red", "amber", "green"} for r in results)


def test_a_bad_line_comes_back_with_field_errors_while_the_other_lines_are_scored(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = manifest(3)
    lines[1] = {**lines[1], "container_number": "CSQU305438", "gross_weight_kg": -5}
    lines[2] = {**lines[2], "container_number": "CSQU3054384"}  # wrong check digit: a flag
    response = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert response.status_code == 200
    body = response.json()
    assert body["counts"] == {
        "received": 3,
        "scored": 2,
        "flagged": 1,
        "rejected": 1,
        "approximate_history": 0,
    }
    bad = body["lines"][1]
    assert bad["status"] == "rejected" and bad["risk_score"] is None and bad["rank"] is None
    assert {(e["field"], e["value"], e["rule"]) for e in bad["errors"]} == {
        ("container_number", "CSQU305438", "malformed"),
        ("gross_weight_kg", "-5", "out_of_range"),
    }
    flagged = body["lines"][2]
    assert flagged["status"] == "scored"
    assert flagged["dq_flags"] == ["container_number:check_digit"]
    assert {r["rank"] for r in body["lines"] if r["status"] == "scored"} == {1, 2}
    # a key sent as a JSON boolean is echoed as its error shows it: true, not Python's True
    odd = client.post(
        "/v1/score",
        json={"lines": [{**lines[0], "bl_number": True}]},
        headers=_key(keys["officer"]),
    ).json()["lines"][0]
    assert odd["bl_number"] == "true" and odd["errors"][0]["value"] == "true"


def test_a_count_past_twelve_digits_is_out_of_range_not_a_500(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    # A JSON integer past int64 used to pass the contract and break building the frame.
    lines = manifest(3)
    lines[0] = {**lines[0], "package_count": 10**30}
    lines[1] = {**lines[1], "amendment_count": 2**63}  # optional: dropped and flagged
    response = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [line["status"] for line in body["lines"]] == ["rejected", "scored", "scored"]
    assert body["lines"][0]["errors"] == [
        {"field": "package_count", "value": str(10**30), "rule": "out_of_range"}
    ]
    assert body["lines"][1]["dq_flags"] == ["amendment_count:out_of_range"]


def test_the_score_answer_has_exactly_the_documented_shape_and_formats(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = manifest(3, seed=2)
    lines[1] = {**lines[1], "container_number": "CSQU305438"}
    lines[2] = {**lines[2], "container_number": "CSQU3054384"}
    response = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    parsed = ScoreResponse.model_validate(body)  # extra="forbid": no field more, none missing
    assert json.loads(parsed.model_dump_json()) == body  # the text pydantic itself would write
    assert body["scored_at"].endswith("Z")
    assert all(list(line) == list(LineResult.model_fields) for line in body["lines"])
    assert [line["status"] for line in body["lines"]] == ["scored", "rejected", "scored"]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"manifest": []}', "application/json"),
        (b"[]", "application/json"),
        (b'{"lines": [1, 2]}', "application/json"),
        (b'{"lines": "MEDU1234567"}', "application/json"),
        (b"lines=1", "application/x-www-form-urlencoded"),
        (b"\x1f\x01\xff\xfe", "application/json"),
        (b'{"lines": []}', "text/plain"),
    ],
)
def test_a_body_that_is_not_a_manifest_is_422_with_a_clear_error(
    client: httpx.Client, keys: dict[str, str], content: bytes, content_type: str
) -> None:
    response = client.post(
        "/v1/score",
        content=content,
        headers={**_key(keys["officer"]), "Content-Type": content_type},
    )
    assert response.status_code == 422
    error = _error(response)
    assert error["code"] == "not_a_manifest"
    assert '{"lines"' in error["message"]
    if "json" not in content_type:  # the message says what was sent instead
        assert f"Content-Type: application/json (it was {content_type})" in error["message"]


def test_a_compressed_body_is_415_saying_to_send_it_uncompressed(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    # A gzip body was answered 422 "There was an error parsing the body".
    import gzip

    response = client.post(
        "/v1/score",
        content=gzip.compress(json.dumps({"lines": manifest(2)}).encode()),
        headers={
            **_key(keys["officer"]),
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert response.status_code == 415, response.text
    error = _error(response)
    assert error["code"] == "unsupported_encoding" and "gzip" in error["message"]


def test_more_lines_than_the_limit_is_413_and_the_limit_is_named(
    start_server: Start, keys: dict[str, str]
) -> None:
    client = start_server(limits=ServeLimits(max_lines=5))
    ok = client.post("/v1/score", json={"lines": manifest(5)}, headers=_key(keys["officer"]))
    assert ok.status_code == 200
    response = client.post("/v1/score", json={"lines": manifest(6)}, headers=_key(keys["officer"]))
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "too_many_lines" and "limit is 5" in error["message"]


def test_a_body_over_the_byte_limit_is_413_whether_its_length_is_declared_or_streamed(
    start_server: Start, keys: dict[str, str]
) -> None:
    client = start_server(limits=ServeLimits(max_body_bytes=4_096))
    big = {"lines": manifest(10)}
    declared = client.post("/v1/score", json=big, headers=_key(keys["officer"]))
    assert declared.status_code == 413 and _error(declared)["code"] == "body_too_large"

    def chunks() -> Any:
        for _ in range(10):
            yield b" " * 1_000

    streamed = client.post(
        "/v1/score",
        content=chunks(),
        headers={**_key(keys["officer"]), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413 and _error(streamed)["code"] == "body_too_large"
    assert "limit is 4096" in _error(streamed)["message"]
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("key", [None, "rk_nosuchkey_0000"])
def test_a_caller_without_a_valid_key_is_answered_before_its_body_is_read(
    start_server: Start, key: str | None
) -> None:
    """The server holds none of an unauthenticated body: it answers 401 while most of a
    declared megabyte has not been sent (before, it waited for the whole body, up to the
    16 MiB limit, before the key was looked at)."""
    client = start_server()
    url = httpx.URL(str(client.base_url))
    head = (
        f"POST /v1/score HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: 1000000\r\n" + (f"X-API-Key: {key}\r\n" if key else "") + "\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=10) as conn:
        conn.sendall(head.encode() + b'{"lines": [')
        answer = conn.recv(65_536).decode("latin-1")  # a timeout fails the test
    assert answer.startswith("HTTP/1.1 401"), answer[:200]
    assert ("missing_key" if key is None else "invalid_key") in answer
    assert client.get("/healthz").status_code == 200


def test_an_answer_given_before_the_body_was_read_closes_the_connection(
    start_server: Start, keys: dict[str, str]
) -> None:
    # A client sending "Expect: 100-continue" waits for 100 before its body; answered 401
    # first and kept alive, its next request on the connection hung (the server waited for
    # a body that never came).
    client = start_server()
    url = httpx.URL(str(client.base_url))
    head = (
        f"POST /v1/score HTTP/1.1\r\nHost: {url.host}\r\nContent-Type: application/json\r\n"
        "Content-Length: 50000\r\nExpect: 100-continue\r\nX-API-Key: rk_nosuchkey_0000\r\n\r\n"
    )
    with socket.create_connection((url.host, url.port), timeout=10) as conn:
        conn.sendall(head.encode())
        answer = b""
        while chunk := conn.recv(65_536):  # ends when the server closes: a timeout fails
            answer += chunk
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 401") and "connection: close" in text.lower()
    # an answer after the whole body was read keeps the connection for the next request
    with httpx.Client(base_url=str(client.base_url)) as kept:
        first = kept.post("/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"]))
        assert first.status_code == 200 and "close" not in first.headers.get("connection", "")
        assert kept.get("/healthz").status_code == 200


def test_an_error_inside_the_model_is_a_500_json_body_without_a_stack_trace(
    start_server: Start, keys: dict[str, str]
) -> None:
    scorer = FakeScorer()
    client = start_server(lambda: scorer)
    scorer.fail = True
    response = client.post("/v1/score", json={"lines": manifest(2)}, headers=_key(keys["officer"]))
    assert response.status_code == 500
    error = _error(response)
    assert error["code"] == "internal_error"
    assert "secret internal detail" not in response.text
    assert error["request_id"] in error["message"]


def test_unknown_routes_and_wrong_methods_get_json_errors(client: httpx.Client) -> None:
    missing = client.get("/v1/nothing")
    assert missing.status_code == 404 and _error(missing)["code"] == "not_found"
    wrong = client.get("/v1/score")
    assert wrong.status_code == 405 and _error(wrong)["code"] == "method_not_allowed"
    # Allow names HEAD where a GET route takes it too (it named GET alone)
    for path in ("/v1/model", "/metrics", "/healthz"):
        put = client.put(path)
        assert put.status_code == 405, path
        assert {m.strip() for m in put.headers["allow"].split(",")} == {"GET", "HEAD"}, path
    # a slash too many is no route: a 307 to the plain-http address behind a TLS proxy, given
    # before the key was checked, took the key and the manifest there with a client following it
    for method, path in (("POST", "/v1/score/"), ("POST", "/v1/outcomes/"), ("GET", "/healthz/")):
        slashed = client.request(
            method, path, json={"lines": []}, headers={"X-Forwarded-Proto": "https"}
        )
        assert slashed.status_code == 404, (path, slashed.status_code, slashed.headers)
        assert _error(slashed)["code"] == "not_found" and "location" not in slashed.headers


# outcomes ---------------------------------------------------------------------------------------


@on_each_database
def test_outcomes_are_recorded_once_however_often_they_are_sent(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    outcomes = [valid_outcome_row(1), contract_example(InspectionOutcome)]
    first = client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=_key(keys["officer"]))
    again = client.post("/v1/outcomes", json={"outcomes": outcomes}, headers=_key(keys["officer"]))
    assert first.status_code == again.status_code == 200
    assert [o["status"] for o in first.json()["outcomes"]] == ["recorded", "recorded"]
    assert [o["status"] for o in again.json()["outcomes"]] == ["duplicate", "duplicate"]
    assert again.json()["counts"]["duplicate"] == 2
    assert store.outcome_count() == 2
    # told otherwise: a conflict naming each field that differs, with the value sent (it named
    # none, and an officer could not tell what to correct)
    changed = {**outcomes[0], "quantity_kg": "12.5", "commodity": "ivory"}
    told = client.post("/v1/outcomes", json={"outcomes": [changed]}, headers=_key(keys["officer"]))
    (result,) = told.json()["outcomes"]
    assert result["status"] == "conflict"
    assert result["errors"] == [
        {"field": "commodity", "value": "ivory", "rule": "stored_with_other_values"},
        {"field": "quantity_kg", "value": "12.5", "rule": "stored_with_other_values"},
    ]
    assert store.outcome_count() == 2


@on_each_database
def test_a_bad_outcome_is_rejected_with_field_errors_and_the_others_are_recorded(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    good = contract_example(InspectionOutcome)
    bad = {**good, "inspected_at": "2025-04-01T00:00:00Z", "seizure_category": None}
    response = client.post(
        "/v1/outcomes", json={"outcomes": [good, bad]}, headers=_key(keys["officer"])
    )
    assert response.status_code == 200
    results = response.json()["outcomes"]
    assert results[0]["status"] == "recorded"
    assert results[1]["status"] == "rejected"
    assert ("seizure_category", "category_required_for_seizure") in {
        (e["field"], e["rule"]) for e in results[1]["errors"]
    }
    assert results[1]["dq_flags"] == []
    assert store.outcome_count() == 1


@on_each_database
def test_an_outcome_recorded_after_the_store_received_it_is_rejected_naming_the_date(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    """A result cannot become known after it reached the centre: a recorded_at in the future
    (2062 typed for 2026, a wrong clock) would keep the label out of every training, silently.
    Hours of slack stay accepted (a local time sent as UTC)."""
    now = pd.Timestamp.now(tz="UTC")
    iso = "%Y-%m-%dT%H:%M:%SZ"
    good, late, skewed = (valid_outcome_row(seed) for seed in (21, 22, 23))
    late = {**late, "recorded_at": (now + pd.Timedelta(days=3)).strftime(iso)}
    skewed = {**skewed, "recorded_at": (now + pd.Timedelta(hours=8)).strftime(iso)}
    response = client.post(
        "/v1/outcomes", json={"outcomes": [good, late, skewed]}, headers=_key(keys["officer"])
    )
    assert response.status_code == 200
    body = response.json()
    assert [o["status"] for o in body["outcomes"]] == ["recorded", "rejected", "recorded"]
    (error,) = body["outcomes"][1]["errors"]
    assert error["field"] == "recorded_at" and error["rule"] == "recorded_after_receipt"
    assert error["value"] == late["recorded_at"]  # as sent (it was rewritten with +00:00)
    assert body["outcomes"][1]["bl_number"] == late["bl_number"]
    assert body["counts"]["rejected"] == 1 and body["counts"]["recorded"] == 2
    assert store.outcome_count() == 2
    again = client.post("/v1/outcomes", json={"outcomes": [late]}, headers=_key(keys["officer"]))
    assert again.json()["outcomes"][0]["status"] == "rejected"  # never stored, so not a duplicate
    # a line the contract rejects names its inspection as sent, when the time reads (null)
    broken = {**valid_outcome_row(24), "container_number": "X"}
    unreadable = {**valid_outcome_row(25), "container_number": "X", "inspected_at": "soon"}
    told = client.post(
        "/v1/outcomes", json={"outcomes": [broken, unreadable]}, headers=_key(keys["officer"])
    ).json()["outcomes"]
    assert [o["status"] for o in told] == ["rejected", "rejected"]
    assert pd.Timestamp(told[0]["inspected_at"]) == pd.Timestamp(broken["inspected_at"])
    assert told[1]["inspected_at"] is None
    described = client.get("/openapi.json").json()["paths"]["/v1/outcomes"]["post"]
    assert "recorded_after_receipt" in described["description"]


def test_a_rejected_line_tells_the_flag_that_rejected_it_and_a_huge_number_is_no_500(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    # A category not in the list is dropped and flagged, then the seizure is rejected for
    # want of one: the answer told only the second, as if no category had been sent.
    good = contract_example(InspectionOutcome)
    unknown = {**good, "inspected_at": "2025-04-01T00:00:00Z", "seizure_category": "ELEPHANT"}
    huge = {**good, "inspected_at": "2025-04-02T00:00:00Z", "quantity_kg": 10**400}
    response = client.post(
        "/v1/outcomes", json={"outcomes": [unknown, huge]}, headers=_key(keys["officer"])
    )
    assert response.status_code == 200, response.text
    first, second = response.json()["outcomes"]
    assert first["status"] == "rejected"
    assert first["errors"] == [
        {"field": "seizure_category", "value": "ELEPHANT", "rule": "category_required_for_seizure"}
    ]
    assert first["dq_flags"] == ["seizure_category:not_a_choice"]
    # A number past a float's range reads as "1e999" does: malformed, dropped from the
    # optional field and flagged (it was a 500).
    assert second["status"] == "recorded"
    assert second["dq_flags"] == ["quantity_kg:malformed"]
    lines = manifest(2)
    lines[0] = {**lines[0], "bl_type": "HOUSE", "master_bl_number": "@@@"}
    scored = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    rejected = scored.json()["lines"][0]
    assert rejected["status"] == "rejected"
    assert rejected["errors"][0]["rule"] == "master_bl_required_for_house"
    assert rejected["dq_flags"] == ["master_bl_number:malformed"]


@on_each_database
def test_outcomes_remember_which_key_recorded_them(
    client: httpx.Client, store: Store, keys: dict[str, str]
) -> None:
    client.post(
        "/v1/outcomes",
        json={"outcomes": [contract_example(InspectionOutcome)]},
        headers=_key(keys["officer"]),
    )
    from sqlalchemy import select

    from serve.store import outcomes as outcomes_table

    with store.engine.connect() as conn:
        received_by = conn.execute(select(outcomes_table.c.received_by)).scalar()
    assert received_by == keys["officer"].split("_")[1]


# model information and reload --------------------------------------------------------------------


def test_model_information_gives_version_metrics_and_feature_set(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    response = client.get("/v1/model", headers=_key(keys["analyst"]))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "fake-1"
    assert body["metrics"]["precision_at_1pct"] == pytest.approx(0.12)
    assert body["feature_names"] == ["consignee_to_order", "origin_source_country"]
    assert body["thresholds"] == {"red": 0.5, "amber": 0.2}
    # HEAD wherever GET works (it was 405), under the same key and role
    for path in ("/v1/model", "/v1/model/drift", "/metrics", "/v1/reports"):
        head = client.head(path, headers=_key(keys["analyst"]))
        assert head.status_code == 200 and head.content == b"", path
        assert client.head(path).status_code == 401, path
        assert client.head(path, headers=_key(keys["officer"])).status_code == 403, path
    assert client.head("/v1/reports/nothing.html", headers=_key(keys["analyst"])).status_code == 404


def test_reload_loads_the_current_champion_without_a_restart(
    start_server: Start, keys: dict[str, str]
) -> None:
    champion = {"version": "1"}
    client = start_server(lambda: FakeScorer(version=champion["version"]))
    champion["version"] = "2"
    response = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert response.status_code == 200
    assert response.json()["previous_version"] == "1"
    assert response.json()["model_version"] == "2"
    scored = client.post("/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"]))
    assert scored.json()["model_version"] == "2"


def test_a_failed_reload_is_503_and_the_previous_model_keeps_serving(
    start_server: Start, keys: dict[str, str]
) -> None:
    fail = {"now": False}

    def loader() -> FakeScorer:
        if fail["now"]:
            raise ModelUnavailable("the registry is unreachable")
        return FakeScorer(version="1")

    client = start_server(loader)
    fail["now"] = True
    response = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert response.status_code == 503 and "unreachable" in _error(response)["message"]
    scored = client.post("/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"]))
    assert scored.status_code == 200 and scored.json()["model_version"] == "1"


def test_a_model_that_fails_its_warm_up_is_not_swapped_in(
    start_server: Start, keys: dict[str, str]
) -> None:
    broken = {"now": False}
    client = start_server(
        lambda: FakeScorer(version="2" if broken["now"] else "1", fail=broken["now"])
    )
    broken["now"] = True
    response = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert response.status_code == 503
    assert client.get("/readyz").json()["model_version"] == "1"


# reports ------------------------------------------------------------------------------------------


def test_analysts_list_the_reports_and_read_one_as_the_page_it_was_written_as(
    client: httpx.Client, keys: dict[str, str], settings: Settings
) -> None:
    import os

    folder = settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "training-v1.html").write_text("<html><body>version 1</body></html>")
    (folder / "phase-phase-2.html").write_text("<html><body>phase 2</body></html>")
    (folder / "notes.txt").write_text("not a report")
    (folder / "run-abc").mkdir()
    (folder / "run-abc" / "inner.html").write_text("not listed")
    os.utime(folder / "training-v1.html", (1_700_000_000, 1_700_000_000))
    listed = client.get("/v1/reports", headers=_key(keys["analyst"]))
    assert listed.status_code == 200
    reports = listed.json()["reports"]
    assert [(r["name"], r["kind"]) for r in reports] == [
        ("phase-phase-2.html", "phase"),
        ("training-v1.html", "training"),
    ]
    assert reports[1]["size_bytes"] == len("<html><body>version 1</body></html>")
    page = client.get("/v1/reports/training-v1.html", headers=_key(keys["analyst"]))
    assert page.status_code == 200 and page.text == "<html><body>version 1</body></html>"
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["nothing.html", "notes.txt", "..%2Fengine.db", "run-abc%2Finner.html", ".hidden.html"]
)
def test_a_name_that_is_not_a_listed_report_is_404_and_reaches_no_other_file(
    client: httpx.Client, keys: dict[str, str], settings: Settings, name: str
) -> None:
    folder = settings.reports_dir
    (folder / "run-abc").mkdir(parents=True, exist_ok=True)
    for path in (folder / "run-abc" / "inner.html", folder / "notes.txt", folder / ".hidden.html"):
        path.write_text("SECRET CONTENT")
    response = client.get(f"/v1/reports/{name}", headers=_key(keys["analyst"]))
    assert response.status_code == 404 and _error(response)["code"] in {
        "report_not_found",
        "not_found",
    }
    assert "SECRET" not in response.text


def test_officers_may_not_read_reports(client: httpx.Client, keys: dict[str, str]) -> None:
    for path in ("/v1/reports", "/v1/reports/training-v1.html"):
        response = client.get(path, headers=_key(keys["officer"]))
        assert response.status_code == 403 and _error(response)["code"] == "forbidden"


# the watch list -----------------------------------------------------------------------------------


def _watch_file(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_lines_naming_a_watched_party_container_or_bl_say_so_even_when_rejected(
    start_server: Start, keys: dict[str, str], tmp_path: Path
) -> None:
    lines = manifest(3, seed=4)
    lines[1]["container_number"] = "CSQU305438"  # bad check digit: the line is rejected
    watch = _watch_file(
        tmp_path / "watch.csv",
        [
            {"party_name": lines[0]["consignee_name"].lower(), "container_number": "", "note": ""},
            {"party_name": lines[1]["shipper_name"], "container_number": "", "note": "case 7"},
            {"party_name": "", "container_number": lines[0]["container_number"], "note": ""},
        ],
    )
    client = start_server(limits=ServeLimits(watchlist=watch))
    response = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert response.status_code == 200
    first, rejected, clean = response.json()["lines"]
    assert first["status"] == "scored" and first["watchlist_hits"] == [
        f"consignee {lines[0]['consignee_name'].upper()} is on the watch list",
        f"container {lines[0]['container_number']} is on the watch list",
    ]
    assert rejected["status"] == "rejected" and rejected["watchlist_hits"] == [
        f"shipper {lines[1]['shipper_name'].upper()} is on the watch list: case 7"
    ]
    assert clean["watchlist_hits"] == []
    assert (first["mandatory"], rejected["mandatory"], clean["mandatory"]) == (True, True, False)
    odd = [{**lines[2], "consignee_name": {"a": 1}, "shipper_name": [1], "bl_number": 7}]
    answer = client.post("/v1/score", json={"lines": odd}, headers=_key(keys["officer"]))
    assert answer.status_code == 200 and answer.json()["lines"][0]["watchlist_hits"] == []
    info = client.get("/v1/model", headers=_key(keys["analyst"])).json()
    assert info["watchlist"] == {"parties": 2, "containers": 1, "bills": 0}


def test_a_reload_reads_the_watch_list_again_and_a_broken_one_keeps_the_old(
    start_server: Start, keys: dict[str, str], tmp_path: Path
) -> None:
    lines = manifest(2, seed=5)
    watch = _watch_file(tmp_path / "watch.csv", [{"bl_number": lines[0]["bl_number"]}])
    client = start_server(limits=ServeLimits(watchlist=watch))

    def told() -> list[list[str]]:
        answer = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
        return [line["watchlist_hits"] for line in answer.json()["lines"]]

    assert told() == [[f"B/L {lines[0]['bl_number']} is on the watch list"], []]
    _watch_file(watch, [{"bl_number": lines[1]["bl_number"]}])
    assert told()[1] == []  # read at load, not per request
    reloaded = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert reloaded.status_code == 200
    assert told() == [[], [f"B/L {lines[1]['bl_number']} is on the watch list"]]
    watch.write_text("who,why\nsomeone,something\n")
    refused = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert refused.status_code == 503
    assert (
        "watch list" in _error(refused)["message"]
        and "needs one of the columns" in (_error(refused)["message"])
    )
    assert told() == [[], [f"B/L {lines[1]['bl_number']} is on the watch list"]]


def test_without_a_watch_list_no_line_has_hits_and_the_model_says_none(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    answer = client.post("/v1/score", json={"lines": manifest(3)}, headers=_key(keys["officer"]))
    assert [line["watchlist_hits"] for line in answer.json()["lines"]] == [[], [], []]
    assert client.get("/v1/model", headers=_key(keys["analyst"])).json()["watchlist"] is None


def test_requests_in_flight_during_a_reload_finish_on_the_model_they_started_with(
    start_server: Start, keys: dict[str, str]
) -> None:
    slow_old = FakeScorer(version="old")
    client = start_server(lambda: slow_old if slow_old.version == "old" else FakeScorer())
    slow_old.delay_s = 1.0
    results: dict[str, Any] = {}

    def score() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=30) as other:
            results["response"] = other.post(
                "/v1/score", json={"lines": manifest(3)}, headers=_key(keys["officer"])
            )

    in_flight = threading.Thread(target=score)
    in_flight.start()
    time.sleep(0.3)
    slow_old.version = "retired"  # the loader now builds a new model

    reloaded = client.post("/v1/admin/reload", headers=_key(keys["admin"]))
    assert reloaded.status_code == 200 and reloaded.json()["model_version"] == "fake-1"
    in_flight.join(30)
    assert results["response"].status_code == 200
    assert results["response"].json()["model_version"] == "old"
    after = client.post("/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"]))
    assert after.json()["model_version"] == "fake-1"


# audit --------------------------------------------------------------------------------------------


@on_each_database
def test_every_request_but_the_liveness_probe_leaves_an_audit_row_including_refused_ones(
    start_server: Start, store: Store, keys: dict[str, str]
) -> None:
    client = start_server(limits=ServeLimits(max_body_bytes=50_000))
    before = len(store.audit_entries())
    officer = keys["officer"]
    calls = [
        client.post("/v1/score", json={"lines": manifest(4)}, headers=_key(officer)),
        client.post("/v1/score", json={"lines": manifest(1)}),
        client.get("/v1/model", headers=_key(officer)),
        client.post("/v1/score", json={"lines": manifest(200)}, headers=_key(officer)),
        client.post("/v1/score", json={"wrong": 1}, headers=_key(officer)),
        client.post(
            "/v1/outcomes", json={"outcomes": [valid_outcome_row(2)]}, headers=_key(officer)
        ),
        client.get("/readyz"),
        client.get("/nowhere"),
    ]
    # the liveness probe names no key and no line, and answers without the database
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz").status_code == 200
    rows = store.audit_entries()[before:]
    assert [r.request_id for r in rows] == [c.headers["X-Request-ID"] for c in calls]
    # but another method to it, with a key, is a request like any other: a POST was unaudited
    refused = client.post("/healthz", json={}, headers=_key(officer))
    assert refused.status_code == 405
    (row,) = store.audit_entries()[before + len(calls) :]
    assert (row.route, row.status, row.key_id) == ("/healthz", 405, officer.split("_")[1])
    assert [r.status for r in rows] == [200, 401, 403, 413, 422, 200, 200, 404]
    assert [r.route for r in rows] == [
        "/v1/score",
        "/v1/score",
        "/v1/model",
        "/v1/score",
        "/v1/score",
        "/v1/outcomes",
        "/readyz",
        "/nowhere",
    ]
    officer_id = officer.split("_")[1]
    assert [r.key_id for r in rows] == [
        officer_id,
        None,
        officer_id,
        officer_id,  # refused before the key check (413), named all the same
        officer_id,
        officer_id,
        None,
        None,
    ]
    assert rows[0].lines == 4 and rows[0].model_version == "fake-1" and rows[0].role == "officer"
    assert rows[5].lines == 1
    assert [r.detail for r in rows[1:5]] == [
        "missing_key",
        "forbidden",
        "body_too_large",
        "not_a_manifest",
    ]
    assert all(r.duration_ms >= 0 and r.client == "127.0.0.1" for r in rows)


def test_no_answer_leaves_the_server_when_its_audit_row_cannot_be_written(
    settings: Settings, keys: dict[str, str], store: Store
) -> None:
    broken = AuditDown(store.url)
    app = create_app(settings=settings, scorer_loader=FakeScorer, store=broken)
    try:
        with serving(app) as url, httpx.Client(base_url=url) as client:
            response = client.post(
                "/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"])
            )
            assert response.status_code == 503
            error = _error(response)
            assert error["code"] == "audit_unavailable"
            assert "risk_score" not in response.text
            # the liveness probe still says the process is up (a probe failing with the
            # database would restart every instance during an outage); readiness says why not,
            # in its own shape
            alive = client.get("/healthz")
            assert alive.status_code == 200 and alive.json() == {"status": "ok"}
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["ready"] is False
            assert "database" in ready.json()["detail"]
    finally:
        broken.dispose()


def test_the_probes_answer_within_seconds_while_another_process_holds_the_database_locked(
    start_server: Start, store: Store
) -> None:
    """Every request waited for its audit row, the probes' too: while another process held the
    SQLite file's write lock (a purge, a backup, a key command, another replica's long write),
    /healthz and /readyz answered only after the 30 s busy timeout, and a liveness probe with a
    few seconds' timeout would have restarted every replica."""
    client = start_server()
    holder = sqlite3.connect(str(store.engine.url.database), isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a writer in another process holds it
    try:
        started = time.monotonic()
        alive = client.get("/healthz", timeout=5)
        assert alive.status_code == 200 and alive.json() == {"status": "ok"}
        assert time.monotonic() - started < 2
        started = time.monotonic()
        ready = client.get("/readyz", timeout=10)
        assert time.monotonic() - started < 6
        # not ready, and why, in the readiness answer's own shape
        assert ready.status_code == 503 and ready.json()["ready"] is False
        assert "database" in ready.json()["detail"] and ready.headers["Retry-After"] == "5"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.get("/readyz").status_code == 200  # ready again with the database
    # the readiness probe's row says the database took it; the liveness probe leaves none
    routes = [row.route for row in store.audit_entries()]
    assert routes[-1] == "/readyz" and "/healthz" not in routes


class _StartingDatabase(Store):
    """A store whose server is starting up: pg8000 raises the refusal as ProgrammingError."""

    def get_key(self, key_id: str) -> Any:
        from sqlalchemy.exc import ProgrammingError

        fields = {"S": "FATAL", "C": "57P03", "M": "the database system is starting up"}
        raise ProgrammingError("SELECT api_keys", {}, Exception(fields))


def test_a_database_that_refuses_for_now_is_a_503_to_retry_not_an_internal_error(
    settings: Settings, keys: dict[str, str], store: Store
) -> None:
    starting = _StartingDatabase(store.url)
    app = create_app(settings=settings, scorer_loader=FakeScorer, store=starting)
    try:
        with serving(app) as url, httpx.Client(base_url=url) as client:
            response = client.post(
                "/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"])
            )
            assert response.status_code == 503, response.text
            assert _error(response)["code"] == "store_unavailable"
            assert response.headers["Retry-After"] == "5"
            assert "starting up" not in response.text  # the details are the log's
    finally:
        starting.dispose()


class _CountingScorer(FakeScorer):
    """A slow fake that counts how many manifests it is scoring at the same moment."""

    lock = threading.Lock()
    active = 0
    most = 0

    def score(self, records: Any, *, profiles: Any = None) -> Any:
        with self.lock:
            type(self).active += 1
            type(self).most = max(type(self).most, type(self).active)
        try:
            return super().score(records)
        finally:
            with self.lock:
                type(self).active -= 1


@pytest.mark.parametrize("threads", [1, 3])
def test_manifests_are_scored_as_many_at_a_time_as_the_limit_allows(
    start_server: Callable[..., httpx.Client], keys: dict[str, str], threads: int
) -> None:
    _CountingScorer.active = _CountingScorer.most = 0
    scorer = _CountingScorer(delay_s=0.2)
    client = start_server(lambda: scorer, limits=ServeLimits(scoring_threads=threads))
    statuses: list[int] = []

    def post() -> None:
        with httpx.Client(base_url=str(client.base_url), timeout=30) as other:
            response = other.post(
                "/v1/score", json={"lines": manifest(2)}, headers=_key(keys["officer"])
            )
            statuses.append(response.status_code)

    callers = [threading.Thread(target=post) for _ in range(4)]
    for caller in callers:
        caller.start()
    # a health check is answered while manifests wait for their turn
    assert client.get("/healthz").status_code == 200
    for caller in callers:
        caller.join()
    assert statuses == [200] * 4
    if threads == 1:
        assert _CountingScorer.most == 1
    else:  # the limit is what holds them back: with room, manifests overlap
        assert _CountingScorer.most > 1


# the OpenAPI document ------------------------------------------------------------------------------


def test_the_openapi_document_names_each_routes_role_and_has_examples(
    client: httpx.Client,
) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"ShipmentLine", "InspectionOutcome", "ErrorBody"} <= set(schemas)
    # a free text's limit is named (a 600-character name passed the schema, then was refused);
    # a description is cut and flagged, not refused, so none is named for it
    line = schemas["ShipmentLine"]["properties"]
    assert line["shipper_name"]["maxLength"] == 512
    assert {"type": "string", "maxLength": 512} in line["shipper_address"]["anyOf"]
    assert "maxLength" not in line["goods_description"]
    assert schemas["InspectionOutcome"]["properties"]["commodity"]["anyOf"][0]["maxLength"] == 512
    # every answer a route gives is said, in the one error shape: FastAPI's 422 of a path
    # parameter was a second shape, and 404, 405, 415 and the store's 503 were said nowhere
    assert "HTTPValidationError" not in str(document)
    error = {"$ref": "#/components/schemas/ErrorBody"}
    score = document["paths"]["/v1/score"]["post"]
    assert {"401", "403", "404", "405", "413", "415", "422", "503"} <= set(score["responses"])
    assert score["responses"]["415"]["content"]["application/json"]["schema"] == error
    assert "store_unavailable" in score["responses"]["503"]["description"]
    assert score["security"] == [{"APIKeyHeader": []}, {"BearerKey": []}]
    page = document["paths"]["/v1/reports/{name}"]["get"]["responses"]
    assert "422" not in page and page["404"]["description"] == "No report has this name."
    metrics = schemas["ModelInfo"]["examples"][0]["metrics"]
    assert "observed_model_precision_2pct" in metrics and "precision_at_1pct" not in metrics
    roles = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            roles[(method, path)] = operation.get("x-required-role")
            content = operation["responses"]["200"]["content"]
            text = next((t for t in ("text/html", "text/plain") if t in content), None)
            if text is not None:  # a report page, the monitoring figures
                assert content[text].get("example"), f"{method} {path} has no example"
                continue
            response = content["application/json"]["schema"]
            name = response["$ref"].rsplit("/", 1)[1]
            assert schemas[name].get("examples"), f"{method} {path} has no response example"
            if "requestBody" in operation:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                assert schemas[body["$ref"].rsplit("/", 1)[1]].get("examples")
    assert roles == {
        ("post", "/v1/score"): "officer",
        ("post", "/v1/outcomes"): "officer",
        ("get", "/v1/model"): "analyst",
        ("get", "/v1/model/drift"): "analyst",
        ("get", "/metrics"): "analyst",
        ("get", "/v1/reports"): "analyst",
        ("get", "/v1/reports/{name}"): "analyst",
        ("post", "/v1/admin/reload"): "admin",
        ("get", "/healthz"): None,
        ("get", "/readyz"): None,
    }
