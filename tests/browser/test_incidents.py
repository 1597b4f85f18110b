"""An incident in a real Chromium: from a lost folder's record the manager records the incident, sees
the folder's take-out and taps in the preserved timeline, and prints the 事故報告書 — every printed
page with its title and page x / y."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from server.checkouts.models import Checkout
from server.items.models import Item
from server.ledger.models import ScanRecord
from server.lost.service import mark_lost
from server.people.models import Person
from server.readers.models import Reader
from tests.browser.shots import save
from tests.browser.test_printouts import pdf_pages

pytestmark = pytest.mark.browser

LABEL = "調査書類 R8-04711"


def a_folder_lost_on_a_visit(office) -> int:
    """A take-out two days ago (its tap in the ledger), never back, marked lost; returns the record's number."""
    now = datetime.now(UTC).replace(microsecond=0)
    out = now - timedelta(days=2)
    with office.db() as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫 1", created_at=now))
        db.flush()
        person = Person(name="高橋 美咲", key_holder=True, training_on=now.date(), created_at=now)
        item = Item(label=LABEL, kind="folder", tag_uid="04A1B2C3D4E5F6", cabinet_id="cabinet-1",
                    case_number="R8-04711", created_at=now)
        db.add_all([person, item])
        db.flush()
        db.add(ScanRecord(id="browser-tap-1", reader_id="cabinet-1", uid=item.tag_uid, tech="iso14443a", at=out,
                          received_at=out, fresh=True, result="accept", action="checkout", person_id=person.id,
                          item_id=item.id))
        db.add(Checkout(item_id=item.id, person_id=person.id, out_at=out, due_at=out + timedelta(hours=8),
                        out_scan_id="browser-tap-1", purpose="R8-04711"))
        db.flush()
        return mark_lost(db, item, by="kanri", at=now, zone=office.settings.zone, note="訪問先で紛失").id


def test_a_lost_folder_is_recorded_as_an_incident_and_its_report_prints(live_office, page: Page):
    lost = a_folder_lost_on_a_visit(live_office)
    live_office.login(page, "manager")
    page.goto(live_office.url(f"/lost/{lost}"))
    page.get_by_role("link", name="事故等として記録する").click()
    expect(page.locator("#inc-scope")).to_contain_text(LABEL)
    expect(page.locator("#f-kind")).to_have_value("loss_theft")
    page.fill("#f-discovered_by", "高橋 美咲")
    page.fill("#f-first_aid", "訪問先と帰りの経路を探した")
    page.get_by_role("button", name="記録を始める（経過を保全する）").click()
    expect(page.get_by_role("status")).to_contain_text("経過")
    timeline = page.locator("#inc-timeline")
    expect(timeline).to_contain_text(f"書庫 1：持ち出し「{LABEL}」")
    expect(timeline).to_contain_text("紛失として登録")
    expect(page.locator("#inc-ward")).to_contain_text("未報告")
    save(page, "incident-ja")

    page.select_option("#f-step", "ward_reported")
    page.fill("#f-when", datetime.now(live_office.settings.zone).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-text", "区 介護保険課に電話で第一報")
    page.get_by_role("button", name="追記する").click()
    expect(page.locator("#inc-log")).to_contain_text("区 介護保険課に電話で第一報")

    href = page.locator("#print-report").get_attribute("href")
    printed = pdf_pages(page, live_office.url(href))
    for number, text in enumerate(printed, start=1):
        assert "事故報告書" in text and f"{number} / {len(printed)}" in text, f"page {number} lacks its header"
        assert live_office.settings.office_name in text and "印刷者: " in text
    whole = "\n".join(printed)
    assert LABEL in whole and "高橋 美咲" in whole and "証跡チェーンの先頭" in whole and "区 介護保険課に電話で第一報" in whole
