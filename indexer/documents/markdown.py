"""Markdown bodies: plain text by section for the index, and safe HTML for the article page.

Both come from one markdown-it parser so that the heading anchors a search result links to
are exactly the ids the rendered page carries.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.anchors.index import slugify
from mdit_py_plugins.tasklists import tasklists_plugin
from pygments import format as pygments_format
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

MAX_HIGHLIGHT_CHARS = 100_000  # bigger code blocks are shown plain: pygments time grows with size
_PYGMENTS = HtmlFormatter(nowrap=True)
# Pygments lexers are regexes, and some take time quadratic in a run of blank lines or tabs
# (c, java, python: seconds for 4,000 lines), in a long line (ini, console: 2 s for 8,000
# characters, in one match) or worse (easytrieve: 86 s for 3,000 tabs). So only the languages
# a support KB uses are highlighted, each checked against such runs (tests/fuzz), never a
# line longer than MAX_HIGHLIGHT_LINE, and a page stops highlighting after HIGHLIGHT_SECONDS.
HIGHLIGHTED = frozenset(
    (
        "apache",
        "apacheconf",
        "bash",
        "bat",
        "batch",
        "c",
        "cfg",
        "console",
        "cpp",
        "csharp",
        "css",
        "diff",
        "docker",
        "dockerfile",
        "dosbatch",
        "dosini",
        "go",
        "hcl",
        "html",
        "http",
        "ini",
        "java",
        "javascript",
        "js",
        "json",
        "kql",
        "kusto",
        "lua",
        "make",
        "makefile",
        "mysql",
        "nginx",
        "perl",
        "php",
        "postgresql",
        "posh",
        "powershell",
        "properties",
        "ps1",
        "ps1con",
        "psql",
        "pwsh",
        "py",
        "pycon",
        "python",
        "python3",
        "rb",
        "registry",
        "ruby",
        "rust",
        "sh",
        "shell",
        "shell-session",
        "sql",
        "systemd",
        "terraform",
        "text",
        "tf",
        "toml",
        "ts",
        "tsql",
        "typescript",
        "udiff",
        "vb.net",
        "vbnet",
        "vbscript",
        "xml",
        "yaml",
        "yml",
        "zsh",
    )
)
MAX_HIGHLIGHT_LINE = 1000
_LONG_LINE = re.compile(rf"[^\n]{{{MAX_HIGHLIGHT_LINE + 1}}}")
HIGHLIGHT_SECONDS = 0.5
_highlight_until: ContextVar[float | None] = ContextVar("highlight_until", default=None)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    """Syntax-highlight a fenced block; other languages fall back to markdown-it's escaping."""
    lang = lang.lower()
    if lang not in HIGHLIGHTED or len(code) > MAX_HIGHLIGHT_CHARS or _LONG_LINE.search(code):
        return ""
    try:
        lexer = get_lexer_by_name(lang, stripnl=False)
    except ClassNotFound:
        return ""
    until = _highlight_until.get() or time.perf_counter() + HIGHLIGHT_SECONDS
    tokens = []
    for token in lexer.get_tokens(code):
        if time.perf_counter() > until:
            return ""  # out of time for this page: the rest of its code is shown plain
        tokens.append(token)
    spans = pygments_format(tokens, _PYGMENTS)
    return f'<pre class="highlight"><code class="language-{lang}">{spans}</code></pre>'


def highlight(code: str, language: str) -> str:
    """Code as highlighted HTML (the same styles as code blocks in articles), else escaped;
    scrollable from the keyboard as they are."""
    return _scrollable(_highlight(code, language, "") or f"<pre><code>{escape(code)}</code></pre>")


ANCHORED_HEADINGS = ("h1", "h2", "h3", "h4")  # the headings that get an id and a permalink


