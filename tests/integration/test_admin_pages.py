"""The admin pages as an office uses them: staff, visitor badges, items, readers, enrolment by a
real tap over MQTT, CSV import (UTF-8 with BOM, Shift_JIS) and the audit log.

Each role logs in through the real /login form. One running office (real app, Mosquitto and
database) per database for the module; each test uses fresh names and uids.
"""

from __future__ import annotations

import base64
import html
import re
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from server.accounts.models import User
from server.accounts.service import add_user
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.items.models import Item
from server.lost.models import LostItem
from server.people.models import Card, Person, VisitorBadge
from server.readers.models import Reader
from tests.conftest import DATABASES
from tests.support.broker import Mosquitto
from tests.support.databases import throwaway_database
from tests.support.office import SITE, Office
from tests.support.web import logged_in, page_client
from tests.support.words import facts

pytestmark = pytest.mark.integration

ROLES = ("admin", "manager", "receptionist", "surveyor", "auditor")


def password(role: str) -> str:
    return f"Pages-{role}-2026!"


def fresh_uid() -> str:
    return uuid.uuid4().hex[:16].upper()


def fresh(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def fresh_reader_id() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=DATABASES)
def office(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"pages-{request.param}")
    broker = Mosquitto(tmp / "broker").start()
    try:
        with throwaway_database(request.param, tmp) as url:
            yield from _run_office(url, broker)
    finally:
        broker.kill()


def _run_office(database_url: str, broker: Mosquitto):
    with Office(database_url, broker.url) as office:
        office.wait_connected()
        with unit_of_work(office.factory) as db:
            for role in ROLES:
                add_user(db, f"page-{role}", role, password(role), datetime.now(UTC))
        yield office


class Browser:
    """A TestClient logged in through the real login form, with the page's CSRF token."""

    def __init__(self, office: Office, role: str):
        self.user = f"page-{role}"
        self.client, self.csrf = logged_in(office.app, self.user, password(role))  # through GET and POST /login

    def get(self, path: str, **kw):
        return self.client.get(path, follow_redirects=True, **kw)

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        body = dict(data or {})
        if csrf:
            body["csrf"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False, **kw)


@pytest.fixture(scope="module")
def browsers(office):
    return {}


def as_role(office, browsers, role: str) -> Browser:
    if role not in browsers:
        browsers[role] = Browser(office, role)
    return browsers[role]


@pytest.fixture
def admin(office, browsers):
    return as_role(office, browsers, "admin")


def field_error(page: str, name: str) -> str | None:
    """The message shown right after the field `name` (the input, then its error), or None."""
    match = re.search(rf'(?:<input[^>]*id="f-{name}"[^>]*>|<select[^>]*id="f-{name}"[^>]*>.*?</select>)\s*'
                      rf'<p class="field-error" id="f-{name}-error">([^<]*)</p>', page, re.S)
    return html.unescape(match[1]) if match else None


def value_of(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*id="f-{name}"[^>]*value="([^"]*)"', page)
    return html.unescape(match[1]) if match else None


def checked(page: str, name: str) -> bool:
    return re.search(rf'<input type="checkbox" id="f-{name}"[^>]*\bchecked\b', page) is not None


def audit_events(office: Office, action: str, contains: str) -> list[AuditEvent]:
    with unit_of_work(office.factory) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                        AuditEvent.detail.contains(contains))))


def count(office: Office, model, *where) -> int:
    with unit_of_work(office.factory) as db:
        return db.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------------------------------- people


def test_a_bad_card_uid_is_shown_next_to_its_field_with_the_form_refilled(office, admin):
    name = fresh("佐藤 花子")
    response = admin.post("/admin/people", {"name": name, "card_uid": "12-34-XYZ", "key_holder": "1",
                                            "registered_on": "2026-04-01", "active": "1"})
    assert response.status_code == 422
    assert "0〜9 と A〜F の 8〜20 桁" in field_error(response.text, "card_uid")
    assert field_error(response.text, "name") is None
    assert value_of(response.text, "name") == name
    assert value_of(response.text, "card_uid") == "12-34-XYZ"
    assert value_of(response.text, "registered_on") == "2026-04-01"
    assert checked(response.text, "key_holder") and checked(response.text, "active")
    assert count(office, Person, Person.name == name) == 0

    empty = admin.post("/admin/people", {"name": "", "card_uid": "", "registered_on": "2026/13/40"})
    assert field_error(empty.text, "name") == "入力してください。"
    assert "令和8年4月1日" in field_error(empty.text, "registered_on")


