"""Reception end to end: a visitor registered on the reception page taps in and out with real MQTT
scans and appears in, then leaves, the roll call; badge windows; desk sign-out and cancelling; the
closing-time check with a controllable clock; the 入退室記録簿 as CSV bytes Japanese Excel opens and
as an A4 printout in 和暦.

Real Mosquitto, real server (API + ingest), SQLite and PostgreSQL; logins through the /login form.
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts.service import add_user
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.domain.visits import first_closing_after
from server.notify.sender import NoticeSender
from server.visits.closing import ClosingChecker, close_the_day
from server.visits.models import Visit
from server.wareki import wareki
from server.web.reception import entry_log as entry_log_routes
from tests.support.notify import SmtpServer, WebhookReceiver
from tests.support.office import Office
from tests.support.printout import column, read_printout
from tests.support.web import PASSWORDS, csrf_of, log_in, page_client

pytestmark = pytest.mark.integration

BADGE = "11223344"
OTHER_BADGE = "55667788"
STAFF_CARD = "0123456789ABCDEF"
RECEPTIONIST, SURVEYOR = "受付 花子", "調査 一郎"


class Clock:
    """The web side's clock; the ingest keeps the real one, so it starts at the real now."""

    def __init__(self):
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def office(database_url, broker):
    # Opening at midnight: a walk-in taps in at whatever hour the suite runs (the opening-time rule
    # itself is unit-tested in tests/unit/test_visit_times.py).
    with Office(database_url, broker.url, closing_check_s=3600, opening_time=dt_time(0)) as office:
        office.wait_connected()
        office.clock = Clock()
        office.app.state.clock = office.clock
        with unit_of_work(office.factory) as db:
            add_user(db, RECEPTIONIST, "receptionist", PASSWORDS["receptionist"], datetime.now(UTC))
            add_user(db, SURVEYOR, "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))
        office.entrance = office.add_reader("entrance-1", "entrance")
        office.post("/visitor-badges", {"uid": BADGE, "label": "来所者 01"})
        office.post("/visitor-badges", {"uid": OTHER_BADGE, "label": "来所者 02"})
        office.host = office.add_person("佐藤 花子", STAFF_CARD)
        yield office


def desk(office: Office, name: str = RECEPTIONIST, role: str = "receptionist") -> tuple[TestClient, str]:
    client = page_client(office.app)
    assert log_in(client, name, PASSWORDS[role], "/reception").status_code == 303
    return client, csrf_of(client.get("/reception").text)


def register(client: TestClient, csrf: str, **fields) -> int:
    form = {"csrf": csrf, "visitor_name": "山田 太郎", "organisation": "練馬区 介護保険課", "purpose": "実地指導",
            **fields}
    response = client.post("/reception", data=form)
    assert response.status_code == 303, response.text
    return int(re.search(r"/reception/visits/(\d+)", response.headers["location"]).group(1))


def tap(office: Office, uid: str, after_s: float = 0):
    scan = office.entrance.tap(uid, at=datetime.now(UTC) + timedelta(seconds=after_s))
    decision = office.entrance.wait_decision(scan)
    assert decision is not None, "no decision for a fresh scan"
    return decision


def visit(office: Office, visit_id: int) -> Visit:
    with office.factory() as db:
        return db.get(Visit, visit_id)


def roll_names(client: TestClient) -> list[str]:
    html = client.get("/rollcall").text
    return re.findall(r'<tr data-kind="\w+"><td><span class="roll-box" aria-hidden="true"></span></td><td>([^<]+)</td>',
                      html)


# ------------------------------------------------------------------ the flow


def test_registered_visitor_taps_in_and_out_and_the_roll_call_follows(office):
    client, csrf = desk(office)
    visit_id = register(client, csrf, badge_uid=BADGE, host_person_id=str(office.host["id"]))
    assert f'href="/reception/visits/{visit_id}">山田 太郎' in client.get("/reception").text  # today's list
    page = client.get(f"/reception/visits/{visit_id}?done=registered").text
    assert "山田 太郎" in page and "来所者 01" in page and "佐藤 花子" in page

    tag = client.get(f"/reception/visits/{visit_id}/tag").text
    assert "来所者" in tag and "山田 太郎" in tag and "練馬区 介護保険課" in tag and "佐藤 花子" in tag
    assert wareki(office.clock().astimezone(office.settings.zone).date()) in tag

    assert tap(office, BADGE).action == "entry"
    assert roll_names(client) == ["山田 太郎"]
    [present] = [p for p in office.get("/presence") if p["kind"] == "visitor"]
    assert present["visit_id"] == visit_id and present["badge"] == "来所者 01" and present["host"] == "佐藤 花子"

    assert tap(office, BADGE, after_s=6).action == "exit"  # past the 5 s double-tap window
    assert roll_names(client) == []
    done = visit(office, visit_id)
    assert (done.state, done.badge_returned_at == done.left_at) == ("out", True)
    # The badge is back in the pool: a new visitor can have it at once.
    register(client, csrf, badge_uid=BADGE, visitor_name="次の 来所者")


def test_unregistered_badge_is_refused_and_a_badge_is_lent_to_one_visit_at_a_time(office):
    assert tap(office, BADGE).reason == "visitor_not_registered"
    client, csrf = desk(office)
    register(client, csrf, badge_uid=BADGE)
    response = client.post("/reception", data={"csrf": csrf, "visitor_name": "別の 人", "badge_uid": BADGE})
    assert response.status_code == 422
    assert "別の来所者に貸出中" in response.text
    # The API says the same with a 409.
    api = office.client.post("/api/v1/visits", json={"visitor_name": "API 来訪", "badge_uid": BADGE},
                             headers=office.headers)
    assert api.status_code == 409


def test_a_badge_tapped_at_reception_is_found_for_lending_and_then_lets_the_visitor_in(office):
    client, csrf = desk(office)
    visit_id = register(client, csrf)  # no badge yet
    wait = client.post("/admin/enrol", data={"reader": "entrance-1"}, headers={"X-CSRF-Token": csrf}).json()
    assert tap(office, OTHER_BADGE).reason == "visitor_not_registered"  # the receptionist's tap
    found = client.get("/admin/enrol/entrance-1", params={"since": wait["since"], "want": "free_badge"}).json()
    assert found == {"uid": OTHER_BADGE}
    assert client.post(f"/reception/visits/{visit_id}/badge",
                       data={"csrf": csrf, "badge_uid": OTHER_BADGE}).status_code == 303
    # The visitor taps a moment later: a refused tap is not a double tap, so this one counts.
    assert tap(office, OTHER_BADGE, after_s=1).action == "entry"


def test_a_badge_works_only_within_its_visits_window(office):
    surveyor = page_client(office.app)
    assert log_in(surveyor, SURVEYOR, PASSWORDS["surveyor"], "/visits/new").status_code == 303
    csrf = csrf_of(surveyor.get("/visits/new").text)
    tomorrow = (office.clock().astimezone(office.settings.zone) + timedelta(days=1)).date()
    response = surveyor.post("/visits/new", data={"csrf": csrf, "visitor_name": "明日 来る人", "day": tomorrow.isoformat(),
                                                  "expected_time": "10:00"})
    assert response.status_code == 303
    with office.factory() as db:
        expected = db.scalars(select(Visit).where(Visit.visitor_name == "明日 来る人")).one()
    assert [v["id"] for v in office.get("/visits", day=tomorrow.isoformat())] == [expected.id]
    assert office.get("/visits", day=(tomorrow + timedelta(days=1)).isoformat()) == []
    local_from = expected.valid_from.astimezone(office.settings.zone)
    assert (local_from.date(), local_from.hour) == (tomorrow, 9)  # an hour before the expected time

    client, desk_csrf = desk(office)
    assert client.post(f"/reception/visits/{expected.id}/badge",
                       data={"csrf": desk_csrf, "badge_uid": BADGE}).status_code == 303
    assert tap(office, BADGE).reason == "visitor_not_registered"  # today is not the visit's day
    assert visit(office, expected.id).state == "expected"


def test_pre_registration_refuses_a_past_day_next_to_the_field(office):
    surveyor = page_client(office.app)
    log_in(surveyor, SURVEYOR, PASSWORDS["surveyor"], "/visits/new")
    csrf = csrf_of(surveyor.get("/visits/new").text)
    yesterday = (office.clock().astimezone(office.settings.zone) - timedelta(days=1)).date()
    response = surveyor.post("/visits/new", data={"csrf": csrf, "visitor_name": "過去", "day": yesterday.isoformat(),
                                                  "expected_time": "25:00"})
    assert response.status_code == 422
    assert 'id="f-day-error"' in response.text and "今日以降の日付" in response.text
    assert 'id="f-expected_time-error"' in response.text
    # Surveyors expect visitors; they do not run the desk.
    assert surveyor.get("/reception").status_code == 403


def test_desk_sign_out_and_cancelling(office):
    client, csrf = desk(office)
    inside = register(client, csrf, badge_uid=BADGE)
    tap(office, BADGE)
    response = client.post(f"/reception/visits/{inside}/badge-back", data={"csrf": csrf})
    assert response.headers["location"].endswith("done=signed_out")
    v = visit(office, inside)
    assert (v.state, v.closed_by, v.left_at is not None, v.badge_returned_at is not None) == (
        "out", RECEPTIONIST, True, True)

    no_show = register(client, csrf, badge_uid=OTHER_BADGE)
    assert client.post(f"/reception/visits/{no_show}/cancel", data={"csrf": csrf}).status_code == 303
    v = visit(office, no_show)
    assert (v.state, v.badge_uid) == ("cancelled", None)
    assert client.post(f"/reception/visits/{no_show}/cancel", data={"csrf": csrf}).status_code == 409
    with office.factory() as db:
        actions = [a for a, in db.execute(select(AuditEvent.action).where(AuditEvent.action.like("visit_%")))]
        details = " ".join(db.scalars(select(AuditEvent.detail).where(AuditEvent.action.like("visit_%"))))
    assert actions.count("visit_registered") == 2 and "visit_badge_back" in actions and "visit_cancelled" in actions
    assert "山田" not in details  # the audit log outlives the retention period: numbers, not names


# ------------------------------------------------------------------ closing time


def closing_round(office: Office, now: datetime, *, auto: bool) -> list[Alert]:
    with unit_of_work(office.factory) as db:
        opened = close_the_day(db, now, closing=office.settings.closing_time, zone=office.settings.zone,
                               auto_sign_out=auto)
        return [(a.type, a.visit_id) for a in opened]


@pytest.mark.parametrize("auto", [False, True])
def test_closing_time_alerts_once_for_visitors_in_and_badges_out(office, auto):
    client, csrf = desk(office)
    inside = register(client, csrf, badge_uid=BADGE)
    tap(office, BADGE)
    never_came = register(client, csrf, badge_uid=OTHER_BADGE)
    zone, closing_time = office.settings.zone, office.settings.closing_time
    closing = first_closing_after(visit(office, inside).entered_at, closing_time, zone)
    badge_visit = visit(office, never_came)
    badge_due = max(first_closing_after(badge_visit.valid_from, closing_time, zone), badge_visit.valid_until)

    assert closing_round(office, min(closing, badge_due) - timedelta(seconds=1), auto=auto) == []
    opened = closing_round(office, max(closing, badge_due) + timedelta(minutes=1), auto=auto)
    assert sorted(opened) == sorted([("visitor_not_signed_out", inside), ("badge_not_returned", never_came)])
    later = max(closing, badge_due) + timedelta(hours=3)
    assert closing_round(office, later, auto=auto) == []  # once, never a flood

    v = visit(office, inside)
    if auto:
        assert (v.state, v.left_at, v.closed_at) == ("not_signed_out", None, closing.astimezone(UTC))
        assert v.badge_returned_at is None  # nobody has the badge back
        office.clock.now = closing + timedelta(minutes=5)
        client, _csrf = desk(office)  # hours later: a new login
        roll = client.get("/rollcall").text
        assert "退室未確認" in roll and "山田 太郎" in roll
        [unsure] = [p for p in office.get("/presence") if p["kind"] == "visitor"]
        assert unsure["unconfirmed"] is True
        assert tap(office, BADGE, after_s=6).reason == "visitor_not_registered"
    else:
        assert v.state == "in"
    dash = client.get("/dashboard").text
    assert "退室未確認の来所者" in dash and "来所者カード未返却" in dash


# ------------------------------------------------------------------ the 入退室記録簿


def test_entry_log_csv_opens_in_japanese_excel_and_prints_in_reiwa(office, monkeypatch):
    client, csrf = desk(office)
    visit_id = register(client, csrf, badge_uid=BADGE, visitor_name="=HYPERLINK(\"x\")", organisation="株式会社 ①髙橋")
    tap(office, BADGE)
    tap(office, BADGE, after_s=6)
    office.entrance.wait_acked(office.entrance.tap(STAFF_CARD, at=datetime.now(UTC) + timedelta(seconds=7)))
    day = office.clock().astimezone(office.settings.zone).date()

    response = client.get(f"/entry-log.csv?from={day}&to={day}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "filename*=UTF-8''%E5%85%A5%E9%80%80%E5%AE%A4" in response.headers["content-disposition"]
    data = response.content
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8-sig")  # strict: every byte is UTF-8
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["日付", "区分", "氏名", "所属", "用件", "面会者", "カード", "入室時刻", "退室時刻", "備考"]
    visitor = next(r for r in rows[1:] if r[1] == "来所者")
    assert visitor[2] == "'=HYPERLINK(\"x\")"  # a formula is text in Excel, never run
    assert visitor[3] == "株式会社 ①髙橋" and visitor[6] == "来所者 01"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", visitor[0]) and re.fullmatch(r"\d{2}:\d{2}", visitor[7])
    assert any(r[1] == "職員" and r[2] == "佐藤 花子" for r in rows[1:])
    # Characters Shift_JIS lacks would be mojibake there; UTF-8 keeps them.
    assert "髙" in text

    paper = read_printout(client.get(f"/entry-log/print?from={day}&to={day}").text)
    assert paper.body_class == "print print-landscape"
    assert office.settings.office_name in paper.head and wareki(day) in paper.head and "入退室記録簿" in paper.head
    assert column(paper, "date") == [wareki(day)] * 2  # the rows' dates in 和暦, as the header
    assert column(paper, "name") == ['=HYPERLINK("x")', "佐藤 花子"]
    assert paper.stamps == ["担当", "確認", "管理責任者", "監査"] and paper.page_stamp == "確認印"
    assert f"印刷日時: {wareki(day)} " in paper.foot
    page = client.get(f"/entry-log?from={day}&to={day}&who=visitor").text
    assert "株式会社 ①髙橋" in page and "佐藤 花子" not in page
    with office.factory() as db:
        exported = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("entry_log_%"))).all()
    assert exported == ["entry_log_exported", "entry_log_printed"]
    assert visit_id
    monkeypatch.setattr(entry_log_routes, "PRINT_MAX", 1)  # a longer period is sent to the CSV, not printed
    refused = client.get(f"/entry-log/print?from={day}&to={day}").text
    assert "1 件を超えるため印刷できません" in refused and f'href="/entry-log.csv?from={day}&amp;to={day}"' in refused
    with office.factory() as db:
        assert db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("entry_log_%"))).all() == exported


