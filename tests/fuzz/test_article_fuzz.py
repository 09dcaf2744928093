"""Property tests of the article path: bytes -> front matter and body -> index text and HTML.

A file in the kb folder is whatever an author (or a bad merge) put there. parse_article must
return an Article or raise ArticleError, never anything else, because any other exception
aborts the whole index build; it must do so quickly; and the front matter it accepts must
fit the index, which stores it as JSON. The rendered HTML must offer no way to run script.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import nh3
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from indexer import Indexer
from indexer.documents.articles import (
    MAX_ARTICLE_BYTES,
    MAX_FRONT_MATTER_BYTES,
    Article,
    parse_article,
)
from indexer.documents.markdown import (
    HIGHLIGHT_SECONDS,
    HIGHLIGHTED,
    PARSER,
    ParsedBody,
    parse_body,
    parse_outline,
    render,
)
from indexer.errors import ArticleError

from ..fixtures import write
from .strategies import front_matter, laughs, markdown_docs
from .support import ARTICLE_SECONDS, bounded, count, examples


def _parse(raw: bytes) -> Article | None:
    """parse_article's answer: an Article, or None for an ArticleError; anything else fails."""
    with bounded(ARTICLE_SECONDS, raw[:300]):
        try:
            return parse_article("fuzz/article.md", raw)
        except ArticleError as error:
            assert error.path == "fuzz/article.md" and error.message
            return None


def _storable(article: Article) -> None:
    """What the index writer does with the front matter (indexer/documents/schema.py): JSON with str()."""
    json.dumps(article.meta, default=str)
    json.dumps(article.extra, default=str)


@examples(1)
@given(raw=st.binary(max_size=4000))
@example(raw=b"---\n" + b"\x00" * 10)
@example(raw=b"\xef\xbb\xbf---\ntitle: x\n---\n")
@example(raw=b"---\ntitle: \xff\n---\n")
def test_any_bytes_give_an_article_or_an_article_error(raw: bytes) -> None:
    count("article bytes")
    article = _parse(raw)
    if article is not None:
        _storable(article)


@examples(1)
@given(meta=front_matter, body=st.one_of(st.just(""), markdown_docs))
@example(meta="x: " + "9" * 5000, body="")  # int() refuses 4,300+ digits: a bare ValueError
@example(meta="title: 0x" + "f" * 5000, body="")  # loads, but cannot become text or JSON
@example(meta="x: !!timestamp 2026-13-45", body="")  # the constructor's own ValueError
@example(meta="? !!binary aGVsbG8=\n: x", body="")  # bytes key: json.dumps raised TypeError
@example(meta="? !!timestamp 2026-01-01\n: x", body="")  # date key: the same
@example(meta="x: " + "[" * 30_000 + "]" * 30_000, body="")  # overflowed libyaml's C stack
def test_any_front_matter_gives_an_article_the_index_can_store(meta: str, body: str) -> None:
    """Random YAML, broken YAML, explicit tags, huge numbers, deep nesting, non-mappings."""
    count("front matters")
    article = _parse(f"---\n{meta}\n---\n{body}".encode("utf-8", "surrogatepass"))
    if article is not None:
        _storable(article)
        assert isinstance(article.meta, dict)
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}", article.id)
        assert article.audience in ("public", "internal")


def _has_alias(meta: str) -> bool:
    try:
        return any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(meta, Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return False


@examples(0.5)
@given(bomb=laughs())
def test_billion_laughs_are_refused_at_once(bomb: str) -> None:
    """Aliases are refused before anything expands, however the bomb is laid out."""
    count("yaml bombs")
    with pytest.raises(ArticleError, match="alias"), bounded(0.5, bomb):
        parse_article("fuzz/bomb.md", f"---\n{bomb}\n---\nbody\n".encode())


@examples(1)
@given(meta=front_matter)
def test_front_matter_with_aliases_is_never_accepted(meta: str) -> None:
    """The fast C loader is used only when no alias can be present: check that choice."""
    count("alias checks")
    article = _parse(f"---\n{meta}\n---\n".encode("utf-8", "surrogatepass"))
    assert article is None or not _has_alias(meta)


# ------------------------------------------------------------------------- body and HTML

SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "background", "poster"}


