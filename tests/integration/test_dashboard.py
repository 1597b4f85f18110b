"""The dashboard through the real pages: an overdue folder made by real MQTT scans, its alert
acknowledged and resolved (page and API), who is in, the readers, the idle lock on the refresh, and a
remote unlock that a subscriber on the cabinet's command topic receives once, not retained.

Real Mosquitto, real server (API + ingest), SQLite and PostgreSQL; logins through the /login form.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway import protocol
from server.accounts.service import add_user, create_token
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.web import dashboard
from server.web.render import duration, office_time
from tests.support.office import SITE, Office
from tests.support.words import facts

pytestmark = pytest.mark.integration

STAFF_CARD = "0123456789ABCDEF"
OTHER_CARD = "0A0B0C0D"
FOLDER_TAG = "04A1B2C3D4E5F6"
VISITOR_BADGE = "11223344"
FOLDER = "調査書類 R8-00123"
KEY_HOLDER = "佐藤 花子"
PASSWORDS = {"manager": "Manager-Pass-2026", "auditor": "Auditor-Pass-2026",
             "receptionist": "Reception-Pass-2026", "admin": "Admin-Pass-2026x"}
FIRST_STEP_ONLY = {"escalate_after_min": 10**6, "lost_prompt_after_h": 10**4}
USERS = {"manager": "田中 管理", "auditor": "監査 一郎", "receptionist": "受付 花子", "admin": "システム 管理"}


class Clock:
    """The web side's clock, held still so "how late" and the idle lock can be asserted exactly.
    (The ingest keeps the real clock: scans are judged as they arrive.)"""

    def __init__(self):
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def office(database_url, broker):
    # The checker runs once at start-up (nothing is overdue yet); the tests run it by hand.
    # Only the first step of chasing here (test_chase.py has the others).
    with Office(database_url, broker.url, overdue_check_s=3600, **FIRST_STEP_ONLY) as office:
        office.wait_connected()
        office.clock = Clock()
        office.app.state.clock = office.clock
        office.broker = broker
        with unit_of_work(office.factory) as db:
            for role, name in USERS.items():
                add_user(db, name, role, PASSWORDS[role], datetime.now(UTC))
            office.tokens = {role: create_token(db, name, datetime.now(UTC)) for role, name in USERS.items()}
        yield office


# ------------------------------------------------------------------ helpers


def browser(office: Office, role: str) -> TestClient:
    """A client logged in through the real login form (HTTPS: the session cookie is Secure)."""
    client = TestClient(office.app, base_url="https://testserver", follow_redirects=False)
    form = client.get("/login?next=/dashboard")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"name": USERS[role], "password": PASSWORDS[role], "csrf": token,
                                           "next": "/dashboard"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard", response.text
    return client


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def api(office: Office, role: str) -> dict:
    return {"Authorization": f"Bearer {office.tokens[role]}"}


def yesterday_at(office: Office, hour: int, minute: int = 0) -> datetime:
    zone = office.settings.zone
    day = datetime.now(zone).date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def overdue_folder(office: Office):
    """A key holder opens the cabinet and takes the folder out yesterday at 09:00, as a reader that
    was offline would replay it: stale scans, recorded at their own time, due yesterday 18:00."""
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person(KEY_HOLDER, STAFF_CARD, key_holder=True, training_on=date.today() - timedelta(days=30))
    office.add_item(FOLDER, "folder", FOLDER_TAG, "cabinet-1", case="R8-00123")
    morning = yesterday_at(office, 9)
    scans = [cabinet.tap(STAFF_CARD, at=morning),
             cabinet.tap(FOLDER_TAG, tech="iso14443a", at=morning + timedelta(seconds=10))]
    assert cabinet.wait_acked(scans)
    assert cabinet.wait_decision(scans[0], timeout=0.5) is None  # stale: recorded, never answered
    [checkout] = office.get("/checkouts", state="overdue")
    assert datetime.fromisoformat(checkout["due_at"]) == yesterday_at(office, 18)
    return cabinet, checkout


def alerts(office: Office, **params) -> list[dict]:
    return office.get("/alerts", **params)


def audit(office: Office, action: str) -> list[AuditEvent]:
    with office.factory() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def panel(html: str, heading_id: str) -> str:
    """The text of one panel of the dashboard (from its heading to the end of its section)."""
    start = html.index(f'id="{heading_id}"')
    return html[start:html.index("</section>", start)]


class CommandWatcher:
    """A paho subscriber on one reader's command topic, collecting what arrives."""

    def __init__(self, broker_url: str, reader: str):
        host, port = broker_url.removeprefix("mqtt://").split(":")
        self.topic = protocol.topic(SITE, reader, "command")
        self.messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, *_: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.messages.append(msg)
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert self._subscribed.wait(5), "the watcher could not subscribe"

    def wait(self, count: int, timeout: float = 5) -> list[mqtt.MQTTMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# ------------------------------------------------------------------ the overdue item


def test_an_overdue_folder_from_real_scans_shows_what_who_since_when_and_how_late(office, monkeypatch):
    _cabinet, checkout = overdue_folder(office)
    client = browser(office, "manager")
    html = client.get("/dashboard").text
    overdue = panel(html, "dash-overdue-h")
    zone = office.settings.zone
    late = duration((office.clock() - yesterday_at(office, 18)).total_seconds(), "ja")
    for text in (FOLDER, "調査書類", "R8-00123", KEY_HOLDER, office_time(yesterday_at(office, 9), zone),
                 office_time(yesterday_at(office, 18), zone), late, "1件"):
        assert text in overdue, text
    assert checkout["item"]["label"] == FOLDER

    # Later, it is later: computed at the time of asking, never a stored flag.
    office.clock.advance(hours=2)
    client = browser(office, "manager")  # (two idle hours locked the first login's screen)
    later = duration((office.clock() - yesterday_at(office, 18)).total_seconds(), "ja")
    assert later != late and later in panel(client.get("/dashboard/panels").text, "dash-overdue-h")
    assert "dash-overdue-all" not in overdue

    # More overdue than the dashboard shows: the rest is one link away, in the 持ち出し管理簿.
    monkeypatch.setattr(dashboard, "OVERDUE_SHOWN", 0)
    crowded = panel(client.get("/dashboard/panels").text, "dash-overdue-h")
    assert FOLDER not in crowded and "ほか 1 件は表示していません。" in crowded
    assert 'href="/register?report=overdue"' in crowded and "期限超過をすべて持ち出し管理簿で見る" in crowded
    assert FOLDER in client.get("/register?report=overdue").text
    monkeypatch.undo()

    # The English switch, from the page's own link.
    assert client.get("/language/en?next=/dashboard").status_code == 303
    english = panel(client.get("/dashboard").text, "dash-overdue-h")
    assert "Overdue items" in english and "Case folder" in english
    assert duration((office.clock() - yesterday_at(office, 18)).total_seconds(), "en") in english


def test_the_overdue_checker_opens_exactly_one_alert_per_checkout(office):
    _cabinet, checkout = overdue_folder(office)
    checker = office.ingest.overdue
    # Two rounds at once (say, two server processes, or the loop and this test) still make one.
    results: list[int] = []
    rounds = [threading.Thread(target=lambda: results.append(checker.check())) for _ in range(2)]
    for r in rounds:
        r.start()
    for r in rounds:
        r.join()
    assert sorted(results) == [0, 1]
    assert checker.check() == 0
    assert checker.check() == 0
    [alert] = alerts(office)
    assert alert["type"] == "overdue" and alert["severity"] == "medium" and alert["state"] == "open"
    assert alert["item_id"] == checkout["item"]["id"] and alert["person_id"] == checkout["person"]["id"]
    assert alert["checkout_id"] == checkout["id"] and alert["reader_id"] == "cabinet-1"
    assert FOLDER in alert["subject"] and KEY_HOLDER in alert["subject"] and "R8-00123" in alert["subject"]
    # The database itself refuses a second overdue alert for the checkout.
    with pytest.raises(IntegrityError), unit_of_work(office.factory) as db:
        db.add(Alert(type="overdue", severity="medium", opened_at=datetime.now(UTC), subject="again",
                     checkout_id=checkout["id"]))
    # Resolved, it stays the checkout's one overdue alert: the checker does not open another.
    office.client.post(f"/api/v1/alerts/{alert['id']}/resolve", json={}, headers=api(office, "manager"))
    assert checker.check() == 0 and len(alerts(office)) == 1


def test_the_checker_runs_by_itself_in_the_server(database_url, broker):
    with Office(database_url, broker.url, overdue_check_s=0.2, **FIRST_STEP_ONLY) as office:
        office.wait_connected()
        overdue_folder(office)
        deadline = time.monotonic() + 10
        while not alerts(office) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.6)  # a few more rounds
        assert [a["type"] for a in alerts(office)] == ["overdue"]


