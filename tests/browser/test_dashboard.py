"""The issue's "done when", in Chromium: a manager logs in, sees an overdue folder that real MQTT scans
took out, acknowledges its alert, and is locked out by the idle timer; an auditor may not edit."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from gateway.simulator import SimulatedReader
from server.accounts.service import create_token

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
STAFF_CARD = "0123456789ABCDEF"
FOLDER_TAG = "04A1B2C3D4E5F6"


def api(office, method: str, path: str, body: dict) -> dict:
    import httpx

    with office.db() as db:
        token = create_token(db, office.users["admin"].name, datetime.now().astimezone())
    response = httpx.request(method, office.url("/api/v1" + path), json=body,
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def folder_out_since_yesterday(office) -> None:
    """A key holder opened the cabinet yesterday morning and took a case folder, as the reader saw it."""
    api(office, "POST", "/readers", {"id": "cabinet-1", "site": "nerima", "role": "cabinet", "name": "書類キャビネット"})
    api(office, "POST", "/people", {"name": "鈴木 一郎", "card_uid": STAFF_CARD, "key_holder": True,
                                    "training_on": (date.today() - timedelta(days=30)).isoformat(),
                                    "roles": ["surveyor"]})
    api(office, "POST", "/items", {"label": "調査ファイル R8-00123", "kind": "folder", "tag_uid": FOLDER_TAG,
                                   "cabinet": "cabinet-1", "encrypted": False, "case": "R8-00123"})
    office.wait_connected()
    reader = SimulatedReader(office.settings.mqtt_url, "nerima", "cabinet-1").start()
    try:
        morning = (datetime.now(TOKYO) - timedelta(days=1)).replace(hour=9, minute=12, second=0)
        ids = [reader.tap(STAFF_CARD, at=morning), reader.tap(FOLDER_TAG, tech="iso14443a",
                                                              at=morning + timedelta(seconds=20))]
        assert reader.wait_acked(ids), "the server did not acknowledge the scans"
    finally:
        reader.stop()


@pytest.mark.parametrize("live_office", [{"overdue_check_s": 0.5, "idle_lock_min": 0.25, "escalate_after_min": 10**6, "lost_prompt_after_h": 10**4}], indirect=True)
def test_a_manager_sees_the_overdue_folder_acknowledges_its_alert_and_is_locked_when_away(live_office, page):
    folder_out_since_yesterday(live_office)
    live_office.login(page, "manager")

    overdue = page.get_by_role("region", name=re.compile("返却期限超過"))
    expect(overdue).to_contain_text("調査ファイル R8-00123", timeout=15_000)
    expect(overdue).to_contain_text("鈴木 一郎")
    expect(overdue).to_contain_text(re.compile(r"\d+(日|時間)"))  # how late: "21時間5分", or "1日" after 18:00
    alerts = page.get_by_role("region", name=re.compile("アラート"))
    expect(alerts).to_contain_text("調査ファイル R8-00123", timeout=15_000)  # the dashboard refreshed itself

    row = alerts.locator("tr", has_text="調査ファイル R8-00123")
    row.get_by_label(re.compile("メモ|備考")).fill("本人に電話済み。明朝返却予定。")
    row.get_by_role("button", name=re.compile("確認")).click()
    expect(alerts.locator("tr", has_text="調査ファイル R8-00123")).to_contain_text("佐藤花子", timeout=10_000)
    expect(alerts).to_contain_text("本人に電話済み")

    page.wait_for_timeout(16_000)  # nobody at the screen for longer than the idle lock
    lock = page.get_by_role("dialog")
    expect(lock).to_be_visible()
    expect(lock).to_contain_text("画面ロック")


@pytest.mark.parametrize("live_office", [{"overdue_check_s": 0.5, "escalate_after_min": 10**6, "lost_prompt_after_h": 10**4}], indirect=True)
def test_the_dashboard_in_english(live_office, page):
    folder_out_since_yesterday(live_office)
    live_office.login(page, "manager")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("region", name=re.compile("Overdue", re.I))).to_contain_text("R8-00123",
                                                                                         timeout=15_000)
    expect(page.get_by_role("region", name=re.compile("alert", re.I))).to_contain_text("R8-00123",
                                                                                       timeout=15_000)


def test_an_auditor_reads_but_is_refused_an_edit(live_office, page):
    live_office.login(page, "auditor")
    page.goto(live_office.url("/admin/people"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("form[method=post][action^='/admin/people']")).to_have_count(0)  # no forms to edit with
    # Sent anyway (with the page's own token), the edit is refused.
    status = page.evaluate("""async () => {
        const body = new URLSearchParams({csrf: document.querySelector('meta[name="csrf-token"]').content, name: "x", card_uid: "0A0B0C0D"});
        const r = await fetch("/admin/people", {method: "POST", body});
        return r.status; }""")
    assert status == 403