def test_adding_a_person_lists_them_and_audits_it(office, admin):
    name, uid = fresh("田中 一郎"), fresh_uid()
    response = admin.post("/admin/people", {"name": name, "card_uid": uid.lower(), "key_holder": "1",
                                            "registered_on": "令和8年4月1日", "roster_role": "surveyor",
                                            "qualification": "nurse", "active": "1"})
    assert response.status_code == 303, response.text
    listed = admin.get(response.headers["location"])
    assert "登録しました" in listed.text
    row = re.search(rf'<tr id="person-(\d+)">\s*<td[^>]*>{re.escape(name)}</td>(.*?)</tr>', listed.text, re.S)
    assert row and uid in row[2] and "2026/04/01" not in row[2]  # a new person is untrained: no date is typed
    [event] = audit_events(office, "person_added", name)
    assert event.actor == "page-admin" and event.address and uid in event.detail
    with unit_of_work(office.factory) as db:
        person = db.scalars(select(Person).where(Person.name == name)).one()
        assert (person.key_holder, person.training_on) == (True, None)
        assert (person.registered_on.isoformat(), person.qualification, person.roles) == ("2026-04-01", "nurse",
                                                                                           ["surveyor"])


def test_editing_a_person_checks_the_card_and_records_what_changed(office, admin):
    badge_uid = fresh_uid()
    office.post("/visitor-badges", {"uid": badge_uid, "label": fresh("来所者")})
    name, old_uid, new_uid = fresh("鈴木 次郎"), fresh_uid(), fresh_uid()
    person = office.add_person(name, old_uid)
    form = admin.get(f"/admin/people/{person['id']}")
    assert value_of(form.text, "card_uid") == old_uid and value_of(form.text, "name") == name

    taken = admin.post(f"/admin/people/{person['id']}", {"name": name, "card_uid": badge_uid,
                                                         "registered_on": "2026-04-01", "active": "1"})
    assert taken.status_code == 422
    assert field_error(taken.text, "card_uid") == "このIDは既に来所者カードとして登録されています。"
    assert value_of(taken.text, "registered_on") == "2026-04-01"

    saved = admin.post(f"/admin/people/{person['id']}", {"name": name, "card_uid": new_uid, "key_holder": "1",
                                                         "registered_on": "2026/04/01", "active": "1"})
    assert saved.status_code == 303, saved.text
    [event] = audit_events(office, "person_changed", name)
    changes = facts(event.detail)["changes"]
    assert changes["card"] == [old_uid, new_uid] and changes["key_holder"] == [False, True]
    with unit_of_work(office.factory) as db:
        cards = {c.uid: c.active for c in db.scalars(select(Card).where(Card.person_id == person["id"]))}
    assert cards == {old_uid: False, new_uid: True}  # the old card stays for the ledger, but opens nothing

    again = admin.post(f"/admin/people/{person['id']}", {"name": name, "card_uid": new_uid, "key_holder": "1",
                                                         "registered_on": "2026-04-01", "active": "1"})
    assert "saved=unchanged" in again.headers["location"]
    assert len(audit_events(office, "person_changed", name)) == 1


# ---------------------------------------------------------------------------------------- roles and CSRF


