"""The Content-Security-Policy allows only mamori's own files: the pages must still work under it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WATCH = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation",
                          (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def watched(page) -> list[str]:
    """Console messages about the policy, gathered while the test runs."""
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH)
    return messages


def violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def test_login_and_dashboard_run_under_the_policy(live_office, page):
    console = watched(page)
    response = page.goto(live_office.url("/login"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "same-origin"
    assert violations(page) == []
    live_office.login(page, "manager")
    expect(page.locator("h1")).to_have_text("ダッシュボード")
    page.evaluate("window.mamoriDashboardRefresh()")  # the dashboard's own script runs and refreshes
    page.wait_for_load_state("networkidle")
    assert violations(page) == [] and console == []


def test_the_idle_lock_reads_its_settings_without_an_inline_script(live_office, page):
    console = watched(page)
    live_office.login(page, "manager")
    assert page.locator("#lock").get_attribute("data-idle-ms") == str(int(live_office.settings.idle_lock_min * 60_000))
    page.evaluate("window.mamoriLock()")
    expect(page.locator("#lock")).to_be_visible()
    page.fill("#lock-password", live_office.users["manager"].password)
    page.click("#lock button[type=submit]")
    expect(page.locator("#lock")).to_be_hidden()
    assert violations(page) == [] and console == []


def test_the_register_keeps_its_styles_and_the_roll_call_its_print_button(live_office, page):
    console = watched(page)
    live_office.login(page, "manager")
    page.goto(live_office.url("/register"))
    assert page.locator(".reg-tabs").evaluate("e => getComputedStyle(e).display") == "flex"
    page.goto(live_office.url("/rollcall"))
    page.evaluate("window.print = () => { window.printed = true; }")
    page.locator("[data-print]").first.click()
    assert page.evaluate("window.printed") is True
    assert violations(page) == [] and console == []
