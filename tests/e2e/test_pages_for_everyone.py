"""Every page kind on a phone, with a keyboard and through a screen reader's eyes (axe-core),
in headless Chromium against a real `kb serve`.

One server for the module: the sample KB plus an article with a wide table, a long code
line and a long path in its summary, the things that made pages scroll sideways at 390 px.
"""

from __future__ import annotations

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
title: "Outlook settings: every registry value, and the line that clears the cache"
type: config-note
systems: [Outlook]
owner: it
reviewed: 2026-06-01
review_by: 2027-06-01
audience: public
summary: "Clear %LOCALAPPDATA%\\\\Microsoft\\\\Outlook\\\\RoamCache\\\\Stream_Autocomplete_0_ABCDEF0123456789ABCDEF0123456789.dat, then restart"
---

## Purpose

Keeps Outlook the same on every desk.

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


def _context(chromium: Any, server: LiveServer, viewport: dict, signed_in: bool) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if signed_in else {}
    context = chromium.new_context(
        base_url=server.url, viewport=viewport, extra_http_headers=headers
    )
    context.set_default_timeout(5_000)
    return context


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
def test_no_page_scrolls_sideways_on_a_phone(
    chromium: Any, server: LiveServer, signed_in: bool
) -> None:
    """At 390 px the document is exactly as wide as the screen: long tables and code lines
    scroll inside themselves, long paths and codes wrap."""
    context = _context(chromium, server, PHONE, signed_in)
    page = context.new_page()
    too_wide = {}
    for name, path in (SIGNED_IN_PAGES if signed_in else PAGES).items():
        response = page.goto(path)
        assert response is not None and response.status == 200, (name, response)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[name] = width
    context.close()
    assert too_wide == {}


def test_wide_content_scrolls_inside_itself(chromium: Any, server: LiveServer) -> None:
    context = _context(chromium, server, PHONE, False)
    page = context.new_page()
    page.goto("/kb/KB-9100")
    for selector in (".body table", ".body pre"):
        box = page.locator(selector).first
        scroll, client = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert scroll > client  # it scrolls, within the page's width
        assert box.bounding_box()["width"] <= PHONE["width"]
    context.close()


def test_filters_on_a_phone_come_before_the_results_folded(
    chromium: Any, server: LiveServer
) -> None:
    context = _context(chromium, server, PHONE, False)
    page = context.new_page()
    page.goto("/?q=outlook")
    panel = page.locator("details.facets-panel")
    first_hit = page.locator("li.hit").first
    assert panel.bounding_box()["y"] < first_hit.bounding_box()["y"]
    assert not panel.evaluate("e => e.open")
    page.get_by_text("Filter results").click()
    page.get_by_role("link", name="config-note").click()
    page.wait_for_url(re.compile(r"type=config-note"))
    page.get_by_text("Filter results (1 on)").click()
    page.get_by_role("link", name="Clear all filters").click()
    page.wait_for_url(re.compile(r"/\?q=outlook$"))
    context.close()
