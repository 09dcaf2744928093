"""`kb lint` from the command line, as a pre-commit hook runs it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from server.cli import main

from ..conftest import ROOT
from ..fixtures import write
from ..indexer.test_lint import GOOD


def test_errors_fail_the_command_and_name_file_and_line(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write(kb, "vpn.md", GOOD.replace("type: resolution", "type: howto"))
    write(kb, "img/vpn.svg", "<svg/>")
    result = CliRunner().invoke(main, ["lint", "--kb", str(kb)])
    assert result.exit_code == 1
    assert f"{kb}/vpn.md:4: error [front-matter] 'type' must be one of" in result.output
    assert "1 error, 0 warnings in 1 file (" in result.stderr


def test_json_output_and_paths_as_pre_commit_passes_them(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    kb = tmp_path / "kb"
    write(kb, "vpn.md", GOOD.replace("review_by: 2027-06-01", "review_by: 2020-01-01"))
    write(kb, "img/vpn.svg", "<svg/>")
    write(kb, "other.md", "no front matter at all\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["lint", "--kb", "kb", "--format", "json", "kb/vpn.md", "README.txt"]
    )
    assert result.exit_code == 0  # a warning alone passes; other.md was not asked about
    answer = json.loads(result.stdout)
    assert (answer["files"], answer["errors"], answer["warnings"]) == (1, 0, 1)
    assert answer["findings"][0]["rule"] == "review"


def test_an_article_without_front_matter_fails_with_its_first_line(tmp_path: Path) -> None:
    """The indexer takes such a file with defaults; lint, which guards commits, refuses it."""
    kb = tmp_path / "kb"
    write(kb, "other.md", "# Printer offline\n\nno front matter at all\n")
    result = CliRunner().invoke(main, ["lint", "--kb", str(kb), "--format", "json"])
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["path"], finding["line"], finding["severity"]) == ("other.md", 1, "error")


def test_an_editor_running_lint_on_one_file_from_anywhere(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """As the README's VS Code task runs it: ``kb lint <absolute file>``, from whatever
    folder is open, and from inside a KB folder with a relative path; each finding names
    the file by its absolute path (the problem matcher's "fileLocation": "absolute")."""
    kb = tmp_path / "repo" / "kb"
    write(kb, "email/vpn.md", GOOD.replace("type: resolution", "type: howto"))
    write(kb, "_synonyms.yml", "groups: []\n")
    monkeypatch.delenv("KB_KB_DIR", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for folder, argument in ((elsewhere, str(kb / "email/vpn.md")), (kb / "email", "vpn.md")):
        monkeypatch.chdir(folder)
        result = CliRunner().invoke(main, ["lint", argument])
        assert result.exit_code == 1, result.output
        assert result.stdout.startswith(f"{kb}/email/vpn.md:4: error [front-matter]"), (
            folder,
            result.output,
        )


def test_the_sample_kb_is_a_clean_starting_point() -> None:
    """A team that copies kb/ and installs the pre-commit hook can commit: no errors, and no
    warnings but review dates that time has passed since."""
    result = CliRunner().invoke(main, ["lint", "--kb", str(ROOT / "kb"), "--format", "json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [f for f in findings if f["rule"] != "review"] == []
