"""Printouts on paper: Chromium prints the 入退室記録簿 and the 持ち出し管理簿 to PDF (page.pdf(), A4
as the print dialog would), and every page of it carries the title, the office, the period and
"x / y"; long names and case numbers stay whole on one line. The rows are arranged in the database
(a month of an office's visits and take-outs); the pages are the real server's."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Page
from pypdf import PdfReader

from server.checkouts.models import Checkout
from server.items.models import Item
from server.people.models import Person
from server.readers.models import Reader
from server.visits.models import Visit
from server.wareki import wareki

pytestmark = pytest.mark.browser

LONG_NAMES = ["五十嵐 久美子", "佐々木 由紀子", "宇佐美 佳代子", "小笠原 真理子"]
ROWS = 90  # enough for ≥ 3 A4 landscape pages


def _days(today: date) -> list[date]:
    return [today - timedelta(days=n) for n in range(30, 0, -1)]


def a_month_of_visits(office, today: date) -> None:
    zone = office.settings.zone
    with office.db() as db:
        for n in range(ROWS):
            day = _days(today)[n % 30]
            entered = datetime.combine(day, time(9 + n % 8, 5), tzinfo=zone).astimezone(UTC)
            db.add(Visit(visitor_name=LONG_NAMES[n % 4], organisation="株式会社 ねりま介護サービス 居宅介護支援事業所",
                         purpose="認定調査の日程調整と書類の受け渡しについての打合せ", host="佐藤 花子",
                         state="out", registered_at=entered, entered_at=entered,
                         left_at=entered + timedelta(minutes=40)))


def a_month_of_take_outs(office, today: date) -> None:
    zone, now = office.settings.zone, datetime.now(UTC)
    with office.db() as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫 1", created_at=now))
        people = [Person(name=name, key_holder=True, training_on=today, created_at=now) for name in LONG_NAMES]
        db.add_all(people)
        db.flush()
        for n in range(ROWS):
            case = f"R8-{n + 90:05d}"
            item = Item(label=f"調査ファイル {case}", kind="folder", tag_uid=f"04{n:012X}", cabinet_id="cabinet-1",
                        case_number=case, created_at=now)
            db.add(item)
            db.flush()
            out = datetime.combine(_days(today)[n % 30], time(9 + n % 8, 10), tzinfo=zone).astimezone(UTC)
            db.add(Checkout(item_id=item.id, person_id=people[n % 4].id, out_at=out, due_at=out + timedelta(hours=8),
                            loan_rule="folder: due 18:00", returned_at=out + timedelta(hours=3),
                            returned_by_id=people[n % 4].id, out_scan_id=f"print-test-{n}", purpose=case))


def pdf_pages(page: Page, path: str) -> list[str]:
    """Each printed page's text (NFKC: the PDF's CJK radicals read as the characters they are)."""
    page.goto(path)
    data = page.pdf(prefer_css_page_size=True)
    return [unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def assert_every_page_has_its_header(pages: list[str], *words: str) -> None:
    assert len(pages) >= 3, f"only {len(pages)} pages"
    for number, text in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in text, f"page {number} has no page number"
        for word in words:
            assert word in text, f"page {number} lacks {word!r}"
        assert "印刷者: " in text, f"page {number} lacks who printed it"


def print_a_month(office, page: Page, arrange, path: str, *title: str) -> tuple[list[str], date]:
    """Arrange a month's rows, print `path` for that month as a manager, check every page's header."""
    today = datetime.now(office.settings.zone).date()
    arrange(office, today)
    office.login(page, "manager")
    first = _days(today)[0]
    pages = pdf_pages(page, office.url(f"{path}?from={first}&to={today}"))
    assert_every_page_has_its_header(pages, *title, office.settings.office_name, f"{wareki(first)}({first:%Y/%m/%d}")
    return pages, today


def test_the_entry_log_prints_its_header_and_page_x_of_y_on_every_page(live_office, page):
    pages, today = print_a_month(live_office, page, a_month_of_visits, "/entry-log/print", "入退室記録簿")
    text = "\n".join(pages)
    for name in LONG_NAMES:  # never 佐藤 花/子 across two lines
        assert text.count(name) == ROWS // 4 or text.count(name) == ROWS // 4 + 1, name
    assert text.count(wareki(_days(today)[5])) >= 3  # the rows' dates are 和暦 too
    assert "担当" in pages[0] and "監査" in pages[0]  # the stamp boxes, on the first page


def test_the_register_prints_its_header_and_page_x_of_y_on_every_page(live_office, page):
    pages, _today = print_a_month(live_office, page, a_month_of_take_outs, "/register/print", "持ち出し管理簿", "取引記録")
    text = "\n".join(pages)
    for n in range(ROWS):  # item labels and case numbers stay whole: never R8-/00098
        assert f"調査ファイル R8-{n + 90:05d}" in text and f"R8-{n + 90:05d} {LONG_NAMES[n % 4]}" in text


def test_the_roll_call_printed_for_an_evacuation_numbers_its_pages(live_office, page):
    now = datetime.now(UTC)
    with live_office.db() as db:
        for n in range(60):
            db.add(Visit(visitor_name=f"{LONG_NAMES[n % 4]} {n + 1}", organisation="練馬区 介護保険課", host="佐藤 花子",
                         state="in", registered_at=now - timedelta(hours=1), entered_at=now - timedelta(minutes=50)))
    live_office.login(page, "manager")
    pages = pdf_pages(page, live_office.url("/rollcall"))
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"{number} / {len(pages)}" in text, f"page {number} has no page number"
