"""Tier-1 self-service: public articles only, the fix first, and escalation that carries context."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from ..fixtures import MARKER, TIER2_TOKEN


def test_self_service_shows_public_articles_even_to_tier2(client: FlaskClient) -> None:
    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    for q in ("etcdHighFsyncDurations", "control plane nodes", "dedicated SSDs", "resolution"):
        html = client.get(f"/help?q={q}", headers=tier2).text
        assert MARKER not in html
        assert "KB-2003" not in html
    assert client.get("/help/kb/KB-2003", headers=tier2).status_code == 404


def test_results_lead_with_a_summary_and_the_first_steps(client: FlaskClient) -> None:
    html = client.get("/help?q=0x80070005").text
    assert "Installing the cumulative update stops with error 0x80070005" in html
    steps = html[html.index("How to fix it") :]
    assert steps.index("Stop the wuauserv service") < steps.index("Run sfc /scannow")


def test_the_article_shows_the_fix_before_the_background(client: FlaskClient) -> None:
    html = client.get("/help/kb/KB-2001").text
    assert html.index("Stop the <code>wuauserv</code> service") < html.index("SoftwareDistribution")
    assert "Background: symptoms, cause and details" in html
    assert "Was this helpful?" in html


def test_without_a_match_escalation_is_offered_with_the_query(client: FlaskClient) -> None:
    html = client.get("/help?q=quantum+flux+capacitor").text
    assert "Nothing here fits?" in html
    page = client.get("/help/escalate").text
    assert "Searched the knowledge base for: quantum flux capacitor" in page


def test_escalation_url_carries_query_and_articles_looked_at(client_with) -> None:  # type: ignore[no-untyped-def]
    client = client_with(
        escalation_url="https://desk.example/new?subject={query}&kb={articles}&body={description}",
    )
    client.get("/help?q=update+access+denied")
    client.get("/help/kb/KB-2001")
    client.get("/help/kb/KB-0999")  # an alias: redirected, not counted twice
    html = client.get("/help?q=update+still+failing").text
    href = re.search(r'class="button escalate-link" href="([^"]+)"', html)[1]
    link = urlsplit(href.replace("&amp;", "&"))
    assert link.netloc == "desk.example"
    params = parse_qs(link.query)
    assert params["subject"] == ["update still failing"]
    assert params["kb"] == ["KB-2001"]
    body = params["body"][0]
    assert "KB-2001 Windows Update fails with 0x80070005: " in body
    assert "http://localhost/kb/KB-2001" in body
    assert "Searched before that: update access denied" in body


def test_escalation_hands_over_only_this_problem(client: FlaskClient) -> None:
    """An agent taking call after call: articles opened for an earlier, unrelated problem
    are not what was tried for this one."""
    client.get("/help?q=outlook+password+prompt")
    client.get("/help/kb/KB-2002")
    client.get("/help?q=0x80070005")
    client.get("/help/kb/KB-2001")
    client.get("/help?q=quantum+flux+capacitor")  # a new problem, nothing fits
    page = client.get("/help/escalate").text
    assert "Searched the knowledge base for: quantum flux capacitor" in page
    assert "KB-2001" not in page and "KB-2002" not in page
    assert "Articles tried" not in page
    client.get("/help?q=quantum+flux+capacitor+reset")  # refined: the same problem
    client.get("/help/kb/KB-2001")
    page = client.get("/help/escalate").text
    assert "KB-2001 Windows Update fails with 0x80070005" in page and "KB-2002" not in page


def test_tier1_is_not_told_how_to_configure_the_service(client: FlaskClient) -> None:
    client.get("/help?q=quantum+flux+capacitor")
    assert "escalation_url" not in client.get("/help/escalate").text


def test_when_nothing_fits_escalation_comes_first(client) -> None:  # type: ignore[no-untyped-def]
    """Tier 1 sees "no article matches well" and the escalation box before the closest
    articles; with a good match, the articles come first."""
    loose = client.get("/help?q=the+coffee+machine+shows+error+E42").get_data(as_text=True)
    assert "matches" in loose and "well" in loose
    assert loose.index("escalate-link") < loose.find("help-hit") or "help-hit" not in loose
    good = client.get("/help?q=outlook+password+prompt").get_data(as_text=True)
    assert good.index("help-hit") < good.index("escalate-link")


def test_a_code_no_article_holds_is_named(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/search?q=KRB_AP_ERR_MODIFIED").get_json()
    assert body["not_found"] == ["KRB_AP_ERR_MODIFIED"] and body["match"] == "none"
    page = client.get("/?q=KRB_AP_ERR_MODIFIED").get_data(as_text=True)
    assert "No article mentions <code>KRB_AP_ERR_MODIFIED</code>" in page
    exact = client.get("/?q=kb-2001").get_data(as_text=True)
    assert "Go to KB-2001" in exact


def test_the_self_service_page_answers_with_a_trailing_slash_too(client: FlaskClient) -> None:
    assert client.get("/help/?q=outlook").status_code == 200
