"""The inspection pack in a real Chromium: the summary per rule, a rule page with its exceptions, a manager
answering the monthly self-inspection (a problem next to its question, then kept with who and when), and
the A4 print with the header and page x / y on every page and each rule starting a page of its own."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page, expect

from server.domain.self_inspection import KEYS
from server.people.service import add_person
from tests.browser.shots import save
from tests.browser.test_printouts import assert_every_page_has_its_header, pdf_pages

pytestmark = pytest.mark.browser

RULES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "training")


def test_the_pack_its_rule_pages_the_self_inspection_and_the_print(live_office, page: Page):
    today = datetime.now(live_office.settings.zone).date()
    query = f"from={today.replace(day=1)}&to={today}"
    with live_office.db() as db:
        add_person(db, datetime.now(UTC), name="高橋 美咲", card_uid=None, training_on=date(2020, 4, 1))
    live_office.login(page, "manager")
    page.goto(live_office.url(f"/inspection?{query}"))
    expect(page.locator("#rule-training")).to_contain_text("例外 1 件")
    expect(page.locator("#rule-7")).to_contain_text("例外 1 件")  # this month's self-inspection is not done yet
    expect(page.locator("#rule-3")).to_contain_text("✓ 例外なし")
    expect(page.locator("#rule-9")).to_contain_text("✓ 例外なし")  # no incident this month
    expect(page.locator("body")).not_to_contain_text("このシステムではまだ記録していません")
    save(page, "inspection-ja")

    page.locator("#rule-training th a").click()
    expect(page.locator("#inspection-findings")).to_contain_text("高橋 美咲")
    expect(page.locator("#inspection-findings")).to_contain_text("情報セキュリティ教育の期限切れ")

    page.goto(live_office.url(f"/inspection/rules/8?{query}"))
    for key in KEYS:
        page.check(f'input[name="q-{key}"][value="yes"]')
    page.check('input[name="q-patches"][value="no"]')
    page.get_by_role("button", name="回答を記録する").click()
    expect(page.locator("#f-q-patches-error")).to_have_text("「いいえ」のときは備考に状況と対応を書いてください。")
    expect(page.locator('input[name="q-antivirus"][value="yes"]')).to_be_checked()  # nothing chosen is lost
    page.fill("#f-note-patches", "今月分の修正プログラムが未適用、週末に適用")
    page.get_by_role("button", name="回答を記録する").click()
    expect(page.get_by_role("status")).to_have_text("自己点検の回答を記録しました。")
    expect(page.locator("#self-inspection-history")).to_contain_text("佐藤花子")
    expect(page.locator("#inspection-findings")).to_contain_text("OS、ミドルウェア等に、定期的に修正プログラムを適用している")
    save(page, "inspection-self-ja")
    page.goto(live_office.url(f"/inspection?{query}"))
    expect(page.locator("#rule-7")).to_contain_text("✓ 例外なし")

    pages = pdf_pages(page, live_office.url(f"/inspection/print?{query}"))
    # (the PDF's text reads the middle dot ・ as ‧, so the title is checked on either side of it)
    assert_every_page_has_its_header(pages, "立入検査", "監査資料", live_office.settings.office_name)
    assert len(pages) == 1 + len(RULES)  # the summary, then each rule on a page of its own
    titles = {"1": "(1)守秘義務等", "7": "(7)なりすまし等の防止", "8": "(8)情報システムでの作業",
              "training": "情報セキュリティ教育"}
    for number, rule in enumerate(RULES, start=2):
        if rule in titles:
            assert titles[rule] in unicodedata.normalize("NFKC", pages[number - 1]).replace(" ", "")
    assert "高橋 美咲" in pages[len(RULES)]
    assert "いいえ" in pages[8]  # (8): the month's answers as given
