"""The 受付簿's pages: the book with its filters, its CSV for Excel and its A4 print in 和暦; the case page
with its history in words; the destruction form that needs a witness other than the person
destroying; the 廃棄記録 print. Real pages through the login, SQLite and PostgreSQL, a moved clock."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts.models import User
from server.cases.models import Case, CaseEvent
from server.cases.service import Actor, receive, record_submission, record_survey
from server.checkouts.models import Checkout
from server.db import unit_of_work
from server.items.service import add_item
from server.people.service import add_person
from server.readers.models import Reader
from tests.support.printout import column, read_printout
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url, case_retention_days=30)
    site.clock.now = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    with unit_of_work(site.factory) as db:
        now = datetime.now(UTC)
        sato = add_person(db, now, name="佐藤 花子", card_uid=None).id
        suzuki = add_person(db, now, name="鈴木 一郎", card_uid=None).id
        office = Actor("manager")
        done = receive(db, now, office, number="R7-09001", received_on=datetime(2026, 2, 2).date(), kind="renewal",
                       retention_days=30, surveyor_id=sato)
        record_survey(db, done, now, datetime(2026, 4, 1).date(), office, datetime(2026, 2, 10).date())
        record_submission(db, done, now, datetime(2026, 4, 1).date(), office, datetime(2026, 2, 20).date())
        receive(db, now, office, number="R7-09002", received_on=datetime(2026, 3, 5).date(), kind="new",
                retention_days=30, deadline=datetime(2026, 3, 25).date(), note="=1+1 再調査")
        site.ids = {"sato": sato, "suzuki": suzuki, "done": done.id}
    with page_client(site.app):
        yield site


def test_the_book_lists_the_period_in_japanese_and_reception_may_not_see_it(site):
    client, _ = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    html = client.get("/cases?from=2026-02-01&to=2026-03-31").text
    assert "受付簿（調査依頼）" in html and "R7-09001" in html and "提出済（保管中）" in html and "更新" in html
    assert "期限超過" in html  # R7-09002's deadline passed on 2026-03-25
    table = html[html.index('<table id="case-book">'):]
    assert "renewal" not in table and "submitted" not in table  # words, never codes
    received = client.get("/cases?from=2026-02-01&to=2026-03-31&state=received").text
    assert "R7-09002" in received and "R7-09001" not in received
    # R7-09001's memos were to be kept until 2026-03-22 and are not destroyed: overdue too.
    assert client.get("/cases?from=2026-02-01&to=2026-03-31&overdue=1").text.count('class="overdue"') == 2
    assert client.get("/cases?from=2026-03-01&to=2026-03-31&kind=renewal").text.count("/cases/1\"") == 0
    bad = client.get("/cases?from=2026-03-31&to=2026-02-01")
    assert bad.status_code == 422 and 'id="f-from-error"' in bad.text
    reception, _ = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    assert reception.get("/cases").status_code == 403


def test_the_csv_opens_in_excel_and_the_print_is_in_wareki_with_stamp_boxes(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    response = client.get("/cases.csv?from=2026-02-01&to=2026-03-31")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["ケース番号", "依頼受理日", "調査区分", "担当調査員"]
    assert rows[1][:4] == ["R7-09001", "2026/02/02", "更新", "佐藤 花子"]
    assert rows[2][-1] == "'=1+1 再調査"  # a formula never runs in Excel
    printed = read_printout(client.get("/cases/print?from=2026-02-01&to=2026-03-31").text)
    assert "受付簿" in printed.head and "令和8年2月1日" in printed.head
    assert column(printed, "received_on") == ["令和8年2月2日", "令和8年3月5日"]
    assert column(printed, "retain_until") == ["令和8年3月22日", ""]
    assert printed.stamps == ["担当", "確認", "管理責任者", "監査"]


def test_destruction_needs_a_witness_other_than_the_destroyer_and_then_reads_as_the_whole_story(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    case = site.ids["done"]
    page = client.get(f"/cases/{case}").text
    assert 'id="destroy-form"' in page
    same = client.post(f"/cases/{case}/destroy", data={"csrf": csrf, "method": "dissolve",
                                                       "destroyed_by": site.ids["sato"], "witness": site.ids["sato"]})
    assert same.status_code == 422
    assert 'id="f-witness-error"' in same.text and "立会者は廃棄者とは別の職員を選んでください。" in same.text
    assert f'<option value="{site.ids["sato"]}" selected>' in same.text  # nothing typed is lost
    done = client.post(f"/cases/{case}/destroy", data={"csrf": csrf, "method": "dissolve",
                                                       "destroyed_by": site.ids["sato"], "witness": site.ids["suzuki"]})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "廃棄済" in page and "溶解" in page and "鈴木 一郎" in page
    for step in ("受付", "調査実施", "区へ提出", "廃棄"):
        assert step in page
    assert "dissolve" not in page and "destroyed_by_id" not in page
    printed = read_printout(client.get("/cases/destructions/print?from=2026-04-01&to=2026-04-30").text)
    assert "廃棄記録" in printed.head
    assert column(printed, "number") == ["R7-09001"]
    assert column(printed, "destroyed_on") == ["令和8年4月1日"]
    assert (column(printed, "method"), column(printed, "witness")) == (["溶解"], ["鈴木 一郎"])


def test_the_survey_is_recorded_by_the_surveyor_in_charge_or_a_manager_with_the_date_checked(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    with unit_of_work(site.factory) as db:
        new = receive(db, datetime.now(UTC), Actor("manager"), number="R8-00010",
                      received_on=datetime(2026, 3, 30).date(), kind="change", retention_days=30).id
    surveyor, surveyor_csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    not_hers = surveyor.post(f"/cases/{new}/survey", data={"csrf": surveyor_csrf, "on": "2026-03-31"})
    assert not_hers.status_code == 403 and "担当調査員か管理責任者が行います" in not_hers.text
    future = client.post(f"/cases/{new}/survey", data={"csrf": csrf, "on": "2026-04-02"})
    assert future.status_code == 422 and "今日より後の日付は記録できません。" in future.text
    assert 'value="2026-04-02"' in future.text
    assert client.post(f"/cases/{new}/survey", data={"csrf": csrf, "on": "2026-03-31"}).status_code == 303
    assert "調査済" in client.get(f"/cases/{new}").text


def test_a_manager_corrects_an_entry_on_the_page_and_the_wrong_entry_stays(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    case = site.ids["done"]
    refused = client.post(f"/cases/{case}/correct", data={"csrf": csrf, "entry": "1", "field": "surveyed_on",
                                                           "value": "2026-02-09", "reason": "実施日の誤記"})
    assert refused.status_code == 422 and 'id="f-entry-error"' in refused.text
    assert "この記録はこの項目を記録していません。" in refused.text and 'value="実施日の誤記"' in refused.text
    done = client.post(f"/cases/{case}/correct", data={"csrf": csrf, "entry": "3", "field": "submitted_on",
                                                        "value": "令和8年2月19日", "reason": "提出日の誤記"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "訂正を記録しました。" in page and "訂正（3 番の記録を訂正）" in page and "理由：提出日の誤記" in page
    assert "提出日：2026/02/20" in page and "提出日：2026/02/19" in page  # the wrong entry stays beside its correction
    with site.factory() as db:
        assert db.get(Case, case).retain_until.isoformat() == "2026-03-21"


def test_a_manager_receives_a_request_on_the_page_and_it_is_in_the_book_with_its_history(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert 'href="/cases/new"' in client.get("/cases").text
    form = client.get("/cases/new").text
    assert 'id="receive-form"' in form and "依頼受理" in form and "区分変更" in form
    done = client.post("/cases/new", data={"csrf": csrf, "number": "R8-00300", "received_on": "令和8年3月30日",
                                           "kind": "change", "surveyor": site.ids["sato"], "deadline": "2026-04-20",
                                           "note": "再依頼"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "受付簿に記録しました。" in page and "区分変更" in page and "佐藤 花子" in page
    history = page[page.index('<table id="case-history">'):]
    assert "受付" in history and "調査期限：2026/04/20" in history and "備考：再依頼" in history
    book = client.get("/cases?from=2026-03-01&to=2026-03-31").text
    assert "R8-00300" in book
    with site.factory() as db:
        case = db.scalars(select(Case).where(Case.number == "R8-00300")).one()
        assert (case.received_on.isoformat(), case.kind, case.retention_days) == ("2026-03-30", "change", 30)


def test_a_personal_looking_or_taken_case_number_is_refused_next_to_the_field_and_nothing_is_lost(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    typed = {"csrf": csrf, "received_on": "2026-03-30", "kind": "new", "deadline": "2026-04-20", "note": "急ぎ"}
    named = client.post("/cases/new", data={**typed, "number": "山田 太郎"})
    assert named.status_code == 422 and 'id="f-number-error"' in named.text
    assert "氏名や住所は入れられません" in named.text
    assert 'value="山田 太郎"' in named.text and 'value="2026-04-20"' in named.text and 'value="急ぎ"' in named.text
    taken = client.post("/cases/new", data={**typed, "number": "R7-09001"})
    assert taken.status_code == 422 and 'id="f-number-error"' in taken.text
    assert "このケース番号はすでに受付簿にあります。" in taken.text
    note = client.post("/cases/new", data={**typed, "number": "R8-00301", "note": "田中様 宅"})
    assert note.status_code == 422 and 'id="f-note-error"' in note.text
    late = client.post("/cases/new", data={**typed, "number": "R8-00301", "deadline": "2026-03-01"})
    assert late.status_code == 422 and 'id="f-deadline-error"' in late.text
    client.get("/language/en")
    english = client.post("/cases/new", data={**typed, "number": "R7-09001"})
    assert english.status_code == 422 and "This case number is already in the request book" in english.text
    with site.factory() as db:
        assert db.scalars(select(Case.number).order_by(Case.id)).all() == ["R7-09001", "R7-09002"]


def test_a_surveyor_neither_sees_the_receive_form_nor_may_post_it(site):
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    assert 'href="/cases/new"' not in client.get("/cases").text
    assert client.get("/cases/new").status_code == 403
    posted = client.post("/cases/new", data={"csrf": csrf, "number": "R8-00400", "received_on": "2026-03-30",
                                             "kind": "new"})
    assert posted.status_code == 403
    with site.factory() as db:
        assert db.scalar(select(Case.id).where(Case.number == "R8-00400")) is None


def test_a_withdrawal_is_refused_while_a_folder_is_out_and_recorded_once_it_is_back(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    with unit_of_work(site.factory) as db:
        now = site.clock()
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫キャビネット 1", created_at=now))
        db.flush()
        folder = add_item(db, now, label="ケースファイル R7-09002", kind="folder", tag_uid="04A1B2C3D4E5F6",
                          cabinet="cabinet-1", case="R7-09002")
        db.add(Checkout(item_id=folder.id, person_id=site.ids["sato"], out_at=now, due_at=now + timedelta(hours=8),
                        out_scan_id="scan-1"))
        case = db.scalars(select(Case.id).where(Case.number == "R7-09002")).one()
    assert 'id="withdraw-form"' in client.get(f"/cases/{case}").text
    refused = client.post(f"/cases/{case}/withdraw", data={"csrf": csrf, "withdrawn_on": "2026-03-31",
                                                           "withdraw_reason": "区が依頼を取下げ"})
    assert refused.status_code == 422 and 'id="f-withdrawn_on-error"' in refused.text
    assert "1 点、キャビネットから持ち出されたままです" in refused.text and 'value="区が依頼を取下げ"' in refused.text
    no_reason = client.post(f"/cases/{case}/withdraw", data={"csrf": csrf, "withdrawn_on": "2026-03-31"})
    assert no_reason.status_code == 422 and 'id="f-withdraw_reason-error"' in no_reason.text
    with unit_of_work(site.factory) as db:
        db.scalars(select(Checkout)).one().returned_at = site.clock()
    done = client.post(f"/cases/{case}/withdraw", data={"csrf": csrf, "withdrawn_on": "2026-03-31",
                                                        "withdraw_reason": "区が依頼を取下げ"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "取下げを記録しました。" in page and "取下げ（保管中）" in page and "理由：区が依頼を取下げ" in page
    assert 'id="withdraw-form"' not in page


def test_a_note_and_a_new_surveyor_in_charge_show_in_the_history_and_the_old_entries_stay(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    case = site.ids["done"]
    personal = client.post(f"/cases/{case}/note", data={"csrf": csrf, "note": "〒176-0001"})
    assert personal.status_code == 422 and 'id="f-note-error"' in personal.text
    assert 'value="〒176-0001"' in personal.text
    assert client.post(f"/cases/{case}/note", data={"csrf": csrf, "note": "区へ再確認"}).status_code == 303
    same = client.post(f"/cases/{case}/surveyor", data={"csrf": csrf, "surveyor": site.ids["sato"],
                                                        "surveyor_reason": "担当替え"})
    assert same.status_code == 422 and 'id="f-surveyor-error"' in same.text
    done = client.post(f"/cases/{case}/surveyor", data={"csrf": csrf, "surveyor": site.ids["suzuki"],
                                                        "surveyor_reason": "担当替え"})
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    history = page[page.index('<table id="case-history">'):]
    assert "備考の変更" in history and "備考：区へ再確認" in history
    assert "担当調査員：佐藤 花子" in history and "担当調査員：鈴木 一郎" in history and "理由：担当替え" in history
    with site.factory() as db:
        assert db.get(Case, case).surveyor_id == site.ids["suzuki"]
        assert [e.action for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == case)
                                             .order_by(CaseEvent.id))][-2:] == ["note", "correct"]


def test_only_the_surveyor_in_charge_or_a_manager_changes_the_note_and_a_surveyor_may_not_reassign(site):
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    case = site.ids["done"]
    assert 'id="note-form"' not in client.get(f"/cases/{case}").text
    assert client.post(f"/cases/{case}/note", data={"csrf": csrf, "note": "x"}).status_code == 403
    with unit_of_work(site.factory) as db:
        db.scalars(select(User).where(User.name == "surveyor")).one().person_id = site.ids["sato"]
    assert 'id="note-form"' in client.get(f"/cases/{case}").text
    assert 'id="reassign-form"' not in client.get(f"/cases/{case}").text
    assert client.post(f"/cases/{case}/note", data={"csrf": csrf, "note": "調査日調整中"}).status_code == 303
    assert client.post(f"/cases/{case}/surveyor", data={"csrf": csrf, "surveyor": site.ids["suzuki"],
                                                        "surveyor_reason": "x"}).status_code == 403
    assert client.post(f"/cases/{case}/withdraw", data={"csrf": csrf, "withdrawn_on": "2026-03-31",
                                                        "withdraw_reason": "x"}).status_code == 403
