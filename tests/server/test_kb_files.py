"""`/kb-files` serves images and attachments that a visible article links to, exactly as
linked, and never an article's own Markdown (front matter and body) to anyone."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from indexer import Indexer

from ..fixtures import MARKER, SVG, write

INTERNAL = f"---\nid: KB-SECRETX\naudience: internal\n---\n# Secret\n\n{MARKER}\n"


def _fetch(
    client: FlaskClient, path: str, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Status and text of a /kb-files answer, with the file it sends closed."""
    answer = client.get(f"/kb-files/{path}", headers=headers or {})
    try:
        return answer.status_code, answer.get_data(as_text=True)
    finally:
        answer.close()


def _public(links: str) -> str:
    return f"---\nid: KB-LINKER\naudience: public\n---\n# Links\n\n{links}\n"


def test_a_link_that_names_an_article_file_serves_nothing(
    client: FlaskClient, indexer: Indexer, kb_dir: Path, tier2_headers: dict[str, str]
) -> None:
    """Whitespace after ``.md`` (``%09``, ``%20``), a symlink dressed as an image, or the
    article linked as itself: neither anonymous readers nor tier 2 get the raw file."""
    write(kb_dir, "secret/x.md", INTERNAL)
    write(kb_dir, "public/img/ok.svg", SVG)
    (kb_dir / "public/img/disguised.png").symlink_to(kb_dir / "secret/x.md")
    write(
        kb_dir,
        "public/links.md",
        _public(
            "[tab](../secret/x.md%09) [space](../secret/x.md%20) [nl](../secret/x.md%0A) "
            "[upper](../secret/x.MD) ![img](img/disguised.png) ![ok](img/ok.svg)"
        ),
    )
    indexer.update(["secret/x.md", "public/links.md"])

    assert _fetch(client, "public/img/ok.svg")[0] == 200  # real assets still work
    for path in (
        "secret/x.md",
        "secret/x.md%09",
        "secret/x.md%20",
        "secret/x.MD",
        "public/img/disguised.png",
    ):
        for headers in ({}, tier2_headers):
            status, text = _fetch(client, path, headers)
            assert status == 404, (path, headers)
            assert MARKER not in text


def test_asset_names_match_exactly_as_linked(
    client: FlaskClient, indexer: Indexer, kb_dir: Path
) -> None:
    """A link to ``a,b.svg`` lets readers fetch that file, not ``a b.svg`` beside it."""
    write(kb_dir, "public/img/a,b.svg", SVG)
    write(kb_dir, "public/img/a b.svg", SVG.replace("10", "11"))
    write(kb_dir, "public/img/private.svg", SVG)
    write(kb_dir, "public/links.md", _public("![comma](img/a%2Cb.svg)"))
    indexer.update(["public/links.md"])
    assert _fetch(client, "public/img/a%2Cb.svg")[0] == 200
    assert _fetch(client, "public/img/a%20b.svg")[0] == 404
    assert _fetch(client, "public/img/private.svg")[0] == 404
