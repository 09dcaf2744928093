"""Every page kind on a phone, with a keyboard and through a screen reader's eyes (axe-core),
in headless Chromium against a real `kb serve`.

One server for the module: the sample KB plus an article with a wide table, a long code
line and a long path in its summary, the things that made pages scroll sideways at 390 px.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ..conftest import LiveServer, start_server, stop_server
from ..fixtures import ADMIN_TOKEN, git, make_kb_repo, write

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
WIDE_ARTICLE = """---
id: KB-9100
title: "Outlook settings (ERROR_INTERNET_SEC_CERT_REVOKED_BY_ISSUER): every registry value"
type: config-note
systems: [Outlook]
owner: it
reviewed: 2026-06-01
review_by: 2027-06-01
audience: public
summary: "Clear %LOCALAPPDATA%\\\\Microsoft\\\\Outlook\\\\RoamCache\\\\Stream_Autocomplete_0_ABCDEF0123456789ABCDEF0123456789.dat, then restart"
---

## Purpose

Keeps Outlook the same on every desk. Update failures are in KB-2001; KB-7777 does not exist.

## Settings

| Registry path | Value name | Type | Data | Why it is set | Who asked | Change |
|---|---|---|---|---|---|---|
| HKEY_CURRENT_USER\\\\Software\\\\Microsoft\\\\Office\\\\16.0\\\\Outlook\\\\AutoDiscover | ExcludeExplicitO365Endpoint | REG_DWORD | 1 | Stops the Office 365 lookup on premises | messaging team | CHG-30411 |

```powershell
Get-ChildItem -Path "$env:LOCALAPPDATA\\Microsoft\\Outlook\\RoamCache" -Filter "Stream_Autocomplete*.dat" | Remove-Item -Force -Verbose -ErrorAction SilentlyContinue
```

## Verification

Run `reg query HKCU\\Software\\Microsoft\\Office\\16.0\\Outlook\\AutoDiscover /v ExcludeExplicitO365Endpoint`.

## Rollback

