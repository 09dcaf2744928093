"""HTML pages through the test client: they work without JavaScript."""

import re
from pathlib import Path

from flask.testing import FlaskClient

from ..fixtures import MARKER


def test_search_page_lists_results_with_snippets(client: FlaskClient) -> None:
    html = client.get("/?q=0x80070005").get_data(as_text=True)
    assert "Windows Update fails with 0x80070005" in html
    assert "<mark>0x80070005</mark>" in html


def test_home_page_lists_recent_public_articles(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "Recently updated" in html
    assert MARKER not in html


def test_fragment_is_just_the_results(client: FlaskClient) -> None:
    html = client.get("/?q=outlook&fragment=1").get_data(as_text=True)
    assert "<html" not in html and "Outlook keeps asking" in html


def test_bad_page_parameter_shows_a_message(client: FlaskClient) -> None:
    response = client.get("/?q=x&page=zero")
    assert response.status_code == 400
    assert "page must be a whole number" in response.get_data(as_text=True)


def test_article_page_shows_metadata_and_history(client: FlaskClient) -> None:
    html = client.get("/kb/KB-2001").get_data(as_text=True)
    assert "Last changed by <strong>Ada Author</strong>" in html
    assert "/kb/KB-2001" in html  # the permalink to copy
    assert 'class="highlight"' in html


def test_missing_article_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/kb/KB-9999")
    assert response.status_code == 404
    assert "No article with that id" in response.get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_problems_page_needs_sign_in(client: FlaskClient, tier2_headers: dict[str, str]) -> None:
    anonymous = client.get("/problems")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"] == "/login?next=/problems"
    assert client.get("/problems", headers=tier2_headers).status_code == 200


def test_a_cached_page_still_follows_the_articles_it_links_to(
    client: FlaskClient,
    indexer,  # type: ignore[no-untyped-def]
    kb_dir,
) -> None:
    """Rendered HTML is cached, but a link whose target was hidden since is not kept."""
    (kb_dir / "windows" / "see-also.md").write_text(
        "---\nid: KB-2050\naudience: public\n---\n# See also\n\n"
        "Read [the update fix](update-0x80070005.md) first.\n"
    )
    indexer.update(["windows/see-also.md"])
    assert 'href="/kb/KB-2001"' in client.get("/kb/KB-2050").get_data(as_text=True)
    assert 'href="/kb/KB-2001"' in client.get("/kb/KB-2050").get_data(as_text=True)
    target = kb_dir / "windows" / "update-0x80070005.md"
    target.write_text(target.read_text().replace("audience: public", "audience: internal"))
    indexer.update(["windows/update-0x80070005.md"])
    html = client.get("/kb/KB-2050").get_data(as_text=True)
    assert "KB-2001" not in html  # anonymous readers no longer learn the internal id


def test_a_problem_says_since_when_and_links_the_last_good_version(
    client: FlaskClient,
    indexer,
    kb_dir: Path,
    tier2_headers: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    path = kb_dir / "email/outlook-prompt.md"
    path.write_text(path.read_text().replace("title: Outlook", "title: [Outlook"))
    indexer.update(["email/outlook-prompt.md"])
    first = indexer.problems["email/outlook-prompt.md"].since
    indexer.update(["windows/update-0x80070005.md"])  # retried with every batch
    assert indexer.problems["email/outlook-prompt.md"].since == first
    page = client.get("/problems", headers=tier2_headers).text
    assert "email/outlook-prompt.md" in page
    assert f'datetime="{first}"' in page
    assert 'href="/kb/KB-2002">the last good version</a>' in page


def test_nothing_to_show_offers_popular_and_recent_articles(
    app,
    client: FlaskClient,
    tier2_headers: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    """A first visit and a search with no result both offer somewhere to go: what people
    open most (only what the reader may see) and what changed last; tier 1 gets the way to
    escalate."""
    page = client.get("/?q=0x80070005").text
    link = re.search(r'href="(/kb/KB-2001\?[^"]*from=[0-9a-f]+\.1)"', page)[1].replace("&amp;", "&")
    client.get(link)
    page = client.get("/?q=etcd", headers=tier2_headers).text
    link = re.search(r'href="(/kb/KB-2003\?[^"]*from=[0-9a-f]+\.1)"', page)[1].replace("&amp;", "&")
    client.get(link, headers=tier2_headers)
    app.extensions["kb"].activity.flush()
    first = client.get("/").text
    popular = first[first.index("Popular lately") :]
    assert "KB-2001" in popular and "KB-2003" not in popular  # internal: not for anonymous
    assert "KB-2003" in client.get("/", headers=tier2_headers).text.split("Popular lately")[1]
    nothing = client.get("/?q=quantum+flux+capacitor").text
    assert "Popular lately" in nothing and "Recently changed" in nothing
    assert 'href="/help?q=quantum+flux+capacitor"' in nothing  # the way to escalate
    assert "Escalate" not in client.get("/?q=quantum+flux", headers=tier2_headers).text


def test_the_breadcrumb_leads_to_the_articles_folder(client: FlaskClient) -> None:
    page = client.get("/kb/KB-2002").text
    crumb = re.search(r'<nav class="breadcrumb"[^>]*>(.*?)</nav>', page)[1]
    assert 'href="/">Knowledge base</a>' in crumb and 'href="/?folder=email">email</a>' in crumb
    listed = client.get("/?folder=email").text
    assert "KB-2002" in listed and "KB-2001" not in listed  # KB-2001 is in windows/
    assert "In folder <strong>email</strong>" in listed
    found = client.get("/api/search?q=password&folder=windows").get_json()
    assert [hit["path"].split("/")[0] for hit in found["results"]] in (
        [],
        ["windows"] * len(found["results"]),
    )
    assert client.get("/api/search?folder=" + "x" * 500).status_code == 400
