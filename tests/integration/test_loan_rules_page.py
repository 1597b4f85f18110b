"""/admin/loan-rules: a manager sets a kind's rule on the page and the next real checkout is due by it.

Real Mosquitto, the real server (pages + API + ingest), SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from server.accounts.service import add_user
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.domain.loans import LoanRule, due_at
from tests.support.office import Office
from tests.support.web import PASSWORDS, logged_in
from tests.support.words import facts

pytestmark = pytest.mark.integration

CARD, FOLDER = "0123456789ABCDEF", "04A1B2C3D4E5F6"
LABEL = "調査書類 R8-00123"


@pytest.fixture
def staffed(office: Office) -> Office:
    office.cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", CARD, key_holder=True, training_on=date.today() - timedelta(days=10))
    office.add_item(LABEL, "folder", FOLDER, "cabinet-1", case="R8-00123")
    with unit_of_work(office.factory) as db:
        for name, role in (("boss", "manager"), ("kansa", "auditor"), ("chosa", "surveyor")):
            add_user(db, name, role, PASSWORDS[role], datetime.now(UTC))
    return office


def rules(office: Office) -> dict[str, dict]:
    return {r["kind"]: r for r in office.get("/loan-rules")}


def rule_audits(office: Office) -> list[AuditEvent]:
    with office.factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "loan_rule_changed")
                               .order_by(AuditEvent.id)))


def field_error(html: str, kind: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="f-{kind}-{field}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def row(html: str, kind: str) -> str:
    match = re.search(rf'<tr id="rule-{kind}".*?</tr>', html, re.S)
    assert match, f"no row for {kind}"
    return match.group(0)


def test_a_manager_sets_folders_to_17_and_the_next_real_checkout_is_due_then(staffed):
    office = staffed
    client, csrf = logged_in(office.app, "boss", PASSWORDS["manager"])
    before = client.get("/admin/loan-rules")
    assert before.status_code == 200
    assert 'href="/admin/loan-rules"' in before.text  # in the menu
    assert "18:00 までに返却" in row(before.text, "folder") and "初期設定のまま" in row(before.text, "folder")
    assert "調査書類" in row(before.text, "folder") and "鍵" in row(before.text, "key")
    assert "30 秒" in before.text  # says when the change reaches the readers
    chase = dict(re.findall(r'<dd data-setting="(\w+)">([^<]*)', before.text))
    assert chase == {"remind_before_min": "返却期限の30分前に本人へお知らせ",
                     "escalate_after_min": "返却期限を2時間過ぎても戻らないとき、管理責任者へお知らせ",
                     "lost_prompt_after_h": "返却期限の1日後に、紛失していないかをダッシュボードで確認",
                     "erase_confirm_within_h": "携帯電話・記録媒体・ノートPCの返却後2時間以内に消去の確認がなければアラート"}
    assert "MAMORI_" not in before.text  # the settings' names are for the IT person, in the README

    saved = client.post("/admin/loan-rules/folder", data={"csrf": csrf, "due_time": "17:00", "loan_minutes": ""})
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/loan-rules?saved=saved#rule-folder"
    after = client.get(saved.headers["location"]).text
    assert "保存しました" in after
    assert "17:00 までに返却" in row(after, "folder") and "boss" in row(after, "folder")
    api = rules(office)["folder"]
    assert api["due_time"] == "17:00:00" and api["loan_minutes"] is None and api["changed_by"] == "boss"
    [event] = rule_audits(office)
    assert event.actor == "boss" and event.address
    assert facts(event.detail) == {"kind": "folder", "changes": {"rule": [{"due_time": "18:00"}, {"due_time": "17:00"}]}}
    assert "貸出ルールの変更" in client.get("/audit").text

    office.ingest.worker.service.rules.ttl = 0  # the ingest re-reads rules every 30 s; now at once
    zone = office.settings.zone
    morning = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    scans = [office.cabinet.tap(CARD, at=morning), office.cabinet.tap(FOLDER, tech="iso14443a",
                                                                      at=morning + timedelta(seconds=2))]
    assert office.cabinet.wait_acked(scans)
    [out] = [c for c in office.get("/checkouts", state="open") if c["item"]["label"] == LABEL]
    expected = due_at(datetime.fromisoformat(out["out_at"]), LoanRule(due_time=time(17, 0)), zone)
    assert datetime.fromisoformat(out["due_at"]) == expected
    assert expected.astimezone(zone).time() == time(17, 0)
    assert out["loan_rule"] == "folder: due 17:00"


def test_a_kind_moves_from_a_time_of_day_to_minutes_typed_in_full_width(staffed):
    client, csrf = logged_in(staffed.app, "boss", PASSWORDS["manager"])
    saved = client.post("/admin/loan-rules/phone", data={"csrf": csrf, "due_time": "", "loan_minutes": "９０"})
    assert saved.status_code == 303
    phone = rules(staffed)["phone"]
    assert phone["due_time"] is None and phone["loan_minutes"] == 90
    assert "1時間30分" in row(client.get("/admin/loan-rules").text, "phone")
    again = client.post("/admin/loan-rules/phone", data={"csrf": csrf, "due_time": "", "loan_minutes": "90"})
    assert again.headers["location"] == "/admin/loan-rules?saved=unchanged#rule-phone"
    assert [facts(e.detail)["changes"]["rule"] for e in rule_audits(staffed)] == [[{"due_time": "18:00"}, {"minutes": 90}]]


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"due_time": "17:00", "loan_minutes": "30"}, "row", "どちらか一方だけ"),
    ({"due_time": "", "loan_minutes": ""}, "row", "どちらかを入力"),
    ({"due_time": "25:00", "loan_minutes": ""}, "due_time", "24 時間制"),
    ({"due_time": "17:00:30", "loan_minutes": ""}, "due_time", "24 時間制"),
    ({"due_time": "5pm", "loan_minutes": ""}, "due_time", "24 時間制"),
    ({"due_time": "", "loan_minutes": "0"}, "loan_minutes", "1〜86400"),
    ({"due_time": "", "loan_minutes": "86401"}, "loan_minutes", "1〜86400"),
    ({"due_time": "", "loan_minutes": "1.5"}, "loan_minutes", "1〜86400"),
])
def test_a_bad_form_is_explained_next_to_its_field_and_changes_nothing(staffed, form, field, words):
    client, csrf = logged_in(staffed.app, "boss", PASSWORDS["manager"])
    before = rules(staffed)
    response = client.post("/admin/loan-rules/folder", data={"csrf": csrf, **form})
    assert response.status_code == 422
    assert words in (field_error(response.text, "folder", field) or "")
    assert 'class="admin-bad-row"' in row(response.text, "folder")
    assert f'value="{form["due_time"]}"' in row(response.text, "folder")  # what was typed stays to be corrected
    assert field_error(response.text, "key", field) is None  # only the row that was sent
    assert rules(staffed) == before and rule_audits(staffed) == []


def test_the_roles_and_the_token(staffed):
    surveyor, s_csrf = logged_in(staffed.app, "chosa", PASSWORDS["surveyor"])
    assert surveyor.get("/admin/loan-rules").status_code == 403
    assert surveyor.post("/admin/loan-rules/folder", data={"csrf": s_csrf, "due_time": "17:00"}).status_code == 403
    auditor, a_csrf = logged_in(staffed.app, "kansa", PASSWORDS["auditor"])
    shown = auditor.get("/admin/loan-rules")
    assert shown.status_code == 200 and "閲覧のみ" in shown.text and "<form method=\"post\" action=\"/admin/loan" \
        not in shown.text
    assert auditor.post("/admin/loan-rules/folder", data={"csrf": a_csrf, "due_time": "17:00"}).status_code == 403
    manager, csrf = logged_in(staffed.app, "boss", PASSWORDS["manager"])
    assert manager.post("/admin/loan-rules/folder", data={"csrf": "forged", "due_time": "17:00"}).status_code == 403
    assert manager.post("/admin/loan-rules/umbrella", data={"csrf": csrf, "loan_minutes": "5"}).status_code == 404
    assert rules(staffed)["folder"]["due_time"] == "18:00:00" and rule_audits(staffed) == []
