"""Property tests of the views through the Flask test client, over the real index and app.

Whatever the query string, path or body: no 500, only the answers the API documents (200,
201, 3xx, 400, 404, 413, 429), a JSON error body from every /api/ failure, and an answer in
bounded time. Requests go anonymous, with a tier-1 or tier-2 token, or a wrong token, and
are buffered: a served file (an image) is read and closed, not left open.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from ..fixtures import MARKER, TIER1_TOKEN, TIER2_TOKEN
from .strategies import (
    content_types,
    feedback_bodies,
    path_quote,
    query_string,
    raw_bodies,
    refs,
    search_params,
    tickets,
)
from .support import QUERY_SECONDS, TICKET_SECONDS, bounded, count, examples

API_STATUSES = {200, 201, 301, 302, 308, 400, 404, 413, 429}
PAGE_STATUSES = {200, 301, 302, 308, 400, 404}
WHO = (
    {},
    {"Authorization": f"Bearer {TIER1_TOKEN}"},
    {"Authorization": f"Bearer {TIER2_TOKEN}"},
    {"Authorization": "Bearer wrong"},
    {"Authorization": "Basic " + "x" * 5000},
)
headers = st.sampled_from(WHO)


def _get(client: FlaskClient, url: str, sent: dict[str, str]) -> TestResponse:
    """GET within the time a query may take, as the caller ``sent`` (headers)."""
    with bounded(QUERY_SECONDS, url):
        return client.get(url, headers=sent, buffered=True)


def _check_api(response: TestResponse, what: object) -> dict[str, Any]:
    """A documented status, and JSON always: the error shape for every failure."""
    assert response.status_code in API_STATUSES, (response.status_code, what)
    if 300 <= response.status_code < 400:
        return {}
    body = response.get_json(silent=True)
    assert isinstance(body, dict), (response.status_code, response.data[:200], what)
    if response.status_code >= 400:
        error = body["error"]
        assert error["status"] == response.status_code and isinstance(error["message"], str)
    return body


def _check_page(response: TestResponse, what: object) -> None:
    assert response.status_code in PAGE_STATUSES, (response.status_code, what)
    assert response.mimetype == "text/html" or response.status_code >= 300


def _public_only(response: TestResponse, sent: dict[str, str], typed: str) -> bool:
    """Without a tier-2 token, nothing but an echo of what was typed may name MARKER."""
    if TIER2_TOKEN in sent.get("Authorization", ""):
        return True
    return MARKER not in response.get_data(as_text=True).lower() or MARKER in typed.lower()


@examples(0.5)
@given(params=search_params(), sent=headers)
@example(params=[("q", "(" * 3000 + ")" * 1000)], sent={})
@example(params=[("q", "x" * 4001)], sent={})
@example(params=[("limit", "9" * 5000), ("page", "-1")], sent={})
def test_api_search_answers_any_query_string(
    client: FlaskClient, params: list[tuple[str, str]], sent: dict[str, str]
) -> None:
    count("GET /api/search")
    url = "/api/search?" + query_string(params)
    response = _get(client, url, sent)
    body = _check_api(response, url)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert len(body["results"]) <= body["limit"]
    assert _public_only(response, sent, url)


@examples(0.5)
@given(params=search_params(), sent=headers, page=st.sampled_from(("/", "/help")))
def test_search_pages_answer_any_query_string(
    client: FlaskClient, params: list[tuple[str, str]], sent: dict[str, str], page: str
) -> None:
    """The HTML pages share the parameters: a bad one is a 400 page, never a 500."""
    count(f"GET {page}")
    url = f"{page}?{query_string(params)}"
    response = _get(client, url, sent)
    _check_page(response, url)
    assert response.status_code in (200, 400)
    assert _public_only(response, sent, " ".join(value for _, value in params))


@examples(0.5)
@given(
    q=st.one_of(st.text(), st.sampled_from(("", MARKER[:5], "etcdH", "0x8", "out"))), sent=headers
)
@example(q="etcd " * 50_000, sent={})  # only the first 200 characters are read
def test_api_autocomplete_answers_anything(
    client: FlaskClient, q: str, sent: dict[str, str]
) -> None:
    count("GET /api/autocomplete")
    url = "/api/autocomplete?" + query_string([("q", q)])
    response = _get(client, url, sent)
    body = _check_api(response, url)
    assert response.status_code == 200 and isinstance(body["suggestions"], list)
    assert _public_only(response, sent, q)


@examples(0.5)
@given(body=raw_bodies(tickets()), content_type=content_types, sent=headers)
@example(body=b"[" * 100_000, content_type="application/json", sent={})
@example(body=b'{"subject": "\\ud800 outlook"}', content_type="application/json", sent={})
def test_api_suggest_answers_any_body(
    client: FlaskClient, body: bytes, content_type: str, sent: dict[str, str]
) -> None:
    """Wrong types, nesting 100,000 deep, bodies over 1 MB, broken UTF-8: a 400 or 413."""
    count("POST /api/suggest")
    with bounded(TICKET_SECONDS, body[:200]):
        response = client.post(
            "/api/suggest", data=body, content_type=content_type, headers=sent, buffered=True
        )
    _check_api(response, body[:200])
    assert response.status_code in (200, 400, 413)
    if len(body) > 1_000_000 and response.status_code != 413:  # never read: not sent as JSON
        assert "json" not in content_type and response.status_code == 400


@examples(0.5)
@given(ref=refs, sent=headers, suffix=st.sampled_from(("", "/related", "/version")))
@example(ref="KB-0999", sent={}, suffix="")
@example(ref="KB-2003", sent={}, suffix="/related")
def test_api_articles_answer_any_reference(
    client: FlaskClient, ref: str, sent: dict[str, str], suffix: str
) -> None:
    """Ids, aliases, paths, traversal and noise: the article, a redirect, or a JSON 404."""
    count("GET /api/articles/<ref>")
    url = f"/api/articles/{path_quote(ref)}{suffix}"
    response = _get(client, url, sent)
    _check_api(response, url)
    assert response.status_code in (200, 301, 308, 404)
    assert _public_only(response, sent, ref)


@examples(0.5)
@given(
    ref=refs, sent=headers, prefix=st.sampled_from(("/kb/", "/help/kb/", "/tickets/", "/kb-files/"))
)
@example(ref="k8s/secret.svg", sent=WHO[2], prefix="/kb-files/")  # a file, streamed
def test_article_pages_answer_any_reference(
    client: FlaskClient, ref: str, sent: dict[str, str], prefix: str
) -> None:
    count("GET article pages")
    url = prefix + path_quote(ref)
    response = _get(client, url, sent)
    assert response.status_code in PAGE_STATUSES, (response.status_code, url)
    assert _public_only(response, sent, ref)


@examples(0.25)
@given(ticket=refs, sent=headers)
def test_api_tickets_answer_any_ticket_id(
    client: FlaskClient, ticket: str, sent: dict[str, str]
) -> None:
    count("GET /api/tickets/<id>")
    url = "/api/tickets/" + path_quote(ticket)
    response = _get(client, url, sent)
    body = _check_api(response, url)
    assert response.status_code in (200, 308, 404)
    assert all(a["id"] != "KB-2003" for a in body.get("articles", ())) or sent == WHO[2]


@examples(0.25)
@given(
    ref=st.one_of(st.sampled_from(("KB-2001", "KB-2002", "KB-0999", "KB-2003")), refs),
    body=raw_bodies(feedback_bodies()),
    content_type=content_types,
    sent=headers,
)
@example(
    ref="KB-2001",
    body=b'{"helpful": true, "comment": "\\udfff"}',
    content_type="application/json",
    sent={},
)
@example(
    ref="KB-2001",
    body=b'{"helpful": true, "comment": ' + b"[" * 50_000,
    content_type="application/json",
    sent={},
)
def test_api_feedback_answers_any_body(
    client: FlaskClient, ref: str, body: bytes, content_type: str, sent: dict[str, str]
) -> None:
    """Votes with wrong types, lone surrogates or deep nesting: a 400, never a 500."""
    count("POST /api/articles/<ref>/feedback")
    url = f"/api/articles/{path_quote(ref)}/feedback"
    with bounded(QUERY_SECONDS, body[:200]):
        response = client.post(
            url, data=body, content_type=content_type, headers=sent, buffered=True
        )
    if not ref.strip("/"):  # no id at all: the URL is an article's, which is GET only
        assert response.get_json()["error"]["status"] == response.status_code == 405
        return
    _check_api(response, (url, body[:200]))
    # 308: an id that starts with "/" makes "//"; the router redirects to the single slash
    assert response.status_code in (200, 201, 301, 400, 404, 413, 429) or (
        response.status_code == 308 and "//" in url
    )