def test_an_auditor_sees_the_lists_without_forms_and_cannot_change_anything(office, browsers):
    name = fresh("監査 対象")
    person = office.add_person(name, fresh_uid())
    auditor = as_role(office, browsers, "auditor")
    for path in ("/admin/people", "/admin/badges", "/admin/items", "/admin/readers", "/audit"):
        page = auditor.get(path)
        assert page.status_code == 200, path
        assert 'method="post" action="/admin' not in page.text, path
        assert 'href="/admin/people/' not in page.text and "<button" not in page.text.split('id="main"')[1].split(
            'id="lock"')[0].replace('<button type="submit">絞り込む</button>', ""), path
    assert name in auditor.get("/admin/people").text
    refused = auditor.post("/admin/people", {"name": fresh("追加"), "active": "1"})
    assert refused.status_code == 403
    assert auditor.post(f"/admin/people/{person['id']}", {"name": "変更", "active": "1"}).status_code == 403
    assert auditor.get(f"/admin/people/{person['id']}").status_code == 403
    assert auditor.post("/admin/badges", {"uid": fresh_uid(), "label": "x"}).status_code == 403
    assert auditor.post("/admin/enrol", {"reader": "x"}).status_code == 403
    assert auditor.get("/admin/import").status_code == 403
    with unit_of_work(office.factory) as db:
        assert db.get(Person, person["id"]).name == name


def test_reception_keeps_the_badge_pool_but_not_the_staff_list(office, browsers):
    reception = as_role(office, browsers, "receptionist")
    assert reception.get("/admin/people").status_code == 403
    assert reception.get("/audit").status_code == 403
    uid, label = fresh_uid(), fresh("来所者")
    added = reception.post("/admin/badges", {"uid": uid, "label": label, "active": "1"})
    assert added.status_code == 303, added.text
    assert label in reception.get("/admin/badges").text
    edited = reception.post(f"/admin/badges/{uid}", {"label": label + " 改"})  # unticked: made inactive
    assert edited.status_code == 303
    with unit_of_work(office.factory) as db:
        badge = db.get(VisitorBadge, uid)
        assert (badge.label, badge.active) == (label + " 改", False)
    [event] = audit_events(office, "badge_changed", uid)
    assert event.actor == "page-receptionist" and facts(event.detail)["changes"]["active"] == [True, False]
    surveyor = as_role(office, browsers, "surveyor")
    assert surveyor.get("/admin/badges").status_code == 403


def test_a_change_without_the_csrf_token_is_refused(office, admin):
    name = fresh("CSRF")
    assert admin.post("/admin/people", {"name": name, "active": "1"}, csrf=False).status_code == 403
    assert admin.client.post("/admin/people", data={"name": name, "csrf": "forged"},
                             follow_redirects=False).status_code == 403
    assert count(office, Person, Person.name == name) == 0


# ---------------------------------------------------------------------------------------- items and readers


def test_items_need_a_cabinet_and_a_free_tag(office, admin):
    entrance, cabinet = fresh_reader_id(), fresh_reader_id()
    office.post("/readers", {"id": entrance, "site": SITE, "role": "entrance", "name": "入口"})
    office.post("/readers", {"id": cabinet, "site": SITE, "role": "cabinet", "name": fresh("書庫")})
    card = fresh_uid()
    office.add_person(fresh("持ち主"), card)
    label = fresh("調査ファイル R8-00123")
    wrong = admin.post("/admin/items", {"label": label, "kind": "folder", "tag_uid": card, "cabinet": entrance,
                                        "case": "R8-00123"})
    assert wrong.status_code == 422
    assert field_error(wrong.text, "cabinet").startswith("キャビネットの読取機として登録されていません")
    assert field_error(wrong.text, "tag_uid") == "このIDは既に職員カードとして登録されています。"
    assert value_of(wrong.text, "case") == "R8-00123"
    bad_kind = admin.post("/admin/items", {"label": label, "kind": "resident", "tag_uid": fresh_uid(),
                                           "cabinet": cabinet})
    assert field_error(bad_kind.text, "kind").startswith("種別は")

    tag = fresh_uid()
    added = admin.post("/admin/items", {"label": label, "kind": "phone", "tag_uid": tag, "cabinet": cabinet,
                                        "encrypted": "1", "case": ""})
    assert added.status_code == 303, added.text
    item_id = int(added.headers["location"].rsplit("item-", 1)[1])
    assert label in admin.get("/admin/items").text
    lost = admin.post(f"/admin/items/{item_id}", {"label": label, "encrypted": "1", "case": "R8-00124",
                                                  "status": "lost"})
    assert lost.status_code == 303
    [event] = audit_events(office, "item_changed", label)
    assert facts(event.detail)["changes"]["case"] == [None, "R8-00124"]
    # Lost from the form is lost as from the API: the item is blocked and its record kept.
    with unit_of_work(office.factory) as db:
        assert db.get(Item, item_id).status == "lost"
        [record] = db.scalars(select(LostItem).where(LostItem.item_id == item_id)).all()
        assert record.marked_by == admin.user and record.checkout_id is None
    [marked] = audit_events(office, "item_marked_lost", label)
    assert marked.actor == admin.user
    assert len(audit_events(office, "item_added", label)) == 1


