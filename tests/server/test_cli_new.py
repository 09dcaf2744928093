"""`kb new`: an article from the KB's template, with the next free id, that passes kb lint."""

from __future__ import annotations

import datetime as dt
import os
import pty
import shutil
import subprocess
import sys
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
    path = Path(result.stdout.strip())
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
    assert errors == []  # a draft: what would fail it once published are warnings
    assert article.draft
    assert "A draft" in result.stderr


def test_a_new_article_is_a_draft_until_written(kb: Path) -> None:
    """An untouched template is not published, and lint says what is left to do: the
    template's text, the required systems, and the draft line itself."""
    result = CliRunner().invoke(main, ["new", "--kb", str(kb), "--dir", "email", "VPN drops"])
    path = Path(result.stdout.strip())
    rules = {f.rule for f in lint(kb, [str(path.relative_to(kb))]).findings}
    assert {"draft", "template", "front-matter"} <= rules
    path.write_text(path.read_text().replace("draft: true\n", ""))  # published as it is
    findings = lint(kb, [str(path.relative_to(kb))]).findings
    errors = {(f.rule, f.severity) for f in findings if f.severity == "error"}
    assert ("template", "error") in errors
    assert any("'systems' is required" in f.message for f in findings if f.severity == "error")


def test_new_asks_for_the_folder(kb: Path) -> None:
    runner = CliRunner()
    unattended = runner.invoke(main, ["new", "--kb", str(kb), "Printer jams"])
    assert unattended.exit_code == 2 and "--dir" in unattended.output
    assert "email" in unattended.output  # the folders it may go in
    # at a terminal it asks instead
    leader, follower = pty.openpty()
    kb_command = Path(sys.executable).parent / "kb"
    with subprocess.Popen(
        [kb_command, "new", "--kb", str(kb), "Printer jams"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as asked:
        os.write(leader, b"printing\n")
        out, _ = asked.communicate(timeout=60)
    os.close(leader)
    os.close(follower)
    assert asked.returncode == 0
    assert Path(out.strip()) == kb / "printing" / "printer-jams.md"


def test_new_never_overwrites_and_explains(kb: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["new", "--kb", str(kb), "--dir", ".", "Printer jams"])
    assert made.exit_code == 0
    again = runner.invoke(main, ["new", "--kb", str(kb), "--dir", ".", "Printer jams"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    shutil.rmtree(kb / "_templates")
    missing = runner.invoke(main, ["new", "--kb", str(kb), "--dir", ".", "Scanner jams"])
    assert "no template" in missing.output
