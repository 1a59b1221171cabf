"""Monitoring the service: GET /metrics (Prometheus text) and GET /v1/model/drift (the scores
served since the model was loaded against its training reference), on the real server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_fakes import AuditDown, FakeScorer, manifest, serving

from models.drift import SCORE_COLUMN, DriftReference
from risk_engine.contract import InspectionOutcome
from risk_engine.factories import shipment_frame, valid_outcome_row
from risk_engine.settings import Settings
from serve.app import create_app
from serve.monitor import MIN_LINES, ServedScores
from serve.schemas import ServedDrift, contract_example
from serve.store import Store

RISKY = 0.05  # share of "TO ORDER" lines from a source country in ordinary traffic


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _lines(n: int, *, risky: float, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` valid lines, the first ``risky`` share of them to order from a source country
    (FakeScorer's red lines)."""
    lines = manifest(n, seed=seed)
    for line in lines[: round(n * risky)]:
        line["consignee_name"] = "TO ORDER"
        line["shipper_country"] = "NG"
    return lines


def _reference(lines: int = 4000) -> DriftReference:
    """A training reference of FakeScorer's scores on ordinary traffic, with its bands."""
    frame = shipment_frame(lines, seed=99)
    risky = round(lines * RISKY)
    frame.loc[: risky - 1, "consignee_name"] = "TO ORDER"
    frame.loc[: risky - 1, "shipper_country"] = "NG"
    scored = FakeScorer().score(frame)
    reference = DriftReference.fit(scored[["risk_score"]].to_numpy(), [SCORE_COLUMN])
    bands = scored["band"].to_numpy()
    reference.bands = {band: float(np.mean(bands == band)) for band in ("red", "amber")}
    return reference


