"""The audit log (操作記録) reads in Japanese or English: actions, filter and details in words, as CSV and on A4."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.audit.service import record
from server.db import unit_of_work
from tests.support.web import PASSWORDS, Site, log_in, logged_in, page_client
from tests.support.words import RAW_UID, SNAKE_CODE, visible_text

pytestmark = pytest.mark.integration
CARD = "04A1B2C3D4E5F6"


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        log_in(page_client(site.app), "manager", "Wrong-Pass-2026")  # a failed login, as it happens
        at = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
        with unit_of_work(site.factory) as db:
            record(db, at, "person_changed", "manager", {"person": "佐藤 花子", "changes": {
                "card": (None, CARD), "key_holder": (False, True), "training_on": (None, "2026-04-01")}}, "10.0.0.5")
            record(db, at, "checkout_register_printed", "manager",
                   {"report": "transactions", "from": "2026-11-01", "to": "2026-11-30", "lines": 12}, "10.0.0.5")
            record(db, at, "visit_registered", "receptionist", {"visit": 7, "walk_in": True, "card": "0A0B0C0D"})
            record(db, at, "stocktake_started", "manager", {"stocktake": 3, "cabinet": "書庫 1"})
            db.add(AuditEvent(at=at, actor="manager", action="alert_acknowledged",
                              detail="alert 5 (overdue, high): 調査書類 — note: 本人に電話"))  # written before facts
        yield site


def test_the_audit_log_names_every_action_and_detail_in_japanese(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    page = client.get("/audit")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "持ち出し管理簿の印刷" in text and "来所の受付" in text and "棚卸の開始" in text and "ログイン失敗" in text
    assert "鍵を持つ職員：いいえ → はい" in text and "カード：— → …E5F6" in text
    assert "帳票：取引記録、期間（から）：令和8年11月1日（2026/11/01）" in text
    assert "来所 No.：7、予約なし：はい、カード：…0C0D" in text
    assert "理由：未登録または無効のユーザー名" not in text  # the manager exists: a wrong password
    assert "理由：パスワードの誤り、連続失敗回数：1" in text
    assert "本人に電話 （以前の形式の記録）" in text  # an older entry is still readable
    codes = set(SNAKE_CODE.findall(text))
    assert codes == set(), codes
    assert RAW_UID.findall(text) == []
    # The filter lists the actions by their labels, with the code only as the value sent.
    assert '<option value="checkout_register_printed">持ち出し管理簿の印刷</option>' in page.text
    only = client.get("/audit", params={"action": "visit_registered"}).text
    assert "<td>来所の受付</td>" in only and "<td>棚卸の開始</td>" not in only


def test_the_audit_log_reads_in_english_for_a_person_who_chose_it(site):
    client, _ = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    client.get("/language/en")
    text = visible_text(client.get("/audit").text)
    assert "take-out ledger printed" in text and "key holder: no → yes" in text
    assert set(SNAKE_CODE.findall(text)) == set()


def test_the_csv_opens_in_excel_with_the_same_words_and_is_itself_audited(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    response = client.get("/audit.csv", params={"actor": "manager"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "%E6%93%8D%E4%BD%9C%E8%A8%98%E9%8C%B2" in response.headers["content-disposition"]  # 操作記録_….csv
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["日時", "操作者", "操作", "内容", "接続元"]
    assert ["2026/11/27 10:00:00", "manager", "棚卸の開始", "棚卸 No.：3、キャビネット：書庫 1", "—"] in rows
    assert all(row[1] == "manager" for row in rows[1:])
    with site.factory() as db:
        [export] = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit_log_exported")).all()
    assert export.actor == "manager"
    assert "操作記録のCSV出力" in visible_text(client.get("/audit").text)
    assert "絞り込んだ操作者：manager" in visible_text(client.get("/audit").text)


def test_the_print_view_is_an_a4_page_of_the_filtered_log_and_is_audited(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    printed = client.get("/audit/print", params={"action": "stocktake_started"})
    assert printed.status_code == 200 and 'class="print print-portrait"' in printed.text  # A4 portrait: print.css
    text = visible_text(printed.text)
    assert "操作記録" in text and "絞り込み：棚卸の開始" in text and "棚卸 No.：3" in text and "来所の受付" not in text
    assert set(SNAKE_CODE.findall(text)) == set()
    assert ("audit_log_printed", "manager") in site.audit()


def test_a_receptionist_may_not_export_the_audit_log(site):
    client, _ = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    assert client.get("/audit.csv").status_code == 403
    assert client.get("/audit/print").status_code == 403
    assert ("audit_log_exported", "receptionist") not in site.audit()


def test_an_export_too_large_says_to_filter_first_and_exports_nothing(site, monkeypatch):
    from server.web.admin import audit_log

    monkeypatch.setattr(audit_log, "EXPORT_MAX", 2)
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    refused = client.get("/audit.csv")
    assert refused.status_code == 422 and "絞り込んでください" in refused.text
    assert ("audit_log_exported", "manager") not in site.audit()
    assert client.get("/audit.csv", params={"action": "stocktake_started"}).status_code == 200
