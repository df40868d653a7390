"""Desktop and phone screenshots of a page, each checked with axe-core (tests/browser/conftest.check_page), and
the phone layout checked for what a person notices first: nothing wider than the screen (issue 23: ≤ 400 px).

`DISCLOSURE_TEST_SHOTS` names a directory to copy the screenshots into as well (to look at them)."""

from __future__ import annotations

import os
import shutil

from tests.browser.conftest import SCREENSHOTS, check_page
from tests.browser.test_staff import DESKTOP

PHONE = {"width": 390, "height": 844}


async def desktop_and_phone(page, name: str) -> None:
    await page.set_viewport_size(DESKTOP)
    await check_page(page, name)
    await page.set_viewport_size(PHONE)
    await check_page(page, f"{name}-phone")
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: on a 390 px phone the page is {overflow} px wider than the screen"
    await page.set_viewport_size(DESKTOP)
    if target := os.environ.get("DISCLOSURE_TEST_SHOTS"):
        os.makedirs(target, exist_ok=True)
        for suffix in ("", "-phone"):
            shutil.copy(SCREENSHOTS / f"{name}{suffix}.png", os.path.join(target, f"{name}{suffix}.png"))
