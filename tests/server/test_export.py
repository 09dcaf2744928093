"""The static site: `mkdocs build --strict` over kb/, and `kb export` for one audience."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from server.cli import main

from ..fixtures import MARKER

ROOT = Path(__file__).resolve().parents[2]


def site_text(site: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in site.rglob("*") if p.is_file()
                     and p.suffix in (".html", ".svg", ".xml", ".json", ".js"))  # fmt: skip


def test_mkdocs_builds_the_shipped_kb_strictly(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                          str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (
        tmp_path / "site" / "windows" / "windows-update-0x80070005-access-denied.html"
    ).is_file()
    assert not (tmp_path / "site" / "_templates").exists()


def test_public_export_leaves_internal_articles_and_their_files_behind(kb_dir: Path,
                                                                       tmp_path: Path) -> None:  # fmt: skip
    site = tmp_path / "public"
    result = CliRunner().invoke(main, ["export", "--kb", str(kb_dir), "--out", str(site)])
    assert result.exit_code == 0, result.output
    assert "3 public articles" in result.output
    text = site_text(site)
    assert MARKER not in text and "etcdHighFsyncDurations" not in text
    assert not (site / "k8s").exists()  # neither the internal article nor its diagram
    assert (site / "email" / "img" / "flow.svg").is_file()  # a public article's image
    page = (site / "email" / "outlook-prompt.html").read_text()
    assert 'href="../windows/update-0x80070005.html#cause"' in page
    assert "<script>alert" not in page and "javascript:" not in page  # sanitised as on the server


def test_internal_export_has_every_article(kb_dir: Path, tmp_path: Path) -> None:
    site = tmp_path / "internal"
    result = CliRunner().invoke(main, ["export", "--kb", str(kb_dir), "--out", str(site),
                                       "--audience", "internal"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert MARKER in (site / "k8s" / "etcd-fsync.html").read_text()
    assert (site / "k8s" / "secret.svg").is_file()
