"""The pages' forms (sign-in, sign-out, "Was this helpful?"): they work when sent from a page
the server rendered, a forged cross-site post is refused, and the feedback form is held to
the same limits as the API (issue 16, finding 4)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from server.services import Services

from ..fixtures import TIER2_TOKEN
from ..forms import form_posting_to, submit


def votes(app: Flask, article_id: str) -> tuple[int, int]:
    services: Services = app.extensions["kb"]
    return services.activity.votes(article_id)


def test_the_feedback_form_counts_one_vote_per_visitor_per_article(
    app: Flask, client: FlaskClient
) -> None:
    for answer in ("no", "no", "yes"):
        sent = submit(client, "/kb/KB-2001", "/kb/KB-2001/feedback", helpful=answer)
        assert sent.status_code == 302 and sent.headers["Location"] == "/kb/KB-2001#feedback"
    assert "Thanks for your feedback." in client.get("/kb/KB-2001").text
    assert votes(app, "KB-2001") == (1, 0)  # changed their mind: still one vote


def test_forged_form_posts_are_refused_with_a_clear_page(app: Flask, client: FlaskClient) -> None:
    """What another site's page can send: the fields, but not this site's form token, with
    or without the visitor's cookie."""
    client.get("/kb/KB-2001")  # a reader with a cookie, as a browser would have
    stranger = app.test_client()
    for browser in (client, stranger):
        for path, fields in (
            ("/kb/KB-2001/feedback", {"helpful": "no"}),
            ("/login", {"token": TIER2_TOKEN}),
            ("/kb/KB-2001/feedback", {"helpful": "no", "csrf_token": "guessed"}),
        ):
            refused = browser.post(path, data=fields)
            assert refused.status_code == 400, (path, refused.status_code)
            assert "reload the page" in refused.text
    assert votes(app, "KB-2001") == (0, 0)
    assert client.get("/kb/KB-2003").status_code == 404  # the forged sign-in did not count


def test_a_forged_sign_out_does_not_sign_anyone_out(client: FlaskClient) -> None:
    submit(client, "/login", "/login", token=TIER2_TOKEN)
    assert client.post("/logout").status_code == 400
    assert client.get("/kb/KB-2003").status_code == 200
    assert submit(client, "/kb/KB-2003", "/logout").status_code == 302  # the page's button
    assert client.get("/kb/KB-2003").status_code == 404


def test_a_token_from_another_visitors_page_is_refused(app: Flask, client: FlaskClient) -> None:
    """An attacker can read the token on their own page; it is no good in a victim's."""
    attacker = app.test_client()
    page = attacker.get("/kb/KB-2001").text
    theirs = form_posting_to(page, "/kb/KB-2001", "/kb/KB-2001/feedback")
    client.get("/kb/KB-2001")
    assert client.post(theirs.action, data=theirs.filled(helpful="no")).status_code == 400
    assert votes(app, "KB-2001") == (0, 0)


def test_api_clients_send_no_form_token(client: FlaskClient) -> None:
    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    assert client.post("/api/articles/KB-2001/feedback", json={"helpful": True}).status_code == 201
    sent = client.post("/api/articles/KB-2003/feedback", json={"helpful": True}, headers=tier2)
    assert sent.status_code == 201
    suggested = client.post("/api/suggest", json={"subject": "outlook password"}, headers=tier2)
    assert suggested.status_code == 200


def test_a_client_that_discards_cookies_is_held_to_the_hourly_limit(app: Flask) -> None:
    """Each round opens the page with an empty cookie jar (a new visitor), so only counting
    by client address can stop it; the form and the API share the count."""
    services: Services = app.extensions["kb"]
    services.activity.feedback_per_hour = 3
    for _ in range(5):
        browser = app.test_client()
        sent = submit(browser, "/kb/KB-2001", "/kb/KB-2001/feedback", helpful="no")
        assert sent.status_code == 302
    assert votes(app, "KB-2001") == (0, 3)
    assert "enough feedback" in browser.get(sent.headers["Location"]).text
    browser = app.test_client()
    browser.get("/kb/KB-2002")
    refused = browser.post("/api/articles/KB-2002/feedback", json={"helpful": False})
    assert refused.status_code == 429
    assert votes(app, "KB-2002") == (0, 0)
