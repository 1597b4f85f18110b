"""The header's grouped menu in Chromium: one line at 1280 px for every role in both languages, opened and
closed from the keyboard at the 800 px desk, usable on a 400 px phone, and the current page marked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import shots
from tests.browser.conftest import ACCOUNTS

pytestmark = pytest.mark.browser

# The vertical middle of each visible piece of the header; on one line they all sit at about the same height.
MIDDLES = """() => Array.from(document.querySelectorAll("header.top > *, header nav > *, .who > *"))
  .map(el => el.getBoundingClientRect()).filter(box => box.height > 0)
  .map(box => box.top + box.height / 2)"""


def one_line(page) -> None:
    middles = page.evaluate(MIDDLES)
    assert middles and max(middles) - min(middles) < 8, f"the header wraps: {sorted(set(round(m) for m in middles))}"


def test_the_header_takes_one_line_at_1280px_for_every_role_in_both_languages(live_office, new_context):
    for role in ACCOUNTS:
        page = new_context(viewport={"width": 1280, "height": 800}).new_page()
        live_office.login(page, role, next="/dashboard")
        one_line(page)
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        one_line(page)
        page.context.close()


def test_a_group_opens_and_closes_from_the_keyboard_and_marks_the_page_at_800px(live_office, new_context):
    page = new_context(viewport={"width": 800, "height": 1000}).new_page()
    live_office.login(page, "manager", next="/register")
    menu = page.get_by_role("navigation", name="メニュー")
    group = menu.locator("details", has_text="持ち出し管理簿")
    expect(group).to_have_class("group current")
    register = menu.get_by_role("link", name="持ち出し管理簿", include_hidden=True)
    expect(register).to_have_attribute("aria-current", "page")
    expect(register).to_be_hidden()

    group.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(register).to_be_visible()
    shots.save(page, "menu-open-800")
    page.keyboard.press("Tab")
    expect(register).to_be_focused()
    page.keyboard.press("Escape")
    expect(register).to_be_hidden()
    expect(group.locator("summary")).to_be_focused()

    keys = menu.locator("details", has_text="職員")  # one open at a time
    keys.locator("summary").click()
    group.locator("summary").click()
    expect(menu.get_by_role("link", name="職員", exact=True, include_hidden=True)).to_be_hidden()
    page.locator("main").click(position={"x": 5, "y": 600})  # a click elsewhere closes it
    expect(register).to_be_hidden()


def test_on_a_400px_phone_the_surveyor_opens_a_group_within_the_screen(live_office, new_context):
    page = new_context(viewport={"width": 400, "height": 800}).new_page()
    live_office.login(page, "surveyor", next="/my")
    menu = page.get_by_role("navigation", name="メニュー")
    expect(menu.get_by_role("link", name="わたしの持ち出し", include_hidden=True)).to_have_attribute("aria-current", "page")
    menu.locator("summary", has_text="持ち出し").click()
    for name in ("わたしの持ち出し", "持ち出し管理簿"):
        box = menu.get_by_role("link", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 400, (name, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 400, "the page scrolls sideways"
