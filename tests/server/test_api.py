"""The JSON API through the Flask test client: contract, errors and access."""

from flask.testing import FlaskClient

from ..fixtures import MARKER, TIER2_TOKEN


def test_search_contract(client: FlaskClient) -> None:
    body = client.get("/api/search?q=0x80070005").get_json()
    assert set(body) >= {"query", "total", "page", "results"}
    first = body["results"][0]
    assert set(first) >= {
        "id",
        "title",
        "path",
        "url",
        "type",
        "snippet",
        "score",
        "updated",
        "tags",
        "systems",
    }
    assert first["id"] == "KB-2001"
    assert first["path"] == "windows/update-0x80070005.md"
    assert first["url"].endswith("/kb/KB-2001")


def test_bad_parameters_are_400_json(client: FlaskClient) -> None:
    for query in ("limit=abc", "limit=0", "page=0", "sort=random", "q=" + "x" * 5000):
        response = client.get(f"/api/search?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["status"] == 400


def test_unknown_api_path_is_json_404(client: FlaskClient) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_anonymous_sees_public_only(client: FlaskClient, tier2_headers: dict[str, str]) -> None:
    anonymous = client.get(f"/api/search?q={MARKER}").get_json()
    assert anonymous["total"] == 0
    assert MARKER not in str(anonymous["results"]) + str(anonymous["facets"])
    browse = client.get("/api/search?limit=100").get_data(as_text=True)
    assert MARKER not in browse and "KB-2003" not in browse
    assert client.get("/api/articles/KB-2003").status_code == 404
    tier2 = client.get(f"/api/search?q={MARKER}", headers=tier2_headers)
    assert [r["id"] for r in tier2.get_json()["results"]] == ["KB-2003"]
    assert client.get("/api/articles/KB-2003", headers=tier2_headers).status_code == 200


def test_wrong_token_is_anonymous(client: FlaskClient) -> None:
    response = client.get(
        f"/api/search?q={MARKER}", headers={"Authorization": "Bearer nope-nope-nope"}
    )
    assert response.get_json()["total"] == 0


def test_ticket_lookup_respects_audience(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    anonymous = client.get("/api/tickets/INC-1001").get_json()
    assert [a["id"] for a in anonymous["articles"]] == ["KB-2001"]
    tier2 = client.get("/api/tickets/INC-1001", headers=tier2_headers).get_json()
    assert {a["id"] for a in tier2["articles"]} == {"KB-2001", "KB-2003"}


def test_article_json_has_metadata_and_safe_html(client: FlaskClient) -> None:
    body = client.get("/api/articles/KB-2002").get_json()
    assert body["title"] == "Outlook keeps asking for a password"
    assert "<script" not in body["html"]
    assert 'href="/kb/KB-2001#cause"' in body["html"]
    assert 'src="/kb-files/email/img/flow.svg"' in body["html"]
    assert body["author"] == "Ada Author"


def test_old_names_redirect_to_the_permalink(client: FlaskClient) -> None:
    assert client.get("/api/articles/KB-0999").headers["Location"].endswith("/api/articles/KB-2001")
    response = client.get("/kb/kb-2001")
    assert response.status_code == 301 and response.headers["Location"].endswith("/kb/KB-2001")


def test_healthz_counts_only_what_the_caller_may_see(client: FlaskClient,
                                                    tier2_headers: dict[str, str]) -> None:  # fmt: skip
    body = client.get("/healthz", headers=tier2_headers).get_json()
    assert body["status"] == "ok" and body["documents"] == 5
    assert client.get("/healthz").get_json()["documents"] == 3  # the public articles


def test_sign_in_with_a_token_shows_internal_articles(client: FlaskClient) -> None:
    assert client.get("/kb/KB-2003").status_code == 404
    assert client.post("/login", data={"token": "wrong"}).status_code == 401
    assert client.post("/login", data={"token": TIER2_TOKEN}).status_code == 302
    assert client.get("/kb/KB-2003").status_code == 200
    client.post("/logout")
    assert client.get("/kb/KB-2003").status_code == 404


def test_autocomplete_and_related_respect_access(client) -> None:  # type: ignore[no-untyped-def]
    from ..fixtures import MARKER, TIER2_TOKEN

    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    public = client.get("/api/autocomplete?q=outl").get_json()
    assert {"kind": "article", "text": "Outlook keeps asking for a password",
            "url": "http://localhost/kb/KB-2002"} in public["suggestions"]  # fmt: skip
    for text in ("etcdH", MARKER[:5]):
        assert client.get(f"/api/autocomplete?q={text}").get_json()["suggestions"] == []
        assert client.get(f"/api/autocomplete?q={text}", headers=tier2).get_json()["suggestions"]
    related = client.get("/api/articles/KB-2001/related").get_json()
    assert related["id"] == "KB-2001"
    assert "KB-2003" not in {a["id"] for a in related["related"]}
    assert client.get("/api/articles/KB-2003/related").status_code == 404
    assert client.get("/api/articles/KB-0999/related").status_code == 301  # an alias


def test_search_offers_did_you_mean(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search?q=outlok").get_json()
    assert body["did_you_mean"] == "outlook"
    assert body["results"][0]["id"] == "KB-2002"
    assert client.get("/api/search?q=outlook").get_json()["did_you_mean"] is None
    page = client.get("/?q=outlok").get_data(as_text=True)
    assert "Did you mean" in page and "q=outlook" in page
