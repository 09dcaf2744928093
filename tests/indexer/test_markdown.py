"""Markdown bodies: section text for the index, safe HTML with anchors for the page."""

from pathlib import Path

from indexer.documents.markdown import (
    _QUOTE_RULE_OR_UNDERLINE,
    parse_body,
    parse_outline,
    render,
    resolve_relative,
)

BODY = """## Symptoms

Outlook shows a **password** prompt.

```powershell
Get-Service wuauserv
```

## Resolution

| Step | Command |
|------|---------|
| 1 | `sfc /scannow` |

<script>alert(1)</script><img src=x onerror="alert(2)">
[click](javascript:alert(3)) [doc](../other/page.md#cause) ![d](img/d.svg)
"""


def no_links(_path: str, _fragment: str) -> None:
    return None


def test_sections_carry_anchor_heading_and_offsets() -> None:
    parsed = parse_body(BODY)
    assert [(s.anchor, s.heading) for s in parsed.sections] == [
        ("symptoms", "Symptoms"),
        ("resolution", "Resolution"),
    ]
    first = parsed.sections[0]
    assert "password" in parsed.text[first.start : first.end]
    assert "Get-Service" in parsed.code
    assert "sfc /scannow" in parsed.code


def test_rendered_html_is_sanitized() -> None:
    html = render(BODY, "a/b.md", "Title", no_links).html
    assert "<script" not in html
    assert "onerror" not in html
    assert 'href="javascript:' not in html  # left as plain text, never a link


def test_headings_have_the_same_anchors_as_sections() -> None:
    html = render(BODY, "a/b.md", "Title", no_links).html
    assert 'id="symptoms"' in html and 'id="resolution"' in html


def test_code_is_highlighted_and_tables_render() -> None:
    body = render(BODY, "a/b.md", "Title", no_links)
    assert 'class="highlight"' in body.html
    assert "<table" in body.html and "<th>" in body.html
    assert [entry.anchor for entry in body.toc] == ["symptoms", "resolution"]


def test_relative_links_go_through_the_resolver() -> None:
    seen = []

    def resolver(path: str, fragment: str) -> str:
        seen.append((path, fragment))
        return f"/resolved/{path}"

    html = render(BODY, "a/b.md", "Title", resolver).html
    assert ("other/page.md", "cause") in seen
    assert ("a/img/d.svg", "") in seen
    assert 'href="/resolved/other/page.md"' in html


def test_leading_h1_repeating_the_title_is_not_rendered_twice() -> None:
    html = render("# My title\n\ntext", "a.md", "My title", no_links).html
    assert "<h1" not in html


def test_links_leaving_the_kb_are_not_resolved() -> None:
    assert resolve_relative("a/b.md", "../../etc/passwd") is None
    assert resolve_relative("a/b.md", "https://example.com/x.md") is None
    assert resolve_relative("a/b.md", "#local") is None
    assert resolve_relative("a/b.md", "c.md#x") == ("a/c.md", "x")


TRICKY = """# Title with *emphasis* and `code`

Intro with a [link](other.md#cause) and ![diagram](img/a.png).

> Quoted [runbook](runbook.md) in a block quote.

| Setting | See |
|---|---|
| MTU | [network](net.md#mtu) |

Plain paragraph without links, `code` and **bold** words.

```
# not a heading
[not a link](nowhere.md)
```

## Cause: **expired** `cert` [with link](x.md)

Text with `[code, not a link](nowhere.md)` only.

Underlined heading
------------------

- > ## Heading quoted in a list
  > with a [quoted link](q.md)

***
"""


def test_lint_outline_finds_the_same_headings_anchors_and_links_as_the_renderer() -> None:
    """kb lint's fast parser may skip what lint does not read, never what it checks."""
    kb = Path(__file__).resolve().parents[2] / "kb"
    plain = TRICKY.split("Underlined")[0].replace("> Quoted", "Quoted")
    assert _QUOTE_RULE_OR_UNDERLINE.search(plain) is None  # so the fast rule set reads it
    bodies = [TRICKY, plain, "## **Symptoms**\n\nText\n"] + [
        path.read_text().split("\n---\n", 1)[-1] for path in kb.rglob("*.md")
    ]
    for body in bodies:
        full, outline = parse_body(body), parse_outline(body)
        assert outline.headings == full.headings
        assert [s.anchor for s in outline.sections] == [s.anchor for s in full.sections]
        assert outline.links == full.links
    assert parse_outline(TRICKY).links == (
        "other.md#cause",
        "img/a.png",
        "runbook.md",
        "net.md#mtu",
        "x.md",
        "q.md",
    )
    assert parse_outline(TRICKY).headings[-2:] == (
        "Underlined heading",
        "Heading quoted in a list",
    )


def test_table_column_alignment_survives_a_csp_without_inline_styles() -> None:
    html = render("| Step | Seconds |\n|:---|---:|\n| boot | 12 |\n", "a.md", "", no_links).html
    assert 'class="align-right"' in html and 'class="align-left"' in html
    assert "style=" not in html


def test_a_summary_that_announces_an_error_message_includes_it() -> None:
    """Tier 1 reads the summary in the result list: "SQL*Plus shows:" alone says nothing."""
    body = parse_body(
        "## Symptoms\n\nConnecting fails. SQL*Plus shows:\n\n"
        "```text\nORA-12154: TNS:could not resolve the connect identifier specified\n```\n"
    )
    assert body.summary == (
        "Connecting fails. SQL*Plus shows: “ORA-12154: TNS:could not resolve the connect "
        "identifier specified”"
    )
