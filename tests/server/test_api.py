"""The JSON API through the Flask test client: contract, errors and access."""

from pathlib import Path

from flask.testing import FlaskClient

from indexer import Indexer

from ..fixtures import MARKER, TIER1_TOKEN, TIER2_TOKEN, write
from ..forms import submit


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


def test_healthz_counts_only_what_the_caller_may_see(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    body = client.get("/healthz", headers=tier2_headers).get_json()
    assert body["status"] == "ok" and body["documents"] == 5
    assert client.get("/healthz").get_json()["documents"] == 3  # the public articles


def test_healthz_tells_others_nothing_internal_articles_move(
    client: FlaskClient, indexer: Indexer, kb_dir: Path, tier2_headers: dict[str, str]
) -> None:
    """A broken or edited internal file changes tier 2's figures (problems, last indexed),
    never what anonymous readers or tier 1 get: the status, and the articles they may see."""
    tier1 = {"Authorization": f"Bearer {TIER1_TOKEN}"}
    before = [client.get("/healthz", headers=h).get_json() for h in ({}, tier1)]
    write(kb_dir, "k8s/etcd-fsync.md", "---\naudience: internal\ntitle: [broken\n---\n")
    write(kb_dir, "secret/new.md", f"---\naudience: internal\n---\n{MARKER}\n")
    indexer.update(["k8s/etcd-fsync.md", "secret/new.md"])
    assert client.get("/healthz", headers=tier2_headers).get_json()["problems"] == 1
    after = [client.get("/healthz", headers=h).get_json() for h in ({}, tier1)]
    assert after == before == [{"status": "ok", "documents": 3}] * 2


def test_sign_in_with_a_token_shows_internal_articles(client: FlaskClient) -> None:
    assert client.get("/kb/KB-2003").status_code == 404
    assert submit(client, "/login", "/login", token="wrong").status_code == 401
    assert submit(client, "/login", "/login", token=TIER2_TOKEN).status_code == 302
    assert client.get("/kb/KB-2003").status_code == 200
    submit(client, "/kb/KB-2003", "/logout")
    assert client.get("/kb/KB-2003").status_code == 404


def test_autocomplete_and_related_respect_access(client) -> None:  # type: ignore[no-untyped-def]
    from ..fixtures import MARKER, TIER2_TOKEN

    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    public = client.get("/api/autocomplete?q=outl").get_json()
    assert {
        "kind": "article",
        "text": "Outlook keeps asking for a password",
        "url": "http://localhost/kb/KB-2002",
    } in public["suggestions"]
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


def test_timings_are_only_for_those_who_may_see_every_article(
    client: FlaskClient, tier2_headers: dict[str, str]
) -> None:
    """A search's time depends on internal articles too (a word only they hold is looked up,
    then filtered out): tier 1 and anonymous readers get no timing to measure that by."""
    tier1 = {"Authorization": f"Bearer {TIER1_TOKEN}"}
    for path in (f"/api/search?q={MARKER}", "/api/search?q=outlook"):
        for headers in ({}, tier1):
            assert client.get(path, headers=headers).get_json()["took_ms"] is None, headers
        assert isinstance(client.get(path, headers=tier2_headers).get_json()["took_ms"], float)
    ticket = {"subject": "Outlook keeps asking for my password"}
    assert client.post("/api/suggest", json=ticket).get_json()["took_ms"] is None
    assert isinstance(
        client.post("/api/suggest", json=ticket, headers=tier2_headers).get_json()["took_ms"], float
    )


def test_readers_get_from_the_api_what_the_page_shows(
    client: FlaskClient, indexer: Indexer, kb_dir: Path, tier2_headers: dict[str, str]
) -> None:
    """Authors' HTML comments and unknown front-matter keys are in the source, never on the
    page: anonymous readers and tier 1 get neither through the API; tier 2 gets the source."""
    note = "editornotequokka"
    write(
        kb_dir,
        "public/commented.md",
        f"---\nid: KB-COMMENT\naudience: public\nnote: {note}\n"
        f"---\n# Commented\n\nVisible text.\n\n<!-- {note}: ask the vendor -->\n",
    )
    indexer.update(["public/commented.md"])
    tier1 = {"Authorization": f"Bearer {TIER1_TOKEN}"}
    for headers in ({}, tier1):
        assert note not in client.get("/kb/KB-COMMENT", headers=headers).get_data(as_text=True)
        assert note not in client.get("/api/articles/KB-COMMENT", headers=headers).get_data(
            as_text=True
        )
    source = client.get("/api/articles/KB-COMMENT", headers=tier2_headers).get_json()
    assert note in source["markdown"] and source["extra"] == {"note": note}


def test_a_request_cannot_multiply_its_own_cost(client: FlaskClient) -> None:
    """20,000 tag= parameters cost seconds of CPU: past 20 filters, or a 200-character
    value, the answer is a 400 saying so, and filters inside the query stay cheap."""
    many = "&".join(f"tag=t{n}" for n in range(20_000))
    for path in (
        f"/api/search?q=update&{many}",
        f"/?q=update&{many}",
        f"/api/search?tag={'x' * 201}",
    ):
        assert client.get(path).status_code == 400, path[:60]
    assert client.get("/api/search?" + "&".join(f"tag=t{n}" for n in range(20))).status_code == 200
    inline = " ".join(f"tag:t{n}" for n in range(400))
    assert client.get("/api/search", query_string={"q": inline}).get_json()["total"] == 0
