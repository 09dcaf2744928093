"""Hypothesis strategies for hostile input: queries, request bodies, front matter, Markdown.

Each is built from the pieces that reach a code path (operators, field prefixes, YAML tags,
Markdown block starters) mixed with plain noise, so examples hit the parser's branches rather
than bouncing off the first check.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_from_bytes

import yaml
from hypothesis import strategies as st

from ..fixtures import MARKER

# ---------------------------------------------------------------------------------- queries

# Words the sample KB holds (MARKER only in its internal article), near misses and prefixes.
KB_WORDS = (
    "outlook",
    "Outlook",
    "password",
    "passwrd",
    "0x80070005",
    "0X80070005",
    "80070005",
    "ERROR_ACCESS_DENIED",
    "etcdHighFsyncDurations",
    "etcd",
    "/etc/krb5.conf",
    "spooler",
    "7031",
    "dns",
    "forwarders",
    "partner.example",
    "192.0.2.10",
    "wuauserv",
    "printui",
    "INC-1001",
    "KB-2001",
    "KB-0999",
    "windows-update",
    "Exchange Online",
    "Kubernetes",
    MARKER,
    MARKER.upper(),
    MARKER[:-1],
    MARKER[:-2] + "ka",
    MARKER[:5],
    "zanzibar",
    "quokka",
)
# Syntax of this and other search engines, regex and shell metacharacters, and the characters
# that upset text handling: NUL, bidi and zero-width marks, combining marks, lone surrogates.
SYNTAX = (
    "AND",
    "OR",
    "NOT",
    "and",
    "+",
    "-",
    "--",
    '"',
    "'",
    "’",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "*",
    "?",
    "~",
    "~2",
    "^3",
    ":",
    "\\",
    "/",
    "|",
    "&&",
    "||",
    "!",
    "%",
    "%00",
    "$",
    "${x}",
    "title:",
    "heading:",
    "body:",
    "code:",
    "error:",
    "tag:",
    "type:",
    "system:",
    "tags:",
    "-title:",
    "+error:",
    'tag:"',
    "type:resolution",
    "system:windows",
    "C:\\Windows",
    ".*",
    "(a+)+$",
    "^(a|a)*$",
    "[^]]",
    "<script>",
    "&lt;",
    "<mark>",
    "\x00",
    "\u202e",
    "\u202b",
    "\u200f",
    "\u200b",
    "\u2066",
    "\ufeff",
    "\u0301",
    "🔥",
    "İ",
    "ß",
    "ǅ",
    "ﬃ",
    "\ud800",
    "\udfff",
    "\n",
    "\r\n",
    "\t",
    " ",
)

token = st.one_of(
    st.sampled_from(KB_WORDS),
    st.sampled_from(SYNTAX),
    st.from_regex(r"[A-Za-z0-9_.\-/:@#+']{1,24}", fullmatch=True),
    st.text(max_size=12),
)
separator = st.sampled_from((" ", " ", "", "\t", "  ", ","))


@st.composite
def queries(draw: st.DrawFn, max_tokens: int = 30) -> str:
    """A query: words, syntax and noise, mostly space-separated."""
    tokens = draw(st.lists(token, max_size=max_tokens))
    return "".join(t + draw(separator) for t in tokens)


# One unit repeated thousands of times: the shapes that make parsers backtrack or recurse.
REPEATED = (
    "(",
    ")",
    '"',
    "'",
    "\\",
    "*",
    "*a",
    "a*b*c*",
    "?",
    "-",
    "+",
    "~",
    ":",
    "a:",
    "title:",
    "tag:x ",
    "NOT ",
    " OR ",
    " AND ",
    "-a ",
    '"a" ',
    "(a|b)*",
    "((a+)+)+",
    "[",
    "{",
    ".",
    "a.",
    "a-",
    "ab.",
    "a_",
    "1.",
    "0x",
    "f",
    "9",
    "1:",
    "::",
    "[1]",
    "a'",
    "é",
    "🔥",
    "\u0301",
    "\x00",
    "\u202e",
    "\u200b",
    "\ud800",
    "aB",
    "AbC1",
    "ERROR_",
    "a" * 130 + " ",
    "word ",
)
NESTING = (("(", ")"), ('"', '"'), ("[", "]"), ("{", "}"), ("NOT (", ")"), ("'", "'"))


@st.composite
def pathological_queries(draw: st.DrawFn) -> str:
    """Long runs of one unit, or 500-10,000 levels of nesting around a word."""
    word = draw(st.sampled_from(("", "outlook", "0x80070005", MARKER, "*")))
    n = draw(st.integers(500, 10_000))
    if draw(st.booleans()):
        opening, closing = draw(st.sampled_from(NESTING))
        return opening * n + word + closing * n
    return draw(st.sampled_from(REPEATED)) * n + word


any_query = st.one_of(queries(), pathological_queries(), st.text(max_size=200))


def url_quote(text: str) -> str:
    """Percent-encode text for a URL; lone surrogates go as the invalid UTF-8 bytes they'd be."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


