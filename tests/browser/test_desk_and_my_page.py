"""Fit for the people who use it, in Chromium: a receptionist on an 800 px tablet registers a walk-in
without a badge from the top of the desk, marks them in and finds them on the roll call; a surveyor
on a 400 px phone lands on 「わたしの持ち出し」, sees the overdue folder and confirms two erasures at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.accounts.models import User
from server.checkouts.models import Checkout
from server.items.models import Item
from server.people.models import Person
from server.readers.models import Reader
from server.visits.models import Visit
from tests.browser import shots

pytestmark = pytest.mark.browser
TABLET = {"width": 800, "height": 1000}
PHONE = {"width": 400, "height": 800}


def test_a_walk_in_without_a_badge_is_registered_marked_in_and_on_the_roll_call_at_800px(live_office, new_context):
    now = datetime.now(UTC)
    with live_office.db() as db:  # a busy morning: the day's lists are long
        db.add_all([Visit(visitor_name=f"予定 {n:02d}", organisation="居宅介護支援事業所", state="expected",
                          registered_at=now, expected_at=now + timedelta(minutes=10 * n)) for n in range(12)])
    page = new_context(viewport=TABLET).new_page()
    live_office.login(page, "receptionist")
    assert page.url.endswith("/reception")  # the desk, not the dashboard
    form = page.locator("form.rcp-walk-in").bounding_box()
    assert form is not None and form["y"] >= 0 and form["y"] + form["height"] <= TABLET["height"], form
    page.get_by_label("氏名").fill("飛込 一郎")
    page.get_by_label("所属").fill("地域包括支援センター")
    shots.save(page, "reception-800")
    with page.expect_navigation():
        page.get_by_role("button", name="受付する").click()
    with page.expect_navigation():
        page.get_by_role("button", name="入室", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("入室を記録しました")
    page.goto(live_office.url("/rollcall"))
    expect(page.get_by_role("cell", name="飛込 一郎")).to_be_visible()


def test_a_surveyor_on_a_phone_sees_what_they_hold_and_confirms_two_erasures(live_office, new_context):
    now = datetime.now(UTC)
    with live_office.db() as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫キャビネット 1", created_at=now))
        person = Person(name="鈴木 一郎", training_on=date.today() - timedelta(days=200), created_at=now)
        db.add(person)
        db.flush()
        db.scalars(select(User).where(User.name == live_office.users["surveyor"].name)).one().person_id = person.id
        folder = Item(label="ケースファイル R8-00123", kind="folder", tag_uid="04A1B2C3D4E5F6", cabinet_id="cabinet-1",
                      created_at=now)
        phone = Item(label="調査用携帯電話 1", kind="phone", tag_uid="04A1B2C3D4E5F7", cabinet_id="cabinet-1",
                     encrypted=True, created_at=now)
        db.add_all([folder, phone])
        db.flush()
        db.add(Checkout(item_id=folder.id, person_id=person.id, out_at=now - timedelta(hours=6),
                        due_at=now - timedelta(hours=1), out_scan_id="scan-folder"))
        db.add_all([Checkout(item_id=phone.id, person_id=person.id, out_at=now - timedelta(hours=h + 2),
                             due_at=now - timedelta(hours=h), returned_at=now - timedelta(hours=h),
                             out_scan_id=f"scan-phone-{h}", erasure="pending") for h in (3, 5)])
    page = new_context(viewport=PHONE).new_page()
    live_office.login(page, "surveyor")
    assert page.url.endswith("/my")
    expect(page.get_by_role("heading", name="わたしの持ち出し")).to_be_visible()
    expect(page.locator("[data-overdue]")).to_contain_text("期限超過")
    expect(page.get_by_text("まで有効")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"
    shots.save(page, "my-400")
    with page.expect_navigation():
        page.get_by_role("button", name="選んだ端末の調査データ消去を確認").click()
    expect(page.get_by_role("status").first).to_contain_text("消去を確認しました")
    expect(page.get_by_text("消去の確認待ちの端末はありません。")).to_be_visible()
