"""`kb sync`: one pull from a real origin, its summary, and a clear exit 1 when it cannot."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from server.cli import main

from ..fixtures import clone, git, make_origin, push_changes


def test_kb_sync_pulls_indexes_and_says_what_changed(tmp_path: Path) -> None:
    author = make_origin(tmp_path)
    kb = clone(tmp_path / "origin.git", tmp_path / "replica")
    args = ["sync", "--kb", str(kb), "--index-dir", str(tmp_path / "index")]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "up to date" in first.output and "built: 5 added" in first.output
    push_changes(author, "cliword")
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "3 files; indexed: 1 added, 1 updated, 1 deleted" in second.output


def test_kb_sync_exits_1_with_the_reason(tmp_path: Path) -> None:
    make_origin(tmp_path)
    kb = clone(tmp_path / "origin.git", tmp_path / "replica")
    git(kb.parent, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = CliRunner().invoke(
        main, ["sync", "--kb", str(kb), "--index-dir", str(tmp_path / "index")]
    )
    assert result.exit_code == 1
    assert "cannot fetch origin/main" in result.output