def test_readers_are_registered_with_a_valid_id_and_show_their_status(office, admin):
    bad = admin.post("/admin/readers", {"id": "Cabinet 1", "site": SITE, "role": "cabinet", "name": "書庫"})
    assert bad.status_code == 422
    assert "半角の英小文字" in field_error(bad.text, "id")
    assert value_of(bad.text, "id") == "Cabinet 1"
    reader_id = fresh_reader_id()
    added = admin.post("/admin/readers", {"id": reader_id, "site": SITE, "role": "entrance", "name": "入口 2"})
    assert added.status_code == 303, added.text
    twice = admin.post("/admin/readers", {"id": reader_id, "site": SITE, "role": "entrance", "name": "入口 2"})
    assert field_error(twice.text, "id") == "この読取機IDは既に登録されています。"
    sim = office.add_reader(fresh_reader_id(), "cabinet")  # publishes its retained status
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with unit_of_work(office.factory) as db:
            if db.get(Reader, sim.reader).online:
                break
        time.sleep(0.05)
    listing = admin.get("/admin/readers").text
    row = re.search(rf'<tr id="reader-{sim.reader}">(.*?)</tr>', listing, re.S)[1]
    assert "オンライン" in row and "sim-0.1.0" in row
    renamed = admin.post(f"/admin/readers/{reader_id}", {"name": "正面入口"})
    assert renamed.status_code == 303
    assert facts(audit_events(office, "reader_changed", "正面入口")[0].detail)["changes"]["name"] == ["入口 2", "正面入口"]


def test_a_reader_named_like_the_servers_broker_account_is_refused_next_to_the_id(office, admin):
    refused = admin.post("/admin/readers", {"id": "mamori-server", "site": SITE, "role": "cabinet", "name": "書庫"})
    assert refused.status_code == 422
    assert "サーバーがMQTTブローカーに接続する名前" in field_error(refused.text, "id")
    with unit_of_work(office.factory) as db:
        assert db.get(Reader, "mamori-server") is None


def test_a_name_with_a_line_break_is_refused_next_to_the_field_and_kept_in_it(office, admin):
    name = fresh("山田")
    refused = admin.post("/admin/people", {"name": f"{name}\n太郎", "card_uid": ""})
    assert refused.status_code == 422
    assert field_error(refused.text, "name") == "改行・タブなどの制御文字は使えません。1行で入力してください。"
    assert count(office, Person, Person.name.contains(name)) == 0
    label = admin.post("/admin/badges", {"uid": fresh_uid(), "label": "来訪者\t1"})
    assert field_error(label.text, "label") == "改行・タブなどの制御文字は使えません。1行で入力してください。"


def test_an_account_name_with_a_line_break_is_refused(office, admin):
    refused = admin.post("/admin/accounts", {"name": "sato\rhanako", "role": "surveyor",
                                             "password": password("surveyor"), "password_again": password("surveyor")})
    assert refused.status_code == 422
    assert "改行・タブなどの制御文字は使えません" in refused.text
    with unit_of_work(office.factory) as db:
        assert db.scalars(select(func.count()).select_from(User).where(User.name.contains("hanako"))).one() == 0


def test_pages_speak_english_after_the_switch(office, browsers):
    manager = as_role(office, browsers, "manager")
    manager.get("/language/en?next=/admin/people")
    try:
        response = manager.post("/admin/people", {"name": fresh("Sato"), "card_uid": "nothex", "active": "1"})
        assert field_error(response.text, "card_uid") == "Use 8 to 20 hex digits, 0–9 and A–F (e.g. 0123456789ABCDEF)."
        assert "<h1>Staff</h1>" in response.text
    finally:
        manager.get("/language/ja")


# ---------------------------------------------------------------------------------------- enrolment


