"""The 受付簿 in a real Chromium: the destruction form refuses a witness who is the person destroying
(the problem next to the field, the choices kept) and then records the destruction; the 受付簿 prints
on A4 with its header, 和暦 dates and page x / y on every page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from server.cases.service import Actor, receive, record_submission, record_survey
from server.people.models import Person
from server.wareki import wareki
from tests.browser.shots import save
from tests.browser.test_printouts import assert_every_page_has_its_header, pdf_pages

pytestmark = pytest.mark.browser


def a_closed_case(office, today: date, number: str, received: date, surveyor: int | None = None):
    with office.db() as db:
        now, by = datetime.now(UTC), Actor("kanri")
        case = receive(db, now, by, number=number, received_on=received, kind="renewal", retention_days=30,
                       surveyor_id=surveyor)
        record_survey(db, case, now, today, by, received + timedelta(days=3))
        record_submission(db, case, now, today, by, received + timedelta(days=5))
        return case.id


def test_the_destruction_form_needs_a_witness_other_than_the_destroyer(live_office, page: Page):
    today = datetime.now(live_office.settings.zone).date()
    with live_office.db() as db:
        people = [Person(name=name, created_at=datetime.now(UTC)) for name in ("高橋 美咲", "伊藤 健")]
        db.add_all(people)
        db.flush()
        takahashi, ito = (str(p.id) for p in people)
    case = a_closed_case(live_office, today, "R8-04711", today - timedelta(days=60))
    live_office.login(page, "manager")
    page.goto(live_office.url(f"/cases/{case}"))
    page.select_option("#f-method", label="シュレッダー")
    page.select_option("#f-destroyed_by", takahashi)
    page.select_option("#f-witness", takahashi)
    page.get_by_role("button", name="廃棄を記録する").click()
    expect(page.locator("#f-witness-error")).to_have_text("立会者は廃棄者とは別の職員を選んでください。")
    expect(page.locator("#f-witness")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-method")).to_have_value("shredder")  # nothing chosen is lost
    save(page, "case-destroy-ja")
    page.select_option("#f-witness", ito)
    page.get_by_role("button", name="廃棄を記録する").click()
    expect(page.get_by_role("status")).to_have_text("廃棄を記録しました。物品は廃棄済になりました。")
    history = page.locator("#case-history")
    expect(history).to_contain_text("廃棄")
    expect(history).to_contain_text("立会者：伊藤 健")
    save(page, "case-ja")


def test_the_book_prints_its_header_wareki_dates_and_page_x_of_y_on_every_page(live_office, page: Page):
    today = datetime.now(live_office.settings.zone).date()
    first = today - timedelta(days=90)
    for n in range(90):
        a_closed_case(live_office, today, f"R8-{n + 100:05d}", first + timedelta(days=n % 80))
    live_office.login(page, "manager")
    pages = pdf_pages(page, live_office.url(f"/cases/print?from={first}&to={today}"))
    assert_every_page_has_its_header(pages, "受付簿", live_office.settings.office_name,
                                     f"{wareki(first)}({first:%Y/%m/%d}")
    text = "\n".join(pages)
    for n in range(90):  # case numbers stay whole
        assert f"R8-{n + 100:05d}" in text
    assert wareki(first + timedelta(days=5)) in text  # the rows' dates are 和暦 too
    assert "担当" in pages[0] and "監査" in pages[0]
