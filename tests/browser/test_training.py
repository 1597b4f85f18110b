"""情報セキュリティ教育 in a real Chromium: a manager records a session with its attendees ticked from the
staff list; a forgotten attendee is refused next to the list with everything typed kept; the attendee's
date then reads on the roster."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect

from server.people.models import Person
from tests.browser.shots import save

pytestmark = pytest.mark.browser


def test_a_manager_records_a_session_and_the_roster_shows_the_date(live_office, page: Page):
    today = datetime.now(live_office.settings.zone).date()
    with live_office.db() as db:
        sato = Person(name="佐藤 花子", roles=["surveyor"], key_holder=True, qualification="nurse",
                      registered_on=date(2024, 10, 1), created_at=datetime.now(UTC))
        db.add(sato)
        db.flush()
        sato_id = sato.id
    live_office.login(page, "manager")
    page.goto(live_office.url("/training"))
    expect(page.locator(f"#standing-{sato_id}")).to_contain_text("未受講")
    page.get_by_role("link", name="教育の実施を記録").click()
    page.fill("#f-instructor", "管理責任者 山田")
    page.fill("#f-minutes", "60")
    page.get_by_role("button", name="記録する").click()
    expect(page.locator("#f-attendees-error")).to_have_text("出席した職員を1人以上選んでください。")
    expect(page.locator("#f-instructor")).to_have_value("管理責任者 山田")  # nothing typed is lost
    page.get_by_label("佐藤 花子").check()
    save(page, "training-new-ja")
    page.get_by_role("button", name="記録する").click()
    expect(page.get_by_role("status")).to_have_text("教育の実施を記録しました。")
    expect(page.locator("#attendees")).to_contain_text("佐藤 花子")
    expect(page.locator("#session-facts")).to_contain_text("区の教材")
    page.goto(live_office.url("/roster"))
    expect(page.locator(f"#roster-{sato_id}")).to_contain_text(f"{today:%Y/%m/%d}")
    expect(page.locator(f"#roster-{sato_id}")).to_contain_text("看護師")
    save(page, "roster-ja")