def poll_enrol(browser: Browser, reader: str, since: str, *, want: str | None, timeout: float = 10) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        response = browser.get(f"/admin/enrol/{reader}", params={"since": since}, headers={"X-Mamori-Poll": "1"})
        assert response.status_code == 200, response.text
        uid = response.json()["uid"]
        if uid == want or time.monotonic() > deadline:
            return uid
        time.sleep(0.1)


def test_enrolment_takes_the_next_unknown_card_tapped_on_the_reader(office, browsers):
    reader_id = fresh_reader_id()
    entrance = office.add_reader(reader_id, "entrance")
    known = fresh_uid()
    office.add_person(fresh("既存 職員"), known)
    early = fresh_uid()
    assert entrance.wait_decision(entrance.tap(early)).reason == "unknown_card"  # before the wait: not it

    reception = as_role(office, browsers, "receptionist")
    form = reception.get("/admin/badges").text
    assert "data-enrol" in form and f'value="{reader_id}"' in form and "/static/enrol.js" in form
    started = reception.post("/admin/enrol", {"reader": reader_id}, headers={"X-Requested-With": "fetch"})
    assert started.status_code == 200, started.text
    wait = started.json()
    assert wait["reader"] == reader_id
    assert poll_enrol(reception, reader_id, wait["since"], want=None, timeout=0) is None

    assert entrance.wait_decision(entrance.tap(known)).result == "accept"  # a registered card: ignored
    new = fresh_uid()
    assert entrance.wait_decision(entrance.tap(new.lower(), tech="iso14443a")).reason == "unknown_card"
    assert poll_enrol(reception, reader_id, wait["since"], want=new) == new

    added = reception.post("/admin/badges", {"uid": new, "label": fresh("来所者"), "active": "1"})
    assert added.status_code == 303, added.text
    # Registered now: the same wait finds nothing more until another unknown card is tapped.
    assert poll_enrol(reception, reader_id, wait["since"], want=None, timeout=0) is None
    other = fresh_uid()
    entrance.wait_decision(entrance.tap(other))
    assert poll_enrol(reception, reader_id, wait["since"], want=other) == other


def test_enrolment_refuses_a_stale_wait_and_an_unknown_reader(office, admin):
    assert admin.post("/admin/enrol", {"reader": "no-such-reader"}).status_code == 404
    reader_id = fresh_reader_id()
    office.post("/readers", {"id": reader_id, "site": SITE, "role": "entrance", "name": "入口"})
    old = admin.get(f"/admin/enrol/{reader_id}", params={"since": "2020-01-01T00:00:00+09:00"},
                    headers={"X-Mamori-Poll": "1"})
    assert old.status_code == 422
    naive = admin.get(f"/admin/enrol/{reader_id}", params={"since": "2026-01-01T00:00:00"},
                      headers={"X-Mamori-Poll": "1"})
    assert naive.status_code == 422
    anonymous = page_client(office.app)
    refused = anonymous.get(f"/admin/enrol/{reader_id}", params={"since": datetime.now(UTC).isoformat()},
                            headers={"X-Mamori-Poll": "1"})
    assert refused.status_code == 401


# ---------------------------------------------------------------------------------------- CSV import


def upload(browser: Browser, kind: str, data: bytes, filename: str = "list.csv"):
    return browser.client.post("/admin/import/preview", data={"csrf": browser.csrf, "kind": kind},
                               files={"file": (filename, data, "text/csv")}, follow_redirects=False)


def confirm_data(page: str) -> str | None:
    match = re.search(r'<input type="hidden" name="data" value="([^"]*)"', page)
    return match[1] if match else None


def row_problems(page: str, number: int) -> str:
    return html.unescape(re.search(rf'<tr id="row-{number}"[^>]*>(.*?)</tr>', page, re.S)[1])


