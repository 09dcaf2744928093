"""Parsing article files: front matter, fallbacks, and errors that name the file and line."""

from pathlib import Path

import pytest

from indexer.documents.articles import (
    is_article_path,
    iter_article_paths,
    parse_article,
    read_article,
)
from indexer.errors import ArticleError


def parse(text: str, path: str = "area/article.md", **kwargs):  # type: ignore[no-untyped-def]
    return parse_article(path, text.encode(), **kwargs)


def test_front_matter_fields_are_read() -> None:
    article = parse(
        "---\nid: KB-1\ntitle: T\ntype: resolution\nsystems: [A, B]\ntags: x\n"
        "error_codes: ['0x1']\ntickets: [INC-1]\naudience: public\nowner: me\n"
        "reviewed: 2026-01-02\nreview_by: 2027-01-02\naliases: [KB-0]\nflavour: extra\n---\n## Body\n"
    )
    assert (article.id, article.title, article.type, article.audience) == (
        "KB-1",
        "T",
        "resolution",
        "public",
    )
    assert article.systems == ("A", "B")
    assert article.tags == ("x",)  # a single string becomes a one-item list
    assert article.reviewed == "2026-01-02"
    assert article.extra == {"flavour": "extra"}  # unknown keys are kept
    assert article.warnings == ()


def test_file_without_front_matter_gets_id_from_path_and_title_from_h1() -> None:
    article = parse(
        "# Printer offline\n\n## Symptoms\n\nIt is offline.\n", path="printing/offline.md"
    )
    assert article.id == "printing/offline"
    assert article.title == "Printer offline"
    assert article.audience == "internal"  # the configured default


def test_default_audience_is_configurable() -> None:
    assert parse("Just text.", default_audience="public").audience == "public"


def test_title_falls_back_to_file_name() -> None:
    assert parse("no headings here", path="x/disk-full_alert.md").title == "Disk full alert"


def test_broken_yaml_reports_file_and_line() -> None:
    with pytest.raises(ArticleError) as caught:
        parse("---\nid: KB-1\ntitle: [unclosed\nowner: me\n---\nbody\n")
    assert caught.value.path == "area/article.md"
    assert caught.value.line in (3, 4, 5)
    assert "YAML" in str(caught.value)


def test_front_matter_that_never_ends_is_an_error() -> None:
    with pytest.raises(ArticleError, match="never ends"):
        parse("---\nid: KB-1\n\nbody without closing fence\n")


def test_front_matter_must_be_a_mapping() -> None:
    with pytest.raises(ArticleError, match="mapping"):
        parse("---\n- a\n- b\n---\nbody\n")


def test_yaml_aliases_are_refused() -> None:
    bomb = "---\na: &a [x, x, x]\nb: [*a, *a, *a]\n---\nbody\n"
    with pytest.raises(ArticleError, match="aliases"):
        parse(bomb)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe\x00binary", "binary"),
        (b"caf\xe9 latin-1", "UTF-8"),
    ],
)
def test_unreadable_bytes_are_errors(raw: bytes, message: str) -> None:
    with pytest.raises(ArticleError, match=message):
        parse_article("a.md", raw)


def test_invalid_id_is_an_error() -> None:
    with pytest.raises(ArticleError, match="permalink") as caught:
        parse("---\nid: has spaces here\n---\nbody\n")
    assert caught.value.line == 2


def test_bad_values_are_warnings_not_errors() -> None:
    article = parse("---\ntype: howto\naudience: everyone\nreviewed: someday\n---\nbody\n")
    assert article.audience == "internal"  # an unknown audience gets the default, internal
    assert len(article.warnings) == 3
    assert parse("---\naudience: itpro\n---\n", default_audience="public").audience == "public"


def test_an_impossible_date_is_a_warning_not_a_crash() -> None:
    article = parse("---\nreviewed: 2026-13-45\nreview_by: 2027-02-30\n---\nbody\n")
    assert (article.reviewed, article.review_by) == ("", "")
    assert len(article.warnings) == 2
    assert parse("---\nreview_by: 2027-01-02\n---\n").review_by == "2027-01-02"


def test_crlf_and_bom_are_accepted() -> None:
    article = parse_article("a.md", "\ufeff---\r\nid: KB-9\r\n---\r\n## Symptoms\r\n".encode())
    assert article.id == "KB-9"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b.md", True),
        ("README.md", False),
        ("a/readme.md", False),
        ("_templates/x.md", False),
        (".git/x.md", False),
        ("a/b.txt", False),
    ],
)
def test_which_files_are_articles(path: str, expected: bool) -> None:
    assert is_article_path(path) is expected


def test_symlinks_out_of_the_kb_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("---\nid: SECRET\n---\nsecret\n")
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "ok.md").write_text("fine")
    (kb / "link.md").symlink_to(outside)
    assert list(iter_article_paths(kb)) == ["ok.md"]
    with pytest.raises(ArticleError, match="outside"):
        read_article(kb, "link.md")