@dataclass
class _ReferencedScorer(FakeScorer):
    """FakeScorer with the training reference a RiskScorer keeps."""

    reference: DriftReference | None = None


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    """Each sample of a Prometheus text, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _metrics(client: httpx.Client, key: str) -> Samples:
    response = client.get("/metrics", headers=_key(key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


# the running count ---------------------------------------------------------------------------


def test_scores_like_the_reference_raise_no_warning() -> None:
    reference = _reference()
    served = ServedScores(reference)
    scored = FakeScorer().score(shipment_frame(3000, seed=5).assign(consignee_name="ACME"))
    risky = FakeScorer().score(
        shipment_frame(150, seed=6).assign(consignee_name="TO ORDER", shipper_country="NG")
    )
    both = pd.concat([scored, risky])
    for start in range(0, len(both), 50):  # manifest by manifest
        part = both.iloc[start : start + 50]
        served.add(part["risk_score"].to_numpy(), part["band"].tolist())
    summary = served.summary()
    assert summary.lines == 3150
    assert summary.score_psi is not None and summary.score_psi < 0.1
    assert summary.warnings == [] and summary.notes == []
    red_reference, red_served = summary.bands["red"]
    assert red_reference == pytest.approx(RISKY, abs=0.01)
    assert red_served == pytest.approx(150 / 3150)
    green_reference, _ = summary.bands["green"]
    assert green_reference == pytest.approx(1 - sum(reference.bands.values()))


def test_a_shift_in_the_scores_warns_once_enough_lines_are_served() -> None:
    served = ServedScores(_reference())
    risky = FakeScorer().score(
        shipment_frame(MIN_LINES, seed=3).assign(consignee_name="TO ORDER", shipper_country="NG")
    )
    few = risky.iloc[: MIN_LINES - 1]
    served.add(few["risk_score"].to_numpy(), few["band"].tolist())
    early = served.summary()
    assert early.warnings == []
    assert "too few to warn" in early.notes[0]
    assert early.score_psi is not None and early.score_psi > 0.25  # shown all the same
    last = risky.iloc[MIN_LINES - 1 :]
    served.add(last["risk_score"].to_numpy(), last["band"].tolist())
    summary = served.summary()
    assert summary.lines == MIN_LINES
    assert any("PSI" in w for w in summary.warnings)
    assert any("100.0% of the lines are red" in w for w in summary.warnings)


def test_a_model_without_a_reference_counts_bands_and_says_why_it_cannot_compare() -> None:
    served = ServedScores(None)
    assert "no reference" in served.summary().notes[0]
    served.add(np.array([0.9, 0.1]), ["red", "green"])
    summary = served.summary()
    assert summary.lines == 2 and summary.score_psi is None and summary.reference_lines is None
    assert summary.bands == {"red": (None, 0.5), "amber": (None, 0.0), "green": (None, 0.5)}
    assert summary.warnings == []


def test_a_line_sent_again_is_counted_once_and_said() -> None:
    served = ServedScores(_reference(), recent_keys=4)
    keys = [("BL1", "C1"), ("BL1", "C2"), ("BL2", "C3")]
    served.add(np.array([0.9, 0.1, 0.1]), ["red", "green", "green"], keys=keys)
    # the red line looked at again, with a new one
    served.add(np.array([0.9, 0.3]), ["red", "amber"], keys=[("BL1", "C1"), ("BL3", "C4")])
    summary = served.summary()
    assert (summary.lines, summary.repeated) == (4, 1)
    assert summary.bands["red"][1] == pytest.approx(1 / 4)
    assert summary.bands["amber"][1] == pytest.approx(1 / 4)
    assert "1 lines were sent again" in summary.notes[-1]
    # only the last four keys are kept: the first one is forgotten and counts again
    served.add(np.array([0.2]), ["green"], keys=[("BL4", "C5")])
    served.add(np.array([0.9, 0.3]), ["red", "amber"], keys=[("BL1", "C1"), ("BL3", "C4")])
    summary = served.summary()
    assert (summary.lines, summary.repeated) == (6, 2)
    # without keys every line counts
    served.add(np.array([0.2]), ["green"])
    assert served.summary().lines == 7


def test_lines_with_approximate_history_are_answered_not_counted() -> None:
    """An old manifest's lines read a history that no longer holds their days: counted, they
    would shift the served bands with the history, not the goods."""
    served = ServedScores(_reference())
    keys = [("BL1", "C1"), ("BL1", "C2"), ("BL2", "C3")]
    approximate = np.array([True, False, True])
    served.add(
        np.array([0.9, 0.1, 0.8]), ["red", "green", "red"], keys=keys, approximate=approximate
    )
    summary = served.summary()
    assert (summary.lines, summary.approximate, summary.repeated) == (1, 2, 0)
    assert summary.bands["red"][1] == 0.0 and summary.bands["green"][1] == 1.0
    assert any(note.startswith("2 lines with approximate history") for note in summary.notes)
    # the exact line's key was remembered, the approximate ones' were not
    served.add(np.array([0.1, 0.9]), ["green", "red"], keys=[("BL1", "C2"), ("BL1", "C1")])
    summary = served.summary()
    assert (summary.lines, summary.repeated) == (2, 1)
    assert summary.bands["red"][1] == pytest.approx(1 / 2)
    # every line approximate: not also "no line has been scored"
    alone = ServedScores(_reference())
    alone.add(np.array([0.9]), ["red"], approximate=np.array([True]))
    assert [n[:32] for n in alone.summary().notes] == ["1 lines with approximate history"]


def test_no_line_served_yet_is_said() -> None:
    summary = ServedScores(_reference()).summary()
    assert summary.lines == 0 and summary.score_psi is None
    assert summary.notes == ["no line has been scored since the model version was first loaded"]
    assert summary.bands["red"][1] is None


# the HTTP routes -----------------------------------------------------------------------------


def test_metrics_need_an_analyst_key_by_header_or_bearer(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=_key(keys["officer"])).status_code == 403
    assert client.get("/metrics", headers=_key(keys["analyst"])).status_code == 200
    bearer = client.get("/metrics", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert bearer.status_code == 200 and "risk_engine_model_loaded 1.0" in bearer.text
    wrong = client.get("/metrics", headers={"Authorization": "Bearer re_nope.nope"})
    assert wrong.status_code == 401
    basic = client.get("/metrics", headers={"Authorization": f"Basic {keys['admin']}"})
    assert basic.status_code == 401


def test_metrics_count_requests_lines_by_band_rejects_and_outcomes(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    lines = _lines(40, risky=0.25)
    lines[30]["port_of_discharge"] = "NOT A PORT"  # rejected by the contract
    answer = client.post("/v1/score", json={"lines": lines}, headers=_key(keys["officer"]))
    assert answer.status_code == 200
    bands = pd.Series([line["band"] for line in answer.json()["lines"] if line["band"]])
    outcomes = [valid_outcome_row(1), contract_example(InspectionOutcome)]
    for _ in range(2):  # recorded, then duplicates
        sent = client.post(
            "/v1/outcomes", json={"outcomes": outcomes}, headers=_key(keys["officer"])
        )
        assert sent.status_code == 200
    assert client.get("/nowhere/BL123", headers=_key(keys["officer"])).status_code == 404
    assert client.get("/openapi.json").status_code == 200
    too_large = b"{" + b" " * (17 * 1024 * 1024) + b"}"  # over the 16 MiB default
    refused = client.post("/v1/score", content=too_large, headers=_key(keys["officer"]))
    assert refused.status_code == 413

    found = _metrics(client, keys["analyst"])
    for band in ("red", "amber", "green"):
        expected = int((bands == band).sum())
        assert found[("risk_engine_scored_lines_total", (("band", band),))] == expected
    assert (bands == "red").sum() == 10 and (bands == "amber").sum() > 0
    assert found[("risk_engine_rejected_lines_total", ())] == 1
    assert found[("risk_engine_outcomes_total", (("status", "recorded"),))] == 2
    assert found[("risk_engine_outcomes_total", (("status", "duplicate"),))] == 2
    score_200 = (("method", "POST"), ("route", "/v1/score"), ("status", "200"))
    assert found[("risk_engine_requests_total", score_200)] == 1
    outcomes_200 = (("method", "POST"), ("route", "/v1/outcomes"), ("status", "200"))
    assert found[("risk_engine_requests_total", outcomes_200)] == 2
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert found[("risk_engine_requests_total", unmatched)] == 1
    # counted under their routes (both were "unmatched": no route set the scope's)
    schema = (("method", "GET"), ("route", "/openapi.json"), ("status", "200"))
    assert found[("risk_engine_requests_total", schema)] == 1
    score_413 = (("method", "POST"), ("route", "/v1/score"), ("status", "413"))
    assert found[("risk_engine_requests_total", score_413)] == 1
    assert not any("BL123" in str(labels) for _, labels in found)  # no path as a label
    duration = (("le", "+Inf"), ("route", "/v1/score"))
    assert found[("risk_engine_request_duration_seconds_bucket", duration)] == 2  # 200 and 413
    assert found[("risk_engine_model_info", (("version", "fake-1"),))] == 1
    assert found[("risk_engine_served_lines", ())] == 39
    assert found[("risk_engine_served_band_share", (("band", "red"),))] == pytest.approx(
        (bands == "red").sum() / 39
    )
    assert ("risk_engine_served_score_psi", ()) not in found  # FakeScorer keeps no reference
    assert found[("process_resident_memory_bytes", ())] > 0


def test_the_request_duration_holds_the_audit_write_the_answer_waits_for(
    start_server: Callable[..., httpx.Client],
    keys: dict[str, str],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A locked database held every answer for seconds while the duration histogram, timed
    before the audit row's write, stayed flat: an alert on its 99th percentile never fired."""
    client = start_server()
    written = store.record_audit

    def slow(entry: Any) -> None:
        time.sleep(0.4)  # a database another process holds locked
        written(entry)

    monkeypatch.setattr(store, "record_audit", slow)
    assert client.get("/v1/model", headers={"X-API-Key": keys["analyst"]}).status_code == 200
    found = _metrics(client, keys["analyst"])
    assert found[("risk_engine_request_duration_seconds_sum", (("route", "/v1/model"),))] >= 0.4
    assert found[("risk_engine_audit_write_seconds_count", ())] >= 1
    assert found[("risk_engine_audit_write_seconds_sum", ())] >= 0.4