class HeadingIds:
    """The ids of one document's headings, in order: the text's slug, then "-1", "-2"... for
    repeats. One definition for the article page, kb lint and the static export (which
    renders with Python-Markdown, see :mod:`indexer.authoring.export_anchors`), so an anchor
    lint accepts is there in every one of them."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._next_suffix: dict[str, int] = {}  # per slug: every "-n" below this one is taken

    def __call__(self, text: str) -> str:
        base = slugify(text)
        slug, suffix = base, self._next_suffix.get(base, 1)
        while slug in self._taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self._next_suffix[base] = suffix
        self._taken.add(slug)
        return slug


def _anchor_headings(state: StateCore) -> None:
    """Give h1-h4 an id and a "#" permalink, exactly as mdit_py_plugins' anchors plugin does
    (min_level=1, max_level=4, permalink=True), but in linear time: its unique_slug counts up
    from "-1" again for every repeat of a title, so 50,000 headings named alike took 14
    minutes to parse, on every page view."""
    heading_id = HeadingIds()
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open" or token.tag not in ANCHORED_HEADINGS:
            continue
        inline = state.tokens[index + 1]
        children = inline.children if inline.children is not None else []
        slug = heading_id("".join(c.content for c in children if c.type in ("text", "code_inline")))
        token.attrSet("id", slug)
        link_open = Token("link_open", "a", 1)
        link_open.attrSet("class", "header-anchor")
        link_open.attrSet("href", f"#{slug}")
        children += [
            Token("text", "", 0, content=" "),
            link_open,
            Token("html_block", "", 0, content="#"),
            Token("link_close", "a", -1),
        ]
        inline.children = children


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("anchor", _anchor_headings)
    md.use(tasklists_plugin)
    return md


PARSER = _make_parser()


def _inline_where_needed(state: StateCore) -> None:
    """Core rule for kb lint's parsers: parse inline Markdown only where lint looks at it, in
    headings (their text makes the anchors) and in text that may hold a link or image
    (a "["). Elsewhere the words as written are all lint needs."""
    md = state.md
    in_heading = False
    for token in state.tokens:
        if token.type == "inline":
            if in_heading or "[" in token.content:
                token.children = []
                md.inline.parse(token.content, md, state.env, token.children)
            else:
                token.children = [Token("text", "", 0, content=token.content)]
        in_heading = token.type == "heading_open"


def _outline_parser(skip: list[str]) -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True}).enable("strikethrough")
    if skip:
        parser.disable(skip)
    parser.core.ruler.push("anchor", _anchor_headings)
    parser.core.ruler.at("inline", _inline_where_needed)
    return parser


# kb lint reads headings, their anchors and links, exactly as PARSER finds them, and the
# words. Tables need no rule of their own for that (their rows read as paragraphs, links
# included); block quotes, rules and underlined (setext) headings need theirs only where a
# line could start one, which few articles have: each block rule left out saves its try on
# every line.
_OUTLINE = _outline_parser([])
_OUTLINE_FAST = _outline_parser(["blockquote", "hr", "lheading"])
_QUOTE_RULE_OR_UNDERLINE = re.compile(
    r"^[ \t]*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)*(?:>|([-=*_])(?:[ \t]*\1)*[ \t]*$)", re.M
)

# What survives sanitizing: nh3's safe defaults plus what our renderer itself emits.
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
    _ATTRIBUTES.setdefault(_tag, set()).add("id")
for _tag in ("span", "div", "pre", "code", "a", "table", "li", "ul", "th", "td"):
    _ATTRIBUTES.setdefault(_tag, set()).add("class")
_URL_SCHEMES = {"http", "https", "mailto"}


# nh3's HTML parser takes time quadratic in how deep tags nest: 50,000 nested <ul> (400 KB
# of raw HTML in an article) take about a minute, on every page view. Markdown never nests
# more than markdown-it's limit (20), so deeper HTML is an author's raw HTML gone wrong.
MAX_HTML_DEPTH = 200
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_NOT_NESTING = {  # void elements, and those whose end tag may be left out
    *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"),
    *("track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup"),
    *("thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp"),
}


def _too_deep(html: str) -> bool:
    if html.count("<") <= MAX_HTML_DEPTH:
        return False
    depth = 0
    for match in _HTML_TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _NOT_NESTING:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > MAX_HTML_DEPTH:
            return True
    return False


def sanitize(html: str, drop_link: Callable[[str], bool] | None = None) -> str:
    """Remove scripts, event handlers and unsafe URLs from HTML that authors wrote, and the
    href of each link ``drop_link`` says must go (kb export: links to left-out articles)."""
    if _too_deep(html):
        return f"<pre>{escape(html)}</pre>"  # shown as source: inert, and quick

    def keep(element: str, attribute: str, value: str) -> str | None:
        link = element == "a" and attribute == "href"
        return None if link and drop_link is not None and drop_link(value) else value

    return nh3.clean(
        html,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=keep if drop_link else None,
    )


def strip_tags(html: str) -> str:
    if _too_deep(html):
        return _HTML_TAG.sub(" ", html)
    return nh3.clean(html, tags=set())


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, as character offsets into :attr:`ParsedBody.text`."""

    anchor: str
    heading: str
    level: int
    start: int
    end: int


@dataclass(frozen=True)
class ParsedBody:
    text: str
    sections: tuple[Section, ...]
    headings: tuple[str, ...]
    code: str
    first_heading: str | None  # the first block's H1, a title for files without one
    links: tuple[str, ...]  # href and src values as written
    summary: str = ""  # the opening paragraph(s): plain words for tier 1's result list
    steps: tuple[str, ...] = ()  # first lines of the Resolution section's list items
    steps_anchor: str = ""  # that section's heading id: tier 1's page shows it first


