"""The 持ち出し管理簿 (/register) built from real MQTT scans: take-outs three days ago, two days ago
and now; the filters narrow exactly; the CSV opens in Japanese Excel with a formula-guarded cell;
overdue comes from due_at as the page's clock moves; the access-rights report names a key holder
whose training lapsed; a surveyor sees only their own rows; an auditor reads and changes nothing.

Real Mosquitto, the real server (API + ingest), SQLite and PostgreSQL; logins through /login.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts.service import add_user
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.wareki import wareki
from tests.support.office import Office
from tests.support.printout import column, read_printout
from tests.support.web import PASSWORDS, log_in, page_client

pytestmark = pytest.mark.integration

SATO, SUZUKI, TANAKA = "0123456789ABCDEF", "0A0B0C0D", "0E0F1011"
FOLDER, PHONE_OLD, PHONE_NEW, USB = "04A1B2C3D4E5F6", "04B1B2C3D4E5F6", "04C1B2C3D4E5F6", "04D1B2C3D4E5F6"
USB_LABEL = "=1+1 USBメモリ"  # a label that Excel would run as a formula without the guard


class Clock:
    """The pages' clock; the ingest keeps the real one, so it starts at the real now."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Table(HTMLParser):
    """The cells of <table id="register">, row by row."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self._inside = self._body = self._cell = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "register") in attrs:
            self._inside = True
        elif self._inside and tag == "tbody":
            self._body = True
        elif self._body and tag == "tr":
            self.rows.append([])
        elif self._body and tag == "td":
            self.rows[-1].append("")
            self._cell = True

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = self._body = False
        self._cell = self._cell and tag != "td"

    def handle_data(self, data):
        if self._cell:
            self.rows[-1][-1] += data


def take(cabinet, card: str, tags: list[str], at: datetime) -> None:
    """A key holder opens the cabinet at `at` and taps `tags` (each out, or back if it is out)."""
    scans = [cabinet.tap(card, at=at)]
    scans += [cabinet.tap(tag, tech="iso14443a", at=at + timedelta(seconds=2 * (n + 1))) for n, tag in enumerate(tags)]
    assert cabinet.wait_acked(scans)


@pytest.fixture
def office(database_url, broker):
    with Office(database_url, broker.url, overdue_check_s=3600, notice_check_s=3600) as office:
        office.wait_connected()
        now = datetime.now(UTC).replace(microsecond=0)
        today = now.astimezone(office.settings.zone).date()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        office.sato = office.add_person("佐藤 花子", SATO, key_holder=True, training_on=today - timedelta(days=30))
        office.add_person("鈴木 次郎", SUZUKI, key_holder=True, training_on=today - timedelta(days=100))
        office.add_person("田中 一郎", TANAKA, key_holder=True, training_on=today - timedelta(days=400))
        office.add_person("山田 三郎", "0F0F0F0F")  # no key: not in the access-rights report
        office.add_item("調査ファイル R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
        office.add_item("携帯電話 02", "phone", PHONE_OLD, "cabinet-1", encrypted=True)
        office.add_item("携帯電話 01", "phone", PHONE_NEW, "cabinet-1", encrypted=True)
        office.add_item(USB_LABEL, "media", USB, "cabinet-1", encrypted=True)
        # At 10:00 on those days, whatever the time now: a return 50 minutes later is before the 18:00 due time.
        office.three_days_ago, office.two_days_ago = (
            datetime.combine(today - timedelta(days=n), time(10), tzinfo=office.settings.zone).astimezone(UTC)
            for n in (3, 2))
        take(cabinet, SUZUKI, [USB], office.three_days_ago)  # never comes back: overdue
        take(cabinet, SATO, [FOLDER, PHONE_OLD], office.two_days_ago)
        take(cabinet, SATO, [FOLDER, PHONE_OLD], office.two_days_ago + timedelta(minutes=50))  # both back
        take(cabinet, SATO, [PHONE_NEW], now)  # out now
        office.clock = Clock(now + timedelta(seconds=10))
        office.app.state.clock = office.clock
        with unit_of_work(office.factory) as db:
            add_user(db, "auditor", "auditor", PASSWORDS["auditor"], datetime.now(UTC))
            sato = add_user(db, "sato", "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))
            sato.person_id = office.sato["id"]
            add_user(db, "yamada", "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))  # linked to no staff
            add_user(db, "boss", "manager", PASSWORDS["manager"], datetime.now(UTC))
        yield office


def login(office: Office, name: str, role: str) -> TestClient:
    client = page_client(office.app)
    assert log_in(client, name, PASSWORDS[role], "/register").status_code == 303
    return client


def rows(client: TestClient, **params) -> list[list[str]]:
    response = client.get("/register", params=params)
    assert response.status_code == 200, response.text
    return Table(response.text).rows


def items(client: TestClient, **params) -> list[str]:
    """The item column of the transactions report, in the order shown."""
    return [row[1] for row in rows(client, **params)]


def period(office: Office, since: datetime, until: datetime | None = None) -> dict[str, str]:
    zone = office.settings.zone
    return {"from": since.astimezone(zone).date().isoformat(),
            "to": (until or office.clock()).astimezone(zone).date().isoformat()}


def exports(office: Office) -> list[tuple[str, str | None]]:
    with office.factory() as db:
        return [(e.action, e.actor) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action.like("checkout_register_%")).order_by(AuditEvent.id))]


def test_transactions_list_every_take_out_of_the_period_and_the_filters_narrow_exactly(office):
    client = login(office, "boss", "manager")
    everything = period(office, office.three_days_ago)
    assert items(client, **everything) == [USB_LABEL, "調査ファイル R8-00123", "携帯電話 02", "携帯電話 01"]
    two_days_ago = period(office, office.two_days_ago, office.two_days_ago)
    assert items(client, **two_days_ago) == ["調査ファイル R8-00123", "携帯電話 02"]
    assert items(client, **everything, person="鈴木") == [USB_LABEL]
    assert items(client, **everything, item="携帯") == ["携帯電話 02", "携帯電話 01"]
    assert items(client, **everything, kind="phone") == ["携帯電話 02", "携帯電話 01"]
    assert items(client, **everything, case="R8-00123") == ["調査ファイル R8-00123"]
    assert items(client, **everything, state="returned") == ["調査ファイル R8-00123", "携帯電話 02"]
    assert items(client, **everything, state="out") == [USB_LABEL, "携帯電話 01"]
    assert items(client, **everything, state="overdue") == [USB_LABEL]
    assert items(client, **everything, item="%") == []  # LIKE wildcards are searched for literally
    assert items(client, **everything, item="_") == []

    folder, phone = rows(client, **two_days_ago)
    assert folder[3] == "R8-00123" and folder[4] == "佐藤 花子" and folder[5] == "R8-00123"  # case = purpose
    assert folder[8] == "佐藤 花子" and folder[10] == "対象外" and folder[11] == "返却済"
    assert "18:00 までに返却" in folder[9]  # the loan rule that applied, in words
    assert phone[10] == "未確認"  # a phone back whose survey data nobody has confirmed erased
    [new_phone] = rows(client, **everything, item="携帯電話 01")
    assert new_phone[10] == "返却後に確認" and new_phone[11] == "持ち出し中" and new_phone[7] == ""


def test_a_period_that_is_wrong_is_refused_next_to_its_field(office):
    client = login(office, "boss", "manager")
    response = client.get("/register", params={"from": "2026-11-28", "to": "2026-11-27"})
    assert response.status_code == 422
    assert re.search(r'id="f-from-error">「から」は「まで」以前の日付にしてください。<', response.text)
    response = client.get("/register.csv", params={"from": "2025-01-01", "to": "2026-11-27"})
    assert response.status_code == 422 and 'id="f-to-error">期間は最長 366 日です。<' in response.text
    assert client.get("/register", params={"from": "27/11/2026"}).status_code == 422
    assert exports(office) == []  # nothing was exported


def test_the_csv_opens_in_japanese_excel_with_japanese_headers_and_guarded_cells(office):
    client = login(office, "boss", "manager")
    response = client.get("/register.csv", params=period(office, office.three_days_ago))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''" + quote("持ち出し管理簿_取引記録_") in response.headers["content-disposition"]
    data = response.content
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0] == ["持ち出し日時", "品目", "種別", "ケース番号", "持ち出し者", "目的", "返却予定", "返却日時", "返却者",
                        "貸出ルール", "データ消去確認", "状態"]
    assert [row[1] for row in table[1:]] == ["'" + USB_LABEL, "調査ファイル R8-00123", "携帯電話 02", "携帯電話 01"]
    usb = table[1]
    out_local = (office.three_days_ago + timedelta(seconds=2)).astimezone(office.settings.zone)  # its tap
    assert usb[0] == out_local.strftime("%Y/%m/%d %H:%M") and usb[2] == "記録媒体" and usb[4] == "鈴木 次郎"
    assert usb[11].startswith("期限超過（")

    overdue = client.get("/register.csv", params={"report": "overdue"}).content.decode("utf-8-sig")
    assert overdue.splitlines()[0] == '"返却予定","超過時間","品目","種別","ケース番号","持ち出し者","目的","持ち出し日時","貸出ルール"'
    assert exports(office) == [("checkout_register_exported", "boss")] * 2


def test_overdue_comes_from_due_at_as_time_passes(office):
    client = login(office, "boss", "manager")
    [usb] = rows(client, report="overdue")
    [checkout] = [c for c in office.get("/checkouts", state="open") if c["item"]["label"] == USB_LABEL]
    late = office.clock() - datetime.fromisoformat(checkout["due_at"])
    days, hours = late.days, late.seconds // 3600
    assert usb[1] == (f"{days}日" if days else "") + (f"{hours}時間" if hours else "")
    assert usb[2] == USB_LABEL and usb[5] == "鈴木 次郎"
    out = rows(client, report="out")
    assert [row[1] for row in out] == [USB_LABEL, "携帯電話 01"]  # soonest due first

    [phone] = [c for c in office.get("/checkouts", state="open") if c["item"]["label"] == "携帯電話 01"]
    office.clock.now = datetime.fromisoformat(phone["due_at"]) + timedelta(hours=1, minutes=5)
    client = login(office, "boss", "manager")  # hours later the screen had locked: log in again
    overdue = rows(client, report="overdue")
    assert [row[2] for row in overdue] == [USB_LABEL, "携帯電話 01"]
    assert overdue[1][1] == "1時間5分"
    assert rows(client, report="transactions", item="携帯電話 01", **period(office, office.two_days_ago))[0][11] \
        == "期限超過（1時間5分）"


def test_access_rights_name_who_can_open_and_the_key_holder_whose_training_lapsed(office):
    client = login(office, "boss", "manager")
    table = rows(client, report="access")
    assert [(row[0], row[1]) for row in table] == [("佐藤 花子", "可"), ("鈴木 次郎", "可"), ("田中 一郎", "不可")]
    tanaka = table[2]
    assert tanaka[2] == "情報セキュリティ教育の有効期限切れ" and tanaka[6] == ""
    today = office.clock().astimezone(office.settings.zone).date()
    expired = today - timedelta(days=400) + timedelta(days=office.settings.training_valid_days)
    assert tanaka[4] == expired.strftime("%Y/%m/%d") + "(" + "月火水木金土日"[expired.weekday()] + ")"
    assert table[0][6] == "cabinet-1（いつでも）"  # the cabinets 佐藤 opens, and when (no grant yet: any time)
    page = client.get("/register", params={"report": "access"}).text
    assert "開けられる: 2 名・開けられない: 1 名" in page

    printout = client.get("/register/print", params={"report": "access"}).text
    assert "田中 一郎" in printout and "情報セキュリティ教育の有効期限切れ" in printout
    assert office.settings.office_name in printout and wareki(today) in printout and "管理責任者" in printout
    csv_text = client.get("/register.csv", params={"report": "access"}).content.decode("utf-8-sig")
    assert '"田中 一郎","不可","情報セキュリティ教育の有効期限切れ"' in csv_text
    assert exports(office) == [("checkout_register_printed", "boss"), ("checkout_register_exported", "boss")]


def test_the_printout_is_a4_with_the_period_and_every_row_in_reiwa_and_four_stamp_boxes(office):
    client = login(office, "boss", "manager")
    since = office.three_days_ago.astimezone(office.settings.zone).date()
    today = office.clock().astimezone(office.settings.zone).date()
    paper = read_printout(client.get("/register/print", params=period(office, office.three_days_ago)).text)
    assert paper.body_class == "print print-landscape"
    assert f"{wareki(since)}（{since:%Y/%m/%d}" in paper.head and f"{wareki(today)}（{today:%Y/%m/%d}" in paper.head
    assert "持ち出し管理簿" in paper.head and "取引記録" in paper.head and office.settings.office_name in paper.head
    assert f"印刷日時: {wareki(today)} " in paper.foot and "印刷者: boss" in paper.foot
    assert paper.stamps == ["担当", "確認", "管理責任者", "監査"] and paper.page_stamp == "確認印"
    out_at = column(paper, "out_at")
    assert len(out_at) == 4 and all(re.fullmatch(r"令和\d+年\d+月\d+日 \d{2}:\d{2}", d) for d in out_at), out_at
    returned = sorted(column(paper, "returned_at"))  # the time alone on the day they left
    assert returned[:2] == ["", ""] and all(re.fullmatch(r"(\d+月\d+日 )?\d{2}:\d{2}", r) for r in returned[2:]), returned
    assert "R8-00123" in column(paper, "case") and USB_LABEL in column(paper, "item")
    assert exports(office) == [("checkout_register_printed", "boss")]


def test_the_printout_in_english_has_western_dates_and_the_stamps_in_english(office):
    client = login(office, "boss", "manager")
    client.get("/language/en?next=/register")
    today = office.clock().astimezone(office.settings.zone).date()
    paper = read_printout(client.get("/register/print", params=period(office, office.three_days_ago)).text)
    assert paper.stamps == ["Prepared", "Checked", "Manager", "Auditor"] and paper.page_stamp == "Checked"
    assert f"Printed {today:%Y/%m/%d} " in paper.foot and "令和" not in paper.head + paper.foot
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", d) for d in column(paper, "out_at"))


def test_a_surveyor_sees_only_their_own_rows(office):
    client = login(office, "sato", "surveyor")
    everything = period(office, office.three_days_ago)
    assert items(client, **everything) == ["調査ファイル R8-00123", "携帯電話 02", "携帯電話 01"]
    assert items(client, **everything, person="鈴木") == []  # asking for someone else never widens the view
    assert items(client, **everything, kind="media") == []
    assert [row[2] for row in rows(client, report="overdue")] == []
    assert [row[1] for row in rows(client, report="out")] == ["携帯電話 01"]
    assert [row[0] for row in rows(client, report="access")] == ["佐藤 花子"]
    csv_text = client.get("/register.csv", params=everything).content.decode("utf-8-sig")
    assert USB_LABEL not in csv_text and "鈴木" not in csv_text and "佐藤 花子" in csv_text
    assert "鈴木" not in client.get("/register/print", params=everything).text

    stranger = login(office, "yamada", "surveyor")  # a login linked to no member of staff sees nothing
    page = stranger.get("/register", params=everything).text
    assert "結び付けられていない" in page and Table(page).rows == []


def test_an_auditor_reads_every_report_and_can_change_nothing(office):
    client = login(office, "auditor", "auditor")
    for report in ("transactions", "out", "overdue", "access"):
        page = client.get("/register", params={"report": report, **period(office, office.three_days_ago)})
        assert page.status_code == 200
        forms = re.findall(r'<form method="(\w+)" action="([^"]+)"', page.text)
        assert ("post", "/logout") in forms and [f for f in forms if f[0] == "post" and f[1] != "/logout"] == []
    assert items(client, **period(office, office.three_days_ago)) == [USB_LABEL, "調査ファイル R8-00123",
                                                                       "携帯電話 02", "携帯電話 01"]
    assert client.get("/register.csv").status_code == 200
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/register").text).group(1)
    assert client.post("/register", data={"csrf": csrf}).status_code == 405
    assert exports(office) == [("checkout_register_exported", "auditor")]


def test_a_receptionist_may_not_open_the_register(office):
    with unit_of_work(office.factory) as db:
        add_user(db, "uketsuke", "receptionist", PASSWORDS["receptionist"], datetime.now(UTC))
    client = page_client(office.app)
    log_in(client, "uketsuke", PASSWORDS["receptionist"])
    response = client.get("/register")
    assert response.status_code == 403 and "権限がありません" in response.text