def test_a_late_return_leaves_the_alert_open_and_the_dashboard_says_it_came_back(office):
    cabinet, _checkout = overdue_folder(office)
    office.ingest.overdue.check()
    back = [cabinet.tap(STAFF_CARD), cabinet.tap(FOLDER_TAG, tech="iso14443a")]
    assert cabinet.wait_decision(back[1]).action == "return"
    assert office.get("/checkouts", state="overdue") == []
    [alert] = alerts(office, state="open")
    html = browser(office, "manager").get("/dashboard").text
    assert FOLDER not in panel(html, "dash-overdue-h")
    assert "返却済み" in panel(html, "dash-alerts-h") and FOLDER in panel(html, "dash-alerts-h")
    assert alert["type"] == "overdue"


# ------------------------------------------------------------------ alerts: acknowledge and resolve


def test_a_manager_acknowledges_and_resolves_with_a_note_on_the_page_and_csrf_is_enforced(office):
    overdue_folder(office)
    office.ingest.overdue.check()
    [alert] = alerts(office)
    client = browser(office, "manager")
    html = client.get("/dashboard").text
    alerts_panel = panel(html, "dash-alerts-h")
    assert "返却期限超過" in alerts_panel and "中" in alerts_panel
    assert f'action="/alerts/{alert["id"]}/acknowledge"' in alerts_panel
    assert ">確認</button>" in alerts_panel and ">解決</button>" in alerts_panel
    assert f'<label for="note-{alert["id"]}">' in alerts_panel
    csrf = csrf_of(html)

    refused = client.post(f"/alerts/{alert['id']}/acknowledge", data={"note": "no token"})
    assert refused.status_code == 403
    refused = client.post(f"/alerts/{alert['id']}/acknowledge", data={"note": "wrong", "csrf": "x" * 32})
    assert refused.status_code == 403
    assert alerts(office)[0]["state"] == "open"

    done = client.post(f"/alerts/{alert['id']}/acknowledge", data={"note": "本人に電話しました", "csrf": csrf})
    assert done.status_code == 303 and done.headers["location"].startswith("/dashboard")
    [acked] = alerts(office)
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == USERS["manager"]
    assert "本人に電話しました" in acked["note"]
    page = client.get(done.headers["location"]).text
    assert "アラートを確認済みにしました" in page
    assert f"{USERS['manager']} が確認" in panel(page, "dash-alerts-h")
    assert ">確認</button>" not in panel(page, "dash-alerts-h")  # only 解決 is left

    done = client.post(f"/alerts/{alert['id']}/resolve", data={"note": "翌朝返却を確認", "csrf": csrf})
    assert done.status_code == 303
    [resolved] = alerts(office)
    assert resolved["state"] == "resolved" and resolved["resolved_by"] == USERS["manager"]
    assert "本人に電話しました" in resolved["note"] and "翌朝返却を確認" in resolved["note"]
    assert "未対応のアラートはありません" in client.get("/dashboard").text
    again = client.post(f"/alerts/{alert['id']}/resolve", data={"csrf": csrf})
    assert again.status_code == 409 and "すでに解決済み" in again.text
    assert client.post("/alerts/999999/acknowledge", data={"csrf": csrf}).status_code == 404

    [ack_event] = audit(office, "alert_acknowledged")
    [resolve_event] = audit(office, "alert_resolved")
    assert ack_event.actor == resolve_event.actor == USERS["manager"]
    assert facts(ack_event.detail)["note"] == "本人に電話しました" and facts(resolve_event.detail)["alert"] == alert["id"]