Delete the values.
"""
# every kind of page, by what a person opens
PAGES = {
    "search": "/",
    "results": "/?q=outlook+password",
    "no results": "/?q=quantum+flux+capacitor",
    "article with wide table and code": "/kb/KB-9100",
    "self-service": "/help?q=outlook",
    "self-service, nothing fits": "/help?q=quantum+flux+capacitor",
    "self-service article": "/help/kb/KB-9100",
    "escalation": "/help/escalate",
    "sign in": "/login",
}
SIGNED_IN_PAGES = {
    **PAGES,
    "insights": "/admin/insights",
    "problems": "/problems",
    "history": "/kb/KB-2001/history",
    "ticket": "/tickets/INC-1001",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("pages")
    kb = make_kb_repo(root / "repo")
    write(kb, "email/outlook-settings.md", WIDE_ARTICLE)
    git(kb.parent, "add", "-A")
    git(kb.parent, "commit", "-q", "-m", "Add a wide article")
    started = start_server(kb, root / "index", root / "serve.log")
    yield started
    stop_server(started)


@contextlib.contextmanager
def _page(
    chromium: Any, server: LiveServer, viewport: dict, signed_in: bool = False
) -> Iterator[Any]:
    """A page of a new browser context (as admin if ``signed_in``), closed afterwards."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if signed_in else {}
    context = chromium.new_context(
        base_url=server.url, viewport=viewport, extra_http_headers=headers
    )
    context.set_default_timeout(5_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
def test_no_page_scrolls_sideways_on_a_phone(
    chromium: Any, server: LiveServer, signed_in: bool
) -> None:
    """At 390 px the document is exactly as wide as the screen: long tables and code lines
    scroll inside themselves, long paths and codes wrap."""
    with _page(chromium, server, PHONE, signed_in) as page:
        too_wide = {}
        for name, path in (SIGNED_IN_PAGES if signed_in else PAGES).items():
            response = page.goto(path)
            assert response is not None and response.status == 200, (name, response)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                too_wide[name] = width
    assert too_wide == {}


def test_wide_content_scrolls_inside_itself(chromium: Any, server: LiveServer) -> None:
    with _page(chromium, server, PHONE) as page:
        page.goto("/kb/KB-9100")
        for selector in (".body table", ".body pre"):
            box = page.locator(selector).first
            scroll, client = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert scroll > client  # it scrolls, within the page's width
            assert box.bounding_box()["width"] <= PHONE["width"]


def test_filters_on_a_phone_come_before_the_results_folded(
    chromium: Any, server: LiveServer
) -> None:
    with _page(chromium, server, PHONE) as page:
        page.goto("/?q=outlook")
        panel = page.locator("details.facets-panel")
        first_hit = page.locator("li.hit").first
        assert panel.bounding_box()["y"] < first_hit.bounding_box()["y"]
        assert not panel.evaluate("e => e.open")
        page.locator("details.facets-panel > summary").click()
        page.get_by_role("link", name="config-note").click()
        page.wait_for_url(re.compile(r"type=config-note"))
        page.get_by_text("Sort and filter (1 on)").click()
        page.get_by_role("link", name="Clear all filters").click()
        page.wait_for_url(re.compile(r"/\?q=outlook$"))


def _serious_violations(page: Any) -> list[str]:
    """What axe-core finds on the page that is serious or critical: rule, and where."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): "
        + "; ".join(node["target"][0] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_axe_finds_nothing_serious_on_any_page(
    chromium: Any, server: LiveServer, signed_in: bool, viewport: dict
) -> None:
    with _page(chromium, server, viewport, signed_in) as page:
        found = {}
        for name, path in (SIGNED_IN_PAGES if signed_in else PAGES).items():
            page.goto(path)
            violations = _serious_violations(page)
            if violations:
                found[name] = violations
    assert found == {}


def test_from_the_search_box_tab_reaches_the_first_result_at_once(
    chromium: Any, server: LiveServer
) -> None:
    with _page(chromium, server, DESKTOP) as page:
        page.goto("/?q=outlook+password")
        page.focus("#q")
        first = page.locator("li.hit h3 a").first.get_attribute("href")
        for _press in range(3):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('href')") == first:
                break
        else:
            raise AssertionError("the first result is more than 3 Tab presses away")
        page.goto("/kb/KB-9100")
        page.keyboard.press("Tab")  # the first stop of every page skips the header
        expect_focused = page.evaluate("document.activeElement.textContent")
        assert expect_focused == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "content"


def test_the_autocomplete_is_a_combobox_a_keyboard_can_use(
    chromium: Any, server: LiveServer
) -> None:
    with _page(chromium, server, DESKTOP) as page:
        page.goto("/")
        box = page.locator("#q")
        box.press_sequentially("outl", delay=30)
        page.wait_for_selector("#suggestions li")
        assert box.get_attribute("role") == "combobox"
        assert box.get_attribute("aria-expanded") == "true"
        assert "suggestion" in page.locator("[role=status]").first.inner_text()
        box.press("ArrowDown")
        assert box.get_attribute("aria-activedescendant") == "suggestion-0"
        assert page.locator("#suggestion-0").get_attribute("aria-selected") == "true"
        assert _serious_violations(page) == []  # the open list too
        box.press("Escape")
        assert box.get_attribute("aria-expanded") == "false"
        assert box.get_attribute("aria-activedescendant") is None


def test_the_article_page_for_someone_fixing_a_problem(chromium: Any, server: LiveServer) -> None:
    """Opened from a result: the searched words are marked (and can be cleared), each code
    block has a Copy button, article ids in the text are links, each heading has one link
    control, and the contents stay in view on a wide screen."""
    with _page(chromium, server, DESKTOP) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page.goto("/?q=outlook+registry")
        page.locator("li.hit h3 a", has_text="Outlook settings").click()
        page.wait_for_url(re.compile(r"/kb/KB-9100$"))  # the address is clean again
        marks = page.locator(".body mark.searched")
        assert marks.count() >= 2
        assert {text.lower() for text in marks.all_inner_texts()} == {"outlook", "registry"}
        page.get_by_role("button", name=re.compile(r"Clear highlights")).click()
        assert marks.count() == 0

        page.get_by_role("button", name="Copy this code").first.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("Get-ChildItem -Path")

        link = page.locator(".body a", has_text="KB-2001")
        assert link.get_attribute("href") == "/kb/KB-2001"
        assert page.locator(".body a", has_text="KB-7777").count() == 0  # no such article

        heading = page.locator(".body h2", has_text="Settings")
        assert heading.locator(".header-anchor").count() == 0
        assert heading.locator("button.copy-section").count() == 1

        page.mouse.wheel(0, 2000)
        toc = page.locator("nav.toc")
        page.wait_for_function("document.querySelector('nav.toc').getBoundingClientRect().top >= 0")
        assert toc.is_visible() and toc.bounding_box()["y"] < DESKTOP["height"]
