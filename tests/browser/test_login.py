"""Logging in, the lockout, the idle screen lock and the language switch, in a real Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
WRONG = "ユーザー名またはパスワードが違います。"


class Clock:
    """The server's clock, moved on by the test (the browser keeps real time)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def path_of(page) -> str:
    return page.evaluate("location.pathname + location.search")


def test_a_manager_logs_in_to_the_dashboard(live_office, page):
    live_office.login(page, "manager")
    assert path_of(page) == "/dashboard"
    expect(page.locator("h1")).to_have_text("ダッシュボード")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("header .who")).to_contain_text("佐藤花子（管理責任者）")
    expect(page.locator("#lock")).to_be_hidden()  # the idle overlay is there, but not shown yet
    # The session cookie is the real one: Secure and HttpOnly even on http://127.0.0.1.
    cookie, = [c for c in page.context.cookies() if c["name"] == "mamori_session"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_a_page_before_login_goes_to_the_login_page_and_comes_back(live_office, page):
    page.goto(live_office.url("/dashboard"))
    assert path_of(page) == "/login?next=/dashboard"
    live_office.submit_login(page, live_office.users["auditor"].name, live_office.users["auditor"].password)
    assert path_of(page) == "/dashboard"
    expect(page.locator("header .who")).to_contain_text("監査担当（閲覧のみ）")


def test_a_wrong_password_is_refused_in_japanese_on_the_login_page(live_office, page):
    page.goto(live_office.url("/login"))
    live_office.submit_login(page, live_office.users["manager"].name, "Wrong-Pass-2026")
    expect(page.get_by_role("alert")).to_have_text(WRONG)
    assert path_of(page) == "/login"
    expect(page.locator("h1")).to_have_text("ログイン")
    # An unknown name gets the very same answer.
    live_office.submit_login(page, "nobody", "Wrong-Pass-2026")
    expect(page.get_by_role("alert")).to_have_text(WRONG)


def test_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused(start_office, page):
    office = start_office(login_max_failures=3, lockout_min=15)
    manager = office.users["manager"]
    page.goto(office.url("/login"))
    for _ in range(2):
        office.submit_login(page, manager.name, "Wrong-Pass-2026")
        expect(page.get_by_role("alert")).to_have_text(WRONG)
    before = datetime.now(TOKYO)
    office.submit_login(page, manager.name, "Wrong-Pass-2026")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("までロックされています")
    until = re.search(r"(\d{4}/\d{2}/\d{2})\((.)\) (\d{2}:\d{2}) までロック", alert.inner_text())
    assert until, alert.inner_text()
    shown = datetime.strptime(f"{until[1]} {until[3]}", "%Y/%m/%d %H:%M").replace(tzinfo=TOKYO)
    expected = (before + timedelta(minutes=15)).replace(second=0, microsecond=0)
    assert expected <= shown <= expected + timedelta(minutes=1)  # office time, minutes
    assert until[2] == "月火水木金土日"[shown.weekday()]

    office.submit_login(page, manager.name, manager.password)
    expect(page.get_by_role("alert")).to_contain_text("までロックされています")
    assert path_of(page) == "/login"
    assert not [c for c in page.context.cookies() if c["name"] == "mamori_session"]


def test_the_idle_overlay_covers_the_page_and_unlocking_keeps_it(start_office, page):
    office = start_office(idle_lock_min=0.05)  # 3 s
    office.login(page, "manager", next="/account/password")  # a page with a form, on the shared layout
    assert path_of(page) == "/account/password"
    expect(page.locator("#lock")).to_be_hidden()
    # What only this page load has: a variable, and a half-filled form.
    page.evaluate("window.beforeLock = 'kept'")
    page.fill("#current", "Half-typed-2026")  # fill, not type: no key events, so the idle clock runs on

    expect(page.locator("#lock")).to_be_visible(timeout=8_000)  # by itself, with no input
    expect(page.locator("#lock-title")).to_have_text("画面ロック")
    expect(page.locator("#lock")).to_contain_text(office.users["manager"].name)
    expect(page.locator("#lock-password")).to_be_focused()
    assert page.evaluate("document.getElementById('main').inert")
    # Nothing under the cover can be reached.
    assert not page.evaluate("""() => {
        const field = document.getElementById("current"); field.focus(); return document.activeElement === field;
    }""")

    page.fill("#lock-password", "Wrong-Pass-2026")
    page.press("#lock-password", "Enter")
    expect(page.locator("#lock-error")).to_be_visible()
    expect(page.locator("#lock")).to_be_visible()

    page.fill("#lock-password", office.users["manager"].password)
    page.press("#lock-password", "Enter")
    expect(page.locator("#lock")).to_be_hidden()
    assert page.evaluate("window.beforeLock") == "kept"  # the same page: no navigation happened
    assert path_of(page) == "/account/password"
    expect(page.locator("h1")).to_have_text("パスワード変更")
    expect(page.locator("#current")).to_have_value("Half-typed-2026")
    assert not page.evaluate("document.getElementById('main').inert")
    page.fill("#password", "New")  # usable again (fill waits for the field to be visible and editable)
    expect(page.locator("#password")).to_have_value("New")


def test_a_page_loaded_after_the_idle_limit_goes_to_the_lock_screen_and_comes_back(start_office, page):
    clock = Clock()
    office = start_office(clock=clock, idle_lock_min=10)
    office.login(page, "receptionist")
    clock.advance(minutes=11)
    page.goto(office.url("/dashboard?view=today"))
    assert unquote(path_of(page)) == "/lock?next=/dashboard?view=today"
    expect(page.locator("h1")).to_have_text("画面ロック")
    expect(page.locator("main")).to_contain_text("uketsuke")

    page.fill("#password", "Wrong-Pass-2026")
    with page.expect_navigation():
        page.press("#password", "Enter")
    expect(page.get_by_role("alert")).to_have_text(WRONG)

    page.fill("#password", office.users["receptionist"].password)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert path_of(page) == "/dashboard?view=today"
    expect(page.locator("h1")).to_have_text("ダッシュボード")


def test_the_language_switch_gives_english_and_it_sticks(live_office, page, new_context):
    live_office.login(page, "manager")
    with page.expect_navigation():
        page.get_by_role("link", name="English").click()
    assert path_of(page) == "/dashboard"
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header .who")).to_contain_text("佐藤花子 (manager)")
    page.reload()
    expect(page.locator("h1")).to_have_text("Dashboard")
    # Kept on the account too: the same person in another browser gets English after logging in.
    other = new_context().new_page()
    live_office.login(other, "manager")
    expect(other.locator("h1")).to_have_text("Dashboard")
    # And back.
    with page.expect_navigation():
        page.get_by_role("link", name="日本語").click()
    expect(page.locator("h1")).to_have_text("ダッシュボード")


def test_an_english_browser_gets_the_english_login_page(live_office, page, new_context):
    english = new_context(locale="en-US").new_page()
    english.goto(live_office.url("/login"))
    expect(english.locator("h1")).to_have_text("Log in")
    expect(english.locator("html")).to_have_attribute("lang", "en")
    live_office.submit_login(english, live_office.users["manager"].name, "Wrong-Pass-2026")
    expect(english.get_by_role("alert")).to_have_text("The user name or password is wrong.")
    # A Japanese browser, the default, gets Japanese.
    page.goto(live_office.url("/login"))
    expect(page.locator("h1")).to_have_text("ログイン")
