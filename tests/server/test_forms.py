"""The page's "Was this helpful?" form is held to the same limits as the API (issue 16,
finding 4)."""

from __future__ import annotations

from flask import Flask

from server.services import Services

from ..forms import submit


def votes(app: Flask, article_id: str) -> tuple[int, int]:
    services: Services = app.extensions["kb"]
    return services.activity.votes(article_id)


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
