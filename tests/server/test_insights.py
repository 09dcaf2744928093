"""The admin insights page: what was searched, found, clicked and rated, and what is stale."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.config import Config
from server.services import Services

from ..conftest import config_with_tokens
from ..fixtures import ADMIN_TOKEN


@pytest.fixture
def config(kb_dir: Path, index_dir: Path, activity_location: str) -> Config:
    """These tests run with the activity kept in SQLite and in PostgreSQL."""
    return config_with_tokens(kb_dir, index_dir, activity_location)


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def flush(app: Flask) -> None:
    services: Services = app.extensions["kb"]
    assert services.activity.flush()


def report(client: FlaskClient, name: str) -> list[dict[str, str]]:
    response = client.get(f"/admin/insights/{name}.csv", headers=ADMIN)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_searches_clicks_and_gaps_are_reported(app: Flask, client: FlaskClient) -> None:
    page = client.get("/?q=0x80070005").text
    link = re.search(r'href="(/kb/KB-2001\?[^"]*from=[0-9a-f]+\.1)"', page)[1].replace("&amp;", "&")
    assert client.get(link).status_code == 200
    client.get("/help?q=printer+jammed+with+glitter")
    client.get("/?q=Outlook+password")
    client.get("/api/search?q==HYPERLINK(evil)")
    flush(app)

    top = {row["query"]: row for row in report(client, "top-queries")}
    assert top["0x80070005"]["searches with a click"] == "1"
    gaps = {r["query"] for r in report(client, "zero-results")}
    assert gaps == {"printer jammed with glitter"}  # a script's search is not a content gap
    # kept apart, and no formula runs when the CSV is opened
    assert {r["query"] for r in report(client, "api-queries")} == {"'=hyperlink(evil)"}
    assert [r["query"] for r in report(client, "no-clicks")] == ["outlook password"]
    articles = {row["id"]: row for row in report(client, "articles")}
    assert articles["KB-2001"]["clicks"] == "1"
    assert articles["KB-2001"]["click-through"] == "100%"
    assert "'=hyperlink(evil)" not in top  # people's searches only


def test_least_helpful_articles_come_with_comments(app: Flask, client: FlaskClient) -> None:
    client.post("/api/articles/KB-2002/feedback", json={"helpful": False, "comment": "No step 3"})
    rows = report(client, "least-helpful")
    assert rows[0]["id"] == "KB-2002"
    assert rows[0]["comments"] == "No step 3"


def test_review_and_owner_reports(client: FlaskClient) -> None:
    review = {row["id"]: row for row in report(client, "review")}
    assert review["KB-2002"]["why"] == "review overdue"
    assert "KB-2001" not in review
    owners = {row["owner"]: row for row in report(client, "owners")}
    assert owners["b.owner"]["review overdue"] == "1"
    assert owners["(no owner)"]["internal"] == "2"  # the etcd and spooler articles


def test_the_page_shows_charts_and_every_table(client: FlaskClient) -> None:
    client.get("/?q=0x80070005")
    html = client.get("/admin/insights?days=7", headers=ADMIN).text
    assert html.count("<svg") == 2
    assert "Searches per day" in html and "Feedback per day" in html
    for title in (
        "Top queries",
        "Queries with no results",
        "Click-through per article",
        "Least helpful articles",
        "Articles to review",
        "Articles by owner",
    ):
        assert title in html
    assert client.get("/admin/insights/nonsense.csv", headers=ADMIN).status_code == 404
