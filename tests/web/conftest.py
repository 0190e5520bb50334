"""Fixtures of tests/web: ``browser``, one headless Chromium per test module.

Chromium is Debian's (``/usr/bin/chromium``) driven by Playwright; fonts-noto-cjk makes
Japanese render. When Chromium is missing the tests fail (never skip) and say how to
install it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Fail with the fix when Debian's Chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: browser tests need Debian's chromium and fonts-noto-cjk; "
            "run the apt step of .ci/run (apt-get install chromium fonts-noto-cjk)",
            pytrace=False,
        )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole test module."""
    require_chromium()
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()
