"""'Was this helpful?': stored once per reader, limited, and never for hidden articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.config import Config
from server.services import Services

from ..conftest import config_with_tokens
from ..fixtures import TIER2_TOKEN
from ..forms import form_posting_to, submit


@pytest.fixture
def config(kb_dir: Path, index_dir: Path, activity_location: str) -> Config:
    """These tests run with the activity kept in SQLite and in PostgreSQL."""
    return config_with_tokens(kb_dir, index_dir, activity_location)


def votes(app: Flask, article_id: str) -> tuple[int, int]:
    services: Services = app.extensions["kb"]
    return services.activity.votes(article_id)


def test_a_double_click_is_counted_once(app: Flask, client: FlaskClient) -> None:
    first = client.post("/api/articles/KB-2001/feedback", json={"helpful": False})
    second = client.post("/api/articles/KB-2001/feedback", json={"helpful": False})
    assert (first.status_code, first.json["counted"]) == (201, True)
    assert (second.status_code, second.json["counted"]) == (200, False)
    assert votes(app, "KB-2001") == (0, 1)


def test_the_form_works_without_javascript(app: Flask, client: FlaskClient) -> None:
    sent = submit(
        client, "/kb/KB-2001", "/kb/KB-2001/feedback", helpful="no", comment="Step 2 fails"
    )
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/kb/KB-2001#feedback"
    page = client.get("/kb/KB-2001").text
    assert "Thanks for your feedback." in page
    assert votes(app, "KB-2001") == (0, 1)
    maybe = submit(client, "/kb/KB-2001", "/kb/KB-2001/feedback", helpful="maybe")
    assert maybe.status_code == 400 and "Choose yes or no" in maybe.text


def test_feedback_on_an_aliased_article_counts_for_the_article(
    app: Flask, client: FlaskClient
) -> None:
    assert client.post("/api/articles/KB-0999/feedback", json={"helpful": True}).status_code == 301


def test_the_form_posted_to_an_old_name_counts_for_the_article(
    app: Flask, client: FlaskClient
) -> None:
    """A page opened by an alias posts its form there: the vote is the article's, not a
    404, and the reader returns to the article."""
    form = form_posting_to(client.get("/kb/KB-2001").text, "/kb/KB-2001", "/feedback")
    sent = client.post("/kb/KB-0999/feedback", data=form.filled(helpful="yes"))
    assert sent.status_code == 302
    assert votes(app, "KB-2001") == (1, 0)


def test_hidden_articles_take_no_feedback_from_those_who_cannot_see_them(
    client: FlaskClient,
) -> None:
    assert client.post("/api/articles/KB-2003/feedback", json={"helpful": True}).status_code == 404
    form = form_posting_to(client.get("/kb/KB-2001").text, "/kb/KB-2001", "/feedback")
    assert client.post("/kb/KB-2003/feedback", data=form.filled(helpful="yes")).status_code == 404
    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    sent = client.post("/api/articles/KB-2003/feedback", json={"helpful": True}, headers=tier2)
    assert sent.status_code == 201


def test_too_much_feedback_is_refused_politely(app: Flask, client: FlaskClient) -> None:
    services: Services = app.extensions["kb"]
    services.activity.feedback_per_hour = 1
    client.get("/kb/KB-2001")  # a browser has read the page (and got its visitor id) first
    assert client.post("/api/articles/KB-2001/feedback", json={"helpful": True}).status_code == 201
    refused = client.post("/api/articles/KB-2002/feedback", json={"helpful": True})
    assert refused.status_code == 429
    assert "enough feedback" in refused.json["error"]["message"]
    form = submit(client, "/kb/network/dns-forwarders", "/feedback", helpful="yes")
    assert "enough feedback" in client.get(form.headers["Location"]).text


def test_bad_feedback_bodies_are_400(client: FlaskClient) -> None:
    for body in ({"helpful": "yes"}, {}, {"helpful": True, "comment": 5}):
        assert client.post("/api/articles/KB-2001/feedback", json=body).status_code == 400
    assert client.post("/api/articles/KB-2001/feedback", data="helpful").status_code == 400


def test_two_browsers_behind_one_address_each_get_a_vote(app: Flask) -> None:
    for _ in range(2):
        browser = app.test_client()
        browser.get("/kb/KB-2001")
        assert (
            browser.post("/api/articles/KB-2001/feedback", json={"helpful": True}).status_code
            == 201
        )
    assert votes(app, "KB-2001") == (2, 0)
