"""`kb new`: an article from the KB's template, with the next free id, that passes kb lint."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import lint
from indexer.documents.articles import read_article
from server.cli import main

from ..fixtures import git, make_kb_repo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    kb = make_kb_repo(tmp_path / "repo")
    shutil.copytree(ROOT / "kb" / "_templates", kb / "_templates")
    git(kb.parent, "config", "user.name", "Grace Writer")
    return kb


@pytest.mark.parametrize(
    ("kind", "headings"),
    [
        ("resolution", ["Symptoms", "Cause", "Resolution", "Verification"]),
        ("config-note", ["Purpose", "Settings", "Verification", "Rollback"]),
    ],
)
def test_new_article_of_each_type(kb: Path, kind: str, headings: list[str]) -> None:
    result = CliRunner().invoke(
        main,
        ["new", "--kb", str(kb), "--type", kind, "--dir", "email", "Outlook: search finds nothing"],
    )
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path == kb / "email" / "outlook-search-finds-nothing.md"
    article = read_article(kb, "email/outlook-search-finds-nothing.md")
    assert article.id == "KB-2004"  # the sample KB's highest is KB-2003
    assert (article.title, article.type, article.owner) == (
        "Outlook: search finds nothing",
        kind,
        "Grace Writer",
    )
    assert article.reviewed == dt.date.today().isoformat()
    assert list(article.parsed.headings) == headings
    errors = [
        f
        for f in lint(kb, ["email/outlook-search-finds-nothing.md"]).findings
        if f.severity == "error"
    ]
    assert errors == []


def test_new_never_overwrites_and_explains(kb: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["new", "--kb", str(kb), "Printer jams"]).exit_code == 0
    again = runner.invoke(main, ["new", "--kb", str(kb), "Printer jams"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    shutil.rmtree(kb / "_templates")
    missing = runner.invoke(main, ["new", "--kb", str(kb), "Scanner jams"])
    assert "no template" in missing.output
