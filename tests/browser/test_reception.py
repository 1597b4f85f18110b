"""The issue's "done when", in Chromium: a receptionist registers a walk-in visitor on the reception
page and lends a badge by tapping it on the entrance reader; the visitor's tap (a real MQTT scan)
puts them on the roll call, the second tap takes them off; the day's 入退室記録簿 CSV downloads with
the bytes Japanese Excel needs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from gateway.simulator import SimulatedReader
from tests.browser import shots
from tests.browser.test_dashboard import api

pytestmark = pytest.mark.browser

BADGE = "11223344"
HOST_CARD = "0123456789ABCDEF"


@pytest.fixture
def entrance(live_office):
    api(live_office, "POST", "/readers", {"id": "entrance-1", "site": "nerima", "role": "entrance", "name": "正面入口"})
    api(live_office, "POST", "/visitor-badges", {"uid": BADGE, "label": "来所者 01"})
    api(live_office, "POST", "/visitor-badges", {"uid": "55667788", "label": "来所者 02"})
    api(live_office, "POST", "/people", {"name": "佐藤 花子", "card_uid": HOST_CARD, "key_holder": False,
                                         "training_on": None, "roles": ["surveyor"]})
    live_office.wait_connected()
    reader = SimulatedReader(live_office.settings.mqtt_url, "nerima", "entrance-1").start()
    yield reader
    reader.stop()


def tap(reader: SimulatedReader, uid: str, after_s: float = 0) -> str:
    scan = reader.tap(uid, at=datetime.now(UTC) + timedelta(seconds=after_s))
    decision = reader.wait_decision(scan)
    assert decision is not None
    return decision.action or decision.reason


# Opening at midnight: the walk-in taps in at whatever hour the suite runs (the rule: tests/unit/test_visit_times.py).
@pytest.mark.parametrize("live_office", [{"opening_time": time(0)}], indirect=True)
def test_a_visitor_registered_at_reception_taps_in_and_out_of_the_roll_call(live_office, entrance, page):
    live_office.login(page, "receptionist", next="/reception")
    expect(page.get_by_role("heading", name="受付", exact=True)).to_be_visible()
    page.get_by_label("氏名").fill("山田 太郎")
    page.get_by_label("所属").fill("練馬区 介護保険課")
    page.get_by_label("用件").fill("実地指導")
    page.get_by_label("面会者（職員）").select_option(label="佐藤 花子")
    # Lend the badge by tapping it on the entrance reader, as the receptionist would.
    page.get_by_role("button", name="読み取る").click()
    expect(page.get_by_role("status").filter(has_text="かざして")).to_be_visible()
    assert tap(entrance, BADGE) == "visitor_not_registered"
    expect(page.get_by_label("来所者カード", exact=True)).to_have_value(BADGE, timeout=5000)
    shots.save(page, "reception-ja")
    with page.expect_navigation():
        page.get_by_role("button", name="受付する").click()
    expect(page.get_by_role("status").first).to_contain_text("受付しました")
    expect(page.get_by_text("来所者 01")).to_be_visible()

    with page.context.expect_page() as tag_page:
        page.get_by_role("link", name="名札を印刷").click()
    tag = tag_page.value
    expect(tag.get_by_text("山田 太郎")).to_be_visible()
    expect(tag.get_by_text("来所者", exact=True)).to_be_visible()
    tag.close()

    assert tap(entrance, BADGE, after_s=1) == "entry"
    page.goto(live_office.url("/rollcall"))
    visitors = page.get_by_role("region", name="来所者（1）")
    expect(visitors.get_by_role("cell", name="山田 太郎")).to_be_visible()
    expect(page.locator("#roll-summary")).to_have_text("職員 0 名・来所者 1 名")
    shots.save(page, "rollcall-ja")

    assert tap(entrance, BADGE, after_s=7) == "exit"
    page.reload()
    expect(page.get_by_role("cell", name="山田 太郎")).to_have_count(0)
    expect(page.locator("#roll-summary")).to_have_text("職員 0 名・来所者 0 名")

    # The day's 入退室記録簿: the CSV the page offers is UTF-8 with a BOM and Japanese headings.
    page.goto(live_office.url("/entry-log"))
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV（Excel）").click()
    assert download.value.suggested_filename.startswith("入退室記録簿_")
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["日付", "区分", "氏名"]
    [row] = [r for r in rows[1:] if r[2] == "山田 太郎"]
    assert row[1] == "来所者" and row[5] == "佐藤 花子" and row[7] and row[8]
