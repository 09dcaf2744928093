"""A renamed article keeps answering at its old path, with a redirect, for those who may
see it, whether the index was built after the rename or followed it commit by commit; to
anyone else the old path is as unknown as any other (a redirect would tell it existed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from indexer import Indexer

from ..fixtures import MARKER, TIER1_TOKEN, git, write

STEPS = (
    "## Symptoms\n\nThe vault unseals slowly after a restart and clients time out.\n\n"
    "## Resolution\n\n1. Check the raft peers.\n2. Restart the standby node.\n"
)
READERS = ({}, {"Authorization": f"Bearer {TIER1_TOKEN}"})  # anonymous, tier 1
WAYS = ["built after the commit", "updated by the commit"]


def _article(audience: str, title: str) -> str:
    return f"---\naudience: {audience}\n---\n# {title}\n\n{STEPS}\n{MARKER if audience == 'internal' else ''}\n"


def _commit(kb_dir: Path, message: str) -> None:
    git(kb_dir.parent, "add", "-A")
    git(kb_dir.parent, "commit", "-q", "-m", message)


def _move(indexer: Indexer, kb_dir: Path, old: str, new: str, text: str, way: str) -> None:
    """Commit ``old`` (internal), then replace it by ``new`` holding ``text`` in one commit,
    which git reads as a rename (the text is alike); index it the way given."""
    write(kb_dir, old, _article("internal", "Vault unseal"))
    _commit(kb_dir, "Add")
    indexer.update([old])
    (kb_dir / old).unlink()
    write(kb_dir, new, text)
    _commit(kb_dir, "Move and edit")
    if way == WAYS[0]:
        indexer.build()
    else:
        indexer.update([old, new])  # one batch, as a pull delivers it


@pytest.mark.parametrize("way", WAYS)
def test_a_renamed_and_edited_article_redirects_those_who_may_see_it(
    client: FlaskClient, indexer: Indexer, kb_dir: Path, tier2_headers: dict[str, str], way: str
) -> None:
    _move(
        indexer,
        kb_dir,
        "vault/unseal.md",
        "vault/unseal-slow.md",
        _article("internal", "Vault unseal is slow"),
        way,
    )
    moved = client.get("/kb/vault/unseal", headers=tier2_headers)
    assert moved.status_code == 301, way
    assert moved.headers["Location"].endswith("/kb/vault/unseal-slow")
    for headers in READERS:
        assert client.get("/kb/vault/unseal", headers=headers).status_code == 404
        assert client.get("/api/articles/vault/unseal", headers=headers).status_code == 404


@pytest.mark.parametrize("way", WAYS)
def test_a_path_that_held_an_internal_article_tells_readers_nothing(
    client: FlaskClient, indexer: Indexer, kb_dir: Path, way: str
) -> None:
    """The runbook is replaced by a public page much like it: git calls that a rename, but
    readers who could not see the runbook must not learn its path from a redirect."""
    _move(
        indexer, kb_dir, "vault/unseal.md", "help/vault.md", _article("public", "Vault unseal"), way
    )
    for headers in READERS:
        assert client.get("/kb/help/vault", headers=headers).status_code == 200
        for path in ("/kb/vault/unseal", "/api/articles/vault/unseal", "/help/kb/vault/unseal"):
            assert client.get(path, headers=headers).status_code == 404, (way, path)