# Sections whose list items are the fix a reader should follow.
STEPS_HEADING = re.compile(
    r"\b(resolution|resolve|fix(?:es)?|solution|workaround|remediation|steps|what to do)\b", re.I
)
SUMMARY_CHARS = 300
MAX_STEPS = 8
STEP_CHARS = 200


def _is_permalink(token: Token) -> bool:
    return token.type == "link_open" and token.attrGet("class") == "header-anchor"


def _inline_text(token: Token) -> str:
    """The visible text of an inline token, without the heading permalink marker."""
    parts: list[str] = []
    children = list(token.children or ())
    if children and any(_is_permalink(child) for child in children):
        children = children[: next(i for i, c in enumerate(children) if _is_permalink(c))]
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n" if child.type == "hardbreak" else " ")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts).strip()


def _inline_links(token: Token) -> list[str]:
    links = []
    for child in token.children or ():
        if child.type == "link_open" and child.attrGet("href") and not _is_permalink(child):
            links.append(str(child.attrGet("href")))
        elif child.type == "image" and child.attrGet("src"):
            links.append(str(child.attrGet("src")))
    return links


def _inline_code(token: Token) -> list[str]:
    return [c.content for c in token.children or () if c.type == "code_inline"]


def parse_body(markdown: str, parser: MarkdownIt = PARSER) -> ParsedBody:
    """Split a Markdown body into plain text per section, headings, code and links."""
    tokens = parser.parse(markdown)
    chunks: list[str] = []  # text of the current section
    sections: list[Section] = []
    headings: list[str] = []
    code: list[str] = []
    links: list[str] = []
    text_parts: list[str] = []
    offset = 0
    anchor, heading, level = "", "", 0
    first_heading = None
    summary: list[str] = []
    steps: list[str] = []
    steps_anchor = ""
    steps_level = 0  # heading level of the section steps are taken from; 0 = not in one
    summary_open = True
    summary_ends = -1  # the index of the last paragraph taken into the summary

    def close_section() -> None:
        nonlocal offset
        content = "\n".join(c for c in chunks if c).strip()
        if content or heading:
            sections.append(Section(anchor, heading, level, offset, offset + len(content)))
            text_parts.append(content)
            offset += len(content) + 2  # the "\n\n" that joins sections
        chunks.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open" and index + 1 < len(tokens):
            title = _inline_text(tokens[index + 1])
            if index == 0 and token.tag == "h1":
                first_heading = title
            close_section()
            summary_open = not summary  # the summary comes from one section only
            anchor, heading, level = str(token.attrGet("id") or ""), title, int(token.tag[1])
            if steps_level and level <= steps_level:
                steps_level = -1  # the steps section has ended; only the first one counts
            elif not steps_level and STEPS_HEADING.search(title):
                steps_level, steps_anchor = level, anchor
            headings.append(title)
            links.extend(_inline_links(tokens[index + 1]))
            code.extend(_inline_code(tokens[index + 1]))
            index += 3
            continue
        if token.type == "list_item_open" and token.level == 1 and steps_level > 0:
            item = next((t for t in tokens[index + 1 :] if t.type == "inline"), None)
            if item is not None and len(steps) < MAX_STEPS:
                steps.append(_shorten(_inline_text(item).split("\n")[0], STEP_CHARS))
        elif token.type == "inline":
            opens_paragraph = tokens[index - 1].type == "paragraph_open" and token.level == 1
            short = sum(map(len, summary)) < SUMMARY_CHARS // 3
            if opens_paragraph and summary_open and short:
                summary.append(_inline_text(token))
                summary_ends = index
            chunks.append(_inline_text(token))
            links.extend(_inline_links(token))
            code.extend(_inline_code(token))
        elif token.type in ("fence", "code_block"):
            if summary_ends == index - 2 and summary[-1].rstrip().endswith(":"):
                # "SQL*Plus shows:" says nothing without what it shows: its first line
                shown = next(
                    (line.strip() for line in token.content.splitlines() if line.strip()), ""
                )
                summary.append(f"“{shown}”" if shown else "")
            chunks.append(token.content)
            code.append(token.content)
        elif token.type == "html_block":
            chunks.append(strip_tags(token.content))
        index += 1
    close_section()
    return ParsedBody(
        text="\n\n".join(text_parts),
        sections=tuple(sections),
        headings=tuple(headings),
        code="\n".join(code),
        first_heading=first_heading,
        links=tuple(links),
        summary=_shorten(" ".join(" ".join(summary).split()), SUMMARY_CHARS),
        steps=tuple(step for step in steps if step),
        steps_anchor=steps_anchor,
    )