def test_the_api_acknowledges_and_resolves_with_the_contracts_statuses(office):
    overdue_folder(office)
    office.ingest.overdue.check()
    [alert] = alerts(office)
    url = f"/api/v1/alerts/{alert['id']}"
    manager = api(office, "manager")
    assert office.client.post(f"{url}/acknowledge", json={"note": "x"}, headers=api(office, "auditor")).status_code == 403
    assert office.client.post(f"{url}/resolve", json={}, headers=api(office, "receptionist")).status_code == 403

    body = office.client.post(f"{url}/acknowledge", json={"note": "見ています"}, headers=manager)
    assert body.status_code == 200, body.text
    assert body.json()["state"] == "acknowledged" and body.json()["acknowledged_by"] == USERS["manager"]
    assert body.json()["acknowledged_at"].endswith("+09:00")
    again = office.client.post(f"{url}/acknowledge", headers=manager)  # no body at all: fine, nothing changes
    assert again.status_code == 200 and again.json()["acknowledged_at"] == body.json()["acknowledged_at"]

    resolved = office.client.post(f"{url}/resolve", json={"note": "返却済み"}, headers=manager)
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    assert "見ています" in resolved.json()["note"] and "返却済み" in resolved.json()["note"]
    for action in ("acknowledge", "resolve"):
        conflict = office.client.post(f"{url}/{action}", json={}, headers=manager)
        assert conflict.status_code == 409 and conflict.json()["detail"]
    missing = office.client.post("/api/v1/alerts/999999/resolve", json={}, headers=manager)
    assert missing.status_code == 404 and missing.json()["detail"]
    assert office.client.post(f"{url}/resolve", json={"colour": "red"}, headers=manager).status_code == 422
    assert [e.actor for e in audit(office, "alert_resolved")] == [USERS["manager"]]


