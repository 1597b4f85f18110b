"""Devices after the tap, with real scans: a purpose chosen on the page, the return waiting for
"調査データ消去済み", one `not_erased` alert and one notice e-mail when nobody confirms in time, the
confirmation on the page resolving it, and a phone without a screen lock kept in the cabinet.

Real Mosquitto, the real server (API + ingest), aiosmtpd, the pages over HTTP with login and CSRF,
SQLite and PostgreSQL. The chase loop, the notice sender and a second copy of the pages share a
clock the test moves; the scans and the API run on the real one.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from server.accounts.models import User
from server.accounts.service import add_user, create_token
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.checkouts.chase import ChaseChecker
from server.checkouts.not_erased import late_without_alert
from server.config import Settings
from server.db import make_engine, unit_of_work
from server.main import create_app
from server.migrate import upgrade
from server.notify.sender import NoticeSender
from tests.support.notify import SmtpServer
from tests.support.office import ADMIN_PASSWORD, Office
from tests.support.web import PASSWORDS, Site, logged_in, page_client
from tests.support.words import facts, notes_ja

pytestmark = pytest.mark.integration

CARD, OTHER_CARD = "0123456789ABCDEF", "0123456789ABCDEE"
PHONE, FOLDER, BARE_PHONE = "04A1B2C3D4E5F7", "04A1B2C3D4E5F6", "04A1B2C3D4E5F8"
SUBJECT = "【mamori】調査データの消去が確認されていません"


def decide(reader, uid: str, at: datetime, tech: str = "felica"):
    scan_id = reader.tap(uid, tech=tech, at=at)
    decision = reader.wait_decision(scan_id)
    assert decision is not None, f"no decision for {uid}"
    return decision


def waiting_row(html: str, checkout_id: int) -> str | None:
    match = re.search(rf'<tr id="waiting-{checkout_id}".*?</tr>', html, re.S)
    return match.group(0) if match else None


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="f-{field}-error">([^<]*)</p>', html)
    assert match, f"no error next to {field}"
    return match.group(1)


def audit_actions(office: Office, action: str) -> list[AuditEvent]:
    with office.factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_returned_phone_waits_for_its_erasure_is_alerted_once_and_confirmed_on_the_page(database_url, broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, overdue_check_s=3600,
                                      notice_check_s=3600, entrance_duplicate_s=1) as office:
        office.wait_connected()
        office.ingest.overdue.stop()  # this test runs the chase loop itself, on its own clock
        cabinet = office.add_reader("cabinet-1", "cabinet")
        trained = date.today() - timedelta(days=9)
        holder = office.add_person("佐藤 花子", CARD, key_holder=True, training_on=trained)
        other = office.add_person("鈴木 次郎", OTHER_CARD, key_holder=True, training_on=trained)
        office.add_item("調査用携帯電話 1", "phone", PHONE, "cabinet-1", encrypted=True)
        office.add_item("調査書類 R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
        now = datetime.now(UTC)
        with unit_of_work(office.factory) as db:
            sato = add_user(db, "sato", "surveyor", PASSWORDS["surveyor"], now)
            sato.person_id, sato.email = holder["id"], "sato@example.jp"
            suzuki = add_user(db, "suzuki", "surveyor", PASSWORDS["surveyor"], now)
            suzuki.person_id = other["id"]
            boss = add_user(db, "tanaka", "manager", PASSWORDS["manager"], now)
            boss.email = "tanaka@example.jp"
            quiet = add_user(db, "yamada", "manager", PASSWORDS["manager"], now)
            quiet.email, quiet.notices_off = "yamada@example.jp", ["not_erased"]
            suzuki_token = create_token(db, "suzuki", now)
        now = now.replace(microsecond=0)  # the API gives times to the second

        # Out: the phone has no purpose yet; the folder's is its case number.
        assert decide(cabinet, CARD, now).action == "session_open"
        assert decide(cabinet, PHONE, now + timedelta(seconds=1), "iso14443a").action == "checkout"
        assert decide(cabinet, FOLDER, now + timedelta(seconds=2), "iso14443a").action == "checkout"
        out = {row["item"]["kind"]: row for row in office.get("/checkouts", state="open")}
        assert (out["phone"]["purpose"], out["phone"]["erasure"]) == (None, "pending")
        assert (out["folder"]["purpose"], out["folder"]["erasure"]) == ("R8-00123", None)
        phone_id, folder_id = out["phone"]["id"], out["folder"]["id"]

        # The purpose, chosen on the page by the holder: a blank one is refused next to its field.
        client, csrf = logged_in(office.app, "sato", PASSWORDS["surveyor"])
        listed = client.get("/devices").text
        assert f'id="out-{phone_id}"' in listed and f'id="out-{folder_id}"' not in listed
        blank = client.post(f"/devices/{phone_id}/purpose", data={"csrf": csrf, "purpose": "   "})
        assert blank.status_code == 422
        assert field_error(blank.text, f"purpose-{phone_id}") == "入力してください。"
        saved = client.post(f"/devices/{phone_id}/purpose", data={"csrf": csrf, "purpose": "訪問調査 R8-00123"})
        assert (saved.status_code, saved.headers["location"]) == (303, "/devices?done=purpose")
        assert [r["purpose"] for r in office.get("/checkouts", state="open") if r["id"] == phone_id] == \
            ["訪問調査 R8-00123"]
        assert f'id="out-{phone_id}"' not in client.get("/devices").text
        [purpose_audit] = audit_actions(office, "checkout_purpose")
        assert purpose_audit.actor == "sato" and facts(purpose_audit.detail)["changes"]["purpose"] == [None, "訪問調査 R8-00123"]
        # Somebody else's device: not theirs to describe (the API says so too).
        refused = office.client.put(f"/api/v1/checkouts/{phone_id}/purpose", json={"purpose": "x"},
                                    headers={"Authorization": f"Bearer {suzuki_token}"})
        assert refused.status_code == 403, refused.text
        folder_purpose = office.client.put(f"/api/v1/checkouts/{folder_id}/purpose", json={"purpose": "x"},
                                           headers=office.headers)
        assert folder_purpose.status_code == 409 and "not of a phone" in folder_purpose.json()["detail"]

        # Back: a fresh session, the same tags.
        assert decide(cabinet, CARD, now + timedelta(seconds=4)).action == "session_open"
        assert decide(cabinet, PHONE, now + timedelta(seconds=5), "iso14443a").action == "return"
        assert decide(cabinet, FOLDER, now + timedelta(seconds=6), "iso14443a").action == "return"
        back = {row["id"]: row for row in office.get("/checkouts", state="returned")}
        assert back[phone_id]["erasure"] == "pending" and back[folder_id]["erasure"] is None
        returned_at = datetime.fromisoformat(back[phone_id]["returned_at"])

        clock = {"now": returned_at}
        checker = ChaseChecker(office.factory, lambda: clock["now"], office.settings)
        sender = NoticeSender(office.factory, office.settings, lambda: clock["now"])
        pages = create_app(office.settings, clock=lambda: clock["now"], with_ingest=False)

        def step(after: timedelta) -> tuple[list[tuple[str, int, str]], list[tuple[str, str]]]:
            clock["now"] = returned_at + after
            before = len(smtp.received)
            checker.check()
            checker.check()  # a second round (or a second server) changes nothing
            sender.send_due()
            sender.send_due()
            with office.factory() as db:
                alerts = [(a.type, a.checkout_id, a.state) for a in db.scalars(
                    select(Alert).where(Alert.type == "not_erased").order_by(Alert.id))]
            return alerts, sorted((m.rcpt_tos[0], m.message["Subject"]) for m in smtp.received[before:])

        assert step(timedelta(hours=1, minutes=59)) == ([], [])
        holder_page, _csrf = logged_in(pages, "sato", PASSWORDS["surveyor"])
        row = waiting_row(holder_page.get("/devices").text, phone_id)
        assert row and "佐藤 花子" in row and "1時間59分" in row and "data-late" not in row
        assert waiting_row(holder_page.get("/devices").text, folder_id) is None  # a folder never waits

        alerts, mails = step(timedelta(hours=2, minutes=1))
        assert alerts == [("not_erased", phone_id, "open")]
        assert mails == [("sato@example.jp", SUBJECT), ("tanaka@example.jp", SUBJECT)]  # yamada turned it off
        mail = next(m for m in smtp.received if m.rcpt_tos == ["sato@example.jp"])
        assert "調査用携帯電話 1" in mail.message.get_content() and "/devices" in mail.message.get_content()
        assert step(timedelta(hours=5)) == ([("not_erased", phone_id, "open")], [])
        holder_page, holder_csrf = logged_in(pages, "sato", PASSWORDS["surveyor"])  # the old login is idle-locked
        page_now = holder_page.get("/devices").text
        assert 'data-late="1"' in waiting_row(page_now, phone_id) and "5時間0分" in waiting_row(page_now, phone_id)

        # Another surveyor may not confirm it; the holder does, on the page.
        other_page, other_csrf = logged_in(pages, "suzuki", PASSWORDS["surveyor"])
        assert waiting_row(other_page.get("/devices").text, phone_id) is None  # a surveyor sees their own
        not_theirs = other_page.post(f"/devices/{phone_id}/erased", data={"csrf": other_csrf})
        assert not_theirs.status_code == 403 and "本人" in not_theirs.text
        confirmed = holder_page.post(f"/devices/{phone_id}/erased", data={"csrf": holder_csrf})
        assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/devices?done=erased")
        [row] = [r for r in office.get("/checkouts", state="returned") if r["id"] == phone_id]
        assert (row["erasure"], row["erased_by"]) == ("done", "sato")
        assert datetime.fromisoformat(row["erased_at"]) == clock["now"]
        with office.factory() as db:
            [alert] = db.scalars(select(Alert).where(Alert.type == "not_erased"))
            assert (alert.state, alert.resolved_by) == ("resolved", "sato")
            assert "（解決）：調査データの消去が確認されました" in notes_ja(alert.note)
        [erased_audit] = audit_actions(office, "checkout_erased")
        assert erased_audit.actor == "sato" and "調査用携帯電話 1" in erased_audit.detail
        assert waiting_row(holder_page.get("/devices").text, phone_id) is None

        # Twice is a clear conflict, on the page and in the API; a folder has nothing to erase.
        manager_page, manager_csrf = logged_in(pages, "tanaka", PASSWORDS["manager"])
        again = manager_page.post(f"/devices/{phone_id}/erased", data={"csrf": manager_csrf})
        assert again.status_code == 409 and "すでに sato さんが" in again.text
        api_again = office.client.post(f"/api/v1/checkouts/{phone_id}/erased", headers=office.headers)
        assert api_again.status_code == 409 and "already confirmed erased by sato" in api_again.json()["detail"]
        folder = office.client.post(f"/api/v1/checkouts/{folder_id}/erased", headers=office.headers)
        assert folder.status_code == 409 and "not of a phone" in folder.json()["detail"]
        assert step(timedelta(days=2)) == ([("not_erased", phone_id, "resolved")], [])
        assert len(audit_actions(office, "checkout_erased")) == 1


def test_a_device_still_out_cannot_be_confirmed_erased_and_a_manager_may_confirm_any(database_url, broker):
    with Office(database_url, broker.url, entrance_duplicate_s=1) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        office.add_person("佐藤 花子", CARD, key_holder=True, training_on=date.today() - timedelta(days=9))
        office.add_item("USBメモリ 3", "media", PHONE, "cabinet-1", encrypted=True)
        now = datetime.now(UTC)
        decide(cabinet, CARD, now)
        assert decide(cabinet, PHONE, now + timedelta(seconds=1), "iso14443a").action == "checkout"
        [row] = office.get("/checkouts", state="open")
        early = office.client.post(f"/api/v1/checkouts/{row['id']}/erased", headers=office.headers)
        assert early.status_code == 409 and "not returned yet" in early.json()["detail"]
        chosen = office.client.put(f"/api/v1/checkouts/{row['id']}/purpose", headers=office.headers,
                                   json={"purpose": "R8-00999 訪問調査"})
        assert chosen.status_code == 200 and chosen.json()["purpose"] == "R8-00999 訪問調査"
        decide(cabinet, CARD, now + timedelta(seconds=3))
        assert decide(cabinet, PHONE, now + timedelta(seconds=4), "iso14443a").action == "return"
        done = office.client.post(f"/api/v1/checkouts/{row['id']}/erased", headers=office.headers)
        assert done.status_code == 200, done.text
        assert (done.json()["erasure"], done.json()["erased_by"]) == ("done", "kanri")
        assert office.client.post("/api/v1/checkouts/999999/erased", headers=office.headers).status_code == 404


def test_a_phone_without_a_screen_lock_stays_in_the_cabinet_until_the_item_form_sets_it(database_url, broker):
    with Office(database_url, broker.url, entrance_duplicate_s=1) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        office.add_person("佐藤 花子", CARD, key_holder=True, training_on=date.today() - timedelta(days=9))
        admin, csrf = logged_in(office.app, "kanri", ADMIN_PASSWORD)
        added = admin.post("/admin/items", data={"csrf": csrf, "label": "調査用携帯電話 2", "kind": "phone",
                                            "tag_uid": BARE_PHONE, "cabinet": "cabinet-1", "encrypted": "1"})
        assert added.status_code == 303, added.text
        item_id = int(added.headers["location"].rsplit("item-", 1)[1])
        listing = admin.get("/admin/items").text
        row = re.search(rf'<tr id="item-{item_id}">.*?</tr>', listing, re.S).group(0)
        assert 'data-screen-locked="0"' in row and '<span class="bad">いいえ</span>' in row
        [item] = [i for i in office.get("/items") if i["id"] == item_id]
        assert (item["encrypted"], item["screen_locked"]) == (True, False)

        now = datetime.now(UTC)
        decide(cabinet, CARD, now)
        denied = decide(cabinet, BARE_PHONE, now + timedelta(seconds=1), "iso14443a")
        assert (denied.result, denied.reason) == ("deny", "not_encrypted")
        assert office.get("/checkouts", state="open") == []
        assert [(a["type"], a["reason"]) for a in office.get("/alerts")] == [("cabinet_denied", "not_encrypted")]

        edited = admin.post(f"/admin/items/{item_id}", data={"csrf": csrf, "label": "調査用携帯電話 2", "encrypted": "1",
                                                        "screen_locked": "1", "case": "", "status": "active"})
        assert edited.status_code == 303, edited.text
        with office.factory() as db:
            [changed] = db.scalars(select(AuditEvent).where(AuditEvent.action == "item_changed"))
        assert facts(changed.detail)["changes"]["screen_locked"] == [False, True]
        decide(cabinet, CARD, now + timedelta(seconds=3))
        assert decide(cabinet, BARE_PHONE, now + timedelta(seconds=4), "iso14443a").action == "checkout"

        # The item list from Excel: 画面ロック in its own column, blank meaning "as 暗号化".
        csv = ("品名,種別,タグID,キャビネット,暗号化,画面ロック\r\n"
               "携帯 3,携帯電話,04A1B2C3D4E5F1,cabinet-1,はい,いいえ\r\n"
               "携帯 4,携帯電話,04A1B2C3D4E5F2,cabinet-1,はい,\r\n").encode("cp932")
        preview = admin.post("/admin/import/preview", data={"csrf": csrf, "kind": "items"},
                             files={"file": ("物品.csv", csv, "text/csv")})
        assert preview.status_code == 200, preview.text
        data = re.search(r'<input type="hidden" name="data" value="([^"]*)"', preview.text)[1]
        done = admin.post("/admin/import/confirm", data={"csrf": csrf, "kind": "items", "filename": "物品.csv",
                                                         "data": data})
        assert done.status_code == 303, done.text
        flags = {i["label"]: (i["encrypted"], i["screen_locked"]) for i in office.get("/items")}
        assert (flags["携帯 3"], flags["携帯 4"]) == ((True, False), (True, True))


def _a_year_of_returned_devices(engine, count: int = 3000) -> None:
    """Returned devices, all but one confirmed erased, and the planner's statistics of them: on an
    empty table every index costs the same, and the plan would say nothing."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO readers (id, site, role, name, created_at) VALUES ('cab', 's', 'cabinet', 'c', :now)"),
                     {"now": now})
        conn.execute(text("INSERT INTO people (id, name, active, key_holder, roles, created_at) "
                          "VALUES (1, 'p', true, true, '[]', :now)"), {"now": now})
        conn.execute(text("INSERT INTO items (id, label, kind, tag_uid, cabinet_id, encrypted, screen_locked, status, "
                          "created_at) VALUES (1, 'phone', 'phone', '04A1', 'cab', true, true, 'active', :now)"),
                     {"now": now})
        rows = [{"out": now - timedelta(hours=n + 2), "back": now - timedelta(hours=n + 1), "id": f"s{n}",
                 "erasure": "pending" if n == 0 else "done"} for n in range(count)]
        conn.execute(text("INSERT INTO checkouts (item_id, person_id, out_at, due_at, returned_at, out_scan_id, "
                          "erasure) VALUES (1, 1, :out, :back, :back, :id, :erasure)"), rows)
        conn.execute(text("ANALYZE"))


