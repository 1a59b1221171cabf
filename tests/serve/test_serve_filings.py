"""A line sent again, amended, with another consignee: the service and batch screening both tell
it, from the feature history a screening kept, with the model trained on a small simulated port
(whose world has no line filed twice, so the model cannot weigh it: the rule tells it)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from serve_fakes import serving, wait_ready

from models.history import ModelHistory
from models.screening import screen_file
from risk_engine.settings import Settings
from serve.app import create_app
from serve.auth import Role, issue_key
from serve.config import ServeLimits
from serve.store import Store
from training.fixtures import small_training, small_world

SENTENCE = "consignee changed since the line was first filed"


def _json(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def test_the_service_and_screening_tell_a_changed_consignee_alike(tmp_path: Path) -> None:
    scorer = copy.copy(small_training().scorer)
    scorer.version = "7"
    lines = small_world()[0].shipments
    filed = lines[lines["filed_at"] >= scorer.pipeline.as_of_].head(40).reset_index(drop=True)
    # The day's lines screened: the history now holds them with their consignees.
    (tmp_path / "a").mkdir()
    filed.to_parquet(tmp_path / "a/in.parquet", index=False)
    kept: list[Any] = []
    screen_file(
        tmp_path / "a/in.parquet",
        tmp_path / "a/out.parquet",
        scorer=scorer,
        keep_history=kept.append,
    )
    home = tmp_path / "home"
    ModelHistory(home).save("7", kept[0], source="day.parquet", lines_before=0)
    current = ModelHistory(home).current(scorer)
    # Six of them sent again, amended: three to another consignee, three to the same one
    # written otherwise (lower case, a full stop added).
    amended = filed.head(6).copy()
    amended["amendment_count"] = 1
    amended["last_amended_at"] = amended["filed_at"] + pd.Timedelta(hours=6)
    names = amended["consignee_name"].astype(object).to_numpy().copy()
    names[:3] = "NEW HORIZON IMPORT EXPORT"
    names[3:] = [f"{n.lower()}." for n in names[3:]]
    amended["consignee_name"] = names
    assert (amended["consignee_name"] != filed["consignee_name"].head(6)).all()
    (tmp_path / "b").mkdir()
    amended.to_parquet(tmp_path / "b/in.parquet", index=False)
    screen_file(tmp_path / "b/in.parquet", tmp_path / "b/out.parquet", scorer=current)
    screened = pd.read_parquet(tmp_path / "b/out.parquet").set_index("container_number")
    in_batch = [SENTENCE in screened.loc[c, "rule_hits"] for c in amended["container_number"]]
    assert in_batch == [True] * 3 + [False] * 3
    # The service, serving that history, tells the same.
    settings = Settings(home=home)
    store = Store.from_settings(settings)
    store.migrate()
    key = issue_key(store, role=Role.OFFICER, name="officer").key
    app = create_app(
        settings=settings,
        scorer_loader=lambda: current,
        store=store,
        limits=ServeLimits(model="champion"),
    )
    records = [
        {k: _json(v) for k, v in row.items() if not (v is None or v is pd.NaT or v != v)}
        for row in amended.to_dict("records")
    ]
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
            wait_ready(client, timeout=120)
            response = client.post("/v1/score", json={"lines": records}, headers={"X-API-Key": key})
    finally:
        store.dispose()
    assert response.status_code == 200, response.text
    answered = sorted(response.json()["lines"], key=lambda r: r["line"])
    assert [SENTENCE in r["rule_hits"] for r in answered] == in_batch
    served = [r["risk_score"] for r in answered]
    np.testing.assert_allclose(served, screened.loc[amended["container_number"], "risk_score"])