def test_metrics_without_a_model_say_so(
    start_server: Callable[..., httpx.Client], keys: dict[str, str]
) -> None:
    def no_model() -> FakeScorer:
        raise RuntimeError("no champion")

    client = start_server(no_model, ready=False)
    found = _metrics(client, keys["analyst"])
    assert found[("risk_engine_model_loaded", ())] == 0
    assert not any(name.startswith("risk_engine_served") for name, _ in found)


def test_drift_of_the_served_scores_warns_when_the_red_band_swells(
    start_server: Callable[..., httpx.Client], keys: dict[str, str]
) -> None:
    reference = _reference()
    client = start_server(lambda: _ReferencedScorer(reference=reference))
    analyst, officer = _key(keys["analyst"]), _key(keys["officer"])

    first = client.get("/v1/model/drift", headers=analyst)
    assert first.status_code == 200
    assert first.json()["lines"] == 0 and first.json()["score_psi"] is None

    ordinary = client.post("/v1/score", json={"lines": _lines(600, risky=RISKY)}, headers=officer)
    assert ordinary.status_code == 200
    calm = ServedDrift.model_validate(client.get("/v1/model/drift", headers=analyst).json())
    assert calm.lines == 600 and calm.reference_lines == reference.lines
    assert calm.score_psi is not None and calm.score_psi < 0.1
    assert calm.warnings == [] and "too few to warn" in calm.notes[0]
    shares = {b.band: b for b in calm.bands}
    assert shares["red"].served_share == pytest.approx(RISKY, abs=0.005)
    assert shares["red"].reference_share == pytest.approx(reference.bands["red"])

    swollen = client.post(
        "/v1/score", json={"lines": _lines(600, risky=0.5, seed=1)}, headers=officer
    )
    assert swollen.status_code == 200
    drift = ServedDrift.model_validate(client.get("/v1/model/drift", headers=analyst).json())
    assert drift.lines == 1200
    assert drift.score_psi is not None and drift.score_psi > 0.1
    assert any("of the lines are red" in w for w in drift.warnings), drift.warnings
    found = _metrics(client, keys["analyst"])
    assert found[("risk_engine_served_score_psi", ())] == pytest.approx(drift.score_psi)
    assert found[("risk_engine_served_drift_warnings", ())] == len(drift.warnings)

    # the same manifest scored again is answered, and not counted twice
    again = client.post(
        "/v1/score", json={"lines": _lines(600, risky=0.5, seed=1)}, headers=officer
    )
    assert again.status_code == 200 and again.json()["counts"]["scored"] == 600
    repeated = ServedDrift.model_validate(client.get("/v1/model/drift", headers=analyst).json())
    assert (repeated.lines, repeated.repeated_lines) == (1200, 600)
    assert repeated.bands == drift.bands and repeated.score_psi == drift.score_psi
    assert "600 lines were sent again" in repeated.notes[-1]

    # a reload of the same version (a new feature history, each screening writes one) keeps
    # counting; the count started again every day
    assert client.post("/v1/admin/reload", headers=_key(keys["admin"])).status_code == 200
    kept = client.get("/v1/model/drift", headers=analyst).json()
    assert kept["lines"] == 1200
    assert pd.Timestamp(kept["counting_since"]) == repeated.counting_since
    assert pd.Timestamp(kept["loaded_at"]) > pd.Timestamp(kept["counting_since"])
    assert client.get("/v1/model/drift", headers=officer).status_code == 403


def test_audit_failures_are_counted(settings: Settings, keys: dict[str, str], store: Store) -> None:
    broken = AuditDown(store.url)
    app = create_app(settings=settings, scorer_loader=FakeScorer, store=broken)
    try:
        with serving(app) as url, httpx.Client(base_url=url) as client:
            refused = client.post(
                "/v1/score", json={"lines": manifest(1)}, headers=_key(keys["officer"])
            )
            assert refused.status_code == 503
        found = _samples(app.state.services.metrics.exposition().decode())
        assert found[("risk_engine_audit_failures_total", ())] == 1
        answered = (("method", "POST"), ("route", "/v1/score"), ("status", "503"))
        assert found[("risk_engine_requests_total", answered)] == 1
    finally:
        broken.dispose()
