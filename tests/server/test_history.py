"""The history page (git log with diffs) and the "Edit this article" link."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from indexer import Indexer, KnowledgeBase
from server.app import create_app
from server.config import Config
from server.services import Services

from ..fixtures import GIT_IDENTITY, TIER1_TOKEN, TIER2_TOKEN, git

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}


def test_history_lists_commits_newest_first_with_diffs(
    kb_dir: Path, config: Config, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    article = kb_dir / "windows" / "update-0x80070005.md"
    article.write_text(
        article.read_text().replace("Stop the `wuauserv`", "Stop the `bits` and `wuauserv`")
    )
    git(kb_dir.parent, "commit", "-qam", "Stop BITS too")
    indexer = Indexer(kb_dir, config.index_dir)
    indexer.build()
    app = create_app(config, Services(kb=KnowledgeBase(indexer.storage, kb_dir)))
    client = app.test_client()
    html = client.get("/kb/KB-2001/history", headers=TIER2).text
    assert html.index("Stop BITS too") < html.index("Add sample articles")
    assert "Ada Author" in html
    assert "bits" in html and "wuauserv" in html  # the diff, highlighted
    assert (
        client.get("/kb/KB-0999/history", headers=TIER2).headers["Location"]
        == "/kb/KB-2001/history"
    )


def test_history_is_for_tier2_and_above(client: FlaskClient) -> None:
    assert client.get("/kb/KB-2001/history").status_code == 302  # sign in first
    assert (
        client.get(
            "/kb/KB-2001/history", headers={"Authorization": f"Bearer {TIER1_TOKEN}"}
        ).status_code
        == 403
    )
    assert client.get("/kb/KB-2003/history", headers=TIER2).status_code == 200


def test_edit_link_comes_from_the_template(app: Flask, client_with) -> None:  # type: ignore[no-untyped-def]
    edit = "https://git.example/it/kb/-/edit/main/kb/{path}?article={id}"
    client = client_with(edit_url=edit)
    page = client.get("/kb/KB-2001", headers=TIER2).text
    assert (
        'href="https://git.example/it/kb/-/edit/main/kb/windows/update-0x80070005.md?article=KB-2001"'
        in page
    )
    assert "Edit this article" not in client.get("/kb/KB-2001").text  # not for anonymous readers
    assert "Edit this article" not in app.test_client().get("/kb/KB-2001", headers=TIER2).text