def path_quote(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="/")


# Values for every search parameter: valid ones, out-of-range numbers, text, huge numbers.
numbers = st.one_of(
    st.integers(-5, 120).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(("", " ", "1.5", "1e3", "0x10", "١٠", "1_0", "9" * 5000, "NaN", "+7", "-0")),
    st.text(max_size=8),
)
param_text = st.one_of(st.sampled_from(KB_WORDS + SYNTAX), st.text(max_size=40))


@st.composite
def search_params(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A query string for /, /help and /api/search, as (name, value) pairs; names may repeat."""
    q = draw(st.one_of(any_query, st.just("x" * 4001)))
    pairs = [("q", q)] if draw(st.booleans()) or q else []
    optional = {
        "limit": numbers,
        "page": numbers,
        "sort": st.one_of(st.sampled_from(("relevance", "updated", "", "RELEVANCE")), param_text),
        "type": st.one_of(st.sampled_from(("resolution", "config-note", "article")), param_text),
        "system": st.one_of(st.sampled_from(("Outlook", "windows 11", "Kubernetes")), param_text),
        "tag": st.one_of(st.sampled_from(("email", "dns", MARKER)), param_text),
        "fragment": st.sampled_from(("1", "", "0")),
        "from": param_text,
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), max_size=6)):
        pairs.append((name, draw(optional[name])))
    return pairs


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{url_quote(name)}={url_quote(value)}" for name, value in pairs)


# ------------------------------------------------------------------------- request bodies

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from((10**400, -(10**400), 2**63, 1e308)),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=50),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=15,
)
ticket_text = st.one_of(any_query, st.text(), st.just("\ud800 outlook"), st.just(" \t\n"))


@st.composite
def tickets(draw: st.DrawFn) -> dict[str, Any]:
    """A /api/suggest body: the documented fields with right or wrong types, and extra keys."""
    field = st.one_of(ticket_text, ticket_text, json_values)
    body: dict[str, Any] = {}
    for name in ("subject", "description"):
        if draw(st.integers(0, 3)):
            body[name] = draw(field)
    if draw(st.booleans()):
        body["limit"] = draw(st.one_of(st.integers(-3, 25), json_values))
    body.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return body


@st.composite
def feedback_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if draw(st.integers(0, 3)):
        body["helpful"] = draw(st.one_of(st.booleans(), st.booleans(), json_values))
    if draw(st.booleans()):
        body["comment"] = draw(st.one_of(ticket_text, json_values, st.just("c" * 3000)))
    return body


def _dump(value: Any) -> bytes:
    # json.dumps writes lone surrogates as \ud800 escapes, valid JSON that decodes to them
    return json.dumps(value, allow_nan=True).encode()


DEEP = (b"[" * 100_000, b'{"a":' * 100_000, b'{"subject":' + b"[" * 50_000, b"[" * 999)


def raw_bodies(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON bodies as bytes: valid objects, other JSON, deep nesting, broken and huge bytes."""
    return st.one_of(
        objects.map(_dump),
        objects.map(_dump),
        json_values.map(_dump),
        st.sampled_from(DEEP),
        st.binary(max_size=300),
        st.sampled_from((b"", b"{", b'{"subject": "\xff\xfe"}', b"\xef\xbb\xbf{}", b"null")),
        st.integers(999_000, 1_001_000).map(lambda n: b'{"subject": "' + b"a" * n + b'"}'),
    )


content_types = st.sampled_from(
    (
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    )
)

# ------------------------------------------------------------------------------ references

# Ids, aliases, paths and former paths of the sample KB (KB-2003 is internal), and noise.
REFS = (
    "KB-2001",
    "KB-2002",
    "KB-2003",
    "KB-0999",
    "kb-2001",
    "KB-2001/",
    "/KB-2001",
    "windows/update-0x80070005",
    "windows/update-0x80070005.md",
    "printing/spooler",
    "network/dns-forwarders",
    "email/img/flow.svg",
    "k8s/secret.svg",
    "INC-1001",
    "inc-1001",
    "..",
    "../..",
    "%2e%2e",
    ".git/config",
    "a" * 300,
    "é" * 100,
    "\x00",
    "\ud800",
    " ",
)
refs = st.one_of(st.sampled_from(REFS), st.text(min_size=1, max_size=60), st.text(max_size=3))

# ----------------------------------------------------------------------------- front matter

YAML_SCALARS = (
    "x",
    "''",
    '""',
    "~",
    "null",
    "true",
    "yes",
    "no",
    "on",
    "0",
    "-0",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "190:20:30",
    ".nan",
    "-.inf",
    "1e999",
    "2026-01-10",
    "2026-13-45",
    "2026-02-30 10:00:00 +99:99",
    '"\\ud800"',
    '"\\0"',
    '"\\x85"',
    '"\\U0010FFFF"',
    "'it''s'",
    "'unclosed",
    '"unclosed',
    "|\n  block",
    ">-\n  folded",
    "!!binary aGVsbG8=",
    "!!binary %%",
    "!!timestamp 2026-01-10",
    "!!timestamp 2026-13-45",
    "!!int 12",
    "!!int x",
    "!!float x",
    "!!str 12",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!python/object:os.system ls",
    "!!python/name:os.system",
    "!custom x",
    "&a x",
    "*a",
    "<<",
    "? x",
    "@x",
    "`x",
    "%x",
    "9" * 5000,
    "0x" + "f" * 5000,
    "1" + ":59" * 1500,
    "[",
    "{",
    "]",
    "}",
    ",",
    "- x",
    "a: b",
    "KB-2001",
    "resolution",
    "public",
    "internal",
    "itpro",
    "[a, b]",
    "{a: 1}",
    "\t",
    "é",
)
KEYS = (
    "id",
    "title",
    "type",
    "audience",
    "owner",
    "reviewed",
    "review_by",
    "systems",
    "tags",
    "error_codes",
    "tickets",
    "aliases",
    "extra",
    "<<",
    "? [a]",
    "? !!binary aGk=",
    "? !!timestamp 2026-01-01",
    "1",
    "~",
    "true",
    "'quoted key'",
    "&k key",
    "*k",
    "a b",
)


@st.composite
def yaml_lines(draw: st.DrawFn) -> str:
    """Front matter made of key: value lines, some nested, some broken."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        indent = " " * draw(st.sampled_from((0, 0, 0, 2, 4, 1)))
        key = draw(st.sampled_from(KEYS))
        shape = draw(st.integers(0, 4))
        if shape == 0:
            value = draw(st.sampled_from(YAML_SCALARS))
        elif shape == 1:
            value = "[" + ", ".join(draw(st.lists(st.sampled_from(YAML_SCALARS), max_size=4))) + "]"
        elif shape == 2:
            items = draw(st.lists(st.sampled_from(YAML_SCALARS), max_size=3))
            value = "".join(f"\n{indent}  - {item}" for item in items)
        elif shape == 3:
            value = draw(st.text(max_size=20))
        else:
            value = ""
        lines.append(f"{indent}{key}: {value}")
    return "\n".join(lines)


plain_data = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=25,
)


def _safe_dump(data: Any, flow: bool | None) -> str:
    return yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)


yaml_dumped = st.builds(_safe_dump, plain_data, st.sampled_from((None, True, False)))


@st.composite
def laughs(draw: st.DrawFn) -> str:
    """A "billion laughs" bomb: each level an anchored list of aliases to the level below."""
    width, depth = draw(st.integers(5, 12)), draw(st.integers(3, 12))
    flow = draw(st.booleans())
    name = draw(st.from_regex(r"[a-z]{1,6}", fullmatch=True))
    lines = [f'{name}0: &{name}0 ["lol"]']
    for level in range(1, depth):
        aliases = [f"*{name}{level - 1}"] * width
        if flow:
            lines.append(f"{name}{level}: &{name}{level} [{', '.join(aliases)}]")
        else:
            lines.append(f"{name}{level}: &{name}{level}" + "".join(f"\n  - {a}" for a in aliases))
    if draw(st.booleans()):
        lines.append(f"<<: *{name}{depth - 1}")
    return "\n".join(lines)


@st.composite
def deep_yaml(draw: st.DrawFn) -> str:
    """Nesting past any sensible depth: flow lists and maps, block lists, nested keys."""
    n = draw(st.integers(90, 30_000))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return "x: " + "[" * n + "]" * n
    if shape == 1:
        return "x: " + "{a: " * n + "1" + "}" * n
    if shape == 2:
        return "x:\n" + "".join(" " * i + "- \n" for i in range(min(n, 400)))
    return "".join(" " * i + f"k{i}:\n" for i in range(min(n, 400)))


front_matter = st.one_of(yaml_lines(), yaml_dumped, laughs(), deep_yaml(), st.text(max_size=300))

# -------------------------------------------------------------------------------- markdown

URLS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:x",
    "java&#x09;script:x",
    "&#106;avascript:x",
    "javascript&colon;x",
    "vbscript:msgbox",
    "data:text/html;base64,PHNjcmlwdD4=",
    "data:image/png;base64,iVBOR",
    "data:image/svg+xml,<svg",
    "file:///etc/passwd",
    "//evil.example/x",
    "http://example.com/a?b=<c>",
    'https://x/"onmouseover=x',
    "mailto:a@b",
    "../x.md#cause",
    "x.md",
    "img/flow.svg",
    "#anchor",
    "",
    "<javascript:x>",
    "\x00javascript:x",
    "%6a%61vascript:x",
)
INLINE = (
    "word",
    "**bold**",
    "*em*",
    "_em_",
    "`code`",
    "``co`de``",
    "~~del~~",
    "\\*",
    "&amp;",
    "&#0;",
    "&#xD800;",
    "&nbsp;",
    "<b>",
    "</b>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:x'>a</a>",
    "<svg onload=x>",
    "<iframe src=x>",
    "<style>*{}</style>",
    '<div style="background:url(javascript:x)">',
    '<span title="<script>x</script>">t</span>',
    "<!-- <script> -->",
    "<![CDATA[<script>]]>",
    "<?php x ?>",
    "<math><mi xlink:href=x>",
    '<p onclick="x">',
    "<SCRIPT SRC=x></SCRIPT>",
    "<scr<script>ipt>",
    "[",
    "]",
    "(",
    ")",
    "![",
    "<",
    ">",
    "*",
    "_",
    "`",
    "\\",
    "\u202e",
    "\x00",
)


@st.composite
def inline_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            parts.append(f"[{draw(st.sampled_from(INLINE))}]({draw(st.sampled_from(URLS))})")
        elif kind == 1:
            parts.append(f'![alt]({draw(st.sampled_from(URLS))} "t")')
        elif kind == 2:
            parts.append(f"<{draw(st.sampled_from(URLS))}>")
        elif kind == 3:
            parts.append(draw(st.text(max_size=15)))
        else:
            parts.append(draw(st.sampled_from(INLINE)))
    return " ".join(parts)


HEADING_TITLES = ("Symptoms", "Cause", "Resolution", "Fix", "h", "h-1", "H", "`h`", "")
RAW_HTML = (
    "<script>alert(1)</script>",
    "<div onmouseover=alert(1)>x</div>",
    "<details><summary>s",
    "<table><tr><td>x",
    "<img src=javascript:alert(1)>",
    '<a href="data:text/html,x">x</a>',
    "<object data=x></object>",
    "<embed src=x>",
    '<form action="javascript:x"><button>x',
    '<meta http-equiv="refresh" content="0;url=javascript:x">',
    "<base href=//evil>",
    '<svg><a xlink:href="javascript:x"><text>x</text></a></svg>',
    "<div>" * 300,
    '<td style="text-align:center;background:url(x)">x</td>',
    '<noscript><p title="</noscript><img src=x onerror=x>">',
)


@st.composite
def markdown_blocks(draw: st.DrawFn) -> str:
    """One block: heading, list, fence (maybe unclosed), table, quote, raw HTML or a paragraph."""
    kind = draw(st.integers(0, 9))
    text = draw(inline_text())
    if kind == 0:
        level = draw(st.integers(1, 7))
        title = draw(st.one_of(st.sampled_from(HEADING_TITLES), inline_text()))
        return "#" * level + " " + title
    if kind == 1:
        bullet = draw(st.sampled_from(("-", "*", "+", "1.", "2)", "- [ ]", "- [x]")))
        items = draw(st.lists(inline_text(), min_size=1, max_size=4))
        nest = draw(st.integers(0, 3))
        return "\n".join(
            " " * (2 * (i % (nest + 1))) + f"{bullet} {item}" for i, item in enumerate(items)
        )
    if kind == 2:
        fence = draw(st.sampled_from(("```", "~~~", "````")))
        lang = draw(st.sampled_from(("", "python", "powershell", "text", "bash", "nope", 'x"y')))
        closed = draw(st.booleans())
        return f"{fence}{lang}\n{draw(st.text(max_size=80))}\n" + (fence if closed else "")
    if kind == 3:
        columns = draw(st.integers(1, 4))
        cells = st.lists(inline_text(), min_size=columns, max_size=columns)
        rows = draw(st.lists(cells, max_size=3))
        align = draw(st.sampled_from(("---", ":--", ":-:", "--:")))
        head = "| " + " | ".join(f"c{i}" for i in range(columns)) + " |"
        rule = "|" + "|".join([align] * columns) + "|"
        return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in rows)])
    if kind == 4:
        return "> " * draw(st.integers(1, 30)) + text
    if kind == 5:
        return draw(st.sampled_from(RAW_HTML))
    if kind == 6:
        return f"[ref]: {draw(st.sampled_from(URLS))}\n\n[text][ref]"
    if kind == 7:
        return draw(st.sampled_from(("---", "***", "===", "Title\n===", "    indented code")))
    return text


markdown_docs = st.lists(markdown_blocks(), max_size=8).map("\n\n".join)