def test_an_import_with_bad_rows_shows_each_problem_and_imports_nothing(office, admin):
    good, dup, bad = fresh("佐藤"), fresh("田中"), fresh("鈴木")
    taken = fresh_uid()
    office.add_person(fresh("登録済み"), taken)
    same = fresh_uid()
    text = ("氏名,カードID,鍵を持つ職員,教育受講日\r\n"
            f"{good},{fresh_uid()},はい,2026/04/01\r\n"
            f"{dup},{same},いいえ,R8.4.1\r\n"
            f"{bad},{same},たぶん,2026/02/30\r\n"
            f"{fresh('重複')},{taken},,\r\n")
    data = text.encode("utf-8")
    preview = upload(admin, "people", data)
    assert preview.status_code == 422
    assert "文字コード UTF-8 として読み込みました" in preview.text
    assert confirm_data(preview.text) is None  # no way to go on from here
    assert "まだ1件も登録していません" in preview.text
    assert "問題" not in row_problems(preview.text, 2) and "field-error" not in row_problems(preview.text, 2)
    row4 = row_problems(preview.text, 4)
    assert "カードID: このファイルの 3 行目と重複しています。" in row4
    assert "鍵を持つ職員: 「はい」か「いいえ」" in row4 and "教育受講日: 日付は" in row4
    assert "カードID: このIDは既に職員カードとして登録されています。" in row_problems(preview.text, 5)
    assert count(office, Person, Person.name.in_([good, dup, bad])) == 0

    # Confirming the same bytes anyway (a hand-made form): checked again, nothing written.
    forced = admin.post("/admin/import/confirm", {"kind": "people", "filename": "list.csv",
                                                  "data": base64.b64encode(data).decode()})
    assert forced.status_code == 409
    assert count(office, Person, Person.name.in_([good, dup, bad])) == 0
    assert admin.post("/admin/import/confirm", {"kind": "people", "data": "not base64!"}).status_code == 422


def test_a_good_utf8_bom_staff_list_imports_completely(office, admin):
    names = [fresh("佐藤 花子"), fresh("田中 一郎"), fresh("鈴木 次郎")]
    uids = [fresh_uid(), fresh_uid(), ""]
    text = ("職員名簿 2026年度\r\n"  # a title row above the header, as Excel lists often have
            "氏名,カードID,鍵を持つ職員,教育受講日,備考\r\n"
            f"{names[0]},{uids[0]},○,令和8年4月1日,\r\n"
            f"{names[1]},{uids[1].lower()},×,2025-10-01,異動予定\r\n"
            ",,,,\r\n"
            f"{names[2]},,,,\r\n")
    preview = upload(admin, "people", text.encode("utf-8-sig"), "職員名簿.csv")
    assert preview.status_code == 200, preview.text
    assert "UTF-8（BOM付き）" in preview.text and "次の列は使わないため無視します: 備考" in preview.text
    assert "2026/04/01" in row_problems(preview.text, 3)
    data = confirm_data(preview.text)
    assert data
    done = admin.post("/admin/import/confirm", {"kind": "people", "filename": "職員名簿.csv", "data": data})
    assert done.status_code == 303, done.text
    assert "3 件を登録しました" in admin.get(done.headers["location"]).text
    with unit_of_work(office.factory) as db:
        people = {p.name: p for p in db.scalars(select(Person).where(Person.name.in_(names)))}
        cards = {c.person_id: c.uid for c in db.scalars(select(Card).where(Card.uid.in_(uids[:2])))}
    assert set(people) == set(names)
    assert people[names[0]].key_holder and people[names[0]].training_on.isoformat() == "2026-04-01"
    assert cards == {people[names[0]].id: uids[0], people[names[1]].id: uids[1]}
    [event] = audit_events(office, "import_people", names[0])
    assert event.actor == "page-admin" and facts(event.detail)["rows"] == 3 and facts(event.detail)["file"] == "職員名簿.csv"

    # The same file again: every row is now a duplicate of what is registered.
    again = upload(admin, "people", text.encode("utf-8-sig"))
    assert again.status_code == 422
    assert "同じ氏名の職員が既に登録されています" in row_problems(again.text, 6)


