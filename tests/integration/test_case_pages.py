"""The 受付簿's pages: the book with its filters, its CSV for Excel and its A4 print in 和暦; the case page
with its history in words; the destruction form that needs a witness other than the person
destroying; the 廃棄記録 print. Real pages through the login, SQLite and PostgreSQL, a moved clock."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from server.cases.models import Case
from server.cases.service import Actor, receive, record_submission, record_survey
from server.db import unit_of_work
from server.people.service import add_person
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