def test_entry_log_rejects_a_bad_period_next_to_the_field(office):
    client, _csrf = desk(office)
    response = client.get("/entry-log?from=2026-13-01&to=2026-11-27")
    assert response.status_code == 422 and 'id="f-from-error"' in response.text
    response = client.get("/entry-log?from=2020-01-01&to=2026-11-27")
    assert response.status_code == 422 and 'id="f-to-error"' in response.text
    response = client.get("/entry-log.csv?from=2026-11-28&to=2026-11-27")
    assert response.status_code == 422


# ------------------------------------------------------------------ the host is told


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_host_is_told_once_by_e_mail_and_webhook_when_their_visitor_taps_in(database_url, broker):
    with SmtpServer() as smtp, WebhookReceiver(secret="hook-secret") as hook, \
            Office(database_url, broker.url, smtp_url=smtp.url, webhook_url=hook.url, webhook_secret="hook-secret",
                   notice_check_s=0.2, public_url="https://mamori.example.jp") as office:
        office.wait_connected()
        entrance = office.add_reader("entrance-1", "entrance")
        office.post("/visitor-badges", {"uid": BADGE, "label": "来所者 01"})
        host = office.add_person("佐藤 花子", STAFF_CARD)
        with unit_of_work(office.factory) as db:
            account = add_user(db, "sato", "surveyor", PASSWORDS["surveyor"], datetime.now(UTC))
            account.person_id, account.email = host["id"], "sato@example.jp"
        visit = office.post("/visits", {"visitor_name": "山田 太郎", "organisation": "練馬区", "purpose": "実地指導",
                                        "badge_uid": BADGE, "host_person_id": host["id"]})
        office.entrance = entrance
        assert tap(office, BADGE).action == "entry"
        wait_for(lambda: len(smtp.received) == 1 and len(hook.deliveries) == 1)
        [mail] = smtp.received
        assert mail.rcpt_tos == ["sato@example.jp"]
        assert mail.message["Subject"] == "【mamori】来所者 山田 太郎 様（練馬区）が到着しました"
        body = mail.message.get_content()
        assert "実地指導" in body and f"https://mamori.example.jp/reception/visits/{visit['id']}" in body
        [delivery] = hook.deliveries
        assert delivery.signed_right and delivery.json["kind"] == "visitor_arrived"
        assert delivery.json["visit_id"] == visit["id"]
        # A re-sent entry scan (the reader's outbox) and the exit tell nobody again.
        entrance.resend_all()
        assert tap(office, BADGE, after_s=6).action == "exit"
        time.sleep(1)
        assert (len(smtp.received), len(hook.deliveries)) == (1, 1)