def test_a_good_shift_jis_item_list_imports_completely(office, admin):
    cabinet = fresh_reader_id()
    cabinet_name = fresh("書庫")
    office.post("/readers", {"id": cabinet, "site": SITE, "role": "cabinet", "name": cabinet_name})
    labels = [fresh("調査ファイル"), fresh("調査用携帯"), fresh("USBメモリ")]
    tags = [fresh_uid() for _ in labels]
    text = ("品名,種別,タグID,キャビネット,暗号化,ケース番号\r\n"
            f"{labels[0]},ファイル,{tags[0]},{cabinet},,R8-00123\r\n"
            f"{labels[1]},携帯電話,{tags[1]},{cabinet_name},済,\r\n"
            f"{labels[2]},ＵＳＢメモリ,{tags[2]},{cabinet},○,R8-00124\r\n")
    data = text.encode("cp932")
    preview = upload(admin, "items", data)
    assert preview.status_code == 200, preview.text
    assert "Shift_JIS（cp932）" in preview.text
    done = admin.post("/admin/import/confirm", {"kind": "items", "filename": "物品.csv",
                                                "data": confirm_data(preview.text)})
    assert done.status_code == 303, done.text
    with unit_of_work(office.factory) as db:
        items = {i.label: i for i in db.scalars(select(Item).where(Item.label.in_(labels)))}
    assert [(items[label].kind, items[label].tag_uid, items[label].cabinet_id, items[label].encrypted,
             items[label].case_number) for label in labels] == [
        ("folder", tags[0], cabinet, False, "R8-00123"), ("phone", tags[1], cabinet, True, None),
        ("media", tags[2], cabinet, True, "R8-00124")]
    assert facts(audit_events(office, "import_items", labels[0])[0].detail)["file"] == "物品.csv"


def test_an_import_that_became_wrong_after_the_preview_is_refused_whole(office, admin):
    cabinet = fresh_reader_id()
    office.post("/readers", {"id": cabinet, "site": SITE, "role": "cabinet", "name": "書庫"})
    first, second = fresh_uid(), fresh_uid()
    text = f"label,kind,tag_uid,cabinet\r\n{fresh('A')},folder,{first},{cabinet}\r\n{fresh('B')},key,{second},{cabinet}\r\n"
    preview = upload(admin, "items", text.encode())
    data = confirm_data(preview.text)
    assert data
    office.post("/visitor-badges", {"uid": second, "label": fresh("来所者")})  # meanwhile, at reception
    late = admin.post("/admin/import/confirm", {"kind": "items", "data": data})
    assert late.status_code == 409
    assert "このIDは既に来所者カードとして登録されています" in row_problems(late.text, 3)
    assert count(office, Item, Item.tag_uid.in_([first, second])) == 0


def test_an_oversized_or_unreadable_upload_is_refused(office, admin):
    big = upload(admin, "people", b"name\r\n" + b"x" * (1024 * 1024))
    assert big.status_code == 422 and "ファイルが大きすぎます" in big.text
    garbage = upload(admin, "people", bytes(range(128, 256)) * 4)
    assert "文字コードを判別できません" in garbage.text
    missing = admin.client.post("/admin/import/preview", data={"csrf": admin.csrf, "kind": "people"},
                                follow_redirects=False)
    assert missing.status_code == 422 and field_error(missing.text, "file") == "入力してください。"
    sample = admin.get("/admin/import/sample-people.csv")
    assert sample.content.startswith(b"\xef\xbb\xbf") and "氏名" in sample.content.decode("utf-8-sig")


# ---------------------------------------------------------------------------------------- audit log


def test_the_audit_log_is_newest_first_paged_and_filtered(office, browsers, admin):
    marker = fresh("監査")
    for n in range(3):
        assert admin.post("/admin/people", {"name": f"{marker}-{n}", "active": "1"}).status_code == 303
    auditor = as_role(office, browsers, "auditor")
    log = auditor.get("/audit", params={"action": "person_added"})
    assert log.status_code == 200
    positions = [log.text.index(f"{marker}-{n}") for n in range(3)]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert "職員の追加" in log.text and "page-admin" in log.text
    by_person = auditor.get("/audit", params={"actor": "page-audit"}).text
    assert f"{marker}-0" not in by_person and "ログイン" in by_person
    first = auditor.get("/audit").text
    assert re.search(r"1 / (\d+) ページ", first)
    pages = int(re.search(r"1 / (\d+) ページ", first)[1])
    if pages > 1:
        assert "古い記録 →" in first and auditor.get("/audit", params={"page": pages}).status_code == 200
    assert as_role(office, browsers, "surveyor").get("/audit").status_code == 403
