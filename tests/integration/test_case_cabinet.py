"""The 受付簿 tied to the cabinet, with real scans and a clock the test moves: a case imported from the
ward's Shift_JIS list; its folder tapped out
shows its case; still out after the survey it raises one alert and one notice; the case cannot be
withdrawn or destroyed while it is out; a report not submitted in time and a retention that ended
without destruction each raise one alert and one notice; destruction retires the folder, frees its
tag, and the book's print reads as the whole story.

Real Mosquitto, the real server (API + ingest), aiosmtpd, SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts.service import add_user
from server.alerts.models import Alert
from server.checkouts.chase import ChaseChecker
from server.db import unit_of_work
from server.notify.sender import NoticeSender
from server.wareki import wareki
from tests.support.notify import SmtpServer
from tests.support.office import ADMIN_PASSWORD, Office
from tests.support.printout import read_printout
from tests.support.web import PASSWORDS, logged_in

pytestmark = pytest.mark.integration

CARD, FOLDER, WITNESS_CARD = "0123456789ABCDEF", "04A1B2C3D4E5F6", "0123456789ABCDEE"


def test_a_case_folder_out_after_the_survey_then_late_report_and_ended_retention_each_alert_once(database_url,
                                                                                               broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, overdue_check_s=3600,
                                      notice_check_s=3600, case_retention_days=30,
                                      case_report_within_days=14) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        today = datetime.now(office.settings.zone).date()
        sato = office.add_person("佐藤 花子", CARD, key_holder=True, training_on=today - timedelta(days=9))
        suzuki = office.add_person("鈴木 一郎", WITNESS_CARD)
        folder = office.add_item("ケースファイル R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
        with unit_of_work(office.factory) as db:
            account = add_user(db, "sato", "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))
            account.person_id, account.email = sato["id"], "sato@example.jp"
            add_user(db, "tanaka", "manager", PASSWORDS["manager"], datetime.now(UTC)).email = "tanaka@example.jp"
        # The ward's list, saved from Excel as Shift_JIS with 和暦 dates, through the import page.
        web, csrf = logged_in(office.app, "kanri", ADMIN_PASSWORD)
        received = today - timedelta(days=10)
        listed = (f"ケース番号,依頼受理日,調査区分,担当調査員\r\nR8-00123,{wareki(received)},新規,佐藤 花子\r\n"
                  .encode("cp932"))
        preview = web.post("/admin/import/preview", data={"csrf": csrf, "kind": "cases"},
                           files={"file": ("依頼一覧.csv", listed, "text/csv")})
        assert preview.status_code == 200 and "Shift_JIS" in preview.text
        assert web.post("/admin/import/confirm", data={
            "csrf": csrf, "kind": "cases", "filename": "依頼一覧.csv",
            "data": re.search(r'name="data" value="([^"]*)"', preview.text)[1]}).status_code == 303
        [case] = office.get("/cases", number="R8-00123")
        assert (case["received_on"], case["surveyor"]) == (received.isoformat(), "佐藤 花子")
        other = office.post("/cases", {"number": "R8-00124", "received_on": (today - timedelta(days=10)).isoformat(),
                                       "kind": "renewal", "surveyor_id": sato["id"]})

        now = datetime.now(UTC)
        assert cabinet.wait_decision(cabinet.tap(CARD)).result == "unlock"
        assert cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a")).action == "checkout"
        [checkout] = office.get("/checkouts", state="open")
        assert (checkout["purpose"], checkout["item"]["case"]) == ("R8-00123", "R8-00123")
        office.post(f"/cases/{case['id']}/survey", {"on": today.isoformat()}, expect=200)
        office.post(f"/cases/{other['id']}/survey", {"on": today.isoformat()}, expect=200)
        refused = office.post(f"/cases/{case['id']}/withdraw", {"on": today.isoformat(), "reason": "取下げ"},
                              expect=409)
        assert "still out" in refused["detail"]

        clock = {"now": now}
        checker = ChaseChecker(office.factory, lambda: clock["now"], office.settings)
        sender = NoticeSender(office.factory, office.settings, lambda: clock["now"])

        def step(days: int) -> tuple[list[str], list[tuple[str, str]]]:
            clock["now"] = now + timedelta(days=days)
            before = len(smtp.received)
            checker.check()
            checker.check()  # a second round (or a second server) changes nothing
            sender.send_due()
            with office.factory() as db:
                alerts = sorted(db.scalars(select(Alert.type).where(Alert.type.like("case_%"))))
            mails = [(m.rcpt_tos[0], m.message["Subject"]) for m in smtp.received[before:]]
            # The loan's own reminder and overdue chase run too (tests/integration/test_chase.py).
            return alerts, sorted(mail for mail in mails if "返却期限" not in mail[1])

        assert step(0) == ([], [])  # the survey day: the folder may still be out
        alerts, mails = step(1)
        assert alerts == ["case_folder_out"]
        assert mails == [("sato@example.jp", "【mamori】調査後も書類が返却されていません"),
                         ("tanaka@example.jp", "【mamori】調査後も書類が返却されていません")]
        assert step(2) == (["case_folder_out"], [])

        cabinet.event("door_closed")
        assert cabinet.wait_decision(cabinet.tap(CARD)).result == "unlock"
        assert cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a")).action == "return"
        assert office.get("/checkouts", state="open") == []
        office.post(f"/cases/{case['id']}/submit", {"on": today.isoformat()}, expect=200)

        alerts, mails = step(15)  # R8-00124 was surveyed 15 days ago and its report is not in
        assert alerts == ["case_folder_out", "case_report_late"]
        assert mails == [("sato@example.jp", "【mamori】調査票が未提出です"),
                         ("tanaka@example.jp", "【mamori】調査票が未提出です")]
        assert step(16)[1] == []
        alerts, mails = step(31)  # R8-00123's memos were to be kept until today + 30
        assert alerts == ["case_folder_out", "case_report_late", "case_retention_ended"]
        assert mails == [("tanaka@example.jp", "【mamori】保管期限を過ぎたメモが未廃棄です")]
        assert step(40)[1] == []

        office.app.state.clock = lambda: now + timedelta(days=31)
        done = office.post(f"/cases/{case['id']}/destroy", {"method": "shredder", "destroyed_by_id": sato["id"],
                                                            "witness_id": suzuki["id"]}, expect=200)
        assert done["state"] == "destroyed"
        assert done["items"] == [{"id": folder["id"], "label": "ケースファイル R8-00123", "kind": "folder",
                                  "status": "retired"}]
        assert [(line["item"], line["person"], bool(line["returned_at"])) for line in done["ledger"]] == \
            [("ケースファイル R8-00123", "佐藤 花子", True)]
        assert [(e["action"], e["by"]) for e in done["history"]] == [
            ("received", "kanri"), ("survey", "kanri"), ("submit", "kanri"), ("destroy", "kanri")]
        # The book and its print tell the whole story, in 和暦 (a new login: the clock moved a month).
        web, _ = logged_in(office.app, "kanri", ADMIN_PASSWORD)
        printed = read_printout(web.get(f"/cases/print?from={received}&to={today}&q=R8-00123").text)
        [row] = printed.rows
        assert [text for _css, text in row] == [
            "R8-00123", wareki(received), "新規", "佐藤 花子", "", wareki(today), wareki(today),
            wareki(today + timedelta(days=30)), wareki((now + timedelta(days=31)).astimezone(office.settings.zone).date()),
            "シュレッダー", "佐藤 花子", "鈴木 一郎", "廃棄済", ""]

        # The tag goes on a new case's folder; the old folder keeps its history.
        office.post("/cases", {"number": "R8-00999", "received_on": today.isoformat(), "kind": "new"})
        new = office.add_item("ケースファイル R8-00999", "folder", FOLDER, "cabinet-1", case="R8-00999")
        cabinet.event("door_closed")
        assert cabinet.wait_decision(cabinet.tap(CARD)).result == "unlock"
        assert cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a")).action == "checkout"
        [out] = office.get("/checkouts", state="open")
        assert (out["item"]["id"], out["purpose"]) == (new["id"], "R8-00999")
        assert len(office.get(f"/cases/{case['id']}")["ledger"]) == 1