class _Elements(HTMLParser):
    """Every start tag with its attributes, as a browser would read them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def _scheme(url: str) -> str | None:
    """The scheme a browser would see: C0 controls and spaces stripped from the ends, tabs and
    newlines removed anywhere (so "java\\tscript:" is javascript:)."""
    url = re.sub(r"[\t\n\r]", "", url.strip(_C0_AND_SPACE))
    found = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return found.group(1).lower() if found else None


def assert_inert(html: str) -> None:
    """What sanitize promises: only nh3's allowed tags, no event handlers, no URL that is not
    http(s), mailto or relative (so no javascript:, vbscript: or data:, not even for images,
    which the CSP would allow), no style but text-align. A literal "<script" may remain inside
    an attribute value (title="<script>"), where it is text: elements are what count."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.found:
        assert tag in nh3.ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES and value:
                assert _scheme(value) in (None, *SAFE_SCHEMES), (tag, name, value)
            if name == "style" and value:
                assert re.fullmatch(r"(\s*text-align\s*:\s*[\w-]+\s*;?)*\s*", value), value


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href=" java&#x09;script:alert(1)">x</a>',
        '<img src="data:image/svg+xml,&lt;svg onload=alert(1)&gt;">',
        '<td style="background:url(javascript:alert(1))">x</td>',
    ],
)
def test_the_inertness_check_sees_each_way_to_run_script(html: str) -> None:
    """The check the properties rely on, shown to fail on what it must catch."""
    with pytest.raises(AssertionError):
        assert_inert(html)


def _resolve(target: str, fragment: str) -> str:
    """The server's resolver (server/rendering.py) in shape: kb paths become site URLs."""
    prefix = "/kb/" if target.endswith(".md") else "/kb-files/"
    return prefix + target.removesuffix(".md") + (f"#{fragment}" if fragment else "")


def _check_outline(parsed: ParsedBody) -> None:
    """Sections point into the text (snippets cut it there); the previews stay short."""
    for section in parsed.sections:
        assert 0 <= section.start <= section.end <= len(parsed.text)
    assert len(parsed.summary) <= 300 and len(parsed.steps) <= 8


@examples(1)
@given(markdown=st.one_of(markdown_docs, st.text(max_size=500)))
@example(markdown="<div>" * 300 + "<script>alert(1)</script>")
@example(markdown='<span title="<script>alert(1)</script>">x</span>')
@example(markdown="[x](java\tscript:alert(1)) ![y](data:image/svg+xml,<svg onload=alert(1)>)")
def test_any_markdown_renders_inert_html_quickly(markdown: str) -> None:
    """Headings, lists, unclosed fences, tables, raw HTML, javascript:/data: links."""
    count("markdown renders")
    with bounded(ARTICLE_SECONDS, markdown):
        parsed = parse_body(markdown)
        rendered = render(markdown, "fuzz/article.md", "Title", _resolve)
    _check_outline(parsed)
    assert_inert(rendered.html)


_PLUGIN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_PLUGIN.use(anchors_plugin, min_level=1, max_level=4, permalink=True, permalinkSymbol="#")
headings = st.lists(
    st.tuples(
        st.integers(1, 6),
        st.sampled_from(("h", "H", "h-1", "h 1", "h-1-1", "h-2", "`h`", "*h*", "", "é", "a b")),
    ),
    max_size=30,
)


@examples(1)
@given(titles=headings)
def test_heading_anchors_are_exactly_the_anchors_plugins(titles: list[tuple[int, str]]) -> None:
    """Anchors are part of every permalink to a section: the linear rewrite of the plugin's
    rule (indexer/documents/markdown.py) must give the ids it gave, repeats and "-1" titles included."""
    count("heading anchors")
    markdown = "\n\n".join("#" * level + " " + title for level, title in titles)
    expected = [t.attrGet("id") for t in _PLUGIN.parse(markdown) if t.type == "heading_open"]
    assert [t.attrGet("id") for t in PARSER.parse(markdown) if t.type == "heading_open"] == expected
    assert [s.anchor for s in parse_outline(markdown).sections if s.heading] == [
        s.anchor for s in parse_body(markdown).sections if s.heading
    ]


# Runs that make some lexers' regexes take quadratic time or worse (see indexer/documents/markdown.py).
RUNS = (
    "\n",
    " \n",
    "\t\n",
    "\t",
    " ",
    "a::",
    ": ",
    "a ",
    "'a",
    "((",
    "<<EOF\n",
    "#\n",
    "a-",
    "{a",
    "*a ",
    "\\\n",
    "/*",
    "<!--",
    '"',
    "'",
    "a",
    "a\n",
    "$(",
    "@{",
    "`n",
)


