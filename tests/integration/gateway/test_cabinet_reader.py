"""The Pi gateway end to end: a fob on the serial line → scan on a real Mosquitto → server → relay pin.

The RDM6300 is a pty (the real pyserial reader reads it); the pins are gpiozero's MockFactory.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import datetime, timedelta

import pytest

from gateway import protocol
from gateway.app import Gateway
from tests.support.gateway import (
    BUZZER_PIN,
    DOOR_PIN,
    EXIT_PIN,
    FOLDER,
    LOCK_PIN,
    OTHER_STAFF,
    RED_PIN,
    STAFF,
    TAMPER_PIN,
    ServerSide,
    TopicWatcher,
    lock_open,
    lock_openings,
    restart_ingest,
    rises,
    server_publish,
    wait_for,
)

pytestmark = pytest.mark.integration


def test_key_holder_tap_opens_the_relay_for_unlock_s_then_it_closes(office, make_gateway, fobs, pins):
    gateway = make_gateway()
    relay = pins.pin(LOCK_PIN)
    assert relay.state == 1  # active-low board: high is closed

    fobs.tap(STAFF)
    wait_for(lambda: lock_open(gateway), timeout=2, what="the lock to open")
    opened = time.monotonic()
    assert relay.state == 0
    wait_for(lambda: not lock_open(gateway), timeout=3, what="the lock to close by itself")
    assert 0.8 <= time.monotonic() - opened <= 1.5  # the server's unlock_s is 1
    assert relay.state == 1


def test_a_folder_tapped_in_the_session_is_checked_out_and_the_outbox_empties(office, make_gateway, fobs):
    gateway = make_gateway()
    fobs.tap(STAFF)
    wait_for(lambda: lock_open(gateway), timeout=2, what="the lock to open")
    fobs.tap(FOLDER)
    rows = wait_for(lambda: office.get("/checkouts", state="open"), what="the checkout")
    assert [(r["item"]["label"], r["person"]["name"]) for r in rows] == [("調査書類 2026-0001", "調査 花子")]
    wait_for(lambda: len(gateway.outbox) == 0, what="the server's ack to empty the outbox")


def test_a_card_that_is_not_a_key_holder_stays_locked_and_signals_deny(office, make_gateway, fobs, pins):
    gateway = make_gateway()
    fobs.tap(OTHER_STAFF)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 3 and rises(pins.pin(BUZZER_PIN)) == 3, timeout=3,
             what="three red blinks and beeps")
    assert lock_openings(gateway) == 0
    alerts = wait_for(lambda: office.get("/alerts", state="open"), what="the denial's alert")
    assert alerts[0]["type"] == "cabinet_denied"


def test_door_and_tamper_inputs_become_events_in_the_ledger(office, make_gateway, pins):
    make_gateway()
    door, tamper = pins.pin(DOOR_PIN), pins.pin(TAMPER_PIN)
    for pin in (door, tamper):  # at rest: the shut door and the closed case hold their switches pressed
        pin.drive_low()
        time.sleep(0.1)
    door.drive_high()  # the reed switch opens: door open
    time.sleep(0.1)
    door.drive_low()
    time.sleep(0.1)
    tamper.drive_high()  # the case is opened
    wait_for(lambda: len(office.get("/reader-events", reader="cabinet-1")) == 4, what="the events")
    events = [e["type"] for e in reversed(office.get("/reader-events", reader="cabinet-1"))]
    assert events == ["door_closed", "door_open", "door_closed", "tamper"]
    assert any(a["type"] == "tamper" for a in office.get("/alerts", state="open"))


# ---------------------------------------------------------------- decisions the reader must not obey


def waiting_scan(gateway: Gateway) -> protocol.Scan:
    pending = wait_for(lambda: gateway.outbox.all(), what="the scan in the outbox")
    return protocol.decode(pending[-1].payload, protocol.Scan)


def decision(scan_id: str, at: datetime) -> bytes:
    return protocol.encode(protocol.Decision(v=1, scan=scan_id, result="unlock", unlock_s=1,
                                             action="session_open", at=at))


@pytest.fixture
def server_side(broker):
    server = ServerSide(broker)
    yield server
    server.close()


def test_a_decision_for_another_scan_or_older_than_10_s_opens_nothing(server_side, make_gateway, fobs):
    gateway = make_gateway()  # no server: only the decisions this test sends
    fobs.tap(STAFF)
    scan = waiting_scan(gateway)
    now = datetime.now().astimezone()
    server_side.publish("cabinet-1", "decision", decision("01OTHERSCAN0000000000000000", now))
    server_side.publish("cabinet-1", "decision", decision(scan.id, now - timedelta(seconds=11)))
    time.sleep(0.2)
    assert lock_openings(gateway) == 0
    server_side.publish("cabinet-1", "decision", decision(scan.id, datetime.now().astimezone()))
    wait_for(lambda: lock_open(gateway), timeout=1, what="the right, fresh decision to open the lock")


def test_a_decision_that_comes_after_the_reader_gave_up_waiting_opens_nothing(server_side, make_gateway, fobs, pins):
    gateway = make_gateway()  # no server, no allowlist: the reader denies after 1.5 s
    fobs.tap(STAFF)
    scan = waiting_scan(gateway)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 3, timeout=4, what="the reader to deny on its own")
    server_side.publish("cabinet-1", "decision", decision(scan.id, datetime.now().astimezone()))
    time.sleep(0.3)
    assert lock_openings(gateway) == 0


# ---------------------------------------------------------------- remote unlock


def command(at: datetime, command_id: str = "01COMMAND000000000000000001", unlock_s: int = 1) -> bytes:
    return protocol.encode(protocol.Command(v=1, id=command_id, type="unlock", unlock_s=unlock_s,
                                            by="管理 一郎", at=at))


def test_a_remote_unlock_opens_for_its_seconds_once(broker, make_gateway):
    gateway = make_gateway()
    payload = command(datetime.now().astimezone())
    server_publish(broker, "cabinet-1", "command", payload)
    wait_for(lambda: lock_open(gateway), timeout=2, what="the remote unlock")
    wait_for(lambda: not lock_open(gateway), timeout=3, what="the lock to close again")
    server_publish(broker, "cabinet-1", "command", payload)  # the same command delivered again
    time.sleep(0.3)
    assert lock_openings(gateway) == 1


def test_an_old_remote_unlock_opens_nothing(broker, make_gateway):
    gateway = make_gateway()
    server_publish(broker, "cabinet-1", "command", command(datetime.now().astimezone() - timedelta(seconds=11)))
    time.sleep(0.5)
    assert lock_openings(gateway) == 0


def test_a_retained_remote_unlock_waiting_on_the_broker_is_not_obeyed_at_connect(broker, make_gateway):
    # Something published the unlock retained; every reconnect would hand it over again.
    server_publish(broker, "cabinet-1", "command", command(datetime.now().astimezone()), retain=True)
    gateway = make_gateway()
    time.sleep(0.5)
    assert lock_openings(gateway) == 0


# ---------------------------------------------------------------- the reader's own inputs and faults


def test_the_exit_button_opens_locally_and_is_recorded(office, make_gateway, pins):
    gateway = make_gateway(inputs={"exit_button": {"pin": EXIT_PIN}})
    button = pins.pin(EXIT_PIN)
    button.drive_low()  # pressed (pull-up: a press pulls the pin to ground)
    wait_for(lambda: lock_open(gateway), timeout=1, what="the local unlock")
    button.drive_high()
    events = wait_for(lambda: office.get("/reader-events", type="exit_button"), what="the exit_button event")
    assert len(events) == 1


def test_a_disk_filled_during_a_long_outage_makes_a_tap_signal_an_error(broker, make_gateway, fobs, pins):
    gateway = make_gateway()
    broker.stop()  # the outage: nothing is sent, the outbox only grows
    wait_for(lambda: not gateway.publisher.connected.is_set(), what="the gateway to notice")
    db = gateway.outbox._db  # a disk full to SQLite: the file may not grow, and no page has room left
    db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 4}")
    for size in (1000, 100, 10, 1):
        with contextlib.suppress(sqlite3.OperationalError):
            for n in range(10_000):
                db.execute("INSERT INTO pending (id, channel, payload, put_at) VALUES (?, 'event', zeroblob(?), 0)",
                           (f"ballast-{size}-{n}", size))
    before = db.execute("SELECT count(*) FROM pending").fetchone()[0]

    fobs.tap(STAFF)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 1 and rises(pins.pin(BUZZER_PIN)) == 1, timeout=2,
             what="the error signal")
    time.sleep(0.2)
    assert db.execute("SELECT count(*) FROM pending").fetchone()[0] == before
    assert lock_openings(gateway) == 0


def test_the_status_tells_how_many_scans_wait_and_when_the_server_has_them_all(office, broker, make_gateway, fobs):
    gateway = make_gateway(status_interval_s=5)
    statuses = TopicWatcher(broker, "cabinet-1", "status", protocol.Status)
    try:
        office.ingest.stop()  # the server hears nothing, so nothing is acknowledged
        fobs.tap(OTHER_STAFF)
        fobs.tap(FOLDER)
        wait_for(lambda: any(s.queued == 2 for s in statuses.received), timeout=8, what="a status with 2 queued")
        restart_ingest(office)
        wait_for(lambda: statuses.received[-1].queued == 0, timeout=10, what="a status with nothing queued")

        def reader_as_the_server_has_it():
            return next((r["online"], r["queued"]) for r in office.get("/readers") if r["id"] == "cabinet-1")

        # The watcher and the server hear the same status separately; the server may store it a moment later.
        wait_for(lambda: reader_as_the_server_has_it() == (True, 0), timeout=10, what="the server's record of no queue")
        assert len(gateway.outbox) == 0
    finally:
        statuses.close()


def test_stopping_the_gateway_during_an_unlock_locks_the_cabinet(broker, make_gateway, pins):
    gateway = make_gateway()
    relay = pins.pin(LOCK_PIN)
    server_publish(broker, "cabinet-1", "command", command(datetime.now().astimezone(), unlock_s=30))
    wait_for(lambda: lock_open(gateway), timeout=2, what="the remote unlock")
    gateway.stop()
    assert relay.state == 1  # active-low board: high is locked
