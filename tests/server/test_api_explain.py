"""GET /api/search?explain=1: tier 2 and above see how each score is made; tier 1 gets 403,
anonymous callers 401 (as every role-gated API route answers them)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from ..fixtures import ADMIN_TOKEN, AUTHOR_TOKEN, MARKER, TIER1_TOKEN, TIER2_TOKEN


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _parts(explain: dict[str, Any]) -> float:
    clauses = sum(c["score"] for c in explain["clauses"])
    return (
        clauses
        + explain["pairs"]["score"]
        + explain["phrase"]
        + explain["meaning"]
        + explain["exact"]
    )


@pytest.mark.parametrize("token", [TIER2_TOKEN, AUTHOR_TOKEN, ADMIN_TOKEN])
def test_tier2_and_above_get_an_explanation_that_adds_up(client: FlaskClient, token: str) -> None:
    for query in ("outlook password", "0x80070005 access denied", "KB-2001", '"print spooler"'):
        response = client.get(f"/api/search?q={query}&explain=1", headers=bearer(token))
        assert response.status_code == 200, query
        results = response.get_json()["results"]
        assert results, query
        for hit in results:
            explain = hit["explain"]
            assert explain["score"] == pytest.approx(hit["score"], abs=1e-3)
            assert _parts(explain) == pytest.approx(hit["score"], abs=1e-3)


def test_the_explanation_names_the_form_and_fields_that_matched(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    body = client.get("/api/search?q=e-mail+title:outlook&explain=true", headers=tier2_headers)
    hit = next(h for h in body.get_json()["results"] if h["id"] == "KB-2002")
    clauses = {c["query"]: c for c in hit["explain"]["clauses"]}
    assert clauses["e-mail"]["match"]["kind"] == "synonym"
    assert clauses["e-mail"]["match"]["form"] == "email"
    outlook = clauses["outlook"]
    assert outlook["fields"] == ["title"] and outlook["match"]["kind"] == "typed"
    fields = {
        f["field"] for w in outlook["match"]["words"] for t in w["terms"] for f in t["fields"]
    }
    assert fields == {"title"}


def test_tier1_gets_403_and_anonymous_callers_401(client: FlaskClient) -> None:
    for headers, status in (({}, 401), (bearer("not-a-token"), 401), (bearer(TIER1_TOKEN), 403)):
        for value in ("1", "true", "TRUE"):
            response = client.get(f"/api/search?q=outlook&explain={value}", headers=headers)
            assert response.status_code == status
            error = response.get_json()["error"]
            assert error["status"] == status and "tier2" in error["message"]


def test_no_explain_or_explain_0_is_the_answer_without_one(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    def answer(query: str, headers: dict[str, str]) -> dict[str, Any]:
        response = client.get(f"/api/search?q=outlook{query}", headers=headers)
        assert response.status_code == 200
        return response.get_json() | {"took_ms": None}

    for headers in ({}, bearer(TIER1_TOKEN), tier2_headers):
        plain = answer("", headers)
        assert all("explain" not in hit for hit in plain["results"])
        for off in ("&explain=0", "&explain=false", "&explain="):
            assert answer(off, headers) == plain


def test_an_explain_value_that_is_not_yes_or_no_is_400(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    for value in ("yes", "2", "on"):
        response = client.get(f"/api/search?q=outlook&explain={value}", headers=tier2_headers)
        assert response.status_code == 400
        assert "explain" in response.get_json()["error"]["message"]


def test_a_cached_answer_does_not_change_whether_hits_are_explained(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    def hits(explain: str) -> list[dict[str, Any]]:
        url = f"/api/search?q=outlook+password{explain}"
        return client.get(url, headers=tier2_headers).get_json()["results"]

    assert all("explain" not in hit for hit in hits(""))  # now cached for this commit
    assert all("explain" in hit for hit in hits("&explain=1"))
    assert all("explain" not in hit for hit in hits(""))


def test_internal_articles_are_explained_only_to_those_who_see_them(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    body = client.get(f"/api/search?q={MARKER}&explain=1", headers=tier2_headers).get_json()
    assert [hit["id"] for hit in body["results"]] == ["KB-2003"]
    assert body["results"][0]["explain"]["clauses"][0]["match"]["kind"] == "typed"
    assert client.get(f"/api/search?q={MARKER}&explain=1").status_code == 401