@examples(0.25)
@given(
    language=st.sampled_from(sorted(HIGHLIGHTED)),
    run=st.sampled_from(RUNS),
    length=st.integers(100, 8000),
    blocks=st.integers(1, 3),
)
def test_highlighting_any_language_is_bounded(
    language: str, run: str, length: int, blocks: int
) -> None:
    """Every highlighted language, against the runs that stall regex lexers: a page's code is
    highlighted for at most HIGHLIGHT_SECONDS, then shown plain."""
    count("code highlights")
    code = run * (length // len(run))
    markdown = "\n\n".join([f"```{language}\n{code}\n```"] * blocks)
    with bounded(HIGHLIGHT_SECONDS + ARTICLE_SECONDS, (language, run, length)):
        rendered = render(markdown, "fuzz/code.md", "Code", _resolve)
    assert_inert(rendered.html)


# --------------------------------------------------------------- regressions found by fuzzing


def test_thousands_of_alike_headings_parse_as_fast_as_distinct_ones() -> None:
    """The anchors plugin tried "-1", "-2", ... from the start for each repeat of a title:
    3,000 headings named alike took 1.5 s (50,000 took 14 minutes), on every page view. Timed
    against distinct titles, each the best of three runs, so a busy machine does not decide
    the outcome (one slow run on a loaded CI machine did)."""
    took, last = {}, {}
    for name, title in (("alike", lambda i: "Resolution"), ("distinct", "Resolution {}".format)):
        markdown = "".join(f"## {title(i)}\n\nStep.\n\n" for i in range(3000))
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            last[name] = parse_body(markdown).sections[-1].anchor
            runs.append(time.perf_counter() - started)
        took[name] = min(runs)
    assert last == {"alike": "resolution-2999", "distinct": "resolution-2999"}
    assert took["alike"] < 3 * took["distinct"], took


def test_a_quadratic_lexer_stops_at_the_page_budget() -> None:
    """c takes 1.3 s for 4,000 blank lines and grows with the square: 100 KB would be minutes."""
    markdown = "```c\n" + "\n" * 90_000 + "int x;\n```\n"
    with bounded(HIGHLIGHT_SECONDS + ARTICLE_SECONDS, "90,000 blank lines of C"):
        html = render(markdown, "fuzz/c.md", "C", _resolve).html
    assert "int x;" in html


def test_a_language_whose_lexer_can_take_minutes_is_shown_plain() -> None:
    """easytrieve's lexer takes 86 s for 3,000 tabs in a single regex match."""
    with bounded(ARTICLE_SECONDS, "easytrieve"):
        html = render("```easytrieve\n" + "\t" * 3000 + "\n```\n", "x.md", "X", _resolve).html
    assert "highlight" not in html


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"# Big\n" + b"word " * (MAX_ARTICLE_BYTES // 5), "larger than 2 MB"),
        (b"---\nx: '" + b"y" * MAX_FRONT_MATTER_BYTES + b"'\n---\n", "larger than 64 KB"),
        (b"---\nx: " + b"[" * 101 + b"]" * 101 + b"\n---\n", "nested more than 100"),
    ],
)
def test_size_limits_refuse_files_quickly(raw: bytes, why: str) -> None:
    """The limits every property relies on: whatever is bigger is refused before parsing."""
    with pytest.raises(ArticleError, match=why), bounded(ARTICLE_SECONDS, why):
        parse_article("fuzz/big.md", raw)


@pytest.mark.parametrize(
    "meta",
    [
        "logo: !!binary aGVsbG8=\n? !!binary aGVsbG8=\n: x",
        "when:\n  ? !!timestamp 2026-01-01\n  : x",
        "size: 0x" + "f" * 5000,
        "review_by: !!timestamp 2026-13-45",
    ],
)
def test_front_matter_the_index_cannot_store_is_reported_not_fatal(
    kb_dir: Path, index_dir: Path, meta: str
) -> None:
    """One such file used to abort the whole build (TypeError or ValueError in the writer)."""
    write(kb_dir, "bad/odd-front-matter.md", f"---\ntitle: Odd\n{meta}\n---\nBody.\n")
    indexer = Indexer(kb_dir, index_dir, default_audience="internal")
    report = indexer.build()
    assert [error.path for error in report.errors] == ["bad/odd-front-matter.md"]
    assert report.added == 5
