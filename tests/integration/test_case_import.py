"""The ward's request list into the 受付簿 through the staff import's machinery: Shift_JIS with 和暦
dates, a preview, all or nothing, and a row refused whole when it carries a resident's personal data.
SQLite and PostgreSQL, through the real pages."""

from __future__ import annotations

import base64
import html
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from server.cases.models import Case, CaseEvent
from server.db import unit_of_work
from server.people.service import add_person
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def manager(database_url):
    site = Site(database_url, case_retention_days=90)
    with unit_of_work(site.factory) as db:
        add_person(db, datetime.now(UTC), name="佐藤 花子", card_uid=None)
    with page_client(site.app):
        client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
        yield site, client, csrf


def _upload(client, csrf: str, data: bytes):
    return client.post("/admin/import/preview", data={"csrf": csrf, "kind": "cases"},
                       files={"file": ("依頼一覧.csv", data, "text/csv")})


def _cases(site) -> int:
    with site.factory() as db:
        return db.scalar(select(func.count()).select_from(Case))


def _row(page: str, number: int) -> str:
    return html.unescape(re.search(rf'<tr id="row-{number}"[^>]*>(.*?)</tr>', page, re.S)[1])


def test_a_shift_jis_request_list_with_wareki_dates_is_previewed_then_imported_whole(manager):
    site, client, csrf = manager
    data = ("ケース番号,依頼受理日,調査区分,担当調査員,調査期限,備考\r\n"
            "R8-00123,令和8年4月1日,更新,佐藤 花子,R8.4.20,\r\n"
            "R8-00124,2026/04/02,区分変更,,令和8年4月25日,再調査\r\n").encode("cp932")
    preview = _upload(client, csrf, data)
    assert preview.status_code == 200, preview.text
    assert "Shift_JIS（cp932）" in preview.text and "2026/04/20" in preview.text and "区分変更" in preview.text
    assert _cases(site) == 0  # a preview writes nothing
    encoded = re.search(r'name="data" value="([^"]*)"', preview.text)[1]
    done = client.post("/admin/import/confirm", data={"csrf": csrf, "kind": "cases", "filename": "依頼一覧.csv",
                                                      "data": encoded})
    assert done.status_code == 303
    with site.factory() as db:
        cases = {c.number: c for c in db.scalars(select(Case))}
        assert (cases["R8-00123"].received_on, cases["R8-00123"].kind, cases["R8-00123"].deadline) == \
            (date(2026, 4, 1), "renewal", date(2026, 4, 20))
        assert cases["R8-00123"].surveyor_id is not None and cases["R8-00124"].retention_days == 90
        event = db.scalars(select(CaseEvent).where(CaseEvent.case_id == cases["R8-00124"].id)).one()
        assert (event.action, event.by_name, event.reason) == ("received", "manager", "CSV: 依頼一覧.csv")


def test_a_row_carrying_personal_data_is_refused_with_its_reason_and_nothing_is_imported(manager):
    site, client, csrf = manager
    data = ("ケース番号,依頼受理日,調査区分,被保険者氏名,住所,備考\r\n"
            "R8-00201,令和8年4月1日,新規,,,\r\n"
            "R8-00202,令和8年4月1日,新規,練馬 太郎,豊玉北6丁目12番1号,\r\n"
            "R8-00203,令和8年4月1日,新規,,,連絡先 03-1234-5678\r\n"
            "山田太郎,令和8年4月1日,新規,,,\r\n"
            "R8-00201,平成32年4月1日,たぶん,,,\r\n").encode("cp932")
    preview = _upload(client, csrf, data)
    assert preview.status_code == 422
    assert "被保険者氏名: 対象者の氏名は受付簿に取り込めません。この列を削除してください" in _row(preview.text, 3)
    assert "住所: 住所は受付簿に取り込めません。" in _row(preview.text, 3)
    assert "備考: 備考に電話番号のような記載があります。" in _row(preview.text, 4)
    assert "ケース番号: ケース番号は区の番号" in _row(preview.text, 5)
    row6 = _row(preview.text, 6)
    assert "このファイルの 2 行目と重複しています。" in row6 and "調査区分: 調査区分は 新規・更新・区分変更" in row6
    assert "依頼受理日: 日付は" in row6
    forced = client.post("/admin/import/confirm", data={"csrf": csrf, "kind": "cases", "filename": "x.csv",
                                                        "data": base64.b64encode(data).decode()})
    assert forced.status_code == 409
    assert _cases(site) == 0


def test_a_case_number_already_in_the_book_or_an_unknown_surveyor_is_refused(manager):
    site, client, csrf = manager
    first = "ケース番号,依頼受理日,調査区分\r\nR8-00301,2026/04/01,新規\r\n".encode()
    preview = _upload(client, csrf, first)
    client.post("/admin/import/confirm", data={"csrf": csrf, "kind": "cases", "filename": "a.csv",
                                               "data": re.search(r'name="data" value="([^"]*)"', preview.text)[1]})
    again = _upload(client, csrf, "ケース番号,依頼受理日,調査区分,担当調査員\r\nR8-00301,2026/04/01,新規,\r\n"
                                  "R8-00302,2026/04/01,新規,田中 一郎\r\n".encode())
    assert again.status_code == 422
    assert "このケース番号はすでに受付簿にあります。" in _row(again.text, 2)
    assert "担当調査員: この名前の在籍職員がいません。" in _row(again.text, 3)
    assert _cases(site) == 1