def test_the_waiting_devices_are_found_through_their_partial_index(database_url):
    """The chase loop's query reads ix_checkouts_erasure_pending, not the whole ledger."""
    upgrade(database_url)
    engine = make_engine(database_url)
    _a_year_of_returned_devices(engine)
    settings = Settings(database_url=database_url)
    dialect = engine.dialect.name
    compiled = late_without_alert(datetime.now(UTC), settings).compile(dialect=engine.dialect)
    params = compiled.construct_params()
    if dialect == "sqlite":  # qmark: positional, and the driver takes text for a time
        params = tuple(v.isoformat(" ") if isinstance(v, datetime) else v
                       for v in (params[name] for name in compiled.positiontup))
    try:
        with engine.connect() as conn:
            explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = " ".join(str(r) for r in conn.exec_driver_sql(explain + str(compiled), params).all())
    finally:
        engine.dispose()
    assert "ix_checkouts_erasure_pending" in plan, plan


def test_an_account_linked_to_nobody_sees_no_devices_and_the_page_speaks_english(database_url):
    site = Site(database_url)
    with unit_of_work(site.factory) as db:
        db.scalars(select(User).where(User.name == "manager")).one().language = "en"
    with page_client(site.app):
        client, _csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
        html = client.get("/devices").text
        assert "紐付いていない" in html and "データ消去の確認待ち（0）" in html
        assert 'href="/devices" aria-current="page">端末の返却・データ消去確認</a>' in html  # in the menu, as this page
        english, _csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
        html = english.get("/devices").text
        assert "Waiting for the data erasure confirmation (0)" in html and "Showing everyone&#39;s devices." in html
        assert "dev." not in html  # every word has its English
