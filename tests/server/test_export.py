"""The static site: `mkdocs build --strict` over kb/, and `kb export` for one audience."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from server.cli import main

from ..fixtures import MARKER, git, write

ROOT = Path(__file__).resolve().parents[2]


def site_text(site: Path) -> str:
    return "\n".join(
        p.read_text(errors="replace")
        for p in site.rglob("*")
        if p.is_file() and p.suffix in (".html", ".svg", ".xml", ".json", ".js")
    )


def test_mkdocs_builds_the_shipped_kb_strictly(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert (
        tmp_path / "site" / "windows" / "windows-update-0x80070005-access-denied.html"
    ).is_file()
    assert not (tmp_path / "site" / "_templates").exists()


def test_public_export_leaves_internal_articles_and_their_files_behind(
    kb_dir: Path, tmp_path: Path
) -> None:
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
    result = CliRunner().invoke(
        main, ["export", "--kb", str(kb_dir), "--out", str(site), "--audience", "internal"]
    )
    assert result.exit_code == 0, result.output
    assert MARKER in (site / "k8s" / "etcd-fsync.html").read_text()
    assert (site / "k8s" / "secret.svg").is_file()


# ---------------------------------------------------------------- issue 16, finding 7

SECRET = "plutoniumexportsecret"  # only in a file outside the knowledge base
INTERNAL = "../k8s/etcd-fsync.md"  # the sample KB's internal article
# every way Markdown (and raw HTML) can write a link to it, each with text of its own
LINK_FORMS = {
    "inline": f"[inline text]({INTERNAL})",
    "double-quoted title": f'[double text]({INTERNAL} "The etcd title")',
    "single-quoted title": f"[single text]({INTERNAL} 'The etcd title')",
    "parenthesised title": f"[paren text]({INTERNAL} (The etcd title))",
    "angle brackets": f"[angle text](<{INTERNAL}>)",
    "spaces inside": f"[spaced text](  {INTERNAL}  )",
    "fragment": f"[fragment text]({INTERNAL}#resolution)",
    "percent-escaped": "[escaped text](../k8s/etcd%2Dfsync.md)",
    "backslash-escaped": "[backslash text](../k8s/etcd\\-fsync.md)",
    "from the kb root": "[rooted text](/k8s/etcd-fsync.md)",
    "brackets in the text": f"[nested [bracket] text]({INTERNAL})",
    "text over two lines": f"[two\nline text]({INTERNAL})",
    "reference": "[reference text][etcd runbook]",
    "collapsed reference": "[Etcd Runbook][]",
    "shortcut reference": "[etcd runbook]",
    "image inside": f"[![picture text](img/flow.svg)]({INTERNAL})",
    "raw HTML": f'<a href="{INTERNAL}">raw text</a>',  # keeps its other attributes
}
REFERENCE = f'[etcd runbook]: {INTERNAL} "The etcd title"'


def _public(title: str, body: str) -> str:
    return f"---\ntitle: {title}\ntype: resolution\naudience: public\n---\n{body}\n"


def _commit(kb_dir: Path, message: str) -> None:
    git(kb_dir.parent, "add", "-A")
    git(kb_dir.parent, "commit", "-q", "-m", message)


def _export(kb_dir: Path, out: Path) -> Result:
    return CliRunner().invoke(main, ["export", "--kb", str(kb_dir), "--out", str(out)])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_links_to_internal_articles_become_their_text_in_every_form(
    kb_dir: Path, tmp_path: Path
) -> None:
    lines = [f"- {form}: {link}" for form, link in LINK_FORMS.items()]
    write(
        kb_dir, "email/links.md", _public("Every link form", "\n".join(lines) + f"\n\n{REFERENCE}")
    )
    _commit(kb_dir, "Links to an internal article")
    site = tmp_path / "public"
    result = _export(kb_dir, site)
    assert result.exit_code == 0, result.output
    text = site_text(site)
    for leak in ("etcd-fsync", "etcd%2Dfsync", "k8s", "The etcd title", MARKER):
        assert leak not in text, f"{leak!r} is in the public export"
    page = (site / "email" / "links.html").read_text()
    for form in LINK_FORMS:  # each link is there, as its text
        assert f"{form}:" in page
    for words in (
        "inline text",
        "single text",
        "nested [bracket] text",
        "reference text",
        "Etcd Runbook",
        "picture text",
        "raw text",
        "two\nline text",
    ):
        assert words in page, f"{words!r} is missing"
    assert 'src="img/flow.svg"' in page  # the image inside a link is kept


def test_export_never_copies_a_file_from_outside_the_kb(kb_dir: Path, tmp_path: Path) -> None:
    """Symlinks next to a public article, to a file elsewhere and to /etc/hostname: the
    export refuses, names the link, and writes nothing (the server answers 404 for them)."""
    outside = tmp_path / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text(f"{SECRET}\n")
    (kb_dir / "email" / "img" / "secret.txt").symlink_to(outside)
    (kb_dir / "email" / "img" / "hostname.txt").symlink_to("/etc/hostname")
    body = "[the log](img/secret.txt) and [the host](img/hostname.txt)"
    write(kb_dir, "email/attachments.md", _public("Attachments", body))
    _commit(kb_dir, "Links to files outside the knowledge base")
    site = tmp_path / "public"
    result = _export(kb_dir, site)
    assert result.exit_code == 1
    for link in ("email/attachments.md -> email/img/secret.txt", "email/img/hostname.txt"):
        assert link in result.output
    assert not site.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "repo"]


def test_a_failed_export_leaves_the_previous_site_as_it_was(kb_dir: Path, tmp_path: Path) -> None:
    shutil.copyfile(ROOT / "mkdocs.yml", kb_dir.parent / "mkdocs.yml")  # strict about anchors
    site = tmp_path / "public"
    assert _export(kb_dir, site).exit_code == 0
    before = _files(site)
    assert "email/outlook-prompt.html" in before
    write(kb_dir, "email/new.md", _public("New", "[broken](outlook-prompt.md#no-such-heading)"))
    _commit(kb_dir, "A broken anchor")
    result = _export(kb_dir, site)
    assert result.exit_code == 1 and "no-such-heading" in result.output
    assert _files(site) == before  # not the new site, nor a mix
    fresh = tmp_path / "new" / "site"
    assert _export(kb_dir, fresh).exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "repo"]  # nothing new


def test_export_never_replaces_the_kb_folder(kb_dir: Path) -> None:
    """The site replaces --out as a whole, so --out may not hold the KB, nor be inside it."""
    for out in (kb_dir.parent, kb_dir, kb_dir / "site"):
        result = _export(kb_dir, out)
        assert result.exit_code == 1 and "choose another --out" in result.output
    assert (kb_dir / "email" / "outlook-prompt.md").is_file() and not (kb_dir / "site").exists()


# ---------------------------------------------------------------- issue 18: one slug rule

HEADINGS = """---
id: KB-7001
title: Print spooler stops
type: resolution
audience: public
---
## Step 2 — restart the service
## Résolution
## Setup
## Setup
## `spoolsv.exe` & friends
"""


def test_the_export_gives_headings_the_ids_the_server_and_lint_give(
    kb_dir: Path, tmp_path: Path
) -> None:
    from indexer.documents.markdown import parse_body

    write(kb_dir, "printing/spooler.md", HEADINGS)
    server_ids = [s.anchor for s in parse_body(HEADINGS.split("---\n", 2)[2]).sections if s.anchor]
    assert server_ids[:2] == ["step-2--restart-the-service", "résolution"]
    # a link lint accepts (to the server's anchor) must hold in the strict export too
    write(
        kb_dir,
        "printing/see-also.md",
        HEADINGS.replace("KB-7001", "KB-7002").replace(
            "## Setup\n## Setup\n", "See [step 2](spooler.md#step-2--restart-the-service).\n"
        ),
    )
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["export", "--kb", str(kb_dir), "--out", str(site)])
    assert result.exit_code == 0, result.output
    page = (site / "printing" / "spooler.html").read_text()
    for anchor in server_ids:
        assert f'id="{anchor}"' in page, anchor
