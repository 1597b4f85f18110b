"""Door forced, door held open too long, reader offline: with real scans, events and Last Wills.

Real Mosquitto, the real server (API + ingest), aiosmtpd for the managers' mail, SQLite and
PostgreSQL; the held-open check runs on a clock the test moves.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select, update

from gateway import protocol
from gateway.simulator import SimulatedReader
from server.accounts.service import add_user
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.db import unit_of_work
from server.domain.door import SETTLE
from server.notify.sender import NoticeSender
from server.readers.door_watch import DoorWatch, doors_held_open
from server.readers.models import Reader
from tests.support.notify import SmtpServer
from tests.support.office import SITE, Office
from tests.support.web import PASSWORDS
from tests.support.words import notes_ja

pytestmark = pytest.mark.integration

KEY_HOLDER = "0123456789ABCDEF"


def alerts(office: Office, type_: str, reader: str = "cabinet-1") -> list[Alert]:
    with office.factory() as db:
        return list(db.scalars(select(Alert).where(Alert.type == type_, Alert.reader_id == reader).order_by(Alert.id)))


def wait_until(condition, what: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def add_manager(office: Office, email: str) -> None:
    with unit_of_work(office.factory) as db:
        boss = add_user(db, "tanaka", "manager", PASSWORDS["manager"], datetime.now(UTC))
        boss.email = email


def mails(smtp: SmtpServer, sender: NoticeSender, start: int = 0) -> list[tuple[str, str]]:
    sender.send_due()
    return [(m.rcpt_tos[0], m.message["Subject"]) for m in smtp.received[start:]]


# ---------------------------------------------------------------- door forced


def test_a_door_opened_with_no_unlock_is_one_door_forced_alert_however_often_it_is_sent(database_url, broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, notice_check_s=3600) as office:
        office.wait_connected()
        add_manager(office, "tanaka@example.jp")
        cabinet = office.add_reader("cabinet-1", "cabinet")
        opened = cabinet.event("door_open")
        assert cabinet.wait_acked(opened)
        cabinet.acked.clear()
        cabinet.replay(opened)  # the reader's outbox sends it again
        assert cabinet.wait_acked(opened)

        [alert] = alerts(office, "door_forced")
        assert (alert.severity, alert.state, alert.event_id, alert.reader_id) == ("high", "open", opened, "cabinet-1")
        assert "with no unlock" in alert.subject
        [shown] = [a for a in office.get("/alerts", state="open") if a["type"] == "door_forced"]
        assert shown["severity"] == "high"
        sender = NoticeSender(office.factory, office.settings, office.ingest.clock)
        assert mails(smtp, sender) == [("tanaka@example.jp", "【mamori】解錠なしでキャビネットの扉が開きました")]
        assert mails(smtp, sender, 1) == []  # once


def test_a_door_opened_just_after_an_unlock_or_at_the_entrance_is_not_forced(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    entrance = office.add_reader("entrance", "entrance")
    office.add_person("佐藤 花子", KEY_HOLDER, key_holder=True, training_on=date.today() - timedelta(days=9))
    tapped_at = datetime.now(UTC)
    tap = cabinet.tap(KEY_HOLDER, at=tapped_at)
    assert cabinet.wait_decision(tap).result == "unlock"
    events = [cabinet.event("door_open", at=tapped_at + timedelta(seconds=2)),
              cabinet.event("door_closed", at=tapped_at + timedelta(seconds=9))]
    # The exit button opens the lock from inside.
    events += [cabinet.event("exit_button", at=tapped_at + timedelta(seconds=20)),
               cabinet.event("door_open", at=tapped_at + timedelta(seconds=23))]
    assert cabinet.wait_acked(events)
    entrance_door = entrance.event("door_open")  # no lock state at the entrance: never "forced"
    assert entrance.wait_acked(entrance_door)
    assert alerts(office, "door_forced") == []

    # Ten seconds (unlock 5 s + grace 5 s) after the exit button, a new opening is unexplained.
    late = cabinet.event("door_open", at=tapped_at + timedelta(seconds=20 + 10.5))
    assert cabinet.wait_acked(late)
    assert [a.event_id for a in alerts(office, "door_forced")] == [late]


def test_a_door_opened_after_a_remote_unlock_from_the_page_is_not_forced(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.post("/readers/cabinet-1/unlock", {"confirm": True}, expect=202)
    with office.factory() as db:
        unlocked_at = db.scalar(select(Reader.remote_unlock_at).where(Reader.id == "cabinet-1"))
    assert unlocked_at is not None and abs(datetime.now(UTC) - unlocked_at) < timedelta(seconds=5)
    opened = cabinet.event("door_open", at=unlocked_at + timedelta(seconds=1))
    assert cabinet.wait_acked(opened)
    assert alerts(office, "door_forced") == []


def test_an_offline_unlock_replayed_with_its_door_opening_is_not_forced_but_a_stale_tap_opens_nothing(office):
    """The reader opened on its allowlist while the server was away; its outbox arrives as one stale burst."""
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", KEY_HOLDER, key_holder=True, training_on=date.today() - timedelta(days=9))
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    opened = cabinet.tap(KEY_HOLDER, at=t0)
    burst = [opened,
             cabinet.event("offline_unlock", scan=opened, at=t0 + timedelta(milliseconds=1600)),
             cabinet.event("door_open", at=t0 + timedelta(seconds=3)),
             cabinet.event("door_closed", at=t0 + timedelta(seconds=20)),
             # Later the same card again, but no offline unlock: the reader kept the lock shut, so
             # the door opening after it was not explained by the (stale, undecided) tap.
             cabinet.tap(KEY_HOLDER, at=t0 + timedelta(minutes=10))]
    forced = cabinet.event("door_open", at=t0 + timedelta(minutes=10, seconds=2))
    assert cabinet.wait_acked([*burst, forced])
    assert cabinet.decisions == {}  # stale: recorded, never answered
    assert [a.event_id for a in alerts(office, "door_forced")] == [forced]


def test_an_unlock_that_arrives_after_its_opening_takes_the_door_forced_back_and_its_unsent_mail(database_url,
                                                                                                broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, notice_check_s=3600) as office:
        office.wait_connected()
        add_manager(office, "tanaka@example.jp")
        cabinet = office.add_reader("cabinet-1", "cabinet")
        office.add_person("佐藤 花子", KEY_HOLDER, key_holder=True, training_on=date.today() - timedelta(days=9))
        now = datetime.now(UTC)
        t, tapped_at = now - timedelta(seconds=30), now - timedelta(seconds=3)
        # The network delivers each opening before the unlock that explains it (or seems to).
        by_button = cabinet.event("door_open", at=t)
        forced = cabinet.event("door_open", at=t + timedelta(seconds=10))  # nothing explains this one
        after_stale_tap = cabinet.event("door_open", at=t + timedelta(seconds=18))
        by_tap = cabinet.event("door_open", at=tapped_at + timedelta(seconds=1))
        assert cabinet.wait_acked([by_button, forced, after_stale_tap, by_tap])
        [alert] = alerts(office, "door_forced")
        assert (alert.count, alert.state) == (4, "open")

        assert cabinet.wait_acked(cabinet.event("exit_button", at=t - timedelta(seconds=1)))
        late_but_fresh = cabinet.tap(KEY_HOLDER, at=tapped_at)
        assert cabinet.wait_decision(late_but_fresh).result == "unlock"
        stale = cabinet.tap(KEY_HOLDER, at=t + timedelta(seconds=17))  # too old to be answered: it opened nothing
        assert cabinet.wait_acked(stale)
        [alert] = alerts(office, "door_forced")
        assert (alert.count, alert.state) == (2, "open")
        assert abs(alert.opened_at - (t + timedelta(seconds=10))) < timedelta(milliseconds=1)
        assert notes_ja(alert.note).count("の開扉は、後から届いた解錠の記録で説明されました") == 2

        sender = NoticeSender(office.factory, office.settings, office.ingest.clock)
        # Each opening's own mail was queued when it arrived; the explained one's is gone unsent.
        assert len(mails(smtp, sender)) == 2


def test_a_late_unlock_leaves_a_door_forced_alert_the_manager_resolved_as_it_was(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    t = datetime.now(UTC) - timedelta(minutes=5)
    opened = cabinet.event("door_open", at=t)
    assert cabinet.wait_acked(opened)
    with unit_of_work(office.factory) as db:
        db.execute(update(Alert).where(Alert.type == "door_forced").values(
            state="resolved", resolved_at=datetime.now(UTC), resolved_by="tanaka"))
    assert cabinet.wait_acked(cabinet.event("exit_button", at=t - timedelta(seconds=2)))
    [alert] = alerts(office, "door_forced")
    assert (alert.state, alert.resolved_by, alert.count, alert.note) == ("resolved", "tanaka", 1, None)


def test_a_door_forced_taken_back_entirely_is_resolved_by_mamori_and_leaves_the_dashboard(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    t = datetime.now(UTC) - timedelta(minutes=5)
    assert cabinet.wait_acked(cabinet.event("door_open", at=t))
    assert [a["type"] for a in office.get("/alerts", state="open")] == ["door_forced"]
    assert cabinet.wait_acked(cabinet.event("exit_button", at=t - timedelta(seconds=3)))
    [alert] = alerts(office, "door_forced")
    assert (alert.state, alert.resolved_by, alert.count) == ("resolved", "mamori", 0)
    assert office.get("/alerts", state="open") == []


# ---------------------------------------------------------------- door held open


def test_a_door_left_open_past_the_limit_is_one_alert_noted_with_how_long_when_it_closes(database_url, broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, notice_check_s=3600,
                                      door_check_s=3600, door_open_max_s=120) as office:
        office.wait_connected()
        add_manager(office, "tanaka@example.jp")
        cabinet = office.add_reader("cabinet-1", "cabinet")
        t = datetime.now(UTC) - timedelta(minutes=20)
        earlier = [cabinet.event("exit_button", at=t - timedelta(minutes=10)),  # opened and closed in time
                   cabinet.event("door_open", at=t - timedelta(minutes=10) + timedelta(seconds=1)),
                   cabinet.event("door_closed", at=t - timedelta(minutes=10) + timedelta(seconds=30))]
        button = cabinet.event("exit_button", at=t - timedelta(seconds=1))  # sent before its opening
        opened = cabinet.event("door_open", at=t)
        assert cabinet.wait_acked([*earlier, button, opened])
        entrance = office.add_reader("entrance", "entrance")
        assert entrance.wait_acked(entrance.event("door_open", at=t))  # no lock state at the entrance: not watched

        clock = {"now": t + timedelta(seconds=100)}
        watch = DoorWatch(office.factory, lambda: clock["now"], office.settings)
        sender = NoticeSender(office.factory, office.settings, lambda: clock["now"])
        assert watch.check() == 0 and alerts(office, "door_held_open") == []  # open, not yet too long
        clock["now"] = t + timedelta(seconds=121)
        assert watch.check() == 0  # too long by its own time, but heard of only now: its closing may follow
        clock["now"] = datetime.now(UTC) + SETTLE + timedelta(seconds=1)
        assert watch.check() == 1
        assert watch.check() == 0  # a second round (or a second server) opens nothing more
        [alert] = alerts(office, "door_held_open")
        assert (alert.severity, alert.event_id, alert.reader_id, alert.note) == ("medium", opened, "cabinet-1", None)
        assert "door open since" in alert.subject and "limit 120 s" in alert.subject
        assert abs(alert.opened_at - (t + timedelta(seconds=120))) < timedelta(seconds=1)  # when it became too long
        assert mails(smtp, sender) == [("tanaka@example.jp", "【mamori】キャビネットの扉が開いたままです")]

        closed = cabinet.event("door_closed", at=t + timedelta(seconds=185))
        assert cabinet.wait_acked(closed)
        [alert] = alerts(office, "door_held_open")
        assert alert.state == "open"  # the manager resolves it
        assert "扉が閉まりました（開いていた時間 3分05秒）" in notes_ja(alert.note)
        clock["now"] = t + timedelta(seconds=400)
        assert watch.check() == 0  # closed now
        assert mails(smtp, sender, 1) == []


def test_a_check_between_a_replayed_opening_and_its_closing_raises_no_false_held_open(database_url, broker):
    with Office(database_url, broker.url, door_check_s=3600) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        t = datetime.now(UTC) - timedelta(hours=1)
        opened = [cabinet.event("exit_button", at=t), cabinet.event("door_open", at=t + timedelta(seconds=1))]
        assert cabinet.wait_acked(opened)
        with unit_of_work(office.factory) as db:  # a round of the check, before the closing arrives
            assert doors_held_open(db, datetime.now(UTC), office.settings) == []
        assert cabinet.wait_acked(cabinet.event("door_closed", at=t + timedelta(seconds=30)))
        with unit_of_work(office.factory) as db:
            assert doors_held_open(db, datetime.now(UTC) + timedelta(minutes=5), office.settings) == []
        assert alerts(office, "door_held_open") == []


def test_a_door_open_too_long_that_closed_before_any_check_gets_its_alert_at_the_closing(database_url, broker):
    with Office(database_url, broker.url, door_check_s=3600) as office:
        office.wait_connected()
        cabinet = office.add_reader("cabinet-1", "cabinet")
        t = datetime.now(UTC) - timedelta(hours=1)
        short = [cabinet.event("exit_button", at=t), cabinet.event("door_open", at=t + timedelta(seconds=1)),
                 cabinet.event("door_closed", at=t + timedelta(seconds=60))]
        button = cabinet.event("exit_button", at=t + timedelta(minutes=10) - timedelta(seconds=1))
        opened = cabinet.event("door_open", at=t + timedelta(minutes=10))
        burst = [*short, button, opened, cabinet.event("door_closed", at=t + timedelta(minutes=15))]
        assert cabinet.wait_acked(burst)
        [alert] = alerts(office, "door_held_open")
        assert alert.event_id == opened and "開いていた時間 5分00秒" in notes_ja(alert.note)
        assert alerts(office, "door_forced") == []


def test_an_opening_that_arrives_after_its_closing_is_judged_against_it(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    t = datetime.now(UTC) - timedelta(hours=1)
    assert cabinet.wait_acked(cabinet.event("door_closed", at=t + timedelta(minutes=4)))
    assert cabinet.wait_acked(cabinet.event("exit_button", at=t - timedelta(seconds=1)))
    opened = cabinet.event("door_open", at=t)
    assert cabinet.wait_acked(opened)
    [alert] = alerts(office, "door_held_open")
    assert alert.event_id == opened and "開いていた時間 4分00秒" in notes_ja(alert.note)
    assert alerts(office, "door_forced") == []
    # A short opening that arrives after its closing raises nothing.
    assert cabinet.wait_acked(cabinet.event("door_closed", at=t + timedelta(minutes=10, seconds=30)))
    assert cabinet.wait_acked(cabinet.event("exit_button", at=t + timedelta(minutes=10)))
    assert cabinet.wait_acked(cabinet.event("door_open", at=t + timedelta(minutes=10, seconds=2)))
    assert len(alerts(office, "door_held_open")) == 1


# ---------------------------------------------------------------- reader offline


def publish_retained(url: str, topic: str, payload: bytes) -> None:
    """A client of its own publishing a retained message, as a broker does for a Last Will."""
    host, port = url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="mamori-test-will", protocol=mqtt.MQTTv311)
    client.connect(host, int(port))
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_a_last_will_is_one_reader_offline_alert_resolved_by_mamori_when_the_reader_is_back(database_url, broker):
    with SmtpServer() as smtp, Office(database_url, broker.url, smtp_url=smtp.url, notice_check_s=3600) as office:
        office.wait_connected()
        add_manager(office, "tanaka@example.jp")
        cabinet = office.add_reader("cabinet-1", "cabinet")
        cabinet.stop()  # its Last Will, retained
        office.readers.remove(cabinet)
        [alert] = wait_until(lambda: alerts(office, "reader_offline"), "the reader_offline alert")
        assert (alert.severity, alert.state, alert.reader_id) == ("high", "open", "cabinet-1")
        assert "Last Will" in alert.subject

        # The same Last Will again, live: the reader is already known to be away.
        with office.factory() as db:
            seen = db.scalar(select(Reader.last_seen_at).where(Reader.id == "cabinet-1"))
        publish_retained(broker.url, protocol.topic(SITE, "cabinet-1", "status"), protocol.encode(protocol.LAST_WILL))

        def seen_again():
            with office.factory() as db:
                return db.scalar(select(Reader.last_seen_at).where(Reader.id == "cabinet-1")) != seen
        wait_until(seen_again, "the second Last Will to be handled")
        assert len(alerts(office, "reader_offline")) == 1

        # The broker hands the retained Last Will over again when the server re-subscribes (here after
        # a broker restart). Even a server that no longer remembers the reader as offline (say, a
        # database restored from before) opens no second alert while one is open or acknowledged.
        office.client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={"note": "確認中"}, headers=office.headers)
        with unit_of_work(office.factory) as db:
            db.execute(update(Reader).where(Reader.id == "cabinet-1").values(online=None))
        broker.restart()

        def offline_again():
            with office.factory() as db:
                return db.scalar(select(Reader.online).where(Reader.id == "cabinet-1")) is False
        wait_until(offline_again, "the retained Last Will at re-subscription", timeout=20)
        [alert] = alerts(office, "reader_offline")
        assert alert.state == "acknowledged"

        back = SimulatedReader(office.mqtt_url, SITE, "cabinet-1").start()  # online again (retained status)
        office.readers.append(back)
        [alert] = wait_until(lambda: [a for a in alerts(office, "reader_offline") if a.state == "resolved"],
                             "mamori to resolve the alert")
        assert alert.resolved_by == "mamori" and "読取機が再接続しました" in notes_ja(alert.note)
        with office.factory() as db:
            audited = db.scalars(select(AuditEvent.actor).where(AuditEvent.action == "alert_resolved")).all()
        assert audited == ["mamori"]

        sender = NoticeSender(office.factory, office.settings, office.ingest.clock)
        assert sorted(mails(smtp, sender)) == sorted([("tanaka@example.jp", "【mamori】読取機がオフラインになりました"),
                                                      ("tanaka@example.jp", "【mamori】読取機が再接続しました")])
        assert mails(smtp, sender, 2) == []


def test_an_entrance_reader_going_away_is_a_medium_alert(office):
    entrance = office.add_reader("entrance", "entrance")
    entrance.stop()
    office.readers.remove(entrance)
    [alert] = wait_until(lambda: alerts(office, "reader_offline", "entrance"), "the reader_offline alert")
    assert (alert.severity, alert.reader_id) == ("medium", "entrance")