def test_reception_is_told_once_about_a_visitor_not_signed_out_at_closing(database_url, broker):
    with WebhookReceiver(secret="hook-secret") as hook, \
            Office(database_url, broker.url, webhook_url=hook.url, webhook_secret="hook-secret",
                   closing_check_s=3600, notice_check_s=3600) as office:
        office.wait_connected()
        office.entrance = office.add_reader("entrance-1", "entrance")
        office.post("/visitor-badges", {"uid": BADGE, "label": "来所者 01"})
        visit_id = office.post("/visits", {"visitor_name": "山田 太郎", "badge_uid": BADGE})["id"]
        assert tap(office, BADGE).action == "entry"
        zone = office.settings.zone
        entered = visit(office, visit_id).entered_at.astimezone(zone)
        closing = first_closing_after(entered, office.settings.closing_time, zone)
        def clock():
            return closing + timedelta(minutes=1)

        checker = ClosingChecker(office.factory, clock, office.settings)
        assert checker.check() == 1
        assert checker.check() == 0
        sender = NoticeSender(office.factory, office.settings, clock)
        sender.send_due()
        sender.send_due()
        [delivery] = [d for d in hook.deliveries if d.json["kind"] != "visitor_arrived"]
        assert delivery.json["kind"] == "visitor_not_signed_out" and delivery.json["visit_id"] == visit_id
        assert "山田 太郎" in delivery.json["subject"]


def test_the_stamp_boxes_are_the_offices_own_and_english_prints_western_dates(office):
    office.app.state.settings = office.settings.model_copy(update={"print_stamps": ("担当者", "所長")})
    client, _csrf = desk(office)
    register(client, csrf_of(client.get("/reception").text), badge_uid=BADGE, visitor_name="山田 太郎")
    tap(office, BADGE)
    day = office.clock().astimezone(office.settings.zone).date()
    paper = read_printout(client.get(f"/entry-log/print?from={day}&to={day}").text)
    assert paper.stamps == ["担当者", "所長"]
    client.get("/language/en?next=/entry-log")
    paper = read_printout(client.get(f"/entry-log/print?from={day}&to={day}").text)
    assert paper.stamps == ["Prepared", "Head of office"] and paper.page_stamp == "Checked"
    assert column(paper, "date") == [f"{day:%Y/%m/%d}"] and "令和" not in paper.head + paper.foot
