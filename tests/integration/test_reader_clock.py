"""A reader whose clock runs ahead: reported, and unable to lock anyone out of a cabinet (issue 16)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from gateway import protocol
from server.alerts.models import Alert
from server.readers.models import Reader

pytestmark = pytest.mark.integration

ALICE, BOB = "0123456789ABCDEF", "0123456789ABCDEE"
FOLDER = "04A1B2C3D4E5F6"


@pytest.fixture
def office(office):
    trained = datetime.now(UTC).date() - timedelta(days=10)
    office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", ALICE, key_holder=True, training_on=trained)
    office.add_person("鈴木 次郎", BOB, key_holder=True, training_on=trained)
    office.add_item("調査ファイル R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
    office.cabinet = office.readers[-1]
    yield office


def _clock_alerts(office) -> list[Alert]:
    with office.factory() as db:
        return list(db.scalars(select(Alert).where(Alert.type == "reader_clock_ahead")))


def _offset(office) -> float | None:
    with office.factory() as db:
        return db.scalar(select(Reader.clock_offset_s).where(Reader.id == "cabinet-1"))


def test_a_scan_stamped_minutes_ahead_neither_locks_the_cabinet_nor_goes_unreported(office):
    cabinet = office.cabinet
    ahead = cabinet.tap(BOB, at=datetime.now(UTC) + timedelta(minutes=4))  # a fast clock, or a forged stamp
    assert cabinet.wait_acked(ahead)
    assert cabinet.wait_acked(cabinet.tap(ALICE, at=datetime.now(UTC) + timedelta(minutes=4, seconds=1)))

    opened = cabinet.wait_decision(cabinet.tap(ALICE))
    assert (opened.result, opened.action) == ("unlock", "session_open")
    taken = cabinet.wait_decision(cabinet.tap(FOLDER, tech="iso14443a"))
    assert (taken.result, taken.action) == ("accept", "checkout")
    [row] = office.get("/checkouts", state="open")
    assert row["person"]["name"] == "佐藤 花子"

    [alert] = _clock_alerts(office)  # two fast stamps, one alert
    assert alert.state == "open" and alert.severity == "medium" and alert.reader_id == "cabinet-1"
    assert _offset(office) > 200


def test_a_live_status_in_step_again_resolves_the_clock_alert(office):
    cabinet = office.cabinet
    assert cabinet.wait_acked(cabinet.tap(BOB, at=datetime.now(UTC) + timedelta(minutes=2)))
    [alert] = _clock_alerts(office)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="clock-fixed")
    host, port = office.mqtt_url.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.loop_start()
    status = protocol.Status(v=1, online=True, at=datetime.now(UTC))
    client.publish(protocol.topic("nerima", "cabinet-1", "status"), protocol.encode(status), qos=1,
                   retain=True).wait_for_publish(5)
    deadline = time.monotonic() + 10
    while _clock_alerts(office)[0].state != "resolved" and time.monotonic() < deadline:
        time.sleep(0.05)
    client.loop_stop()
    client.disconnect()
    [alert] = _clock_alerts(office)
    assert alert.state == "resolved" and alert.resolved_by == "mamori"
    assert abs(_offset(office)) < 2
