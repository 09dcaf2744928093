"""The headless Chromium every browser test drives (Debian's, through playwright)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("KB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (KB_REQUIRE_BROWSER=1 requires the browser tests to run)")
    pytest.skip(f"{reason}; set KB_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module."""
    if not CHROMIUM.exists():
        _unavailable(f"browser tests need Chromium at {CHROMIUM}, which does not exist")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("browser tests need the playwright package (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
