"""Every field of the registry reaches everything derived from it.

The tests run over whatever ``indexer.documents.fields.FIELDS`` holds, so a field added
there is checked end to end without a test written for it: parsed, searchable as words,
a facet with counts, a filter by URL parameter and in the query, in the API's JSON, in
OpenAPI, in the front-matter JSON Schema, and on the results and article pages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer import DETAILS, FIELDS, LIST_FACETS, Indexer, KnowledgeBase, front_matter_schema
from server.app import create_app
from server.config import Config
from server.services import Services

from ..fixtures import TIER2_TOKEN, write

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}


def _value(name: str, which: str) -> str:
    """A value no other article holds: ``quokkasystems`` for systems in article A."""
    return f"{which}quokka{name.replace('_', '')}"


def _article(article_id: str, which: str) -> str:
    lists = "\n".join(f"{f.name}: [{_value(f.name, which)}]" for f in LIST_FACETS)
    return f"""---
id: {article_id}
title: Printer queue {which} jams
type: resolution
audience: public
owner: a.tester
reviewed: 2026-01-10
review_by: 2027-01-10
{lists}
---
## Symptoms

The queue stops.
"""


@pytest.fixture
def client(kb_dir: Path, config: Config) -> FlaskClient:
    write(kb_dir, "fields/a.md", _article("KB-8001", "alpha"))
    write(kb_dir, "fields/b.md", _article("KB-8002", "beta"))
    indexer = Indexer(kb_dir, config.index_dir)
    indexer.build()
    return create_app(config, Services(kb=KnowledgeBase(indexer.storage, kb_dir))).test_client()


def _ids(client: FlaskClient, query: str) -> list[str]:
    answer = client.get(f"/api/search?{query}", headers=TIER2).get_json()
    return [hit["id"] for hit in answer["results"]]


@pytest.mark.parametrize("facet", LIST_FACETS, ids=lambda f: f.name)
def test_a_list_facet_filters_counts_and_is_searched(client: FlaskClient, facet) -> None:  # type: ignore[no-untyped-def]
    alpha = _value(facet.name, "alpha")
    assert _ids(client, f"{facet.param}={alpha}") == ["KB-8001"]  # the URL parameter
    assert _ids(client, f"q={facet.param}:{alpha}") == ["KB-8001"]  # the query filter
    if facet.words:
        assert _ids(client, f"q={alpha}") == ["KB-8001"]  # its values are words too
    answer = client.get("/api/search?q=printer+queue", headers=TIER2).get_json()
    counted = {entry["value"]: entry["count"] for entry in answer["facets"][facet.name]}
    assert counted[alpha] == 1 and counted[_value(facet.name, "beta")] == 1
    hit = next(hit for hit in answer["results"] if hit["id"] == "KB-8001")
    assert hit[facet.name] == [alpha]
    page = client.get("/?q=printer+queue", headers=TIER2).text
    assert f"<h3>{facet.label}</h3>" in page and f"{facet.param}={alpha}" in page


def test_every_detail_is_in_the_article_json_and_every_field_in_the_json_schema(
    client: FlaskClient,
) -> None:
    article = client.get("/api/articles/KB-8001", headers=TIER2).get_json()
    for detail in DETAILS:
        assert detail.name in article
    for facet in LIST_FACETS:
        assert article[facet.name] == [_value(facet.name, "alpha")]
        page = client.get("/kb/KB-8001", headers=TIER2).text
        assert f"<dt>{facet.label}</dt>" in page
    properties = front_matter_schema()["properties"]
    assert [f.name for f in FIELDS] == list(properties)


def test_openapi_describes_every_facet_and_detail(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    hit = spec["components"]["schemas"]["Hit"]["properties"]
    parameters = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    article = spec["components"]["schemas"]["Article"]["allOf"][1]["properties"]
    for facet in LIST_FACETS:
        assert facet.name in hit and facet.param in parameters
    for detail in DETAILS:
        assert detail.name in article