def parse_outline(markdown: str) -> ParsedBody:
    """:func:`parse_body` for kb lint: the same headings, anchors and links, in about half
    the time, because inline Markdown is parsed only where lint reads it."""
    fast = _QUOTE_RULE_OR_UNDERLINE.search(markdown) is None
    return parse_body(markdown, _OUTLINE_FAST if fast else _OUTLINE)


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def resolve_relative(article_path: str, href: str) -> tuple[str, str] | None:
    """Turn a relative link in ``article_path`` into (path from the kb root, #fragment).

    Returns None for absolute URLs, pure fragments and links that leave the kb root.
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return None
    target = unquote(parts.path)
    if target.startswith("/"):
        joined = posixpath.normpath(target.lstrip("/"))
    else:
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(article_path), target))
    if joined == "." or joined.startswith("../") or joined == "..":
        return None
    return joined, parts.fragment


@dataclass(frozen=True)
class TocEntry:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class RenderedBody:
    html: str
    toc: tuple[TocEntry, ...]


LinkResolver = Callable[[str, str], str | None]
"""(kb-relative target path, fragment) -> URL to use, or None to leave the link as written."""


def render(
    markdown: str,
    article_path: str,
    title: str,
    resolve: LinkResolver,
    name_link: Callable[[str], str | None] | None = None,
) -> RenderedBody:
    """Render a body to sanitized HTML with highlighted code, heading anchors and a TOC.

    Relative links and image paths are passed to ``resolve`` so links between articles become
    permalinks and attachments are served from the kb folder; an article id written in the
    text ("see KB-1004") becomes a link where ``name_link`` gives one for it. A leading H1
    that repeats the title is dropped: the page shows the title already.
    """
    tokens = PARSER.parse(markdown)
    if (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and _inline_text(tokens[1]).strip() == title.strip()
    ):
        tokens = tokens[3:]
    toc = []
    for index, token in enumerate(tokens):
        if token.type in ("th_open", "td_open") and token.attrGet("style"):
            # the CSP allows no inline styles: a column's alignment becomes a class
            align = str(token.attrGet("style")).removeprefix("text-align:")
            token.attrs = {"class": f"align-{align}"}
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            toc.append(
                TocEntry(
                    int(token.tag[1]), str(token.attrGet("id")), _inline_text(tokens[index + 1])
                )
            )
        for child in token.children or ():
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
            if attr and child.attrGet(attr):
                resolved = resolve_relative(article_path, str(child.attrGet(attr)))
                url = resolve(*resolved) if resolved else None
                if url:
                    child.attrSet(attr, url)
        if name_link is not None and token.children:
            token.children = _linked_names(token.children, name_link)
    budget = _highlight_until.set(time.perf_counter() + HIGHLIGHT_SECONDS)
    try:
        html = PARSER.renderer.render(tokens, PARSER.options, {})
    finally:
        _highlight_until.reset(budget)
    return RenderedBody(html=_scrollable(sanitize(html)), toc=tuple(toc))


_NAMED = re.compile(r"\b[A-Z][A-Z0-9]*-\d+\b")  # what an article id looks like in prose: KB-1004


def _linked_names(children: list[Token], name_link: Callable[[str], str | None]) -> list[Token]:
    """Inline tokens with each article id in plain text (not already in a link, not code)
    made a link to its article, where ``name_link`` knows one."""
    found: list[Token] = []
    depth = 0
    for child in children:
        depth += (child.type == "link_open") - (child.type == "link_close")
        if child.type != "text" or depth or not _NAMED.search(child.content):
            found.append(child)
            continue
        position = 0
        for match in _NAMED.finditer(child.content):
            url = name_link(match[0])
            if url is None:
                continue
            found.append(Token("text", "", 0, content=child.content[position : match.start()]))
            found.append(Token("link_open", "a", 1, attrs={"href": url}))
            found.append(Token("text", "", 0, content=match[0]))
            found.append(Token("link_close", "a", -1))
            position = match.end()
        found.append(Token("text", "", 0, content=child.content[position:]))
    return found


_SCROLLING = re.compile(r"<(pre|table)\b")


def _scrollable(html: str) -> str:
    """Code blocks and tables scroll sideways inside themselves on a narrow screen: each can
    take the keyboard's focus, so it can be scrolled without a mouse. (On sanitized HTML,
    where a ``<`` in text is always escaped.)"""
    return _SCROLLING.sub(r'<\1 tabindex="0"', html)


@lru_cache(maxsize=1)
def pygments_css() -> str:
    """The stylesheet for highlighted code, served by the app as a static asset."""
    return HtmlFormatter().get_style_defs(".highlight")
