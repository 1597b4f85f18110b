"""The 持ち出し管理簿 in Chromium: a manager opens it from the menu, narrows the transactions to case
folders, downloads that CSV (the bytes Japanese Excel needs), and finds yesterday's folder on the
overdue tab. The take-outs are real MQTT scans on the cabinet reader."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from gateway.simulator import SimulatedReader
from tests.browser import shots
from tests.browser.test_dashboard import STAFF_CARD, api, folder_out_since_yesterday

pytestmark = pytest.mark.browser

PHONE_TAG = "04F1E2D3C4B5A6"


def phone_out_now(office) -> None:
    api(office, "POST", "/items", {"label": "携帯電話 01", "kind": "phone", "tag_uid": PHONE_TAG,
                                   "cabinet": "cabinet-1", "encrypted": True})
    reader = SimulatedReader(office.settings.mqtt_url, "nerima", "cabinet-1").start()
    try:
        now = datetime.now(UTC)
        opened = reader.tap(STAFF_CARD, at=now)
        taken = reader.tap(PHONE_TAG, tech="iso14443a", at=now + timedelta(seconds=1))
        assert reader.wait_decision(taken).action == "checkout"
        assert reader.wait_acked([opened, taken])
    finally:
        reader.stop()


def test_a_manager_filters_the_register_downloads_its_csv_and_sees_the_overdue_folder(live_office, page):
    folder_out_since_yesterday(live_office)
    phone_out_now(live_office)
    live_office.login(page, "manager")
    menu = page.get_by_role("navigation", name="メニュー")
    menu.locator("summary", has_text="持ち出し").click()  # the menu's 持ち出し group
    menu.get_by_role("link", name="持ち出し管理簿").click()
    expect(page.get_by_role("heading", name="持ち出し管理簿", level=1)).to_be_visible()

    yesterday = (datetime.now(live_office.settings.zone) - timedelta(days=1)).date()
    page.get_by_label("期間（から）").fill(yesterday.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="表示").click()
    table = page.locator("#register")
    expect(table.get_by_role("cell", name="調査ファイル R8-00123")).to_be_visible()
    expect(table.get_by_role("cell", name="携帯電話 01")).to_be_visible()

    page.get_by_label("種別").select_option(label="調査書類")
    with page.expect_navigation():
        page.get_by_role("button", name="表示").click()
    expect(table.get_by_role("cell", name="調査ファイル R8-00123")).to_be_visible()
    expect(table.get_by_role("cell", name="携帯電話 01")).to_have_count(0)
    shots.save(page, "register-ja")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV（Excel）").click()
    assert download.value.suggested_filename.startswith("持ち出し管理簿_取引記録_")
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:5] == ["持ち出し日時", "品目", "種別", "ケース番号", "持ち出し者"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows[1:]] == [("調査ファイル R8-00123", "調査書類", "R8-00123",
                                                             "鈴木 一郎")]

    page.get_by_role("link", name="期限超過").click()
    expect(page.get_by_role("link", name="期限超過")).to_have_attribute("aria-current", "page")
    overdue = page.locator("#register")
    expect(overdue.get_by_role("cell", name="調査ファイル R8-00123")).to_be_visible()
    expect(overdue.get_by_role("cell", name="携帯電話 01")).to_have_count(0)  # the kind filter carries over