def test_an_auditor_sees_everything_without_a_button_and_is_refused_every_action(office):
    overdue_folder(office)
    office.ingest.overdue.check()
    [alert] = alerts(office)
    client = browser(office, "auditor")
    html = client.get("/dashboard").text
    assert FOLDER in panel(html, "dash-overdue-h") and "返却期限超過" in panel(html, "dash-alerts-h")
    assert "キャビネット" in panel(html, "dash-readers-h")
    assert "/acknowledge" not in html and "/resolve" not in html and "遠隔解錠" not in html
    assert "<button" not in panel(html, "dash-alerts-h")
    csrf = csrf_of(html)
    for path in (f"/alerts/{alert['id']}/acknowledge", f"/alerts/{alert['id']}/resolve", "/readers/cabinet-1/unlock"):
        refused = client.post(path, data={"csrf": csrf, "note": "監査"})
        assert refused.status_code == 403, path
        assert "権限がありません" in refused.text
    assert client.get("/readers/cabinet-1/unlock").status_code == 403
    assert alerts(office)[0]["state"] == "open"
    assert audit(office, "alert_acknowledged") == [] and audit(office, "remote_unlock") == []


# ------------------------------------------------------------------ who is in, readers, the refresh


def test_the_panels_show_who_is_in_and_the_readers_and_alert_types_by_name(office, monkeypatch):
    entrance = office.add_reader("entrance", "entrance")
    office.add_reader("cabinet-1", "cabinet")
    office.post("/readers", {"id": "cabinet-2", "site": SITE, "role": "cabinet", "name": "書庫 2"})  # never connected
    office.add_person(KEY_HOLDER, STAFF_CARD)
    office.add_person("鈴木 次郎", OTHER_CARD)  # not a key holder: refused at the cabinet, an alert
    office.post("/visitor-badges", {"uid": VISITOR_BADGE, "label": "来所者 1"})
    office.post("/visits", {"visitor_name": "山田 太郎", "organisation": "練馬区 介護保険課", "purpose": "立入検査",
                            "host": "管理責任者", "badge_uid": VISITOR_BADGE})
    taps = [entrance.tap(STAFF_CARD), entrance.tap(VISITOR_BADGE)]
    assert entrance.wait_acked(taps)
    cabinet = office.readers[-1]
    assert cabinet.wait_decision(cabinet.tap(OTHER_CARD)).reason == "not_key_holder"
    with unit_of_work(office.factory) as db:
        db.add(Alert(type="mystery_kind", severity="low", opened_at=datetime.now(UTC), subject="from a newer server"))

    client = browser(office, "manager")
    fragment = client.get("/dashboard/panels", headers={"X-Mamori-Poll": "1"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    present = panel(fragment.text, "dash-present-h")
    assert KEY_HOLDER in present and "山田 太郎" in present and "練馬区 介護保険課" in present
    assert "職員 1 名・来所者 1 名" in present
    assert "ほか" not in present and 'href="/rollcall"' not in present
    # More in than the dashboard names (thousands in a ward's office): the counts stay whole, the rest
    # is one link away; visitors are named first.
    monkeypatch.setattr(dashboard, "PRESENT_SHOWN", 1)
    crowded = panel(client.get("/dashboard/panels", headers={"X-Mamori-Poll": "1"}).text, "dash-present-h")
    assert "職員 1 名・来所者 1 名" in crowded and "山田 太郎" in crowded and KEY_HOLDER not in crowded
    assert "ほか 1 名。" in crowded and 'href="/rollcall"' in crowded
    monkeypatch.undo()
    alerts_panel = panel(fragment.text, "dash-alerts-h")
    assert "キャビネットで拒否" in alerts_panel and "鍵を持つ職員ではない" in alerts_panel
    # An unknown type is named in words, never by its code or its stored subject.
    assert "その他のアラート" in alerts_panel and "mystery_kind" not in alerts_panel
    assert "from a newer server" not in alerts_panel and OTHER_CARD not in alerts_panel
    readers = panel(fragment.text, "dash-readers-h")
    assert readers.count("オンライン") >= 2 and "未接続" in readers and "sim-0.1.0" in readers
    assert "書庫 2" in readers and 'href="/readers/cabinet-1/unlock"' in readers
    assert 'href="/readers/entrance/unlock"' not in readers  # no lock at the entrance
    assert re.search(r'data-updated="\d\d:\d\d:\d\d"', fragment.text)

    # A reader that goes away shows as offline (its Last Will, retained).
    entrance.stop()
    office.readers.remove(entrance)
    deadline = time.monotonic() + 5
    while office.get("/readers/entrance")["online"] is not False and time.monotonic() < deadline:
        time.sleep(0.05)
    readers = panel(client.get("/dashboard/panels", headers={"X-Mamori-Poll": "1"}).text, "dash-readers-h")
    assert "オフライン" in readers and "オンライン 1 / 3 台" in readers

    page = client.get("/dashboard").text
    assert '<script src="/static/dashboard.js"></script>' in page
    script = client.get("/static/dashboard.js").text
    assert "X-Mamori-Poll" in script and "mamori:unlocked" in script and "mamoriLock" in script


def test_the_refresh_is_not_activity_and_gets_locked_or_login_answers_a_script_can_act_on(office):
    client = browser(office, "manager")
    poll = {"X-Mamori-Poll": "1"}
    office.clock.advance(minutes=6)
    assert client.get("/dashboard/panels", headers=poll).status_code == 200
    office.clock.advance(minutes=5)  # 11 minutes since the person last did anything; polls do not count
    locked = client.get("/dashboard/panels", headers=poll)
    assert locked.status_code == 401 and locked.json()["locked"] is True
    # A person's own request is sent to the lock screen, and keeps where they were.
    response = client.get("/dashboard")
    assert response.status_code == 303 and response.headers["location"] == "/lock?next=/dashboard"

    stranger = TestClient(office.app, base_url="https://testserver", follow_redirects=False)
    logged_out = stranger.get("/dashboard/panels", headers=poll)
    assert logged_out.status_code == 401 and logged_out.json()["login"].startswith("/login?next=")


def test_a_visit_to_the_dashboard_counts_as_activity(office):
    client = browser(office, "receptionist")  # every role may see the dashboard
    office.clock.advance(minutes=8)
    assert client.get("/dashboard").status_code == 200
    office.clock.advance(minutes=8)
    assert client.get("/dashboard/panels", headers={"X-Mamori-Poll": "1"}).status_code == 200


# ------------------------------------------------------------------ remote unlock


def test_remote_unlock_sends_one_command_not_retained_and_audits_it(office):
    office.add_reader("cabinet-1", "cabinet")
    office.add_reader("entrance", "entrance")
    watcher = CommandWatcher(office.mqtt_url, "cabinet-1")
    try:
        client = browser(office, "manager")
        confirm = client.get("/readers/cabinet-1/unlock")
        assert confirm.status_code == 200
        assert "遠隔解錠の確認" in confirm.text and "5 秒間開けます" in confirm.text
        assert 'action="/readers/cabinet-1/unlock"' in confirm.text and ">解錠する</button>" in confirm.text
        csrf = csrf_of(confirm.text)
        assert client.post("/readers/cabinet-1/unlock", data={"note": "鍵を忘れた"}).status_code == 403  # no token
        assert watcher.wait(1, timeout=0.5) == []

        sent = client.post("/readers/cabinet-1/unlock", data={"csrf": csrf, "note": "調査員の依頼"})
        assert sent.status_code == 303 and sent.headers["location"] == "/dashboard?done=unlock&reader=cabinet-1"
        [message] = watcher.wait(1)
        assert message.topic == "mamori/v1/nerima/cabinet-1/command" and message.qos == 1
        command = protocol.decode(message.payload, protocol.Command)
        assert command.type == "unlock" and command.unlock_s == office.settings.unlock_s
        assert command.by == USERS["manager"]
        assert command.at == office.clock() and command.at.utcoffset() == timedelta(hours=9)
        assert "遠隔解錠の指示を送りました" in client.get(sent.headers["location"]).text
        time.sleep(0.5)
        assert len(watcher.messages) == 1  # exactly one

        # Not retained: a reader connecting now finds nothing waiting on its command topic.
        late = CommandWatcher(office.mqtt_url, "cabinet-1")
        time.sleep(0.5)
        assert late.messages == []
        late.stop()

        [event] = audit(office, "remote_unlock")
        unlock = facts(event.detail)
        assert event.actor == USERS["manager"] and unlock["command"] == command.id and unlock["reader"]
        assert unlock["note"] == "調査員の依頼"

        # The API: 202 with the command's id; the same one command on the wire.
        response = office.client.post("/api/v1/readers/cabinet-1/unlock", json={"confirm": True},
                                      headers=api(office, "admin"))
        assert response.status_code == 202, response.text
        body = response.json()
        messages = watcher.wait(2)
        assert len(messages) == 2 and protocol.decode(messages[1].payload, protocol.Command).id == body["id"]
        assert body["by"] == USERS["admin"] and body["unlock_s"] == office.settings.unlock_s
        assert len(audit(office, "remote_unlock")) == 2
        # A command's id is unique.
        assert body["id"] != command.id
    finally:
        watcher.stop()


def test_remote_unlock_is_refused_to_others_for_non_cabinets_and_without_a_broker(office):
    office.add_reader("cabinet-1", "cabinet")
    office.add_reader("entrance", "entrance")
    watcher = CommandWatcher(office.mqtt_url, "cabinet-1")
    try:
        for role in ("receptionist", "auditor"):
            client = browser(office, role)
            csrf = csrf_of(client.get("/dashboard").text)
            assert client.get("/readers/cabinet-1/unlock").status_code == 403
            assert client.post("/readers/cabinet-1/unlock", data={"csrf": csrf}).status_code == 403
            response = office.client.post("/api/v1/readers/cabinet-1/unlock", json={"confirm": True},
                                          headers=api(office, role))
            assert response.status_code == 403
        manager = browser(office, "manager")
        csrf = csrf_of(manager.get("/dashboard").text)
        headers = api(office, "manager")
        # An empty or stray request opens nothing.
        assert office.client.post("/api/v1/readers/cabinet-1/unlock", json={}, headers=headers).status_code == 422
        assert office.client.post("/api/v1/readers/cabinet-1/unlock", json={"confirm": False},
                                  headers=headers).status_code == 422
        # The entrance has no lock to open; a reader that does not exist is not found.
        not_cabinet = office.client.post("/api/v1/readers/entrance/unlock", json={"confirm": True}, headers=headers)
        assert not_cabinet.status_code == 409 and "cabinet" in not_cabinet.json()["detail"]
        page = manager.post("/readers/entrance/unlock", data={"csrf": csrf})
        assert page.status_code == 409 and "キャビネットの読取機ではない" in page.text
        assert manager.get("/readers/entrance/unlock").status_code == 409
        assert office.client.post("/api/v1/readers/nowhere/unlock", json={"confirm": True},
                                  headers=headers).status_code == 404
        assert manager.get("/readers/nowhere/unlock").status_code == 404
        time.sleep(0.3)
        assert watcher.messages == [] and audit(office, "remote_unlock") == []

        # The broker goes away: a clear 503, nothing audited as sent.
        office.broker.kill()
        deadline = time.monotonic() + 10
        while office.ingest.link.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not office.ingest.link.connected
        away = office.client.post("/api/v1/readers/cabinet-1/unlock", json={"confirm": True}, headers=headers)
        assert away.status_code == 503 and "broker" in away.json()["detail"]
        page = manager.post("/readers/cabinet-1/unlock", data={"csrf": csrf})
        assert page.status_code == 503 and "読取機との通信の中継に接続していない" in page.text
        assert "読取機との通信の中継に接続していません" in panel(manager.get("/dashboard").text, "dash-readers-h")
        assert audit(office, "remote_unlock") == []
    finally:
        watcher.stop()


def test_a_double_click_on_remote_unlock_sends_one_command(office):
    from server.readers.unlock import remote_unlock

    office.add_reader("cabinet-1", "cabinet")
    with office.factory() as db:
        args = dict(by="佐藤花子", at=office.app.state.clock(), zone=office.settings.zone, unlock_s=5)
        first = remote_unlock(db, office.ingest.link, "cabinet-1", **args)
        second = remote_unlock(db, office.ingest.link, "cabinet-1", **args)
    assert first.id == second.id
    assert len(audit(office, "remote_unlock")) == 1
