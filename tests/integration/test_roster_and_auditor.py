"""The 要介護認定調査員名簿 and its 変更届 for the ward (page, CSV for Excel, A4 print), and the ward's auditor
with a temporary account: read-only, every page and download in the audit log, refused after the last day.
Real pages through the login, SQLite and PostgreSQL, a moved clock."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.evidence.models import ChainVerification
from server.incidents.models import Incident
from server.people.models import Person
from server.people.service import add_person
from tests.support.printout import column, read_printout
from tests.support.training import record_training
from tests.support.web import PASSWORDS, Site, log_in, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    site.clock.now = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
    with unit_of_work(site.factory) as db:
        before = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
        site.ids = {
            "yamada": add_person(db, before, name="山田 一郎", card_uid=None, roles=["manager"],
                                 qualification="care_manager", registered_on=date(2020, 4, 1)).id,
            "sato": add_person(db, before, name="佐藤 花子", card_uid=None, roles=["surveyor"],
                               qualification="nurse", registered_on=date(2024, 10, 1)).id,
            "suzuki": add_person(db, before, name="=鈴木 次郎", card_uid=None, roles=["surveyor"],
                                 qualification="social_worker", registered_on=date(2025, 4, 1)).id,
            "desk": add_person(db, before, name="受付 三郎", card_uid=None, roles=["receptionist"]).id,
        }
    record_training(site.factory, [site.ids["yamada"], site.ids["sato"]], date(2026, 4, 10))
    with page_client(site.app):
        yield site


def _change_since_the_report(site):
    """After the last report (2026-05-01): a new surveyor, 佐藤's 資格, 鈴木 leaves."""
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    added = client.post("/admin/people", data={"csrf": csrf, "name": "高橋 美咲", "roster_role": "surveyor",
                                               "qualification": "care_worker", "registered_on": "2026-05-20",
                                               "active": "1"})
    assert added.status_code == 303, added.text
    for who, form in (("sato", {"name": "佐藤 花子", "roster_role": "surveyor", "qualification": "care_manager",
                                "registered_on": "2024-10-01", "active": "1"}),
                      ("suzuki", {"name": "=鈴木 次郎", "roster_role": "surveyor", "qualification": "social_worker",
                                  "registered_on": "2025-04-01"})):
        assert client.post(f"/admin/people/{site.ids[who]}", data={"csrf": csrf, **form}).status_code == 303
    return client


def test_the_roster_lists_surveyors_and_the_manager_with_training_dates_and_marks_changes(site):
    client = _change_since_the_report(site)
    html = client.get("/roster?since=2026-05-01").text
    table = html[html.index('<table id="roster">'):]
    assert "受付 三郎" not in table and "=鈴木 次郎" not in table  # reception is not on it; 鈴木 left
    assert table.index("山田 一郎") < table.index("佐藤 花子")  # the manager first
    assert "管理責任者" in table and "介護支援専門員" in table and "2026/04/10" in table
    assert "care_manager" not in table and "surveyor" not in table  # words, never codes
    assert "未受講" in table  # 高橋 is new: untrained until a session says so

    response = client.get("/roster.csv?since=2026-05-01")
    assert response.content.startswith(b"\xef\xbb\xbf") and "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["事業所名", "区分", "氏名", "資格", "登録日", "情報セキュリティ教育 受講日", "教育の有効期限",
                       "前回報告からの変更"]
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["山田 一郎"][1:] == ["管理責任者", "山田 一郎", "介護支援専門員", "2020/04/01", "2026/04/10",
                                    "2027/04/10", ""]
    assert by_name["佐藤 花子"][-1] == "変更" and by_name["高橋 美咲"][-1] == "追加"
    assert by_name["高橋 美咲"][5] == "未受講"

    printed = read_printout(client.get("/roster/print?since=2026-05-01").text)
    assert "要介護認定調査員名簿" in printed.head and "令和8年5月1日" in printed.head
    assert "print-landscape" in printed.body_class and printed.stamps
    assert column(printed, "registered_on")[0] == "令和2年4月1日"

    changes = client.get("/roster/changes?since=2026-05-01").text
    table = changes[changes.index('<table id="roster-changes">'):]
    assert "高橋 美咲" in table and "追加" in table
    assert "資格: 看護師 → 介護支援専門員" in table
    assert "削除" in table and "在籍: 在籍 → 退職・無効" in table
    assert "受付 三郎" not in table
    printed = read_printout(client.get("/roster/changes/print?since=2026-05-01").text)
    assert "要介護認定調査員変更届" in printed.head
    assert column(printed, "kind") == ["追加", "変更", "削除"]
    actions = [a for a, _ in site.audit()]
    assert {"roster_exported", "roster_printed", "roster_changes_printed"} <= set(actions)


