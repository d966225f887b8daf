"""The /dashboard page in headless Chromium: sign in with a key, go live, see a failure arrive.

Needs Debian's Chromium and the Playwright client (`apt-get install -y chromium`,
`pip install playwright`; no `playwright install`: the system browser is used). Skipped, with the
reason, where either is missing. A screenshot lands in tests/artifacts/.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlops_bot.local.stack import LocalStack
from mlops_bot.storage import keys
from tests.e2e.conftest import ADMIN_KEY, ROOT
from tests.e2e.test_webhook_slice import failed_run, post_webhook

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the Playwright client is not installed (pip install playwright)"
)
ARTIFACTS = ROOT / "tests" / "artifacts"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def served(stack: LocalStack) -> LocalStack:
    """The stack with `/dashboard` served by its management function."""
    if httpx.get(f"{stack.url}/dashboard").status_code == 404:
        # Until app.py includes the router, add it to the running app (the one Mangum serves).
        from mlops_bot.api.dashboard_page import router

        stack.functions.load("ManagementApiFunction")
        sys.modules["mlops_bot_local_functions.ManagementApiFunction"].app.include_router(router)
    assert httpx.get(f"{stack.url}/dashboard").status_code == 200
    return stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


def test_the_page_goes_live_and_shows_a_failure_as_it_happens(served: LocalStack, browser: Any) -> None:
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{served.url}/dashboard?api_key={ADMIN_KEY}")
    expect(page.locator("#connection-status")).to_have_text("live", timeout=TIMEOUT_MS)
    assert "api_key" not in page.url  # the key left the address bar for the tab's sessionStorage
    expect(page.locator("#fleet-panel")).to_be_visible(timeout=TIMEOUT_MS)  # the admin is an operator

    assert post_webhook(served, failed_run(9001, "acme/browser-model")).status_code == 202
    incident_id = keys.incident_id_for_run("acme/browser-model", 9001)
    card = page.locator(f'[data-incident-id="{incident_id}"]')
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".toast.alert").first).to_contain_text("acme/browser-model", timeout=TIMEOUT_MS)
    expect(card.locator(".step.done")).to_have_count(3, timeout=TIMEOUT_MS)  # detected, analysed, healing (dry run)
    expect(page.locator("#pipelines li").first).to_contain_text("acme/browser-model", timeout=TIMEOUT_MS)
    expect(page.locator('[data-repository="acme/browser-model"]')).to_be_visible(timeout=TIMEOUT_MS)  # enrolled
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-live.png"), full_page=True)

    page.reload()  # the key is remembered for the tab; REST now lists what the socket announced
    expect(page.locator("#connection-status")).to_have_text("live", timeout=TIMEOUT_MS)
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator('[data-repository="acme/browser-model"]')).to_be_visible(timeout=TIMEOUT_MS)
    page.locator("#sign-out").click()
    expect(page.locator("#sign-in")).to_be_visible()
    assert problems == []
    page.close()


def test_a_refused_key_brings_back_the_sign_in_form(served: LocalStack, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{served.url}/dashboard?api_key=mlb_not-a-key")
    sync_api.expect(page.locator("#sign-in-error")).to_contain_text("refused", timeout=TIMEOUT_MS)
    sync_api.expect(page.locator("#dashboard")).to_be_hidden()
    page.close()
