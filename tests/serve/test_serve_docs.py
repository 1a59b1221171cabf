"""The API's interactive documentation works on a network without the internet: every file
``/docs`` loads comes from the server itself (FastAPI's own page loaded Swagger UI from a CDN)."""

from __future__ import annotations

import re

import httpx


def test_the_docs_page_loads_nothing_from_elsewhere(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    loaded = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    loaded += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert "/docs-assets/swagger-ui-bundle.js" in loaded
    assert "/docs-assets/swagger-ui.css" in loaded
    assert "/openapi.json" in loaded
    assert all(url.startswith("/") and not url.startswith("//") for url in loaded), loaded
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert b"SwaggerUIBundle" in script.content
    style = client.get("/docs-assets/swagger-ui.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert client.get("/docs-assets/redoc.standalone.js").status_code == 404  # not on the list
    # HEAD wherever GET works: the page, the docs and the files they load (it was 405)
    for path in ("/", "/docs", "/static/officer.js", "/favicon.ico", "/docs-assets/swagger-ui.css"):
        assert client.head(path).status_code == 200, path
    assert client.get("/docs-assets/../pyproject.toml").status_code == 404


def test_the_example_answer_in_docs_api_tells_the_rules_as_the_engine_words_them() -> None:
    """The example answered "consignee is TO ORDER or blank", a sentence no rule had any more."""
    import json
    from pathlib import Path

    from models.rules import RULES

    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    answers = [
        json.loads(block)
        for block in re.findall(r"```json\n(.*?)\n```", text, flags=re.DOTALL)
        if '"rule_hits"' in block
    ]
    told = {hit for answer in answers for line in answer["lines"] for hit in line["rule_hits"]}
    assert told and told <= {rule.sentence for rule in RULES}, told


def test_the_api_document_names_the_engine_release_and_no_development_stop(
    client: httpx.Client,
) -> None:
    """The OpenAPI document told operators of "a history made before stop 23": a stop is the
    developers' word, a release (CHANGELOG.md) is what an operator can see."""
    import tomllib
    from pathlib import Path

    document = client.get("/openapi.json")
    assert document.status_code == 200
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert document.json()["info"]["version"] == pyproject["project"]["version"]
    assert not re.findall(r"\bstops? \d", document.text), re.findall(
        r".{60}\bstops? \d.{20}", document.text
    )