def test_the_wards_auditor_reads_with_an_expiring_account_audited_page_by_page_then_is_refused(site):
    manager, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    form = {"csrf": csrf, "name": "区監査 太郎", "role": "auditor", "password": "Kansa-2026-pass",
            "password_again": "Kansa-2026-pass"}
    missing = manager.post("/admin/accounts", data=form)
    assert missing.status_code == 422 and "有効期限（最終日）を入れてください" in missing.text
    assert manager.post("/admin/accounts", data={**form, "expires_on": "2026-06-02"}).status_code == 303
    assert "2026/06/02(火) まで有効" in manager.get("/admin/accounts").text

    auditor, auditor_csrf = logged_in(site.app, "区監査 太郎", "Kansa-2026-pass")
    assert auditor.get("/roster").status_code == 200
    assert auditor.get("/roster.csv").status_code == 200
    assert auditor.get("/training").status_code == 200
    refused = auditor.post("/training/new", data={"csrf": auditor_csrf, "held_on": "2026-06-01", "title": "x",
                                                  "material": "ward", "attendees": str(site.ids["sato"])})
    assert refused.status_code == 403  # read-only
    with unit_of_work(site.factory) as db:
        viewed = [(e.detail, e.address) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "auditor_viewed", AuditEvent.actor == "区監査 太郎").order_by(AuditEvent.id))]
    paths = [detail for detail, _ in viewed]
    assert any('"path": "/roster"' in d and "download" not in d for d in paths)
    assert any('"path": "/roster.csv"' in d and '"download": "csv"' in d for d in paths)
    assert any('"path": "/training"' in d for d in paths)
    log_page = manager.get("/audit?action=auditor_viewed").text
    assert "監査担当者の閲覧" in log_page and "CSV ファイル" in log_page

    site.clock.now = datetime(2026, 6, 2, 14, 55, tzinfo=UTC)  # 23:55 on the last day: still in
    auditor, _ = logged_in(site.app, "区監査 太郎", "Kansa-2026-pass")
    assert auditor.get("/roster").status_code == 200
    site.clock.now = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)  # midnight: the open session ends
    ended = auditor.get("/roster")
    assert ended.status_code == 303 and ended.headers["location"].startswith("/login")
    again = log_in(page_client(site.app), "区監査 太郎", "Kansa-2026-pass")
    assert again.status_code == 403 and "有効期限（2026/06/02(火) まで）が過ぎたため" in again.text
    wrong = log_in(page_client(site.app), "区監査 太郎", "Wrong-2026-pass")
    assert wrong.status_code == 401 and "有効期限" not in wrong.text  # told only to who knows the password
    assert ("login_refused_expired", "区監査 太郎") in site.audit()
    with unit_of_work(site.factory) as db:
        assert db.get(Person, site.ids["sato"]).training_on == date(2026, 4, 10)


def test_the_wards_auditor_reads_incidents_the_pack_and_the_chain_changes_nothing_and_each_view_is_audited(site):
    opened = datetime(2026, 5, 20, 1, 0, tzinfo=UTC)
    with unit_of_work(site.factory) as db:
        incident = Incident(kind="missing", summary="調査書類の所在不明", discovered_at=opened, discovered_by="佐藤 花子",
                            source="hand", period_from=opened, period_to=opened, opened_at=opened, opened_by="manager")
        db.add(incident)
        db.flush()
        incident_id = incident.id
    manager, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert manager.post("/admin/accounts", data={"csrf": csrf, "name": "区監査 花子", "role": "auditor",
                                                 "password": "Kansa-2026-pass", "password_again": "Kansa-2026-pass",
                                                 "expires_on": "2026-06-30"}).status_code == 303
    auditor, auditor_csrf = logged_in(site.app, "区監査 花子", "Kansa-2026-pass")
    reads = ["/incidents", f"/incidents/{incident_id}", "/inspection?from=2026-05-01&to=2026-05-31",
             "/inspection/rules/9?from=2026-05-01&to=2026-05-31", "/inspection.zip?from=2026-05-01&to=2026-05-31",
             "/ledger/chain"]
    for path in reads:
        assert auditor.get(path).status_code == 200, path
    assert "調査書類の所在不明" in auditor.get("/inspection/rules/9?from=2026-05-01&to=2026-05-31").text
    writes = {"/incidents": {"kind": "missing", "summary": "x"}, f"/incidents/{incident_id}/steps":
              {"step": "note", "text": "x"}, f"/incidents/{incident_id}/close": {},
              f"/incidents/{incident_id}/timeline": {}, "/inspection/self-inspection": {"month": "2026-05"},
              "/ledger/chain/verify": {}}
    for path, form in writes.items():
        assert auditor.post(path, data={"csrf": auditor_csrf, **form}).status_code == 403, path
    with unit_of_work(site.factory) as db:
        viewed = [e.detail for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "auditor_viewed", AuditEvent.actor == "区監査 花子").order_by(AuditEvent.id))]
        assert db.get(Incident, incident_id).closed_at is None
        assert db.scalar(select(func.count()).select_from(Incident)) == 1
        assert db.scalar(select(func.count()).select_from(ChainVerification)) == 0
    seen = [json.loads(detail) for detail in viewed]
    for path in reads:
        where, _, query = path.partition("?")
        assert any(v["path"] == where and v.get("query", "") == query for v in seen), path
    assert {v["path"] for v in seen} <= {p.partition("?")[0] for p in reads} | {"/dashboard"}  # nothing for the POSTs
