"""API keys "through the web interface": an admin creates, lists and revokes keys on /dashboard,
in headless Chromium against the running local stack (skipped like test_dashboard_browser.py
where Chromium or Playwright is missing)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from mlops_bot.local.stack import LocalStack
from tests.e2e.conftest import ADMIN_KEY
from tests.e2e.test_dashboard_browser import TIMEOUT_MS, browser, served, sync_api

__all__ = ["browser", "served"]  # the fixtures this module uses
NEW_KEY = re.compile(r"^mlb_\S{20,}$")


def test_an_admin_creates_lists_and_revokes_a_key_on_the_page(served: LocalStack, browser: Any) -> None:
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{served.url}/dashboard?api_key={ADMIN_KEY}")
    expect(page.locator("#keys-panel")).to_be_visible(timeout=TIMEOUT_MS)

    page.fill("#key-name", "made-in-the-browser")
    page.select_option("#key-permission", "read")
    page.click("#key-create")
    secret = page.locator("#key-secret")
    expect(secret).to_have_text(NEW_KEY, timeout=TIMEOUT_MS)
    key = secret.text_content() or ""
    row = page.locator("#keys tr", has_text="made-in-the-browser")
    expect(row).to_have_count(1, timeout=TIMEOUT_MS)
    expect(row.locator(".key-status")).to_have_text("active")
    headers = {"authorization": f"Bearer {key}"}
    assert httpx.get(f"{served.url}/api/v1/issues", headers=headers, timeout=10).status_code == 200

    row.locator("button.revoke").click()
    expect(row.locator(".key-status")).to_have_text("revoked", timeout=TIMEOUT_MS)
    assert httpx.get(f"{served.url}/api/v1/issues", headers=headers, timeout=10).status_code == 401
    assert problems == []
